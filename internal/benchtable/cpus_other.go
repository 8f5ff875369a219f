//go:build !linux

package main

import (
	"context"
	"os/exec"
	"time"
)

// pinning reports whether benchmark processes are pinned (Linux only).
const pinning = false

// cpus pins nothing where processes cannot be pinned.
type cpus struct{ ids []int }

func newCPUs() *cpus                                           { return nil }
func (c *cpus) fastest(context.Context, time.Duration) int     { return 0 }
func (c *cpus) start(cmd *exec.Cmd, cpu int) error             { return cmd.Start() }
func (c *cpus) follow(context.Context, int, int, func(string)) {}
func (c *cpus) summary() string                                { return "" }
