package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the targets file loader: it returns a valid
// Config or Errors, each naming the file, in line order; it never panics; and the
// devices it accepts have a bare host that reads back, with the port, as what is dialled.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.toml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("targets.toml", src)
		if err != nil {
			var all Errors
			if !errors.As(err, &all) || len(all) == 0 {
				t.Fatalf("error %v (%T) is not config.Errors", err, err)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce != all[0] {
				t.Errorf("errors.As finds %v, not the first error", ce)
			}
			for i, e := range all {
				if e.File != "targets.toml" || !strings.HasPrefix(e.Error(), "targets.toml") {
					t.Errorf("error %q does not name the file", e)
				}
				if i > 0 && e.Line != 0 && (all[i-1].Line > e.Line || all[i-1].Line == 0) {
					t.Errorf("error at line %d after one at line %d", e.Line, all[i-1].Line)
				}
			}
			return
		}
		if c.Step <= 0 || c.Location == nil {
			t.Errorf("accepted step %v, location %v", c.Step, c.Location)
		}
		names := map[string]bool{}
		for _, d := range c.Devices {
			if d.Name == "" || d.Host == "" || names[d.Name] || strings.Contains(d.Name, "/") {
				t.Errorf("accepted device %q host %q", d.Name, d.Host)
			}
			names[d.Name] = true
			if h, p, err := ParseHost(d.Addr()); err != nil || h != d.Host || p != d.SNMP.Port || p < 1 || p > 65535 {
				t.Errorf("device %s dials %q, which reads back as %q %d %v", d.Name, d.Addr(), h, p, err)
			}
			if len(d.Interfaces) == 0 && len(d.Targets) == 0 {
				t.Errorf("device %s has neither interfaces nor targets", d.Name)
			}
			targets := map[string]bool{}
			for _, tg := range d.Targets {
				if tg.Name == "" || targets[tg.Name] || strings.ContainsAny(tg.Name, "/\\") ||
					(len(tg.Command) == 0) == (len(tg.OIDs) == 0) || len(tg.OIDs) > 2 || tg.Factor == 0 {
					t.Errorf("device %s: accepted target %+v", d.Name, tg)
				}
				targets[tg.Name] = true
			}
			if s := d.SNMP.String(); (d.SNMP.Community != "" && strings.Contains(s, d.SNMP.Community)) ||
				(d.SNMP.AuthPassword != "" && strings.Contains(s, d.SNMP.AuthPassword)) {
				t.Errorf("String() shows a secret: %s", s)
			}
		}
	})
}
