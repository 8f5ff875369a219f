package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCounters(t *testing.T) {
	dev := func(name, extra string) string {
		return "\n[[device]]\nname = \"" + name + "\"\nhost = \"192.0.2.1\"\ninterfaces = [\"*\"]\n" + extra
	}
	tests := []struct {
		name string
		src  string
		want []Counters // per device
		errs []string
	}{
		{name: "none", src: dev("a", ""), want: []Counters{{}}},
		{name: "global", src: `counters = ["packets", "errors"]` + "\n" + dev("a", "") + dev("b", ""),
			want: []Counters{{Packets: true, Errors: true}, {Packets: true, Errors: true}}},
		{name: "device overrides", src: `counters = ["errors"]` + "\n" + dev("a", `counters = ["packets"]`+"\n") + dev("b", "counters = []\n") + dev("c", ""),
			want: []Counters{{Packets: true}, {}, {Errors: true}}},
		{name: "case and spaces", src: dev("a", `counters = [" Packets "]`+"\n"), want: []Counters{{Packets: true}}},
		{name: "typo of the key", src: "countrs = [\"packets\"]\n" + dev("a", "countres = [\"errors\"]\n"),
			errs: []string{`t.toml:1: countrs: unknown key (did you mean "counters"?)`,
				`t.toml:7: device[1].countres: unknown key (did you mean "counters"?)`}},
		{name: "bad values", src: `counters = ["packet"]` + "\n" + dev("a", `counters = ["errors", "octets", "errors"]`+"\n"),
			errs: []string{`t.toml:1: counters: unknown counter group "packet" (did you mean "packets"?) (groups: packets, errors)`,
				`t.toml:7: device[1].counters: unknown counter group "octets" (groups: packets, errors)`,
				`t.toml:7: device[1].counters: counter group "errors" listed twice`}},
		{name: "not an array", src: dev("a", "counters = \"packets\"\n"),
			errs: []string{`t.toml:6`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.toml", []byte(tt.src))
			if tt.errs != nil {
				var got []string
				var es Errors
				if errors.As(err, &es) {
					for _, e := range es {
						got = append(got, e.Error())
					}
				} else if err != nil {
					got = []string{err.Error()}
				}
				if len(got) != len(tt.errs) {
					t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.errs, "\n"))
				}
				for i := range got {
					if !strings.HasPrefix(got[i], tt.errs[i]) {
						t.Errorf("error %d = %q, want %q", i, got[i], tt.errs[i])
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []Counters
			for _, d := range c.Devices {
				got = append(got, d.Counters)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("counters = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Format and Merge write the counters key only where it differs from what applies
// anyway, and what they write loads back as given.
func TestCountersWritten(t *testing.T) {
	both := Counters{Packets: true, Errors: true}
	pk := Counters{Packets: true}
	f := File{Counters: both, Devices: []FileDevice{
		{Name: "a", Host: "192.0.2.1", Interfaces: []FileInterface{{Key: "ge-0/0/0"}}},
		{Name: "b", Host: "192.0.2.2", Interfaces: []FileInterface{{Key: "eth0"}}, Counters: &both},
		{Name: "c", Host: "192.0.2.3", Interfaces: []FileInterface{{Key: "eth0"}}, Counters: &pk},
	}}
	out := Format(f)
	if n := strings.Count(string(out), "counters ="); n != 2 {
		t.Errorf("%d counters keys, want 2 (top level and c):\n%s", n, out)
	}
	if !strings.Contains(string(out), "\ncounters = [\"packets\", \"errors\"]\n") {
		t.Errorf("no top-level counters:\n%s", out)
	}
	c, err := Parse("t.toml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := []Counters{c.Devices[0].Counters, c.Devices[1].Counters, c.Devices[2].Counters}; !slices.Equal(got, []Counters{both, both, pk}) {
		t.Errorf("loaded back %+v", got)
	}

	// Merge into a file without the top-level key: a device that asks for none writes
	// nothing; one that asks for some writes them.
	src := []byte("[[device]]\nname = \"a\"\nhost = \"192.0.2.1\"\ninterfaces = [\"ge-0/0/0\"]\n")
	none := Counters{}
	merged, _, err := Merge("t.toml", src, File{Devices: []FileDevice{
		{Name: "n", Host: "192.0.2.4", Interfaces: []FileInterface{{Key: "eth0"}}, Counters: &none},
		{Name: "e", Host: "192.0.2.5", Interfaces: []FileInterface{{Key: "eth0"}}, Counters: &Counters{Errors: true}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(merged), "counters ="); n != 1 || !strings.Contains(string(merged), "counters = [\"errors\"]\n") {
		t.Errorf("merged:\n%s", merged)
	}
	c, err = Parse("t.toml", merged)
	if err != nil {
		t.Fatal(err)
	}
	if got := []Counters{c.Devices[1].Counters, c.Devices[2].Counters}; !slices.Equal(got, []Counters{{}, {Errors: true}}) {
		t.Errorf("merged loaded back %+v", got)
	}
}
