package config

import (
	"fmt"
	"strings"
	"time"
)

// File is a targets file to write: the top-level settings and [snmp] of a new file,
// and the devices to write into it. Format writes it whole; Merge adds its devices to
// a file that exists, line by line, keeping what a person wrote there.
type File struct {
	// Comment opens a new file, one "# " line per line of it.
	Comment string
	// Step, Data, Site and Timezone are the top-level keys; each is written, its
	// default when zero.
	Step                 time.Duration
	Data, Site, Timezone string
	// SNMP, when set, is written as the [snmp] table (its SNMPv1/v2c keys), so that a
	// person sees what each device inherits. Devices write what differs from it.
	SNMP *SNMP
	// Counters is the top-level counters key, written when it sets a group.
	Counters Counters
	// Notes are comments written after a key's value, by key: "step", "snmp.version".
	Notes map[string]string
	// Devices are the [[device]] tables, in order.
	Devices []FileDevice
}

// FileDevice is a [[device]] table to write, or, in Merge, the interfaces to add to the
// table of that name or host when the file has one.
type FileDevice struct {
	Name string
	Host string // as ParseHost returns it: bare, no brackets, no port
	// SNMP holds the device's settings. Those that differ from the file's [snmp] (its
	// defaults when it has none) are written; an empty Version, a zero Port and a zero
	// Timeout are "inherit". SNMPv3 keys are written for version "3", community otherwise.
	SNMP SNMP
	// Key is the interface_key; "" or KeyIfName (the default) is not written.
	Key string
	// Interfaces are the ones chosen, by their Key values, with the comment written
	// beside each (a title, a speed); a list without comments is written on one line.
	Interfaces []FileInterface
	// Speed overrides, bits/s, written as the speed table of a new device. Merge does
	// not touch the speed table of a device the file has: the interfaces added that
	// have a speed here are listed in Change.SpeedNotWritten.
	Speed map[string]uint64
	// Present is every interface Key value the device has now, chosen or not. In Merge,
	// an entry of the file missing from it has vanished (reported, left in place); nil
	// means unknown, and nothing is reported as vanished.
	Present map[string]bool
	// Counters, when not nil, is the device's counters key, written when it differs
	// from the file's.
	Counters *Counters
	// Targets are its [[device.target]] tables (writetarget.go). In Merge, those whose
	// name the file's device lacks are added after its last table.
	Targets []Target
}

// FileInterface is one entry of a device's interfaces array.
type FileInterface struct {
	Key     string
	Comment string
}

// Format writes f as a targets file. It does not check it: Parse does.
func Format(f File) []byte {
	var b strings.Builder
	b.WriteString(header(f))
	defaults := DefaultSNMP()
	if f.SNMP != nil {
		defaults = *f.SNMP
	}
	step := f.Step
	if step == 0 {
		step = DefaultStep
	}
	for _, d := range f.Devices {
		for _, l := range deviceBlock(d, defaults, f.Counters) {
			b.WriteString(l)
		}
		for _, l := range targetBlocks(d.Targets, step) {
			b.WriteString(l)
		}
	}
	return []byte(b.String())
}

// header writes the opening comment, the top-level keys and [snmp] of f.
func header(f File) string {
	var b strings.Builder
	if f.Comment != "" {
		for l := range strings.SplitSeq(strings.TrimRight(f.Comment, "\n"), "\n") {
			b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
		}
		b.WriteString("\n")
	}
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	step := f.Step
	if step == 0 {
		step = DefaultStep
	}
	keys := func(table string, kv [][2]string) {
		w := 0
		for _, p := range kv {
			w = max(w, len(p[0]))
		}
		for _, p := range kv {
			line := fmt.Sprintf("%-*s = %s", w, p[0], p[1])
			name := p[0]
			if table != "" {
				name = table + "." + name
			}
			if n := f.Notes[name]; n != "" {
				line += "  # " + n
			}
			b.WriteString(line + "\n")
		}
	}
	top := [][2]string{
		{"step", quote(FormatDuration(step))},
		{"data", quote(or(f.Data, DefaultData))},
		{"site", quote(or(f.Site, DefaultSite))},
		{"timezone", quote(or(f.Timezone, DefaultTimezone))},
	}
	if l := countersLine(f.Counters, Counters{}); l != "" {
		_, v, _ := strings.Cut(strings.TrimSpace(l), " = ")
		top = append(top, [2]string{"counters", v})
	}
	keys("", top)
	if s := f.SNMP; s != nil {
		b.WriteString("\n[snmp]\n")
		keys("snmp", [][2]string{
			{"version", quote(s.Version)},
			{"community", quote(s.Community)},
			{"port", fmt.Sprint(s.Port)},
			{"timeout", quote(FormatDuration(s.Timeout))},
			{"retries", fmt.Sprint(s.Retries)},
			{"max_oids", fmt.Sprint(s.MaxOIDs)},
			{"max_inflight", fmt.Sprint(s.MaxInflight)},
		})
	}
	return b.String()
}

// deviceBlock writes a [[device]] table, with the SNMP keys that differ from d, the
// file's [snmp], and the counters key when it differs from counters, the file's.
func deviceBlock(f FileDevice, d SNMP, counters Counters) []string {
	out := []string{"\n", "[[device]]\n",
		fmt.Sprintf("name = %s\n", quote(f.Name)),
		fmt.Sprintf("host = %s\n", quote(f.Host))}
	t := f.SNMP
	str := func(key, v, def string) {
		if v != def {
			out = append(out, fmt.Sprintf("%s = %s\n", key, quote(v)))
		}
	}
	version := t.Version
	if version == "" {
		version = d.Version
	}
	str("version", version, d.Version)
	if version == "3" {
		str("username", t.Username, d.Username)
		str("security_level", t.SecurityLevel, d.SecurityLevel)
		str("auth_protocol", t.AuthProtocol, d.AuthProtocol)
		str("auth_password", t.AuthPassword, d.AuthPassword)
		str("priv_protocol", t.PrivProtocol, d.PrivProtocol)
		str("priv_password", t.PrivPassword, d.PrivPassword)
		str("context", t.Context, d.Context)
	} else {
		str("community", t.Community, d.Community)
	}
	if t.Port != 0 && t.Port != d.Port {
		out = append(out, fmt.Sprintf("port = %d\n", t.Port))
	}
	if t.Timeout != 0 && t.Timeout != d.Timeout {
		out = append(out, fmt.Sprintf("timeout = %s\n", quote(FormatDuration(t.Timeout))))
	}
	if t.Retries != d.Retries {
		out = append(out, fmt.Sprintf("retries = %d\n", t.Retries))
	}
	if k := keyOr(f.Key); k != KeyIfName {
		out = append(out, fmt.Sprintf("interface_key = %s\n", quote(k)))
	}
	if f.Counters != nil {
		if l := countersLine(*f.Counters, counters); l != "" {
			out = append(out, l)
		}
	}
	if len(f.Interfaces) == 0 && len(f.Targets) > 0 {
		return out // a device of targets only
	}
	if commented(f.Interfaces) {
		out = append(out, "interfaces = [\n")
		out = append(out, entryLines("  ", f.Interfaces)...)
		out = append(out, "]\n")
	} else {
		keys := make([]string, len(f.Interfaces))
		for i, e := range f.Interfaces {
			keys[i] = quote(e.Key)
		}
		out = append(out, "interfaces = ["+strings.Join(keys, ", ")+"]\n")
	}
	var parts []string
	for _, e := range f.Interfaces {
		if v, ok := f.Speed[e.Key]; ok {
			sv := FormatSpeed(v)
			if got, err := ParseSpeed(sv); err != nil || got != v {
				sv = fmt.Sprint(v) // keep it exact
			}
			parts = append(parts, fmt.Sprintf("%s = %s", quote(e.Key), quote(sv)))
		}
	}
	if len(parts) > 0 {
		out = append(out, "speed = { "+strings.Join(parts, ", ")+" }\n")
	}
	return out
}

func commented(es []FileInterface) bool {
	for _, e := range es {
		if e.Comment != "" {
			return true
		}
	}
	return false
}

// entryLines writes one array entry per line, the comments aligned.
func entryLines(indent string, es []FileInterface) []string {
	w := 0
	for _, e := range es {
		w = max(w, len(quote(e.Key))+1)
	}
	out := make([]string, len(es))
	for i, e := range es {
		if c := strings.TrimSpace(strings.ReplaceAll(e.Comment, "\n", " ")); c != "" {
			out[i] = fmt.Sprintf("%s%-*s # %s\n", indent, w, quote(e.Key)+",", c)
		} else {
			out[i] = indent + quote(e.Key) + ",\n"
		}
	}
	return out
}

// keyOr is the canonical interface key k names, KeyIfName for "".
func keyOr(k string) string {
	if k == "" {
		return KeyIfName
	}
	if c, ok := canonical(k, Keys); ok {
		return c
	}
	return k
}

// FormatSpeed writes bits/s as "10G", "100M", "1.5M", which ParseSpeed reads back.
func FormatSpeed(bps uint64) string {
	if bps == 0 {
		return "speed unknown"
	}
	for _, u := range []struct {
		div  float64
		name string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if float64(bps) >= u.div {
			return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", float64(bps)/u.div), "0"), ".") + u.name
		}
	}
	return fmt.Sprintf("%d", bps)
}

// FormatDuration writes d as a person would: "5m", "1h30m", "2s" rather than "5m0s".
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Quote writes s as a TOML basic string, as the targets file's writer does: for
// those who append tables the writer does not know (mrtgimport's aggregates).
func Quote(s string) string { return quote(s) }

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
