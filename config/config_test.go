package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadValid(t *testing.T) {
	c, err := Load("testdata/valid.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Step != 5*time.Minute {
		t.Errorf("step = %s, want 5m", c.Step)
	}
	if want := filepath.Join("testdata", "var/mrtgo.db"); c.Data != want {
		t.Errorf("data = %q, want %q", c.Data, want)
	}
	if c.Location.String() != "UTC" {
		t.Errorf("location = %s, want UTC", c.Location)
	}
	if len(c.Devices) != 3 {
		t.Fatalf("got %d devices, want 3", len(c.Devices))
	}
	if got := c.Devices[2].Speed; got["lo"] != 10e9 || got["eth0"] != 100e6 || len(got) != 2 {
		t.Errorf("lab speed overrides = %v, want lo 10G, eth0 100M", got)
	}
	core, edge := c.Devices[0], c.Devices[1]
	if core.SNMP != c.SNMP {
		t.Errorf("core1 snmp = %+v, want the defaults %+v", core.SNMP, c.SNMP)
	}
	if core.AllInterfaces() || !edge.AllInterfaces() {
		t.Errorf("AllInterfaces: core1 %v edge1 %v, want false true", core.AllInterfaces(), edge.AllInterfaces())
	}
	want := SNMP{Version: "2c", Community: "edge-secret", Port: 1161, Timeout: 500 * time.Millisecond, Retries: 1, MaxOIDs: DefaultMaxOIDs}
	if edge.SNMP != want {
		t.Errorf("edge1 snmp = %+v, want %+v", edge.SNMP, want)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("t.toml", []byte("[[device]]\nname = \"a\"\nhost = \"127.0.0.1\"\ninterfaces = [\"*\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Step != DefaultStep || c.Data != DefaultData || c.Site != DefaultSite || c.Timezone != DefaultTimezone {
		t.Errorf("top-level defaults = %s %q %q %q", c.Step, c.Data, c.Site, c.Timezone)
	}
	want := SNMP{Version: "2c", Community: "public", Port: 161, Timeout: 2 * time.Second, Retries: 1, MaxOIDs: 60}
	if c.Devices[0].SNMP != want {
		t.Errorf("device snmp = %+v, want %+v", c.Devices[0].SNMP, want)
	}
}

// The shipped example must always load.
func TestShippedTargets(t *testing.T) {
	if _, err := Load("../targets.toml"); err != nil {
		t.Fatal(err)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		file string
		line int
		want string // substring of the message
	}{
		{"unknown-top", 2, `stepp: unknown key (did you mean "step"?)`},
		{"unknown-snmp", 3, `snmp.tmeout: unknown key (did you mean "timeout"?)`},
		{"unknown-device", 9, `commnity: unknown key (did you mean "community"?)`},
		{"bad-step", 1, `bad duration "5 minutes"`},
		{"short-step", 1, "step: step 100ms is shorter than 1s"},
		{"bad-timeout", 2, `bad duration "fast"`},
		{"missing-host", 1, `device[1].host: device "core1" has no host`},
		{"duplicate-name", 7, `device[2].name: duplicate device name "core1" (first at line 2)`},
		{"missing-name", 1, "device[1].name: device has no name"},
		{"no-interfaces", 1, `device[1].interfaces: device "core1" lists no interfaces`},
		{"bad-version", 2, `snmp.version: SNMP version "4" is not supported`},
		{"bad-port", 4, "device[1].port: port 70000 out of range"},
		{"port-type", 2, "incompatible types"},
		{"bad-timezone", 1, `timezone: unknown time zone "Mars/Olympus"`},
		{"syntax", 1, "expected end of table array name delimiter"},
		{"star-and-names", 4, `device[1].interfaces: "*" must be the only entry`},
		{"bad-speed", 7, `bad speed "fast"`},
		{"speed-unknown-interface", 1, `device[1].speed: speed given for "ge-0/0/1", which is not in interfaces`},
		{"slash-name", 2, `device name "core/1" may not contain /`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid-"+tt.file+".toml")
			_, err := Load(path)
			if err == nil {
				t.Fatal("loaded without error")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %q is not a *config.Error", err, err)
			}
			if ce.File != path || ce.Line != tt.line {
				t.Errorf("error at %s:%d, want %s:%d (%v)", ce.File, ce.Line, path, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

// Every invalid-*.toml file must have a row above, so a new case cannot be forgotten.
func TestInvalidFilesCovered(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid-*.toml")
	if len(files) < 15 {
		t.Fatalf("only %d invalid files", len(files))
	}
	for _, f := range files {
		if _, err := Load(f); err == nil {
			t.Errorf("%s loads without error", f)
		}
	}
}

func TestParseSpeed(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"1000000000", 1e9}, {"1G", 1e9}, {"2.5G", 2.5e9}, {"100M", 1e8}, {"100Mbps", 1e8},
		{"64k", 64e3}, {"10 G", 10e9}, {"1T", 1e12}, {"100b/s", 100},
	}
	for _, tt := range tests {
		if got, err := ParseSpeed(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseSpeed(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "G", "fast", "-1G", "0", "1P", "1e99"} {
		if got, err := ParseSpeed(bad); err == nil {
			t.Errorf("ParseSpeed(%q) = %d, want an error", bad, got)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not-exist", err)
	}
}
