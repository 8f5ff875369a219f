package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// device checks the i-th [[device]] table d against the file's defaults in c (its
// [snmp] and [thresholds]) and returns it with them applied. seen maps the device names
// met so far to their index, for duplicates; badSNMP lists the [snmp] keys already
// reported, which a device that inherits them does not repeat.
func (p *parser) device(i int, d *deviceFile, c *Config, seen map[string]int, badSNMP map[string]bool) Device {
	at := func(field string, sub ...string) func(format string, args ...any) {
		return func(format string, args ...any) { p.bad("device", i, field, sub, format, args...) }
	}
	fail := func(field, format string, args ...any) { at(field)(format, args...) }
	name := ""
	if d.Name != nil {
		name = *d.Name
	}
	switch j, dup := seen[name]; {
	case strings.TrimSpace(name) == "":
		fail("name", "device has no name")
	case dup:
		line, _ := p.loc.line("device", j, "name")
		fail("name", "duplicate device name %q (first at line %d)", name, line)
	case strings.ContainsAny(name, "/\\") || name == "." || name == "..":
		fail("name", "device name %q may not contain / or \\ or be . or ..", name)
	}
	if _, dup := seen[name]; !dup {
		seen[name] = i
	}
	var (
		host     string
		hostPort int
		err      error
	)
	if d.Host == nil || strings.TrimSpace(*d.Host) == "" {
		fail("host", "device %q has no host", name)
	} else if host, hostPort, err = ParseHost(strings.TrimSpace(*d.Host)); err != nil {
		fail("host", "%v", err)
	}
	if len(d.Interfaces) == 0 && len(d.Targets) == 0 {
		fail("interfaces", "device %q lists no interfaces (use [\"*\"] for every interface that is up) and has no [[device.target]]", name)
	}
	key := KeyIfName
	if d.Key != nil {
		if k, ok := canonical(*d.Key, Keys); ok {
			key = k
		} else {
			fail("interface_key", "interface key %q is not one of %s", *d.Key, strings.Join(Keys, ", "))
		}
	}
	// Made at their size: a device may list thousands. The list stays nil without
	// interfaces.
	ifs := make(map[string]bool, len(d.Interfaces))
	var list []string
	if len(d.Interfaces) > 0 {
		list = make([]string, 0, len(d.Interfaces))
	}
	for _, n := range d.Interfaces {
		if n != "*" && n != "" {
			v, err := interfaceValue(key, n)
			if err != nil {
				fail("interfaces", "%v", err)
				continue
			}
			n = v
		}
		switch {
		case n == "":
			fail("interfaces", "empty interface name")
			continue
		case n == "*" && len(d.Interfaces) > 1:
			fail("interfaces", "\"*\" must be the only entry")
			continue
		case ifs[n]:
			fail("interfaces", "interface %q listed twice", n)
			continue
		}
		ifs[n] = true
		list = append(list, n)
	}
	own := d.snmpFile.keys()
	s := d.snmpFile.apply(c.SNMP, true, func(field, format string, args ...any) {
		if !badSNMP[field] || own[field] {
			fail(field, format, args...)
		}
	})
	if hostPort != 0 {
		s.Port = hostPort // "host:port" wins over the port key
	}
	var speeds map[string]uint64
	for _, n := range slices.Sorted(maps.Keys(d.Speed)) {
		v := d.Speed[n]
		if v.err != nil {
			at("speed", n)("%v", v.err)
			continue
		}
		if k, err := interfaceValue(key, n); err == nil {
			n = k
		}
		if !ifs[n] && !ifs["*"] {
			at("speed", n)("speed given for %q, which is not in interfaces", n)
			continue
		}
		if speeds == nil {
			speeds = map[string]uint64{}
		}
		speeds[n] = v.v
	}
	th := d.Thresholds.over(c.Thresholds, func(field string, err error) {
		at("thresholds", field)("%v", err)
	})
	var ifTh map[string]Thresholds
	for _, n := range slices.Sorted(maps.Keys(d.IfThresh)) {
		t := d.IfThresh[n]
		written := n
		if k, err := interfaceValue(key, n); err == nil {
			n = k
		}
		if !ifs[n] && !ifs["*"] {
			at("interface_thresholds", written)("thresholds given for %q, which is not in interfaces", n)
			continue
		}
		if ifTh == nil {
			ifTh = map[string]Thresholds{}
		}
		ifTh[n] = t.over(th, func(field string, err error) {
			at("interface_thresholds", written, field)("%v", err)
		})
	}
	counters := c.Counters
	if d.Counters != nil {
		counters = p.counters("device", i, *d.Counters)
	}
	hostLine, _ := p.loc.line("device", i, "host")
	return Device{
		Name:                name,
		Host:                host,
		HostLine:            hostLine,
		SNMP:                s,
		Key:                 key,
		Interfaces:          list,
		Speed:               speeds,
		Thresholds:          th,
		InterfaceThresholds: ifTh,
		Counters:            counters,
	}
}

// interfaceValue checks an interface as listed for key and writes it the way the poller
// compares it: MAC addresses as lowercase aa:bb:cc:dd:ee:ff, ifIndex without leading zeros.
func interfaceValue(key, v string) (string, error) {
	switch key {
	case KeyMAC:
		mac, ok := ParseMAC(v)
		if !ok {
			return "", fmt.Errorf("%q is not a MAC address (use aa:bb:cc:dd:ee:ff)", v)
		}
		return mac, nil
	case KeyIfIndex:
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return "", fmt.Errorf("%q is not an ifIndex (a positive number)", v)
		}
		return strconv.Itoa(n), nil
	}
	return v, nil
}

// ParseMAC reads six octets written in hex as aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff,
// aabb.ccdd.eeff or aabbccddeeff, and returns them as lowercase aa:bb:cc:dd:ee:ff.
func ParseMAC(s string) (string, bool) {
	h := strings.NewReplacer(":", "", "-", "", ".", "").Replace(strings.ToLower(strings.TrimSpace(s)))
	if len(h) != 12 {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if _, err := strconv.ParseUint(h[i:i+2], 16, 8); err != nil {
			return "", false
		}
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String(), true
}
