package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the targets file loader: it returns a valid
// Config or a *Error naming the file, never panics, and a Config it accepts is one it
// accepts again (the defaults it applies are themselves valid).
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
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *config.Error", err, err)
			}
			if ce.File != "targets.toml" || !strings.HasPrefix(err.Error(), "targets.toml") {
				t.Errorf("error %q does not name the file", err)
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
			if len(d.Interfaces) == 0 {
				t.Errorf("device %s has no interfaces", d.Name)
			}
			if s := d.SNMP.String(); (d.SNMP.Community != "" && strings.Contains(s, d.SNMP.Community)) ||
				(d.SNMP.AuthPassword != "" && strings.Contains(s, d.SNMP.AuthPassword)) {
				t.Errorf("String() shows a secret: %s", s)
			}
		}
	})
}
