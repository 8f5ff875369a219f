package snmpsim

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// StartNetworkOn starts one agent per device as StartNetwork does, but each on its
// own loopback address: the i-th device on first plus i, with a port the kernel
// chooses. Real devices differ by address, and a flow collector tells exporters apart
// by theirs; Linux answers on all of 127.0.0.0/8 without configuration. On error it
// closes the agents it started.
func StartNetworkOn(ctx context.Context, first netip.Addr, devs []DeviceConfig, opts *Options) ([]*Agent, error) {
	if !first.Is4() || !first.IsLoopback() {
		return nil, fmt.Errorf("start network: %s is not an IPv4 loopback address", first)
	}
	agents := make([]*Agent, 0, len(devs))
	addr := first
	for _, dev := range devs {
		if !addr.IsLoopback() || addr == netip.AddrFrom4([4]byte{127, 255, 255, 255}) {
			err := fmt.Errorf("start network: %d devices from %s leave 127.0.0.0/8", len(devs), first)
			return nil, errors.Join(err, closeAll(agents))
		}
		a, err := Start(ctx, netip.AddrPortFrom(addr, 0).String(), dev, opts)
		if err != nil {
			return nil, errors.Join(err, closeAll(agents))
		}
		agents = append(agents, a)
		addr = addr.Next()
	}
	return agents, nil
}

func closeAll(agents []*Agent) error {
	var errs []error
	for _, a := range agents {
		errs = append(errs, a.Close())
	}
	return errors.Join(errs...)
}
