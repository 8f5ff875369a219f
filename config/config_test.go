package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	if want := (Retention{Daily: 62 * 24 * time.Hour, Weekly: DefaultRetention.Weekly,
		Monthly: DefaultRetention.Monthly, Yearly: 5 * 365 * 24 * time.Hour}); c.Retention != want {
		t.Errorf("retention = %+v, want %+v", c.Retention, want)
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
	want := SNMP{Version: "2c", Community: "edge-secret", Port: 1161, Timeout: 500 * time.Millisecond, Retries: 1, MaxOIDs: DefaultMaxOIDs, MaxInflight: DefaultMaxInflight}
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
	if c.Retention != DefaultRetention {
		t.Errorf("retention = %+v, want the default", c.Retention)
	}
	want := SNMP{Version: "2c", Community: "public", Port: 161, Timeout: 2 * time.Second, Retries: 1, MaxOIDs: 60, MaxInflight: 3}
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
		want string // substring of the (first) message
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
		{"speed-unknown-interface", 7, `device[1].speed."ge-0/0/1": speed given for "ge-0/0/1", which is not in interfaces`},
		{"host-ambiguous", 3, `device[1].host: host "2001:db8::1:161" is ambiguous: write "[2001:db8::1:161]" for the address or "[2001:db8::1]:161" for port 161`},
		{"host-url", 8, `device[2].host: host "udp://192.0.2.2:161" is a URL`},
		{"bad-retention", 5, `bad span "forever"`},
		{"short-retention", 4, "retention.yearly: 12h0m0s keeps less than one 24h0m0s row"},
		{"slash-name", 2, `device name "core/1" may not contain /`},
		{"bad-interface-key", 4, `device[1].interface_key: interface key "ifHCName" is not one of ifName, ifDescr, ifAlias, mac, ifIndex`},
		{"bad-mac", 5, `device[1].interfaces: "00:11:22:33:44" is not a MAC address`},
		{"flows-listen", 2, `flows.listen: listen address "flows.example.net:4739": "flows.example.net" is not an IP address`},
		{"flow-exporter", 10, `device[2].flow_exporter: flow_exporter 192.0.2.100 is "core1"'s already (line 4)`},
		{"v3-no-username", 1, `device[1].username: SNMP version "3" needs a username`},
		{"v3-bad-auth-protocol", 4, `snmp.auth_protocol: auth_protocol "SHA-1024" is not one of MD5, SHA,`},
		{"v3-short-password", 7, "device[1].auth_password: security level authNoPriv needs an auth_password of at least 8 characters"},
		{"v3-bad-level", 6, `device[1].security_level: security level "authAndPriv" is not one of`},
		{"v3-key-on-v2c", 5, `device[1].priv_password: priv_password is an SNMPv3 key but the device uses version "2c"`},
		{"v3-priv-without-protocol", 4, "device[1].priv_protocol: security level authPriv needs priv_protocol"},
		{"v3-community", 5, `device[1].community: community is not used with SNMP version "3"`},
		{"v3-unknown-key", 4, `snmp.auth_pasword: unknown key (did you mean "auth_password"?)`},
		{"unknown-thresholds", 3, `thresholds.hystersis: unknown key (did you mean "hysteresis"?)`},
	}
	// Each file holds one mistake, but for these.
	mistakes := map[string]int{"missing-host": 2}
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
			var all Errors
			if !errors.As(err, &all) {
				t.Fatalf("error %T is not config.Errors", err)
			}
			if want := max(mistakes[tt.file], 1); len(all) != want {
				t.Errorf("got %d errors, want %d:\n%v", len(all), want, err)
			}
			for _, e := range all {
				if !strings.HasPrefix(e.Error(), path+":") {
					t.Errorf("error %q does not start with the file name", e)
				}
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

func TestSNMPv3(t *testing.T) {
	src := `
[snmp]
version = "3"
username = "mrtgo"
auth_protocol = "sha256"
auth_password = "authpass-default"

[[device]]
name = "authpriv"
host = "192.0.2.1"
priv_protocol = "AES-256C"
priv_password = "privpass-1"
context = "vrf-blue"
interfaces = ["*"]

[[device]]
name = "authnopriv"
host = "192.0.2.2"
interfaces = ["*"]

[[device]]
name = "noauth"
host = "192.0.2.3"
username = "public-user"
security_level = "noauthnopriv"
interfaces = ["*"]

[[device]]
name = "v2"
host = "192.0.2.4"
version = "2c"
interfaces = ["*"]
`
	c, err := Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	base := SNMP{Version: "3", Community: DefaultCommunity, Port: DefaultPort, Timeout: DefaultTimeout,
		Retries: DefaultRetries, MaxOIDs: DefaultMaxOIDs, MaxInflight: DefaultMaxInflight, Username: "mrtgo"}
	want := []SNMP{base, base, base, base}
	want[0].SecurityLevel, want[0].AuthProtocol, want[0].AuthPassword = AuthPriv, "SHA-256", "authpass-default"
	want[0].PrivProtocol, want[0].PrivPassword, want[0].Context = "AES-256C", "privpass-1", "vrf-blue"
	want[1].SecurityLevel, want[1].AuthProtocol, want[1].AuthPassword = AuthNoPriv, "SHA-256", "authpass-default"
	want[2].SecurityLevel, want[2].Username = NoAuthNoPriv, "public-user"
	// A v2c device drops the inherited v3 defaults.
	want[3] = SNMP{Version: "2c", Community: DefaultCommunity, Port: DefaultPort, Timeout: DefaultTimeout,
		Retries: DefaultRetries, MaxOIDs: DefaultMaxOIDs, MaxInflight: DefaultMaxInflight}
	for i, d := range c.Devices {
		if d.SNMP != want[i] {
			t.Errorf("%s: snmp = %#v, want %#v", d.Name, d.SNMP, want[i])
		}
	}
	if c.SNMP.SecurityLevel != "" || c.SNMP.AuthProtocol != "SHA-256" {
		t.Errorf("[snmp] = %v, want no level (each device derives its own) and SHA-256", c.SNMP)
	}
}

// Interfaces are written the way the poller compares them under each key.
func TestInterfaceKey(t *testing.T) {
	tests := []struct {
		key, ifs, speed string
		wantKey         string
		want            []string
	}{
		{"", `["ge-0/0/0"]`, `"ge-0/0/0"`, KeyIfName, []string{"ge-0/0/0"}},
		{"ifdescr", `["GigabitEthernet0/1"]`, `"GigabitEthernet0/1"`, KeyIfDescr, []string{"GigabitEthernet0/1"}},
		{"IfAlias", `["uplink"]`, `"uplink"`, KeyIfAlias, []string{"uplink"}},
		{"MAC", `["00-1A-2b-3C-4d-5E", "0011.2233.4455"]`, `"00:1a:2b:3c:4d:5e"`, KeyMAC, []string{"00:1a:2b:3c:4d:5e", "00:11:22:33:44:55"}},
		{"ifIndex", `["007", "12"]`, `"7"`, KeyIfIndex, []string{"7", "12"}},
	}
	for _, tt := range tests {
		key := ""
		if tt.key != "" {
			key = fmt.Sprintf("interface_key = %q\n", tt.key)
		}
		src := fmt.Sprintf("[[device]]\nname = \"a\"\nhost = \"h\"\n%sinterfaces = %s\nspeed = { %s = \"1G\" }\n", key, tt.ifs, tt.speed)
		c, err := Parse("t.toml", []byte(src))
		if err != nil {
			t.Errorf("key %q: %v", tt.key, err)
			continue
		}
		d := c.Devices[0]
		if d.Key != tt.wantKey || !slices.Equal(d.Interfaces, tt.want) || d.Speed[tt.want[0]] != 1e9 {
			t.Errorf("key %q: got %s %v speed %v, want %s %v with %s at 1G", tt.key, d.Key, d.Interfaces, d.Speed, tt.wantKey, tt.want, tt.want[0])
		}
	}
	if _, err := Parse("t.toml", []byte("[[device]]\nname = \"a\"\nhost = \"h\"\ninterface_key = \"ifIndex\"\ninterfaces = [\"0\"]\n")); err == nil ||
		!strings.Contains(err.Error(), `"0" is not an ifIndex`) {
		t.Errorf("ifIndex 0: err = %v", err)
	}
}

// Every spelling gosnmp knows maps to a canonical name; others are rejected.
func TestSNMPv3Protocols(t *testing.T) {
	for _, tt := range []struct{ auth, priv, wantAuth, wantPriv string }{
		{"md5", "des", "MD5", "DES"},
		{"SHA", "AES", "SHA", "AES"},
		{"SHA-224", "AES-128", "SHA-224", "AES"},
		{"sha_384", "aes192", "SHA-384", "AES-192"},
		{"SHA512", "AES-256", "SHA-512", "AES-256"},
		{"SHA-256", "aes-192c", "SHA-256", "AES-192C"},
		{"SHA-256", "AES256C", "SHA-256", "AES-256C"},
	} {
		src := fmt.Sprintf("[[device]]\nname = \"a\"\nhost = \"h\"\nversion = \"3\"\nusername = \"u\"\n"+
			"auth_protocol = %q\nauth_password = \"12345678\"\npriv_protocol = %q\npriv_password = \"abcdefgh\"\ninterfaces = [\"*\"]\n", tt.auth, tt.priv)
		c, err := Parse("t.toml", []byte(src))
		if err != nil {
			t.Errorf("%s/%s: %v", tt.auth, tt.priv, err)
			continue
		}
		s := c.Devices[0].SNMP
		if s.AuthProtocol != tt.wantAuth || s.PrivProtocol != tt.wantPriv || s.SecurityLevel != AuthPriv {
			t.Errorf("%s/%s: got %s/%s level %s, want %s/%s authPriv", tt.auth, tt.priv, s.AuthProtocol, s.PrivProtocol, s.SecurityLevel, tt.wantAuth, tt.wantPriv)
		}
	}
}

// Neither errors nor the printed settings show a password or community.
func TestSecretsNotShown(t *testing.T) {
	_, err := Load("testdata/invalid-v3-short-password.toml")
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error %v shows the password", err)
	}
	s := SNMP{Version: "3", Username: "u", SecurityLevel: AuthPriv, AuthProtocol: "SHA", AuthPassword: "auth-secret-1",
		PrivProtocol: "AES", PrivPassword: "priv-secret-1", Community: "comm-secret"}
	v2 := SNMP{Version: "2c", Community: "comm-secret"}
	for _, text := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprint(v2),
		fmt.Sprintf("%+v", Device{Name: "d", SNMP: s}), fmt.Sprintf("%v", v2)} {
		for _, secret := range []string{"auth-secret-1", "priv-secret-1", "comm-secret"} {
			if strings.Contains(text, secret) {
				t.Errorf("%q shows %s", text, secret)
			}
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not-exist", err)
	}
}

// A device's flow exporter is its flow_exporter, or its host address where that is an
// IP address no other device shares.
func TestFlowExporters(t *testing.T) {
	src := `[flows]
listen = ["127.0.0.1:2055", "[::1]:4739", ":6343"]

[[device]]
name = "a"
host = "192.0.2.1"
interfaces = ["*"]

[[device]]
name = "b"
host = "192.0.2.9"
port = 1161
interfaces = ["*"]

[[device]]
name = "c"
host = "192.0.2.9"
port = 1162
interfaces = ["*"]

[[device]]
name = "d"
host = "router.example.net"
flow_exporter = "::ffff:192.0.2.50"
interfaces = ["*"]
`
	c, err := Parse("targets.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Flows.Listen, " "); got != "127.0.0.1:2055 [::1]:4739 :6343" {
		t.Errorf("listen %q", got)
	}
	want := map[string]string{"a": "192.0.2.1", "b": "invalid IP", "c": "invalid IP", "d": "192.0.2.50"}
	for _, d := range c.Devices {
		if got := d.FlowExporter.String(); got != want[d.Name] {
			t.Errorf("device %s: exporter %s, want %s", d.Name, got, want[d.Name])
		}
	}
}

// The flow store's keys: where it is, how long and how much raw data it keeps, and a
// device's own sampling rate; each mistake names its line.
func TestFlowStoreKeys(t *testing.T) {
	src := `[flows]
listen   = ["127.0.0.1:2055"]
data     = "flowdata"
keep     = "90d"
max_size = "50GB"

[[device]]
name = "a"
host = "192.0.2.1"
flow_sampling = 1000
interfaces = ["*"]
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
	if c.Flows.Data != filepath.Join(dir, "flowdata") || c.Flows.Keep != 90*24*time.Hour || c.Flows.MaxSize != 50e9 {
		t.Errorf("flows %+v", c.Flows)
	}
	if c.Devices[0].FlowSampling != 1000 {
		t.Errorf("sampling %d", c.Devices[0].FlowSampling)
	}

	c, err = Parse("t.toml", []byte("[flows]\nlisten = [\"127.0.0.1:2055\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Flows.Keep != DefaultFlowKeep || c.Flows.MaxSize != 0 {
		t.Errorf("defaults %+v", c.Flows)
	}

	bad := `[flows]
keep = "10m"
max_size = "lots"

[[device]]
name = "a"
host = "192.0.2.1"
flow_sampling = 0
interfaces = ["*"]
`
	_, err = Parse("t.toml", []byte(bad))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 3 {
		t.Fatalf("err = %v, want three errors", err)
	}
	for i, want := range []struct {
		line int
		text string
	}{{2, "shorter than an hour"}, {3, `size "lots"`}, {8, "flow_sampling 0"}} {
		if errs[i].Line != want.line || !strings.Contains(errs[i].Error(), want.text) {
			t.Errorf("error %d = %v (line %d), want line %d with %q", i, errs[i], errs[i].Line, want.line, want.text)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1000": 1000, "500MB": 500e6, "64GiB": 64 << 30, "1.5TB": 1.5e12, " 2 kB ": 2000} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-5GB", "5 parsecs", "1e30"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}
