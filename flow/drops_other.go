//go:build !linux

package flow

// KernelDrops is not known outside Linux.
func (c *Collector) KernelDrops() (drops uint64, ok bool) { return 0, false }
