package snmpsim

import (
	"context"
	"errors"
	"fmt"
)

// DemoNetwork returns a small network of five devices with 60 interfaces in
// all: two Juniper-style cores, two Cisco-style access switches and a WAN
// router, with realistic names, aliases and speeds, and a few ports
// administratively down.
func DemoNetwork() []DeviceConfig {
	const (
		g100 = 100_000_000
		g1   = 1_000_000_000
		g10  = 10_000_000_000
	)
	core := func(name, peer string, seed int64) DeviceConfig {
		d := DeviceConfig{
			Name:     name,
			Seed:     seed,
			Descr:    "Juniper Networks, Inc. mx204 internet router, kernel JUNOS 23.4R1.9",
			ObjectID: ".1.3.6.1.4.1.2636.1.1.1.2.148",
			Contact:  "noc@example.net",
			Location: "DC1, row 4, rack 12",
		}
		d.Interfaces = []Interface{
			{Name: "xe-0/0/0", Alias: "uplink to " + peer, Speed: g10, Up: true, MeanBps: 2.4e9},
			{Name: "xe-0/0/1", Alias: "transit: AS64500", Speed: g10, Up: true, MeanBps: 3.1e9},
			{Name: "xe-0/0/2", Alias: "transit: AS64501", Speed: g10, Up: true, MeanBps: 1.7e9},
			{Name: "xe-0/0/3", Alias: "peering: IX LAN", Speed: g10, Up: true, MeanBps: 0.9e9},
			{Name: "xe-1/0/0", Alias: "to access1 Te1/1/1", Speed: g10, Up: true, MeanBps: 1.2e9},
			{Name: "xe-1/0/1", Alias: "to access2 Te1/1/1", Speed: g10, Up: true, MeanBps: 0.8e9},
			{Name: "ge-0/0/0", Alias: "cust: ACME Corp", Speed: g1, Up: true, MeanBps: 180e6},
			{Name: "ge-0/0/1", Alias: "cust: Globex", Speed: g1, Up: true, MeanBps: 95e6},
			{Name: "ge-0/0/2", Alias: "cust: Initech", Speed: g1, Up: true, MeanBps: 240e6},
			{Name: "ge-0/0/3", Alias: "reserved", Speed: g1, Up: false},
			{Name: "ge-0/0/4", Alias: "mgmt switch", Speed: g1, Up: true, MeanBps: 4e6},
			{Name: "lo0", Descr: "lo0", Alias: "loopback", Speed: g10, Up: true, MeanBps: 2e5, Type: 24, MTU: 65535},
		}
		return d
	}
	access := func(name string, seed int64) DeviceConfig {
		d := DeviceConfig{
			Name:     name,
			Seed:     seed,
			Descr:    "Cisco IOS Software, C3850 Software (CAT3K_CAA-UNIVERSALK9-M), Version 16.12.4",
			ObjectID: ".1.3.6.1.4.1.9.1.1745",
			Contact:  "noc@example.net",
			Location: "Building B, floor 2, IDF",
		}
		d.Interfaces = append(d.Interfaces, Interface{
			Name: "Te1/1/1", Descr: "TenGigabitEthernet1/1/1", Alias: "uplink to core1",
			Speed: g10, Up: true, MeanBps: 900e6,
		})
		for i := 1; i <= 12; i++ {
			ifc := Interface{
				Name:    fmt.Sprintf("Gi1/0/%d", i),
				Descr:   fmt.Sprintf("GigabitEthernet1/0/%d", i),
				Alias:   fmt.Sprintf("desk %s-%02d", name, i),
				Speed:   g1,
				Up:      true,
				MeanBps: float64(5+7*i) * 1e6,
			}
			if i == 11 {
				ifc.Up, ifc.Alias, ifc.MeanBps = false, "unused", 0
			}
			if i == 12 {
				ifc.Speed, ifc.Alias, ifc.MeanBps = g100, "printer", 1.5e6
			}
			d.Interfaces = append(d.Interfaces, ifc)
		}
		d.Interfaces = append(d.Interfaces, Interface{
			Name: "Vl100", Descr: "Vlan100", Alias: "users", Speed: g1, Up: true, MeanBps: 60e6, Type: 53,
		})
		return d
	}
	wan := DeviceConfig{
		Name:     "wan1",
		Seed:     5,
		Descr:    "Juniper Networks, Inc. srx345 internet router, kernel JUNOS 22.4R3",
		ObjectID: ".1.3.6.1.4.1.2636.1.1.1.2.135",
		Contact:  "noc@example.net",
		Location: "Branch office, comms room",
		Interfaces: []Interface{
			{Name: "ge-0/0/0", Alias: "internet: ISP A 1G", Speed: g1, Up: true, MeanBps: 210e6},
			{Name: "ge-0/0/1", Alias: "internet: ISP B 500M", Speed: 500_000_000, Up: true, MeanBps: 90e6},
			{Name: "ge-0/0/2", Alias: "LAN", Speed: g1, Up: true, MeanBps: 260e6},
			{Name: "ge-0/0/3", Alias: "DMZ", Speed: g1, Up: true, MeanBps: 35e6},
			{Name: "ge-0/0/4", Alias: "spare", Speed: g1, Up: false},
			{Name: "fe-0/0/5", Alias: "out-of-band", Speed: g100, Up: true, MeanBps: 0.5e6},
			{Name: "st0.0", Descr: "st0.0", Alias: "IPsec to DC1", Speed: g100, Up: true, MeanBps: 12e6, Type: 131, MTU: 9192},
			{Name: "lo0", Descr: "lo0", Alias: "loopback", Speed: g10, Up: true, MeanBps: 1e5, Type: 24, MTU: 65535},
		},
	}
	return []DeviceConfig{
		core("core1", "core2", 1),
		core("core2", "core1", 2),
		access("access1", 3),
		access("access2", 4),
		wan,
	}
}

// Network returns that many generated devices, named dev0001, dev0002, …, each
// with ifaces interfaces (xe-0/0/N at 10 Gbit/s every fourth one, ge-0/0/N at
// 1 Gbit/s otherwise), for benchmarks at scale. The same seed gives the same
// network.
func Network(devices, ifaces int, seed int64) []DeviceConfig {
	out := make([]DeviceConfig, devices)
	for d := range out {
		dev := DeviceConfig{
			Name:       fmt.Sprintf("dev%04d", d+1),
			Seed:       seed*1_000_003 + int64(d),
			Interfaces: make([]Interface, ifaces),
		}
		for i := range dev.Interfaces {
			h := unitFloat(mix(uint64(dev.Seed)<<20 ^ uint64(i)))
			ifc := Interface{Up: true}
			if i%4 == 0 {
				ifc.Name = fmt.Sprintf("xe-0/0/%d", i)
				ifc.Speed = 10_000_000_000
			} else {
				ifc.Name = fmt.Sprintf("ge-0/0/%d", i)
				ifc.Speed = 1_000_000_000
			}
			ifc.MeanBps = float64(ifc.Speed) * (0.02 + 0.3*h)
			ifc.Alias = fmt.Sprintf("link %d of %s", i, dev.Name)
			dev.Interfaces[i] = ifc
		}
		out[d] = dev
	}
	return out
}

// StartNetwork starts one agent per device on addr's host with a free port
// each (addr is usually "127.0.0.1:0"). On error it closes the agents it
// started.
func StartNetwork(ctx context.Context, addr string, devs []DeviceConfig, opts *Options) ([]*Agent, error) {
	agents := make([]*Agent, 0, len(devs))
	for _, dev := range devs {
		a, err := Start(ctx, addr, dev, opts)
		if err != nil {
			var errs []error
			for _, started := range agents {
				errs = append(errs, started.Close())
			}
			return nil, errors.Join(append([]error{err}, errs...)...)
		}
		agents = append(agents, a)
	}
	return agents, nil
}
