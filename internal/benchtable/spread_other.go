//go:build !linux

package main

import "os"

// spreadDirs does nothing but where Linux file systems take FS_TOPDIR_FL.
func spreadDirs(dir string) error { return nil }

// fdatasync is f.Sync where the system has no fdatasync of its own.
func fdatasync(f *os.File) error { return f.Sync() }
