package discover

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/config"
)

func pick(name, alias string, bps uint64) Pick {
	return Pick{Key: name, Interface: Interface{Name: name, Alias: alias, HighSpeed: bps / 1e6, Admin: 1, Oper: 1}}
}

func found(name, host string, keep []Pick, extra ...string) Found {
	f := Found{Name: name, Target: Target{Host: host, SNMP: config.SNMP{Version: "2c", Community: "public", Port: 161,
		Timeout: config.DefaultTimeout, Retries: 1}}, Keep: keep, All: map[string]bool{}}
	for _, p := range keep {
		f.All[p.Key] = true
	}
	for _, k := range extra {
		f.All[k] = true
	}
	return f
}

// newHeader opens a targets file discover writes anew: the defaults, [snmp] in full.
const newHeader = `# mrtgo targets — written by "mrtgo discover"; edit freely: a re-run keeps every line.
# Validate with "mrtgo check". Unknown keys are errors.

step     = "5m"
data     = "var/mrtgo.db"
site     = "var/site"
timezone = "Local"

[snmp]
version      = "2c"
community    = "public"
port         = 161
timeout      = "2s"
retries      = 1
max_oids     = 60
max_inflight = 3
`

const existing = `# my network
step = "5m"

[snmp]
community = "public"

# the core router — do not touch
[[device]]
name = "core1"
host = "192.0.2.1"
interfaces = [
  "ge-0/0/0",   # uplink, hand-edited title
  # "ge-0/0/5", # broken optic, ticket 4711
  "ge-0/0/9"    # decommissioned last week
]

[[device]]
name = "edge1"
host = "192.0.2.2"
interfaces = ["eth0", "eth1"]  # short list

[[device]]
name = "wild"
host = "192.0.2.3"
interfaces = ["*"]
`

func TestMerge(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		found []Found
		want  string // full expected text
		chg   []config.Change
	}{
		{
			name:  "new file",
			src:   "",
			found: []Found{found("sw1", "127.0.0.1", []Pick{pick("Gi1/0/1", "to printer", 1e9), pick("Gi1/0/2", "", 1e8)})},
			want: newHeader + `
[[device]]
name = "sw1"
host = "127.0.0.1"
interfaces = [
  "Gi1/0/1", # to printer (1G)
  "Gi1/0/2", # (100M)
]
`,
			chg: []config.Change{{Device: "sw1", New: true, Added: []string{"Gi1/0/1", "Gi1/0/2"}}},
		},
		{
			name: "rerun keeps comments and hand edits",
			src:  existing,
			found: []Found{
				found("core1", "192.0.2.1", []Pick{pick("ge-0/0/0", "uplink", 1e9), pick("ge-0/0/1", "new customer", 1e9)}, "ge-0/0/5"),
				found("edge1", "192.0.2.2", []Pick{pick("eth0", "", 1e9), pick("eth2", "", 1e9)}, "eth1"),
				found("wild", "192.0.2.3", []Pick{pick("x", "", 1e9)}),
			},
			want: strings.Replace(strings.Replace(existing,
				"  \"ge-0/0/9\"    # decommissioned last week\n]",
				"  \"ge-0/0/9\",    # decommissioned last week\n  \"ge-0/0/1\", # new customer (1G)\n]", 1),
				`interfaces = ["eth0", "eth1"]  # short list`, `interfaces = ["eth0", "eth1", "eth2"]  # short list`, 1),
			chg: []config.Change{
				{Device: "core1", Added: []string{"ge-0/0/1"}, Vanished: []string{"ge-0/0/9"}},
				{Device: "edge1", Added: []string{"eth2"}, Skipped: []string{"eth1"}},
				{Device: "wild", Wildcard: true},
			},
		},
		{
			name:  "matched by host when sysName changed",
			src:   existing,
			found: []Found{found("core1.example.net", "192.0.2.1", []Pick{pick("ge-0/0/0", "", 1e9), pick("ge-0/0/9", "", 1e9)})},
			want:  existing,
			chg:   []config.Change{{Device: "core1"}},
		},
		{
			name: "new device after the others, with its own community and port",
			src:  existing,
			found: []Found{func() Found {
				f := found("lab", "127.0.0.1", []Pick{pick(`we"ird\name`, "", 1e7)})
				f.Target.Community, f.Target.Port = "s3cret", 1161
				return f
			}()},
			want: existing + `
[[device]]
name = "lab"
host = "127.0.0.1"
community = "s3cret"
port = 1161
interfaces = [
  "we\"ird\\name", # (10M)
]
`,
			chg: []config.Change{{Device: "lab", New: true, Added: []string{`we"ird\name`}}},
		},
		{
			name:  "nothing chosen writes nothing",
			src:   existing,
			found: []Found{found("empty", "127.0.0.9", nil)},
			want:  existing,
			chg:   []config.Change{{Device: "empty", Empty: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, chg, err := Merge("targets.toml", []byte(tt.src), tt.found)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("merged text:\n%s\nwant:\n%s\ndiff:\n%s", got, tt.want, Diff("want", "got", []byte(tt.want), got))
			}
			if !slices.EqualFunc(chg, tt.chg, func(a, b config.Change) bool {
				return a.Device == b.Device && a.New == b.New && a.Empty == b.Empty && a.Wildcard == b.Wildcard &&
					slices.Equal(a.Added, b.Added) && slices.Equal(a.Vanished, b.Vanished) && slices.Equal(a.Skipped, b.Skipped)
			}) {
				t.Errorf("changes %+v, want %+v", chg, tt.chg)
			}
			// Every line of the original survives, in order.
			if !subsequence(splitLines([]byte(tt.src)), splitLines(got)) && tt.name != "rerun keeps comments and hand edits" {
				t.Errorf("original lines lost")
			}
		})
	}
}

// subsequence reports whether every line of a appears in b in order.
func subsequence(a, b []string) bool {
	j := 0
	for _, l := range a {
		for j < len(b) && b[j] != l {
			j++
		}
		if j == len(b) {
			return false
		}
		j++
	}
	return true
}

func TestMergeTwiceIsStable(t *testing.T) {
	f := []Found{found("sw1", "127.0.0.1", []Pick{pick("a", "", 1e9), pick("b", "", 1e9)})}
	once, _, err := Merge("t.toml", nil, f)
	if err != nil {
		t.Fatal(err)
	}
	twice, chg, err := Merge("t.toml", once, f)
	if err != nil {
		t.Fatal(err)
	}
	if string(once) != string(twice) {
		t.Errorf("second merge changed the file:\n%s", Diff("once", "twice", once, twice))
	}
	if len(chg) != 1 || chg[0].New || len(chg[0].Added) != 0 {
		t.Errorf("second merge changes %+v, want none", chg)
	}
}

func TestMergeErrors(t *testing.T) {
	tests := []struct {
		name, src string
		found     []Found
		want      string
	}{
		{"invalid existing file", "step = 5\n", []Found{found("a", "h", []Pick{pick("x", "", 1)})}, "read existing targets: t.toml:1"},
		{"duplicate new names", "", []Found{found("a", "h1", []Pick{pick("x", "", 1)}), found("a", "h2", []Pick{pick("y", "", 1)})}, `device name "a" given twice`},
	}
	for _, tt := range tests {
		_, _, err := Merge("t.toml", []byte(tt.src), tt.found)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestChoose(t *testing.T) {
	dev := &Device{Interfaces: []Interface{
		{Index: 1, Name: "lo", Descr: "lo", Type: 24, Admin: 1, Oper: 1, Speed: 10_000_000},
		{Index: 2, Name: "ge-0/0/0", Descr: "GigabitEthernet0", Type: 6, Admin: 1, Oper: 1, HighSpeed: 1000},
		{Index: 3, Name: "ge-0/0/1", Type: 6, Admin: 2, Oper: 2, HighSpeed: 1000},
		{Index: 4, Name: "ge-0/0/2", Type: 6, Admin: 1, Oper: 2, HighSpeed: 1000},
		{Index: 5, Name: "tun0", Type: 131, Admin: 1, Oper: 1},
		{Index: 6, Name: "", Descr: "", Type: 6, Admin: 1, Oper: 1, Speed: 1e9},
		{Index: 7, Name: "ge-0/0/0", Type: 6, Admin: 1, Oper: 1, Speed: 1e9},
		{Index: 8, Name: "xe-1/0/0", Alias: "transit", Type: 6, Admin: 1, Oper: 1, HighSpeed: 10000},
	}}
	rule := func(s string) Rule {
		r, err := ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name string
		sel  Select
		keep []string
		skip []string // "key: reason"
	}{
		{"defaults", Select{}, []string{"ge-0/0/0", "xe-1/0/0"}, []string{
			"lo: loopback", "ge-0/0/1: administratively down", "ge-0/0/2: operationally down",
			"tun0: speed 0", ": no ifName to name it by", `ge-0/0/0: ifName "ge-0/0/0" also names ifIndex 2`}},
		{"everything", Select{AdminDown: true, OperDown: true, Loopback: true, ZeroSpeed: true},
			[]string{"lo", "ge-0/0/0", "ge-0/0/1", "ge-0/0/2", "tun0", "xe-1/0/0"}, nil},
		{"include type", Select{Loopback: true, ZeroSpeed: true, Include: []Rule{rule("type=^(softwareLoopback|tunnel)$")}},
			[]string{"lo", "tun0"}, nil},
		{"exclude alias", Select{Exclude: []Rule{rule("alias=transit")}}, []string{"ge-0/0/0"}, nil},
		{"include any field", Select{Include: []Rule{rule("Gigabit")}}, []string{"ge-0/0/0"}, nil},
		{"key descr", Select{Key: KeyDescr}, []string{"GigabitEthernet0"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keep, skip := tt.sel.Choose(dev)
			var got []string
			for _, p := range keep {
				got = append(got, p.Key)
			}
			if !slices.Equal(got, tt.keep) {
				t.Errorf("kept %q, want %q", got, tt.keep)
			}
			if tt.skip != nil {
				var gs []string
				for _, s := range skip {
					gs = append(gs, s.Key+": "+s.Reason)
				}
				if !slices.Equal(gs, tt.skip) {
					t.Errorf("skipped %q, want %q", gs, tt.skip)
				}
			}
		})
	}
}

func TestParseHost(t *testing.T) {
	base := Target{SNMP: config.SNMP{Community: "public", Port: 161}}
	tests := []struct {
		in              string
		host, community string
		port            int
		err             string
	}{
		{"192.0.2.1", "192.0.2.1", "public", 161, ""},
		{"secret@127.0.0.1:1161", "127.0.0.1", "secret", 1161, ""},
		{"a@b@[::1]:162", "::1", "a@b", 162, ""},
		{"::1", "::1", "public", 161, ""},
		{"public@[::1]:16161", "::1", "public", 16161, ""},
		{"public@[::1]", "::1", "public", 161, ""},
		{"public@127.0.0.1:16161", "127.0.0.1", "public", 16161, ""},
		{"localhost:16161", "localhost", "public", 16161, ""},
		{"host:99999", "", "", 0, "port \"99999\" out of range"},
		{"c@", "", "", 0, "empty host"},
		{"public@::1:16161", "", "", 0, `IPv6 with a port is written "[::1]:16161"`},
		{"public@::1:161", "", "", 0, "ambiguous"},
		{"public@[::1", "", "", 0, `no closing "]"`},
		{"public@[router]:161", "", "", 0, "brackets hold an IPv6 address only"},
	}
	for _, tt := range tests {
		got, err := ParseHost(tt.in, base)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseHost(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got.Host != tt.host || got.Community != tt.community || got.Port != tt.port {
			t.Errorf("ParseHost(%q) = %+v, %v; want %s %s %d", tt.in, got, err, tt.host, tt.community, tt.port)
		}
	}
}

func TestDiff(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\n"
	b := "a\nb\nc\nd\nX\ne\nf\ng\nh\ni\n"
	want := "--- old\n+++ new\n@@ -2,6 +2,7 @@\n b\n c\n d\n+X\n e\n f\n g\n"
	if got := Diff("old", "new", []byte(a), []byte(b)); got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if got := Diff("a", "b", []byte(a), []byte(a)); got != "" {
		t.Errorf("diff of equal texts = %q, want empty", got)
	}
	got := Diff("old", "new", []byte("x\ny\n"), []byte("x\nz\n"))
	if !regexp.MustCompile(`(?s)-y\n\+z\n$`).MatchString(got) {
		t.Errorf("diff of a changed line:\n%s", got)
	}
}

func TestReport(t *testing.T) {
	f := found("sw1", "192.0.2.9", []Pick{pick("ge-1", "", 1e9)}, "ge-2", "lo")
	f.Skip = []Skip{{Key: "lo", Reason: "loopback"}, {Reason: "no ifName to name it by", Interface: Interface{Index: 7}}}
	ch := config.Change{Device: "sw1", Added: []string{"ge-1"}, Vanished: []string{"old"}, Skipped: []string{"ge-2"}}
	var b strings.Builder
	Report(&b, []Found{f, found("empty", "192.0.2.10", nil)}, []config.Change{ch, {Device: "empty", Empty: true}})
	want := `sw1 (192.0.2.9): updated: 3 interfaces on the agent, 1 chosen, 1 added, 2 skipped
  skipped lo: loopback (--loopback to include)
  skipped ifIndex 7: no ifName to name it by
  vanished old: in the targets file but not on the agent (left in place)
  note ge-2: in the targets file but skipped by this selection (left in place)
empty (192.0.2.10): nothing chosen, not written: 0 interfaces on the agent, 0 chosen, 0 added, 0 skipped
`
	if b.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", b.String(), want)
	}
}
