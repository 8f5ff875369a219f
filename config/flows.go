package config

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// flowsFile is the [flows] table.
type flowsFile struct {
	Listen []string `toml:"listen"`
}

// flows checks [flows] and sets the devices' flow exporters: every listen address is
// an IP address (or nothing, for all of them) with a port, and no two devices name the
// same flow_exporter.
func (p *parser) flows(f *file, c *Config) {
	for _, l := range f.Flows.Listen {
		host, port, err := net.SplitHostPort(strings.TrimSpace(l))
		if err != nil {
			p.bad("flows", -1, "listen", nil, "listen address %q: want ADDRESS:PORT, as \"0.0.0.0:2055\" or \"[::]:4739\"", l)
			continue
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			p.bad("flows", -1, "listen", nil, "listen address %q: port %q is not 1-65535", l, port)
			continue
		}
		if host != "" {
			if _, err := netip.ParseAddr(host); err != nil {
				p.bad("flows", -1, "listen", nil, "listen address %q: %q is not an IP address", l, host)
				continue
			}
		}
		c.Flows.Listen = append(c.Flows.Listen, strings.TrimSpace(l))
	}
	// Explicit exporters must be unique; a host address stands for the device's
	// exporter only where no flow_exporter names it and no other device has the same
	// host (several agents behind one address, SNMP contexts of one router).
	explicit := map[netip.Addr]int{}
	implicit := map[netip.Addr][]int{}
	for i := range c.Devices {
		if i >= len(f.Devices) {
			break
		}
		d := &c.Devices[i]
		e := f.Devices[i].Exporter
		if e == nil {
			if a, err := netip.ParseAddr(d.Host); err == nil {
				implicit[a.Unmap()] = append(implicit[a.Unmap()], i)
			}
			continue
		}
		a, err := netip.ParseAddr(strings.TrimSpace(*e))
		if err != nil {
			p.bad("device", i, "flow_exporter", nil, "flow_exporter %q is not an IP address", *e)
			continue
		}
		a = a.Unmap()
		if j, dup := explicit[a]; dup {
			line, _ := p.loc.line("device", j, "flow_exporter")
			p.bad("device", i, "flow_exporter", nil, "flow_exporter %s is %q's already (line %d)", a, c.Devices[j].Name, line)
			continue
		}
		explicit[a] = i
		d.FlowExporter = a
	}
	for a, is := range implicit {
		if _, taken := explicit[a]; !taken && len(is) == 1 {
			c.Devices[is[0]].FlowExporter = a
		}
	}
}
