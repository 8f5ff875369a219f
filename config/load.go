package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
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

// duration is a TOML string such as "5m" or "2s". It implements TextUnmarshaler so that
// a bad value is reported by the decoder with its line.
type duration struct {
	d   time.Duration
	set bool
}

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("bad duration %q (use e.g. \"30s\", \"5m\", \"1h\")", b)
	}
	d.d, d.set = v, true
	return nil
}

// snmpFile is the [snmp] table and the per-device overrides; pointers tell "absent"
// from "zero".
type snmpFile struct {
	Version   *string   `toml:"version"`
	Community *string   `toml:"community"`
	Port      *int      `toml:"port"`
	Timeout   *duration `toml:"timeout"`
	Retries   *int      `toml:"retries"`
	MaxOIDs   *int      `toml:"max_oids"`

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
// "1G", "2.5G", "100Mbps".
type speed uint64

func (s *speed) UnmarshalText(b []byte) error {
	v, err := ParseSpeed(string(b))
	if err != nil {
		return err
	}
	*s = speed(v)
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
// ("31d", "8w", "2y"; a year is 365 days).
type span struct{ d time.Duration }

func (s *span) UnmarshalText(b []byte) error {
	t := strings.TrimSpace(string(b))
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
			return fmt.Errorf("bad retention %q (use e.g. \"31d\", \"8w\", \"2y\")", b)
		}
		s.d = time.Duration(n * float64(unit))
		return nil
	}
	d, err := time.ParseDuration(t)
	if err != nil || d <= 0 {
		return fmt.Errorf("bad retention %q (use e.g. \"31d\", \"8w\", \"2y\")", b)
	}
	s.d = d
	return nil
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
// written.
func Parse(name string, src []byte) (*Config, error) {
	var f file
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(&f)
	if err != nil {
		return nil, decodeError(name, err)
	}
	loc := locator{src: src}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		line, key := loc.find(k)
		return nil, &Error{File: name, Line: line, Key: key, Msg: "unknown key" + suggest(k[len(k)-1])}
	}
	bad := func(key string, idx int, field, format string, args ...any) error {
		line, k := loc.line(key, idx, field)
		return &Error{File: name, Line: line, Key: k, Msg: fmt.Sprintf(format, args...)}
	}

	c := &Config{
		File:     name,
		Step:     DefaultStep,
		Data:     DefaultData,
		Site:     DefaultSite,
		Timezone: DefaultTimezone,
	}
	if f.Step != nil {
		c.Step = f.Step.d
		if c.Step < time.Second {
			return nil, bad("", -1, "step", "step %s is shorter than 1s", c.Step)
		}
		if c.Step%time.Second != 0 {
			return nil, bad("", -1, "step", "step %s is not a whole number of seconds", c.Step)
		}
	}
	if f.Data != nil {
		if *f.Data == "" {
			return nil, bad("", -1, "data", "must not be empty")
		}
		c.Data = *f.Data
	}
	if f.Site != nil {
		if *f.Site == "" {
			return nil, bad("", -1, "site", "must not be empty")
		}
		c.Site = *f.Site
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
		if r.val == nil {
			continue
		}
		if res := time.Duration(r.steps) * c.Step; r.val.d < res {
			return nil, bad("retention", -1, r.key, "%s keeps less than one %s row", r.val.d, res)
		}
		*r.dst = r.val.d
	}
	c.Location, err = time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, bad("", -1, "timezone", "unknown time zone %q", c.Timezone)
	}

	c.Thresholds = f.Thresholds.over(Thresholds{Hysteresis: DefaultHysteresis})
	c.Alert.Timeout = DefaultAlertTimeout
	if f.Thresholds.Command != nil {
		c.Alert.Command = strings.TrimSpace(*f.Thresholds.Command)
	}
	if f.Thresholds.Timeout != nil {
		if f.Thresholds.Timeout.d <= 0 {
			return nil, bad("thresholds", -1, "command_timeout", "must be positive")
		}
		c.Alert.Timeout = f.Thresholds.Timeout.d
	}

	base := SNMP{
		Version:   DefaultVersion,
		Community: DefaultCommunity,
		Port:      DefaultPort,
		Timeout:   DefaultTimeout,
		Retries:   DefaultRetries,
		MaxOIDs:   DefaultMaxOIDs,
	}
	c.SNMP, err = f.SNMP.apply(base, false, func(field, format string, args ...any) error {
		return bad("snmp", -1, field, format, args...)
	})
	if err != nil {
		return nil, err
	}

	seen := map[string]int{}
	for i, d := range f.Devices {
		fail := func(field, format string, args ...any) error {
			return bad("device", i, field, format, args...)
		}
		if d.Name == nil || strings.TrimSpace(*d.Name) == "" {
			return nil, fail("name", "device has no name")
		}
		if d.Host == nil || strings.TrimSpace(*d.Host) == "" {
			return nil, fail("host", "device %q has no host", *d.Name)
		}
		if j, dup := seen[*d.Name]; dup {
			line, _ := loc.line("device", j, "name")
			return nil, fail("name", "duplicate device name %q (first at line %d)", *d.Name, line)
		}
		seen[*d.Name] = i
		if strings.ContainsAny(*d.Name, "/\\") || *d.Name == "." || *d.Name == ".." {
			return nil, fail("name", "device name %q may not contain / or \\ or be . or ..", *d.Name)
		}
		if len(d.Interfaces) == 0 {
			return nil, fail("interfaces", "device %q lists no interfaces (use [\"*\"] for every interface that is up)", *d.Name)
		}
		key := KeyIfName
		if d.Key != nil {
			k, ok := canonical(*d.Key, Keys)
			if !ok {
				return nil, fail("interface_key", "interface key %q is not one of %s", *d.Key, strings.Join(Keys, ", "))
			}
			key = k
		}
		ifs := map[string]bool{}
		for j, n := range d.Interfaces {
			if n != "*" && n != "" {
				v, err := interfaceValue(key, n)
				if err != nil {
					return nil, fail("interfaces", "%v", err)
				}
				n, d.Interfaces[j] = v, v
			}
			switch {
			case n == "":
				return nil, fail("interfaces", "empty interface name")
			case n == "*" && len(d.Interfaces) > 1:
				return nil, fail("interfaces", "\"*\" must be the only entry")
			case ifs[n]:
				return nil, fail("interfaces", "interface %q listed twice", n)
			}
			ifs[n] = true
		}
		s, err := d.snmpFile.apply(c.SNMP, true, fail)
		if err != nil {
			return nil, err
		}
		var speeds map[string]uint64
		for n, v := range d.Speed {
			if k, err := interfaceValue(key, n); err == nil {
				n = k
			}
			if !ifs[n] && !ifs["*"] {
				return nil, fail("speed", "speed given for %q, which is not in interfaces", n)
			}
			if speeds == nil {
				speeds = map[string]uint64{}
			}
			speeds[n] = uint64(v)
		}
		th := d.Thresholds.over(c.Thresholds)
		var ifTh map[string]Thresholds
		for n, t := range d.IfThresh {
			if k, err := interfaceValue(key, n); err == nil {
				n = k
			}
			if !ifs[n] && !ifs["*"] {
				return nil, fail("interface_thresholds", "thresholds given for %q, which is not in interfaces", n)
			}
			if ifTh == nil {
				ifTh = map[string]Thresholds{}
			}
			ifTh[n] = t.over(th)
		}
		c.Devices = append(c.Devices, Device{
			Name:                *d.Name,
			Host:                strings.TrimSpace(*d.Host),
			SNMP:                s,
			Key:                 key,
			Interfaces:          d.Interfaces,
			Speed:               speeds,
			Thresholds:          th,
			InterfaceThresholds: ifTh,
		})
	}
	return c, nil
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

// apply overlays the keys set in s on base and validates the result. A device (device
// true) may not set keys its SNMP version does not use; the [snmp] table may, as
// defaults for the devices that do.
func (s snmpFile) apply(base SNMP, device bool, fail func(field, format string, args ...any) error) (SNMP, error) {
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
		out.Timeout = s.Timeout.d
	}
	if s.Retries != nil {
		out.Retries = *s.Retries
	}
	if s.MaxOIDs != nil {
		out.MaxOIDs = *s.MaxOIDs
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
			return out, fail(k.key, "%s is an SNMPv3 key but the device uses version %q (set version = \"3\")", k.key, out.Version)
		}
		*k.dst = *k.src
	}
	if device && s.Community != nil && out.Version == "3" {
		return out, fail("community", "community is not used with SNMP version \"3\" (use username and passwords)")
	}
	switch {
	case out.Version != "1" && out.Version != "2c" && out.Version != "3":
		return out, fail("version", "SNMP version %q is not supported (use \"1\", \"2c\" or \"3\")", out.Version)
	case out.Port < 1 || out.Port > 65535:
		return out, fail("port", "port %d out of range 1-65535", out.Port)
	case out.Timeout <= 0:
		return out, fail("timeout", "timeout must be positive")
	case out.Retries < 0 || out.Retries > 10:
		return out, fail("retries", "retries %d out of range 0-10", out.Retries)
	case out.MaxOIDs < 1 || out.MaxOIDs > 1000:
		return out, fail("max_oids", "max_oids %d out of range 1-1000", out.MaxOIDs)
	}
	switch {
	case !device:
		return usmNames(out, fail) // defaults: devices check what they end up with
	case out.Version == "3":
		return usm(out, fail)
	}
	out.Username, out.SecurityLevel, out.Context = "", "", ""
	out.AuthProtocol, out.AuthPassword, out.PrivProtocol, out.PrivPassword = "", "", "", ""
	return out, nil
}

// usmNames makes the SNMPv3 names given in s canonical, without asking for the keys a
// level needs.
func usmNames(s SNMP, fail func(field, format string, args ...any) error) (SNMP, error) {
	if s.SecurityLevel != "" {
		l, ok := canonical(s.SecurityLevel, []string{NoAuthNoPriv, AuthNoPriv, AuthPriv})
		if !ok {
			return s, fail("security_level", "security level %q is not one of noAuthNoPriv, authNoPriv, authPriv", s.SecurityLevel)
		}
		s.SecurityLevel = l
	}
	if s.AuthProtocol != "" {
		p, ok := canonical(s.AuthProtocol, AuthProtocols)
		if !ok {
			return s, fail("auth_protocol", "auth_protocol %q is not one of %s", s.AuthProtocol, strings.Join(AuthProtocols, ", "))
		}
		s.AuthProtocol = p
	}
	if s.PrivProtocol != "" {
		p, ok := canonical(s.PrivProtocol, PrivProtocols)
		if !ok {
			return s, fail("priv_protocol", "priv_protocol %q is not one of %s", s.PrivProtocol, strings.Join(PrivProtocols, ", "))
		}
		s.PrivProtocol = p
	}
	return s, nil
}

// minPassword is the shortest USM password: RFC 3414 §11.2 asks for at least eight
// characters, and net-snmp refuses shorter ones.
const minPassword = 8

// usm validates the SNMPv3 settings of s and makes its names canonical. Messages name
// the key, never a password.
func usm(s SNMP, fail func(field, format string, args ...any) error) (SNMP, error) {
	if strings.TrimSpace(s.Username) == "" {
		return s, fail("username", "SNMP version \"3\" needs a username")
	}
	s, err := usmNames(s, fail)
	if err != nil {
		return s, err
	}
	switch s.SecurityLevel {
	case "":
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
		return s, nil
	}
	switch {
	case s.AuthProtocol == "":
		return s, fail("auth_protocol", "security level %s needs auth_protocol (one of %s)", s.SecurityLevel, strings.Join(AuthProtocols, ", "))
	case len(s.AuthPassword) < minPassword:
		return s, fail("auth_password", "security level %s needs an auth_password of at least %d characters", s.SecurityLevel, minPassword)
	}
	if s.SecurityLevel == AuthNoPriv {
		s.PrivProtocol, s.PrivPassword = "", ""
		return s, nil
	}
	switch {
	case s.PrivProtocol == "":
		return s, fail("priv_protocol", "security level authPriv needs priv_protocol (one of %s)", strings.Join(PrivProtocols, ", "))
	case len(s.PrivPassword) < minPassword:
		return s, fail("priv_password", "security level authPriv needs a priv_password of at least %d characters", minPassword)
	}
	return s, nil
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
func decodeError(name string, err error) error {
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
	"interfaces", "speed", "retention", "daily", "weekly", "monthly", "yearly", "version", "community", "port", "timeout", "retries", "max_oids", "interface_key",
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
// to itself, so this scans the file's table headers and key assignments; it only has to
// be good enough to point a person at the right line.
type locator struct{ src []byte }

var (
	headerRe = regexp.MustCompile(`^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?`)
	keyRe    = regexp.MustCompile(`^\s*"?([A-Za-z0-9_-]+)"?\s*=`)
)

// line returns the line of field in table (""=top level); idx counts [[table]] entries
// (-1 for a plain table). When field is absent it returns the table header's line.
func (l locator) line(table string, idx int, field string) (int, string) {
	key := field
	switch {
	case table != "" && idx >= 0:
		key = fmt.Sprintf("%s[%d].%s", table, idx+1, field)
	case table != "":
		key = table + "." + field
	}
	cur, n, header := "", -1, 0
	sc := bufio.NewScanner(bytes.NewReader(l.src))
	for ln := 1; sc.Scan(); ln++ {
		t := sc.Text()
		if m := headerRe.FindStringSubmatch(t); m != nil {
			if header > 0 && cur == table && (idx < 0 || n == idx) {
				return header, key // field absent: point at the table
			}
			cur = m[2]
			if cur == table {
				n++
				if idx < 0 || n == idx {
					header = ln
				}
			}
			continue
		}
		if cur == table && (idx < 0 || n == idx) {
			if m := keyRe.FindStringSubmatch(t); m != nil && m[1] == field {
				return ln, key
			}
		}
	}
	return header, key
}

// find locates an undecoded key such as device.commnity or snmp.tmeout.
func (l locator) find(k toml.Key) (int, string) {
	switch len(k) {
	case 1:
		ln, _ := l.line("", -1, k[0])
		return ln, k[0]
	default:
		table, field := strings.Join(k[:len(k)-1], "."), k[len(k)-1]
		// Which [[table]] entry holds it is unknown to the decoder: take the first that does.
		for i := -1; i < 1000; i++ {
			ln, key := l.line(table, i, field)
			if ln == 0 {
				break
			}
			if l.isKeyLine(ln, field) {
				return ln, key
			}
		}
		return 0, k.String()
	}
}

func (l locator) isKeyLine(ln int, field string) bool {
	lines := bytes.Split(l.src, []byte("\n"))
	if ln < 1 || ln > len(lines) {
		return false
	}
	m := keyRe.FindSubmatch(lines[ln-1])
	return m != nil && string(m[1]) == field
}
