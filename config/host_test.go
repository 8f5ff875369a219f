package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Every host form goes through loading: the host is kept bare and a port written with
// it replaces the port key; a form that cannot be dialled is an error at its line.
func TestHostForms(t *testing.T) {
	tests := []struct {
		host     string
		wantHost string
		wantPort int    // with port = 1161 in the device
		err      string // substring of the message at line 4, key device[1].host
	}{
		{"192.0.2.1", "192.0.2.1", 1161, ""},
		{"192.0.2.1:16161", "192.0.2.1", 16161, ""},
		{"::1", "::1", 1161, ""},
		{"[::1]", "::1", 1161, ""},
		{"[::1]:16161", "::1", 16161, ""},
		{"2001:db8::1", "2001:db8::1", 1161, ""},
		{"[2001:db8::1]:161", "2001:db8::1", 161, ""},
		{"fe80::1%eth0", "fe80::1%eth0", 1161, ""},
		{"[fe80::1%eth0]:162", "fe80::1%eth0", 162, ""},
		{"::ffff:192.0.2.1", "::ffff:192.0.2.1", 1161, ""},
		{"localhost", "localhost", 1161, ""},
		{"localhost:16161", "localhost", 16161, ""},
		{"core1.example.net", "core1.example.net", 1161, ""},
		{"core1.example.net.:65535", "core1.example.net.", 65535, ""},
		{"sw_3-b", "sw_3-b", 1161, ""},
		{"  192.0.2.1  ", "192.0.2.1", 1161, ""},

		{"::1:161", "", 0, `host "::1:161" is ambiguous: write "[::1:161]" for the address or "[::1]:161" for port 161`},
		{"::1:16161", "", 0, `host "::1:16161": IPv6 with a port is written "[::1]:16161"`},
		{"2001:db8::1:1161", "", 0, `is ambiguous: write "[2001:db8::1:1161]" for the address or "[2001:db8::1]:1161" for port 1161`},
		{"[::1", "", 0, `host "[::1" has no closing "]"`},
		{"::1]", "", 0, `unbalanced "]"`},
		{"[::1]16161", "", 0, `unexpected "16161" after "]"`},
		{"[::1]:", "", 0, "empty port"},
		{"192.0.2.1:", "", 0, "empty port"},
		{"192.0.2.1:0", "", 0, `port "0" out of range 1-65535`},
		{"192.0.2.1:65536", "", 0, `port "65536" out of range 1-65535`},
		{"192.0.2.1:+161", "", 0, `port "+161" out of range`},
		{"192.0.2.1:snmp", "", 0, `port "snmp" out of range`},
		{":161", "", 0, "has a port but no address"},
		{"core 1", "", 0, "contains a space"},
		{"udp://192.0.2.1:161", "", 0, "is a URL"},
		{"udp:192.0.2.1:161", "", 0, "starts with a transport"},
		{"[router1]", "", 0, "brackets hold an IPv6 address only"},
		{"[192.0.2.1]:161", "", 0, "brackets hold an IPv6 address only"},
		{"192.0.2.300", "", 0, "not an IPv4 address"},
		{"192.0.2", "", 0, "not an IPv4 address"},
		{"core1..example.net", "", 0, "empty or long label"},
		{"core1/2", "", 0, `'/' is not allowed in a name`},
		{"2001:db8::zz", "", 0, "is not an IPv6 address"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			src := fmt.Sprintf("[[device]]\nname = \"d\"\nport = 1161\nhost = %q\ninterfaces = [\"*\"]\n", tt.host)
			c, err := Parse("targets.toml", []byte(src))
			if tt.err != "" {
				var ce *Error
				if !errors.As(err, &ce) {
					t.Fatalf("got %v, want a *config.Error", err)
				}
				if ce.Line != 4 || ce.Key != "device[1].host" || !strings.Contains(ce.Msg, tt.err) {
					t.Errorf("got %q, want targets.toml:4: device[1].host: ...%s...", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := c.Devices[0]
			if d.Host != tt.wantHost || d.SNMP.Port != tt.wantPort || d.HostLine != 4 {
				t.Errorf("host %q port %d line %d, want %q %d 4", d.Host, d.SNMP.Port, d.HostLine, tt.wantHost, tt.wantPort)
			}
			// What the poller dials reads back as the same host and port.
			h, p, err := ParseHost(d.Addr())
			if err != nil || h != d.Host || p != d.SNMP.Port {
				t.Errorf("Addr() = %q reads back as %q %d %v", d.Addr(), h, p, err)
			}
		})
	}
}

// A file with five mistakes gets five errors, each at its line, in file order.
func TestAllErrors(t *testing.T) {
	src := `step = "5 minutes"
stepp = "1m"

[snmp]
timeout = "2s"

[[device]]
name = "core1"
host = "[::1"
interfaces = ["*"]

[[device]]
name = "core1"
host = "192.0.2.2"
interfaces = ["*"]
thresholds = { in_max = "lots" }
`
	_, err := Parse("targets.toml", []byte(src))
	var all Errors
	if !errors.As(err, &all) {
		t.Fatalf("got %v, want config.Errors", err)
	}
	want := []struct {
		line int
		key  string
		msg  string
	}{
		{1, "step", `bad duration "5 minutes"`},
		{2, "stepp", `unknown key (did you mean "step"?)`},
		{9, "device[1].host", `host "[::1" has no closing "]"`},
		{13, "device[2].name", `duplicate device name "core1" (first at line 8)`},
		{16, "device[2].thresholds.in_max", `bad threshold "lots"`},
	}
	if len(all) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(all), len(want), err)
	}
	for i, w := range want {
		e := all[i]
		if e.File != "targets.toml" || e.Line != w.line || e.Key != w.key || !strings.HasPrefix(e.Msg, w.msg) {
			t.Errorf("error %d = %q, want targets.toml:%d: %s: %s", i, e, w.line, w.key, w.msg)
		}
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != len(want) || lines[0] != all[0].Error() {
		t.Errorf("Error() = %q, want one line per mistake", err)
	}
	var first *Error
	if !errors.As(err, &first) || first != all[0] {
		t.Errorf("errors.As finds %v, want the first mistake", first)
	}
}

// An unknown key is reported in every device that has it, and a key under an unknown
// table only with the table.
func TestUnknownKeysEverywhere(t *testing.T) {
	src := "[[device]]\nname = \"a\"\nhost = \"h\"\ncommnity = \"x\"\ninterfaces = [\"*\"]\n" +
		"[[device]]\nname = \"b\"\nhost = \"h\"\ncommnity = \"y\"\ninterfaces = [\"*\"]\n" +
		"[snmpp]\nversion = \"2c\"\n"
	_, err := Parse("targets.toml", []byte(src))
	want := `targets.toml:4: device[1].commnity: unknown key (did you mean "community"?)
targets.toml:9: device[2].commnity: unknown key (did you mean "community"?)
targets.toml:11: snmpp: unknown key (did you mean "snmp"?)`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}
