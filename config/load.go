package config

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

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
	switch {
	case c.Flows.Data == "":
		c.Flows.Data = filepath.Join(filepath.Dir(c.Data), "flows")
	case !filepath.IsAbs(c.Flows.Data):
		c.Flows.Data = filepath.Join(dir, c.Flows.Data)
	}
	for _, d := range []struct {
		path *string
		def  string
	}{{&c.Events.Data, "events"}, {&c.Detect.Capture.Dir, "captures"}, {&c.RemoteWrite.Queue, "remote-write"}} {
		switch {
		case *d.path == "":
			*d.path = filepath.Join(filepath.Dir(c.Data), d.def)
		case !filepath.IsAbs(*d.path):
			*d.path = filepath.Join(dir, *d.path)
		}
	}
	for _, p := range []*string{&c.RemoteWrite.TLSCA, &c.RemoteWrite.TLSCert, &c.RemoteWrite.TLSKey, &c.RemoteWrite.BearerTokenFile,
		&c.RemoteRead.TLSCA, &c.RemoteRead.TLSCert, &c.RemoteRead.TLSKey, &c.RemoteRead.BearerTokenFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
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
			p.errs = append(p.errs, &Error{File: p.name, Line: at.line, Key: at.key, Msg: "unknown key" + suggestIn(k[:len(k)-1], k[len(k)-1])})
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

	base := DefaultSNMP()
	// A device does not repeat a mistake of [snmp] it inherits: it was reported there.
	badSNMP := map[string]bool{}
	c.SNMP = f.SNMP.apply(base, false, func(field, format string, args ...any) {
		badSNMP[field] = true
		p.bad("snmp", -1, field, nil, format, args...)
	})

	c.Counters = p.counters("", -1, f.Counters)
	seen := map[string]int{}
	targets := 0 // [[device.target]] tables of the devices before
	for i, d := range f.Devices {
		dev := p.device(i, &d, c, seen, badSNMP)
		p.targets(targets, &d, &dev, c.Step)
		targets += len(d.Targets)
		c.Devices = append(c.Devices, dev)
	}
	p.aggregates(f, c)
	p.flows(f, c)
	p.detect(f, c)
	p.remoteWrite(f, c)
	p.remoteRead(f, c)
	p.shards(f, c)
	return c
}
