//go:build !linux

package main

// spreadDirs does nothing but where Linux file systems take FS_TOPDIR_FL.
func spreadDirs(dir string) error { return nil }
