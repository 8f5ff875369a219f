package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// flowsFile is the [flows] table.
type flowsFile struct {
	Listen  []string `toml:"listen"`
	Data    *string  `toml:"data"`
	Keep    *span    `toml:"keep"`
	MaxSize *size    `toml:"max_size"`
}

// DefaultFlowKeep is how long raw flow records are kept when [flows] does not say.
const DefaultFlowKeep = 365 * 24 * time.Hour

// size is a number of bytes, written as a number or with a unit: 500000000, "500MB",
// "50GB", "2TB", "64GiB". A bad value is kept in err, as for duration.
type size struct {
	v   int64
	err error
}

func (s *size) UnmarshalText(b []byte) error {
	s.v, s.err = ParseSize(string(b))
	return nil
}

// ParseSize reads a number of bytes: a whole number, or a number with one of the units
// B, kB/KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024).
func ParseSize(text string) (int64, error) {
	t := strings.TrimSpace(text)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult := map[string]float64{"": 1, "B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[unit]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v < 0 {
		return 0, fmt.Errorf("size %q: want bytes, as 500000000, \"500MB\", \"50GB\" or \"64GiB\"", text)
	}
	if v*mult >= 1<<62 {
		return 0, fmt.Errorf("size %q is too large", text)
	}
	return int64(v * mult), nil
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
	c.Flows.Keep = DefaultFlowKeep
	if f.Flows.Data != nil {
		if strings.TrimSpace(*f.Flows.Data) == "" {
			p.bad("flows", -1, "data", nil, "must not be empty")
		} else {
			c.Flows.Data = *f.Flows.Data
		}
	}
	if k := f.Flows.Keep; k != nil {
		switch {
		case k.err != nil:
			p.bad("flows", -1, "keep", nil, "%v", k.err)
		case k.d < time.Hour:
			p.bad("flows", -1, "keep", nil, "keep %s is shorter than an hour", k.d)
		default:
			c.Flows.Keep = k.d
		}
	}
	if m := f.Flows.MaxSize; m != nil {
		switch {
		case m.err != nil:
			p.bad("flows", -1, "max_size", nil, "%v", m.err)
		case m.v < 1<<20:
			p.bad("flows", -1, "max_size", nil, "max_size %d bytes is less than 1MiB", m.v)
		default:
			c.Flows.MaxSize = m.v
		}
	}
	for i := range c.Devices {
		if i >= len(f.Devices) {
			break
		}
		if s := f.Devices[i].Sampling; s != nil {
			if *s < 1 {
				p.bad("device", i, "flow_sampling", nil, "flow_sampling %d: want a rate of 1 in N, N at least 1", *s)
				continue
			}
			c.Devices[i].FlowSampling = uint64(*s)
		}
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
