package config

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Defaults applied when a key is absent.
const (
	DefaultStep      = 5 * time.Minute
	DefaultData      = "var/mrtgo.db"
	DefaultSite      = "var/site"
	DefaultTimezone  = "Local"
	DefaultVersion   = "2c"
	DefaultCommunity = "public"
	DefaultPort      = 161
	DefaultTimeout   = 2 * time.Second
	DefaultRetries   = 1
	DefaultMaxOIDs   = 60
	// DefaultMaxInflight: the agent answers one GETBULK while the last answer is
	// decoded here. On a net-snmp agent with 1,000 interfaces three in flight take a
	// cycle from 14.6 to 11.4 ms; the agent does the same work either way.
	DefaultMaxInflight = 3
)

// Error is a mistake in a targets file. Its text names the file and, where it can be
// found, the line and the key.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // dotted key, e.g. "device[2].timeout"; may be empty
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every mistake found in a targets file, in file order (those whose line is
// unknown last). Loading goes on after a mistake wherever the rest can still be
// checked, so that one run lists them all; a TOML syntax error stops it. errors.As
// finds the first *Error in it.
type Errors []*Error

// Error is one mistake per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the mistakes, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// duration is a TOML string such as "5m" or "2s". A bad value does not stop the
// decoder: it is kept in err and reported with the others, at its key's line.
type duration struct {
	d   time.Duration
	err error
}

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		d.err = fmt.Errorf("bad duration %q (use e.g. \"30s\", \"5m\", \"1h\")", b)
		return nil
	}
	d.d = v
	return nil
}

// snmpFile is the [snmp] table and the per-device overrides; pointers tell "absent"
// from "zero".
type snmpFile struct {
	Version     *string   `toml:"version"`
	Community   *string   `toml:"community"`
	Port        *int      `toml:"port"`
	Timeout     *duration `toml:"timeout"`
	Retries     *int      `toml:"retries"`
	MaxOIDs     *int      `toml:"max_oids"`
	MaxInflight *int      `toml:"max_inflight"`

	Username      *string `toml:"username"`
	SecurityLevel *string `toml:"security_level"`
	AuthProtocol  *string `toml:"auth_protocol"`
	AuthPassword  *string `toml:"auth_password"`
	PrivProtocol  *string `toml:"priv_protocol"`
	PrivPassword  *string `toml:"priv_password"`
	Context       *string `toml:"context"`
}

type deviceFile struct {
	Name       *string                    `toml:"name"`
	Host       *string                    `toml:"host"`
	Interfaces []string                   `toml:"interfaces"`
	Speed      map[string]speed           `toml:"speed"`
	Key        *string                    `toml:"interface_key"`
	Thresholds *thresholdsFile            `toml:"thresholds"`
	IfThresh   map[string]*thresholdsFile `toml:"interface_thresholds"`
	snmpFile
}

// speed is a rate in bits/s written as a number or with an SI suffix: 10000000, "10M",
// "1G", "2.5G", "100Mbps". A bad value is kept in err, as for duration.
type speed struct {
	v   uint64
	err error
}

func (s *speed) UnmarshalText(b []byte) error {
	s.v, s.err = ParseSpeed(string(b))
	return nil
}

// ParseSpeed reads a rate in bits/s: a plain number, or one with a k, M, G or T suffix
// (powers of 1000, as interface speeds are), optionally followed by "bps" or "b/s".
func ParseSpeed(text string) (uint64, error) {
	t := strings.TrimSpace(text)
	t = strings.TrimSuffix(strings.TrimSuffix(t, "bps"), "b/s")
	mult := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			mult = 1e3
		case 'M':
			mult = 1e6
		case 'G':
			mult = 1e9
		case 'T':
			mult = 1e12
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || v*mult > 1e15 {
		return 0, fmt.Errorf("bad speed %q (use bits/s, e.g. 1000000000, \"1G\", \"100M\")", text)
	}
	return uint64(math.Round(v * mult)), nil
}

type file struct {
	Step      *duration    `toml:"step"`
	Data      *string      `toml:"data"`
	Site      *string      `toml:"site"`
	Timezone  *string      `toml:"timezone"`
	SNMP      snmpFile     `toml:"snmp"`
	Devices   []deviceFile `toml:"device"`
	Retention struct {
		Daily   *span `toml:"daily"`
		Weekly  *span `toml:"weekly"`
		Monthly *span `toml:"monthly"`
		Yearly  *span `toml:"yearly"`
	} `toml:"retention"`
	Thresholds globalThresholdsFile `toml:"thresholds"`
}

// span is a retention period: a Go duration or a number of days, weeks or years
// ("31d", "8w", "2y"; a year is 365 days). A bad value is kept in err, as for duration.
type span struct {
	d   time.Duration
	err error
}

func (s *span) UnmarshalText(b []byte) error {
	s.d, s.err = parseSpan(string(b))
	return nil
}

func parseSpan(text string) (time.Duration, error) {
	t := strings.TrimSpace(text)
	bad := fmt.Errorf("bad retention %q (use e.g. \"31d\", \"8w\", \"2y\")", text)
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(t, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(t, "w"):
		unit = 7 * 24 * time.Hour
	case strings.HasSuffix(t, "y"):
		unit = 365 * 24 * time.Hour
	}
	if unit != 0 {
		n, err := strconv.ParseFloat(t[:len(t)-1], 64)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, bad
		}
		return time.Duration(n * float64(unit)), nil
	}
	d, err := time.ParseDuration(t)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

// Load reads and validates the targets file at path. Relative data and site paths are
// resolved against the file's directory.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(path, src)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if !filepath.IsAbs(c.Data) {
		c.Data = filepath.Join(dir, c.Data)
	}
	if !filepath.IsAbs(c.Site) {
		c.Site = filepath.Join(dir, c.Site)
	}
	return c, nil
}

// Parse validates the targets file src, using name in error messages. Paths are left as
// written. Its error is Errors: every mistake found, in file order.
func Parse(name string, src []byte) (*Config, error) {
	var f file
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(&f)
	if err != nil {
		return nil, Errors{decodeError(name, err)}
	}
	p := &parser{name: name, loc: newLocator(src)}
	p.undecoded(md.Undecoded())
	c := p.config(&f)
	if len(p.errs) > 0 {
		// Unknown lines (0) go last.
		slices.SortStableFunc(p.errs, func(a, b *Error) int {
			return cmp.Compare(uint(a.Line-1), uint(b.Line-1))
		})
		return nil, p.errs
	}
	return c, nil
}

// parser collects the mistakes of one file.
type parser struct {
	name string
	loc  *locator
	errs Errors
}

// bad records a mistake in field of table (its idx-th entry for an array of tables,
// -1 otherwise), at sub within the field's value if given.
func (p *parser) bad(table string, idx int, field string, sub []string, format string, args ...any) {
	line, key := p.loc.line(table, idx, field, sub...)
	p.errs = append(p.errs, &Error{File: p.name, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// undecoded reports every key the file's types do not know, once each and where it is;
// the keys under an unknown table go with the table.
func (p *parser) undecoded(keys []toml.Key) {
	done := map[string]bool{}
	for _, k := range keys {
		under := false
		for i := 1; i < len(k); i++ {
			under = under || done[k[:i].String()]
		}
		if under || done[k.String()] {
			continue
		}
		done[k.String()] = true
		for _, at := range p.loc.find(k) {
			p.errs = append(p.errs, &Error{File: p.name, Line: at.line, Key: at.key, Msg: "unknown key" + suggest(k[len(k)-1])})
		}
	}
}

// config checks f and applies the defaults. A value found wrong is reported and left
// at its default, so that what depends on it is still checked where that is sound.
func (p *parser) config(f *file) *Config {
	c := &Config{
		File:     p.name,
		Step:     DefaultStep,
		Data:     DefaultData,
		Site:     DefaultSite,
		Timezone: DefaultTimezone,
	}
	top := func(field, format string, args ...any) { p.bad("", -1, field, nil, format, args...) }
	stepOK := true
	if f.Step != nil {
		stepOK = false
		switch s := f.Step.d; {
		case f.Step.err != nil:
			top("step", "%v", f.Step.err)
		case s < time.Second:
			top("step", "step %s is shorter than 1s", s)
		case s%time.Second != 0:
			top("step", "step %s is not a whole number of seconds", s)
		default:
			c.Step, stepOK = s, true
		}
	}
	if f.Data != nil {
		if *f.Data == "" {
			top("data", "must not be empty")
		} else {
			c.Data = *f.Data
		}
	}
	if f.Site != nil {
		if *f.Site == "" {
			top("site", "must not be empty")
		} else {
			c.Site = *f.Site
		}
	}
	if f.Timezone != nil {
		c.Timezone = *f.Timezone
	}
	c.Retention = DefaultRetention
	for _, r := range []struct {
		key   string
		val   *span
		dst   *time.Duration
		steps int
	}{
		{"daily", f.Retention.Daily, &c.Retention.Daily, 1},
		{"weekly", f.Retention.Weekly, &c.Retention.Weekly, 6},
		{"monthly", f.Retention.Monthly, &c.Retention.Monthly, 24},
		{"yearly", f.Retention.Yearly, &c.Retention.Yearly, 288},
	} {
		switch {
		case r.val == nil:
		case r.val.err != nil:
			p.bad("retention", -1, r.key, nil, "%v", r.val.err)
		case stepOK && r.val.d < time.Duration(r.steps)*c.Step:
			p.bad("retention", -1, r.key, nil, "%s keeps less than one %s row", r.val.d, time.Duration(r.steps)*c.Step)
		default:
			*r.dst = r.val.d
		}
	}
	var err error
	if c.Location, err = time.LoadLocation(c.Timezone); err != nil {
		top("timezone", "unknown time zone %q", c.Timezone)
	}

	c.Thresholds = f.Thresholds.over(Thresholds{Hysteresis: DefaultHysteresis}, func(field string, err error) {
		p.bad("thresholds", -1, field, nil, "%v", err)
	})
	c.Alert.Timeout = DefaultAlertTimeout
	if f.Thresholds.Command != nil {
		c.Alert.Command = strings.TrimSpace(*f.Thresholds.Command)
	}
	if t := f.Thresholds.Timeout; t != nil {
		switch {
		case t.err != nil:
			p.bad("thresholds", -1, "command_timeout", nil, "%v", t.err)
		case t.d <= 0:
			p.bad("thresholds", -1, "command_timeout", nil, "must be positive")
		default:
			c.Alert.Timeout = t.d
		}
	}

	base := SNMP{
		Version:     DefaultVersion,
		Community:   DefaultCommunity,
		Port:        DefaultPort,
		Timeout:     DefaultTimeout,
		Retries:     DefaultRetries,
		MaxOIDs:     DefaultMaxOIDs,
		MaxInflight: DefaultMaxInflight,
	}
	// A device does not repeat a mistake of [snmp] it inherits: it was reported there.
	badSNMP := map[string]bool{}
	c.SNMP = f.SNMP.apply(base, false, func(field, format string, args ...any) {
		badSNMP[field] = true
		p.bad("snmp", -1, field, nil, format, args...)
	})

	seen := map[string]int{}
	for i, d := range f.Devices {
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
		var host string
		hostPort := 0
		if d.Host == nil || strings.TrimSpace(*d.Host) == "" {
			fail("host", "device %q has no host", name)
		} else if host, hostPort, err = ParseHost(strings.TrimSpace(*d.Host)); err != nil {
			fail("host", "%v", err)
		}
		if len(d.Interfaces) == 0 {
			fail("interfaces", "device %q lists no interfaces (use [\"*\"] for every interface that is up)", name)
		}
		key := KeyIfName
		if d.Key != nil {
			if k, ok := canonical(*d.Key, Keys); ok {
				key = k
			} else {
				fail("interface_key", "interface key %q is not one of %s", *d.Key, strings.Join(Keys, ", "))
			}
		}
		ifs := map[string]bool{}
		var list []string
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
		hostLine, _ := p.loc.line("device", i, "host")
		c.Devices = append(c.Devices, Device{
			Name:                name,
			Host:                host,
			HostLine:            hostLine,
			SNMP:                s,
			Key:                 key,
			Interfaces:          list,
			Speed:               speeds,
			Thresholds:          th,
			InterfaceThresholds: ifTh,
		})
	}
	return c
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

// keys lists the keys set in s, by their names in the file.
func (s snmpFile) keys() map[string]bool {
	set := map[string]bool{}
	for k, v := range map[string]bool{
		"version": s.Version != nil, "community": s.Community != nil, "port": s.Port != nil,
		"timeout": s.Timeout != nil, "retries": s.Retries != nil, "max_oids": s.MaxOIDs != nil,
		"max_inflight": s.MaxInflight != nil,
		"username":     s.Username != nil, "security_level": s.SecurityLevel != nil,
		"auth_protocol": s.AuthProtocol != nil, "auth_password": s.AuthPassword != nil,
		"priv_protocol": s.PrivProtocol != nil, "priv_password": s.PrivPassword != nil,
		"context": s.Context != nil,
	} {
		if v {
			set[k] = true
		}
	}
	return set
}

// apply overlays the keys set in s on base and validates the result, reporting every
// mistake to fail. A device (device true) may not set keys its SNMP version does not
// use; the [snmp] table may, as defaults for the devices that do.
func (s snmpFile) apply(base SNMP, device bool, fail func(field, format string, args ...any)) SNMP {
	out := base
	if s.Version != nil {
		out.Version = *s.Version
	}
	if s.Community != nil {
		out.Community = *s.Community
	}
	if s.Port != nil {
		out.Port = *s.Port
	}
	if s.Timeout != nil {
		if s.Timeout.err != nil {
			fail("timeout", "%v", s.Timeout.err)
		} else {
			out.Timeout = s.Timeout.d
		}
	}
	if s.Retries != nil {
		out.Retries = *s.Retries
	}
	if s.MaxOIDs != nil {
		out.MaxOIDs = *s.MaxOIDs
	}
	if s.MaxInflight != nil {
		out.MaxInflight = *s.MaxInflight
	}
	if out.Version != "1" && out.Version != "2c" && out.Version != "3" {
		// What else is right or wrong depends on the version.
		fail("version", "SNMP version %q is not supported (use \"1\", \"2c\" or \"3\")", out.Version)
		return out
	}
	v3 := []struct {
		key string
		src *string
		dst *string
	}{
		{"username", s.Username, &out.Username},
		{"security_level", s.SecurityLevel, &out.SecurityLevel},
		{"auth_protocol", s.AuthProtocol, &out.AuthProtocol},
		{"auth_password", s.AuthPassword, &out.AuthPassword},
		{"priv_protocol", s.PrivProtocol, &out.PrivProtocol},
		{"priv_password", s.PrivPassword, &out.PrivPassword},
		{"context", s.Context, &out.Context},
	}
	for _, k := range v3 {
		if k.src == nil {
			continue
		}
		if device && out.Version != "3" {
			fail(k.key, "%s is an SNMPv3 key but the device uses version %q (set version = \"3\")", k.key, out.Version)
			continue
		}
		*k.dst = *k.src
	}
	if device && s.Community != nil && out.Version == "3" {
		fail("community", "community is not used with SNMP version \"3\" (use username and passwords)")
	}
	if out.Port < 1 || out.Port > 65535 {
		fail("port", "port %d out of range 1-65535", out.Port)
	}
	if out.Timeout <= 0 {
		fail("timeout", "timeout must be positive")
	}
	if out.Retries < 0 || out.Retries > 10 {
		fail("retries", "retries %d out of range 0-10", out.Retries)
	}
	if out.MaxOIDs < 1 || out.MaxOIDs > 1000 {
		fail("max_oids", "max_oids %d out of range 1-1000", out.MaxOIDs)
	}
	if out.MaxInflight < 1 || out.MaxInflight > 16 {
		fail("max_inflight", "max_inflight %d out of range 1-16", out.MaxInflight)
	}
	switch {
	case !device:
		out, _ = usmNames(out, fail) // defaults: devices check what they end up with
		return out
	case out.Version == "3":
		return usm(out, fail)
	}
	out.Username, out.SecurityLevel, out.Context = "", "", ""
	out.AuthProtocol, out.AuthPassword, out.PrivProtocol, out.PrivPassword = "", "", "", ""
	return out
}

// usmNames makes the SNMPv3 names given in s canonical, without asking for the keys a
// level needs. It reports whether the security level is known (or not given).
func usmNames(s SNMP, fail func(field, format string, args ...any)) (SNMP, bool) {
	levelOK := true
	if s.SecurityLevel != "" {
		if l, ok := canonical(s.SecurityLevel, []string{NoAuthNoPriv, AuthNoPriv, AuthPriv}); ok {
			s.SecurityLevel = l
		} else {
			fail("security_level", "security level %q is not one of noAuthNoPriv, authNoPriv, authPriv", s.SecurityLevel)
			levelOK = false
		}
	}
	if s.AuthProtocol != "" {
		if p, ok := canonical(s.AuthProtocol, AuthProtocols); ok {
			s.AuthProtocol = p
		} else {
			fail("auth_protocol", "auth_protocol %q is not one of %s", s.AuthProtocol, strings.Join(AuthProtocols, ", "))
		}
	}
	if s.PrivProtocol != "" {
		if p, ok := canonical(s.PrivProtocol, PrivProtocols); ok {
			s.PrivProtocol = p
		} else {
			fail("priv_protocol", "priv_protocol %q is not one of %s", s.PrivProtocol, strings.Join(PrivProtocols, ", "))
		}
	}
	return s, levelOK
}

// minPassword is the shortest USM password: RFC 3414 §11.2 asks for at least eight
// characters, and net-snmp refuses shorter ones.
const minPassword = 8

// usm validates the SNMPv3 settings of s and makes its names canonical. Messages name
// the key, never a password.
func usm(s SNMP, fail func(field, format string, args ...any)) SNMP {
	if strings.TrimSpace(s.Username) == "" {
		fail("username", "SNMP version \"3\" needs a username")
	}
	s, levelOK := usmNames(s, fail)
	if !levelOK {
		return s // which keys are needed depends on the level
	}
	if s.SecurityLevel == "" {
		// Follow the passwords given, so that the common cases need no level.
		switch {
		case s.PrivPassword != "":
			s.SecurityLevel = AuthPriv
		case s.AuthPassword != "":
			s.SecurityLevel = AuthNoPriv
		default:
			s.SecurityLevel = NoAuthNoPriv
		}
	}
	if s.SecurityLevel == NoAuthNoPriv {
		s.AuthProtocol, s.AuthPassword, s.PrivProtocol, s.PrivPassword = "", "", "", ""
		return s
	}
	if s.AuthProtocol == "" {
		fail("auth_protocol", "security level %s needs auth_protocol (one of %s)", s.SecurityLevel, strings.Join(AuthProtocols, ", "))
	}
	if len(s.AuthPassword) < minPassword {
		fail("auth_password", "security level %s needs an auth_password of at least %d characters", s.SecurityLevel, minPassword)
	}
	if s.SecurityLevel == AuthNoPriv {
		s.PrivProtocol, s.PrivPassword = "", ""
		return s
	}
	if s.PrivProtocol == "" {
		fail("priv_protocol", "security level authPriv needs priv_protocol (one of %s)", strings.Join(PrivProtocols, ", "))
	}
	if len(s.PrivPassword) < minPassword {
		fail("priv_password", "security level authPriv needs a priv_password of at least %d characters", minPassword)
	}
	return s
}

// canonical finds name among names ignoring case, dashes and underscores ("sha256",
// "SHA-256"); "AES-128" is AES.
func canonical(name string, names []string) (string, bool) {
	fold := func(s string) string {
		return strings.NewReplacer("-", "", "_", "").Replace(strings.ToUpper(strings.TrimSpace(s)))
	}
	n := fold(name)
	if n == "AES128" {
		n = "AES"
	}
	for _, c := range names {
		if fold(c) == n {
			return c, true
		}
	}
	return "", false
}

// decodeError turns a decoder error into an *Error with the line when the decoder knows it.
func decodeError(name string, err error) *Error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if msg == "" {
			msg = pe.Error()
		}
		line := pe.Position.Line
		if strings.Contains(msg, `got '\n'`) && line > 1 {
			line-- // the parser stands on the newline that ends the bad line
		}
		return &Error{File: name, Line: line, Key: pe.LastKey, Msg: msg}
	}
	// Type mismatches carry "line N (last key "k"): ..." in their text only.
	m := typeErr.FindStringSubmatch(err.Error())
	if m != nil {
		var line int
		fmt.Sscan(m[1], &line)
		return &Error{File: name, Line: line, Key: m[2], Msg: m[3]}
	}
	return &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

var typeErr = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// known lists every key for spelling suggestions.
var known = []string{"step", "data", "site", "timezone", "snmp", "device", "name", "host",
	"interfaces", "speed", "retention", "daily", "weekly", "monthly", "yearly", "version", "community", "port", "timeout", "retries", "max_oids", "max_inflight", "interface_key",
	"username", "security_level", "auth_protocol", "auth_password", "priv_protocol", "priv_password", "context"}

func suggest(k string) string {
	best, bd := "", 3
	for _, w := range known {
		if d := EditDistance(k, w); d < bd {
			best, bd = w, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// EditDistance is the Levenshtein distance between a and b, for "did you mean" hints
// on misspelt keys (here and in MRTG configurations).
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// locator finds the line of a key in the source. The TOML decoder keeps key positions
// to itself, so this reads the table headers and key assignments of each line; it only
// has to be good enough to point a person at the right line. Keys inside inline tables
// and multi-line values are found at the line of the key that holds them.
type locator struct {
	keys  []keyLine
	lines []string
}

// keyLine is a table header or key assignment: its full dotted path and, inside an
// array of tables ([[device]]), the index of the entry.
type keyLine struct {
	line int
	path []string
	idx  int // -1 outside an array of tables
}

func newLocator(src []byte) *locator {
	l := &locator{lines: strings.Split(string(src), "\n")}
	var table []string
	array, idx := "", -1
	count := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, len(src)+1)
	for ln := 1; sc.Scan(); ln++ {
		t := strings.TrimLeft(sc.Text(), " \t")
		switch {
		case strings.HasPrefix(t, "[["):
			k, rest, ok := parseKey(t[2:])
			if !ok || !strings.HasPrefix(rest, "]]") {
				continue
			}
			name := strings.Join(k, ".")
			table, array, idx = k, name, count[name]
			count[name]++
			l.keys = append(l.keys, keyLine{ln, k, idx})
		case strings.HasPrefix(t, "["):
			k, rest, ok := parseKey(t[1:])
			if !ok || !strings.HasPrefix(rest, "]") {
				continue
			}
			if array == "" || !strings.HasPrefix(strings.Join(k, ".")+".", array+".") {
				array, idx = "", -1
			}
			table = k
			l.keys = append(l.keys, keyLine{ln, k, idx})
		default:
			k, rest, ok := parseKey(t)
			if !ok || !strings.HasPrefix(rest, "=") {
				continue
			}
			l.keys = append(l.keys, keyLine{ln, append(slices.Clip(table), k...), idx})
		}
	}
	return l
}

// parseKey reads a dotted TOML key (bare, "quoted" or 'literal' parts) at the start of
// s and returns its parts and the rest of s after blanks.
func parseKey(s string) (parts []string, rest string, ok bool) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return nil, "", false
		}
		var part string
		switch s[0] {
		case '"':
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return nil, "", false
			}
			part = s[1:end]
			if u, err := strconv.Unquote(s[:end+1]); err == nil {
				part = u
			}
			s = s[end+1:]
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, "", false
			}
			part, s = s[1:end+1], s[end+2:]
		default:
			n := 0
			for n < len(s) && isBare(s[n]) {
				n++
			}
			if n == 0 {
				return nil, "", false
			}
			part, s = s[:n], s[n:]
		}
		parts = append(parts, part)
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ".") {
			return parts, s, true
		}
		s = s[1:]
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// line returns the line of field in table ("" for the top level; its idx-th entry for
// an array of tables, idx -1 otherwise), or of sub within the field's value, and the key
// as messages name it ("device[2].timeout", "device[1].speed.\"ge-0/0/0\""). A key that
// is absent, or inside an inline table, is found at the nearest key or table header
// that holds it.
func (l *locator) line(table string, idx int, field string, sub ...string) (int, string) {
	var path []string
	if table != "" {
		path = strings.Split(table, ".")
	}
	path = append(append(path, field), sub...)
	key := formatKey(path[:len(path)-len(sub)-1], idx, path[len(path)-len(sub)-1:])
	for n := len(path); n > 0; n-- {
		for _, k := range l.keys {
			if k.idx == idx && slices.Equal(k.path, path[:n]) {
				return k.line, key
			}
		}
	}
	return 0, key
}

// at is where one key is in the file.
type at struct {
	line int
	key  string
}

// find locates every occurrence of an undecoded key such as device.commnity (in each
// [[device]] that has it) or snmp.tmeout.
func (l *locator) find(k toml.Key) []at {
	var found []at
	for n := len(k); n > 0 && found == nil; n-- {
		for _, kl := range l.keys {
			if !slices.Equal(kl.path, k[:n]) {
				continue
			}
			// Inside an inline table: keep the lines that name the key.
			if n < len(k) && !strings.Contains(l.text(kl.line), k[len(k)-1]) {
				continue
			}
			table, rest := k[:0], []string(k)
			if kl.idx >= 0 {
				table, rest = k[:1], k[1:] // arrays of tables are top-level here
			}
			found = append(found, at{kl.line, formatKey(table, kl.idx, rest)})
		}
	}
	if found == nil {
		return []at{{0, formatKey(nil, -1, k)}}
	}
	return found
}

func (l *locator) text(line int) string {
	if line < 1 || line > len(l.lines) {
		return ""
	}
	return l.lines[line-1]
}

// formatKey writes table[idx+1].rest, quoting the parts that are not bare keys.
func formatKey(table []string, idx int, rest []string) string {
	var b strings.Builder
	part := func(p string) {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		for i := 0; i < len(p); i++ {
			if !isBare(p[i]) {
				b.WriteString(strconv.Quote(p))
				return
			}
		}
		b.WriteString(p)
	}
	for _, p := range table {
		part(p)
	}
	if idx >= 0 && len(table) > 0 {
		fmt.Fprintf(&b, "[%d]", idx+1)
	}
	for _, p := range rest {
		part(p)
	}
	if b.Len() == 0 {
		return ""
	}
	return b.String()
}
