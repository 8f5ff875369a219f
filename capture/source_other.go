//go:build !linux

package capture

import "errors"

var errNotLinux = errors.New("capturing from an interface needs Linux (AF_PACKET)")

func openEthernet(string) (Source, error) { return nil, errNotLinux }

func checkInterface(string) error { return errNotLinux }

// newWaiter: every Source must unblock on Close here.
func newWaiter(Source) (waiter, error) { return nil, nil }

func kernelDrops(Source) (uint64, bool) { return 0, false }
