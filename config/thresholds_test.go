package config

import (
	"strings"
	"testing"
	"time"
)

func TestThresholds(t *testing.T) {
	src := `
[thresholds]
in_max = "90%"
out_max = "800M"
hysteresis = "10%"
command = "/usr/local/bin/page-oncall"
command_timeout = "3s"

[[device]]
name = "r1"
host = "127.0.0.1"
interfaces = ["eth0", "eth1"]
thresholds = { in_max = "50%", in_min = "1k" }
interface_thresholds = { eth1 = { out_max = "2G", hysteresis = "0%" } }

[[device]]
name = "r2"
host = "127.0.0.1"
interfaces = ["*"]
`
	c, err := Parse("targets.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Alert, (Alert{Command: "/usr/local/bin/page-oncall", Timeout: 3 * time.Second}); got != want {
		t.Errorf("Alert = %+v, want %+v", got, want)
	}
	pct := func(v float64) Limit { return Limit{Set: true, Value: v, Percent: true} }
	bits := func(v float64) Limit { return Limit{Set: true, Value: v} }
	tests := []struct {
		device, iface string
		want          Thresholds
	}{
		{"r1", "eth0", Thresholds{InMax: pct(50), OutMax: bits(800e6), InMin: bits(1e3), Hysteresis: 0.1}},
		{"r1", "eth1", Thresholds{InMax: pct(50), OutMax: bits(2e9), InMin: bits(1e3), Hysteresis: 0}},
		{"r2", "anything", Thresholds{InMax: pct(90), OutMax: bits(800e6), Hysteresis: 0.1}},
	}
	for _, tt := range tests {
		var d Device
		for _, x := range c.Devices {
			if x.Name == tt.device {
				d = x
			}
		}
		if got := d.ThresholdsFor(tt.iface); got != tt.want {
			t.Errorf("%s %s: got %+v, want %+v", tt.device, tt.iface, got, tt.want)
		}
	}
	if l, ok := pct(90).Bits(1e9); !ok || l != 9e8 {
		t.Errorf("90%% of 1G = %v %v, want 9e8", l, ok)
	}
	if _, ok := pct(90).Bits(0); ok {
		t.Error("a percentage of an unknown speed gave a limit")
	}
}

func TestThresholdsDefaults(t *testing.T) {
	c, err := Parse("targets.toml", []byte("[[device]]\nname = \"r1\"\nhost = \"h\"\ninterfaces = [\"*\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Devices[0].Thresholds.Any() || c.Devices[0].Thresholds.Hysteresis != DefaultHysteresis {
		t.Errorf("default thresholds %+v, want none with hysteresis %v", c.Devices[0].Thresholds, DefaultHysteresis)
	}
	if c.Alert != (Alert{Timeout: DefaultAlertTimeout}) {
		t.Errorf("default alert %+v", c.Alert)
	}
}

func TestThresholdsInvalid(t *testing.T) {
	const dev = "[[device]]\nname = \"r1\"\nhost = \"h\"\ninterfaces = [\"eth0\"]\n"
	tests := []struct {
		name, src, want string
	}{
		{"bad rate", "[thresholds]\nin_max = \"lots\"\n" + dev, `targets.toml:2`},
		{"bad percent", "[thresholds]\nin_max = \"-5%\"\n" + dev, `bad threshold "-5%"`},
		{"bad hysteresis", "[thresholds]\nhysteresis = \"5\"\n" + dev, `bad hysteresis "5"`},
		{"bad timeout", "[thresholds]\ncommand_timeout = \"0s\"\n" + dev, "thresholds.command_timeout: must be positive"},
		{"unknown key", "[thresholds]\nin_maximum = \"5%\"\n" + dev, "unknown key"},
		{"unknown interface", dev + "interface_thresholds = { eth9 = { in_max = \"1G\" } }\n", `thresholds given for "eth9"`},
		{"unknown device key", dev + "thresholds = { in = \"1G\" }\n", "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("targets.toml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
