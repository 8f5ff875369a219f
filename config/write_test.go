package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// A file of devices polling every interface, without [snmp]: the demo's shape. Only
// what differs from the defaults is written per device, and it loads back as given.
func TestFormat(t *testing.T) {
	s := DefaultSNMP()
	s.Port, s.Community = 16161, "s3cret"
	f := File{
		Comment:  "first line\nsecond line",
		Step:     time.Minute,
		Data:     "mrtgo.db",
		Site:     "site",
		Timezone: "UTC",
		Devices: []FileDevice{
			{Name: "a", Host: "127.0.0.1", SNMP: s, Interfaces: []FileInterface{{Key: "*"}}},
			{Name: "b", Host: "::1", SNMP: DefaultSNMP(), Key: KeyIfDescr,
				Interfaces: []FileInterface{{Key: "eth0", Comment: "uplink (1G)"}, {Key: `we"ird`}},
				Speed:      map[string]uint64{"eth0": 1e9, `we"ird`: 1234567}},
		},
	}
	want := `# first line
# second line

step     = "1m"
data     = "mrtgo.db"
site     = "site"
timezone = "UTC"

[[device]]
name = "a"
host = "127.0.0.1"
community = "s3cret"
port = 16161
interfaces = ["*"]

[[device]]
name = "b"
host = "::1"
interface_key = "ifDescr"
interfaces = [
  "eth0",    # uplink (1G)
  "we\"ird",
]
speed = { "eth0" = "1G", "we\"ird" = "1234567" }
`
	got := Format(f)
	if string(got) != want {
		t.Fatalf("Format:\n%s\nwant:\n%s", got, want)
	}
	c, err := Parse("t.toml", got)
	if err != nil {
		t.Fatal(err)
	}
	if c.Step != time.Minute || c.Data != "mrtgo.db" || c.Timezone != "UTC" || len(c.Devices) != 2 {
		t.Fatalf("loaded %+v", c)
	}
	if d := c.Devices[0]; d.SNMP.Port != 16161 || d.SNMP.Community != "s3cret" || !d.AllInterfaces() {
		t.Errorf("device a loaded as %+v", d)
	}
	if d := c.Devices[1]; d.Key != KeyIfDescr || d.Speed["eth0"] != 1e9 || d.Speed[`we"ird`] != 1234567 || d.SNMP != c.SNMP {
		t.Errorf("device b loaded as %+v", d)
	}
}

// [snmp] written in full, with notes after values; defaults for what is not given.
func TestFormatSNMPAndNotes(t *testing.T) {
	s := DefaultSNMP()
	s.Version = "1"
	got := string(Format(File{SNMP: &s, Notes: map[string]string{"step": "why", "snmp.version": "because"}}))
	want := `step     = "5m"  # why
data     = "var/mrtgo.db"
site     = "var/site"
timezone = "Local"

[snmp]
version      = "1"  # because
community    = "public"
port         = 161
timeout      = "2s"
retries      = 1
max_oids     = 60
max_inflight = 3
`
	if got != want {
		t.Fatalf("Format:\n%s\nwant:\n%s", got, want)
	}
	c, err := Parse("t.toml", []byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if c.SNMP != s {
		t.Errorf("[snmp] loads as %+v, want %+v", c.SNMP, s)
	}
}

func TestMergeCases(t *testing.T) {
	src := []byte(`[[device]]
name = "r1"
host = "[::1]:1161"
interfaces = ["a", "b"]
speed = { "a" = "1G" }

[[device]]
name = "r2"
host = "192.0.2.2"
interface_key = "ifdescr"
interfaces = ["x"]
`)
	dev := func(name, host, key string, present []string, keys ...string) FileDevice {
		d := FileDevice{Name: name, Host: host, Key: key, SNMP: DefaultSNMP()}
		for _, k := range keys {
			d.Interfaces = append(d.Interfaces, FileInterface{Key: k})
		}
		if present != nil {
			d.Present = map[string]bool{}
			for _, k := range present {
				d.Present[k] = true
			}
		}
		return d
	}
	r1 := dev("renamed", "::1", "", nil, "a", "c") // found by host; nothing known to vanish
	r1.Speed = map[string]uint64{"c": 1e8}
	out, chg, err := Merge("t.toml", src, File{Devices: []FileDevice{
		r1,
		dev("r2", "192.0.2.2", "", []string{"x"}, "x"), // by ifName, the file by ifDescr
		dev("r3", "192.0.2.3", KeyIfDescr, nil),        // nothing chosen
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(string(src), `interfaces = ["a", "b"]`, `interfaces = ["a", "b", "c"]`, 1); string(out) != want {
		t.Errorf("merged:\n%s\nwant:\n%s", out, want)
	}
	if len(chg) != 3 {
		t.Fatalf("changes %+v", chg)
	}
	if c := chg[0]; c.Device != "r1" || !slices.Equal(c.Added, []string{"c"}) || c.Vanished != nil ||
		!slices.Equal(c.Skipped, []string{"b"}) || !slices.Equal(c.SpeedNotWritten, []string{"c"}) {
		t.Errorf("r1: %+v", c)
	}
	if c := chg[1]; c.KeyConflict != KeyIfDescr || c.Added != nil {
		t.Errorf("r2: %+v, want a key conflict with ifDescr", c)
	}
	if c := chg[2]; !c.Empty {
		t.Errorf("r3: %+v, want empty", c)
	}

	// Nothing to write into an empty file leaves it empty.
	out, _, err = Merge("t.toml", nil, File{SNMP: new(DefaultSNMP()), Devices: []FileDevice{dev("r3", "h", "", nil)}})
	if err != nil || len(out) != 0 {
		t.Errorf("empty merge = %q, %v; want nothing", out, err)
	}
	// A merge whose result does not load is refused.
	if _, _, err := Merge("t.toml", nil, File{Devices: []FileDevice{dev("bad/name", "h", "", nil, "a")}}); err == nil ||
		!strings.Contains(err.Error(), "merged targets do not validate") {
		t.Errorf("merge of an invalid device: %v", err)
	}
}
