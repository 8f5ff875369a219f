package config

import (
	"slices"
	"strings"
)

// Aggregate is an [[aggregate]]: a series that is the sum of interfaces' and targets'
// rates, computed in the cycle that polled them.
type Aggregate struct {
	Name    string
	Members []Member
	Line    int // line of the [[aggregate]] header
}

// Member is one summand of an Aggregate: an interface ("device/ifName") or a target
// ("device:target"), with in and out swapped when written with a leading "-".
type Member struct {
	Device string
	// Interface or Target names the member; one of them is set.
	Interface, Target string
	Swap              bool
}

// String writes the member as the file does.
func (m Member) String() string {
	s := m.Device + "/" + m.Interface
	if m.Target != "" {
		s = m.Device + ":" + m.Target
	}
	if m.Swap {
		s = "-" + s
	}
	return s
}

// aggregateFile is an [[aggregate]] as written.
type aggregateFile struct {
	Name *string  `toml:"name"`
	Sum  []string `toml:"sum"`
}

// aggregates checks the [[aggregate]] tables against the devices of c: every member
// must be a configured interface (or one of a device polling ["*"]) or target.
func (p *parser) aggregates(f *file, c *Config) {
	devs := map[string]*Device{}
	for i := range c.Devices {
		devs[c.Devices[i].Name] = &c.Devices[i]
	}
	seen := map[string]int{}
	for i, a := range f.Aggregates {
		fail := func(field, format string, args ...any) { p.bad("aggregate", i, field, nil, format, args...) }
		ag := Aggregate{}
		ag.Line, _ = p.loc.line("aggregate", i, "")
		if a.Name != nil {
			ag.Name = strings.TrimSpace(*a.Name)
		}
		switch j, dup := seen[ag.Name]; {
		case ag.Name == "":
			fail("name", "aggregate has no name")
		case dup:
			line, _ := p.loc.line("aggregate", j, "name")
			fail("name", "duplicate aggregate name %q (first at line %d)", ag.Name, line)
		case strings.ContainsAny(ag.Name, "/\\") || ag.Name == "." || ag.Name == "..":
			fail("name", "aggregate name %q may not contain / or \\ or be . or ..", ag.Name)
		}
		if _, dup := seen[ag.Name]; !dup {
			seen[ag.Name] = i
		}
		if len(a.Sum) == 0 {
			fail("sum", "aggregate %q sums nothing (list \"device/interface\" or \"device:target\")", ag.Name)
		}
		ok := true
		for _, s := range a.Sum {
			m, err := member(s, devs)
			if err != "" {
				fail("sum", "%s", err)
				ok = false
				continue
			}
			ag.Members = append(ag.Members, m)
		}
		if ok && ag.Name != "" && len(ag.Members) > 0 {
			c.Aggregates = append(c.Aggregates, ag)
		}
	}
}

// member reads one entry of a sum; the error is "" when it names something polled.
func member(s string, devs map[string]*Device) (Member, string) {
	var m Member
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		m.Swap, t = true, t[1:]
	}
	slash, colon := strings.IndexByte(t, '/'), strings.IndexByte(t, ':')
	switch {
	case slash > 0 && (colon < 0 || slash < colon):
		m.Device, m.Interface = t[:slash], t[slash+1:]
	case colon > 0:
		m.Device, m.Target = t[:colon], t[colon+1:]
	default:
		return m, "member " + quote(s) + " is neither \"device/interface\" nor \"device:target\""
	}
	d, ok := devs[m.Device]
	if !ok {
		return m, "member " + quote(s) + ": no device " + quote(m.Device) + " in this file"
	}
	if m.Target != "" {
		if _, ok := d.Target(m.Target); !ok {
			return m, "member " + quote(s) + ": device " + quote(m.Device) + " has no target " + quote(m.Target)
		}
		return m, ""
	}
	if m.Interface == "" {
		return m, "member " + quote(s) + " names no interface"
	}
	if d.AllInterfaces() {
		return m, "" // which interfaces are up is known only when polling
	}
	if v, err := interfaceValue(d.Key, m.Interface); err == nil {
		m.Interface = v
	}
	if !slices.Contains(d.Interfaces, m.Interface) {
		return m, "member " + quote(s) + ": device " + quote(m.Device) + " does not poll interface " + quote(m.Interface)
	}
	return m, ""
}
