package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/detect"
)

// [detect], [[detect.network]], [detect.capture] and [events] as written reach the
// detector's settings; what is not written stays zero, the detector's default.
func TestDetectKeys(t *testing.T) {
	src := `step = "1m"

[flows]
listen = ["127.0.0.1:2055"]

[detect]
scan_window = "10m"
scan_ports = 20
ddos_udp_pps = 50000
ddos_bps = "2G"
baseline_factor = 4
reflection_ports = [53, 123]
allow = ["192.0.2.10", "198.51.100.0/24"]

[[detect.network]]
prefix = "203.0.113.0/24"
syn_flood_pps = 1000
allow = ["2001:db8::/32"]

[detect.capture]
interface = "eth1"
duration = "20s"
max_bytes = "5MB"
keep = "3d"

[events]
keep = "90d"
command = "/usr/local/bin/page-noc"
kinds = ["ddos-udp", "syn-flood"]
`
	dir := t.TempDir()
	path := filepath.Join(dir, "targets.toml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Detect
	if !d.Enabled || d.Config.Window != time.Minute || d.Config.ScanWindow != 10*time.Minute {
		t.Errorf("windows %+v", d.Config)
	}
	want := detect.Thresholds{ScanPorts: 20, DDoSUDPPPS: 50000, DDoSBPS: 2e9}
	if d.Config.Thresholds != want {
		t.Errorf("thresholds %+v, want %+v", d.Config.Thresholds, want)
	}
	if d.Config.BaselineFactor != 4 || !slices.Equal(d.Config.ReflectionPorts, []uint16{53, 123}) {
		t.Errorf("baseline %v, reflection %v", d.Config.BaselineFactor, d.Config.ReflectionPorts)
	}
	if got := d.Config.Allow; len(got) != 2 || got[0] != netip.MustParsePrefix("192.0.2.10/32") || got[1] != netip.MustParsePrefix("198.51.100.0/24") {
		t.Errorf("allow %v", got)
	}
	if n := d.Config.Networks; len(n) != 1 || n[0].Prefix != netip.MustParsePrefix("203.0.113.0/24") ||
		n[0].Thresholds != (detect.Thresholds{SYNFloodPPS: 1000}) || len(n[0].Allow) != 1 {
		t.Errorf("networks %+v", n)
	}
	if cp := d.Capture; cp.Interface != "eth1" || cp.Duration != 20*time.Second || cp.MaxBytes != 5e6 ||
		cp.Keep != 72*time.Hour || cp.Dir != filepath.Join(dir, "var", "captures") {
		t.Errorf("capture %+v", cp)
	}
	if e := c.Events; e.Data != filepath.Join(dir, "var", "events") || e.Keep != 90*24*time.Hour ||
		e.Alert.Command != "/usr/local/bin/page-noc" || e.Alert.Timeout != DefaultAlertTimeout || !slices.Equal(e.Kinds, []string{"ddos-udp", "syn-flood"}) {
		t.Errorf("events %+v", e)
	}

	// Without the tables: no detection, the event log beside the store all the same.
	c, err = Parse("t.toml", []byte("[flows]\nlisten = [\"127.0.0.1:2055\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Detect.Enabled || c.Detect.Capture.Interface != "" || c.Events.Keep != DefaultEventKeep {
		t.Errorf("defaults: %+v %+v", c.Detect, c.Events)
	}
}

// Every mistake in the detection tables is reported with its line, all at once.
func TestDetectMistakes(t *testing.T) {
	src := `[detect]
scan_ports = 0
ddos_bps = "90%"
reflection_ports = [53, 70000]
allow = ["not-a-net"]
scan_windw = "5m"

[[detect.network]]
syn_flood_pps = -1

[[detect.network]]
prefix = "203.0.113.0/24"

[[detect.network]]
prefix = "203.0.113.7/24"

[detect.capture]
interfac = "eth0"
duration = "2h"

[events]
kinds = ["ddos"]
`
	_, err := Parse("targets.toml", []byte(src))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v", err)
	}
	want := []string{
		"targets.toml:1: detect: [detect] needs flow records: add [flows] listen",
		`targets.toml:2: detect.scan_ports: scan_ports 0: want at least 1`,
		`targets.toml:3: detect.ddos_bps: ddos_bps is a rate in bits/s, such as "1G", not a percentage`,
		`targets.toml:4: detect.reflection_ports: port 70000 is not 1-65535`,
		`targets.toml:5: detect.allow: "not-a-net" is not an address or a network such as "192.0.2.0/24"`,
		`targets.toml:6: detect.scan_windw: unknown key (did you mean "scan_window"?)`,
		`targets.toml:8: detect.network[1].prefix: missing: the network these settings are for, as "192.0.2.0/24"`,
		`targets.toml:9: detect.network[1].syn_flood_pps: syn_flood_pps -1: want packets per second above 0`,
		`targets.toml:15: detect.network[3].prefix: network 203.0.113.0/24 is set already (line 12)`,
		`targets.toml:17: detect.capture.interface: missing: the local interface to capture on, as "eth0"`,
		`targets.toml:18: detect.capture.interfac: unknown key (did you mean "interface"?)`,
		`targets.toml:19: detect.capture.duration: duration 2h0m0s: want 1s to 1h`,
		`targets.toml:22: events.kinds: unknown kind "ddos" (kinds: ` + strings.Join([]string{"vertical-scan", "horizontal-sweep",
			"icmp-sweep", "syn-flood", "ddos-syn", "ddos-udp", "ddos-icmp", "ddos-reflection", "threshold", "anomaly"}, ", ") + ")",
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
