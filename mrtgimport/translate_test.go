package mrtgimport

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/discover"
)

// fakeAgent serves fixed interface tables per host and counts walks.
type fakeAgent struct {
	devs  map[string]*discover.Device
	ips   map[string]int
	walks int
}

func (f *fakeAgent) agent() *Agent {
	return &Agent{
		Walk: func(_ context.Context, t discover.Target) (*discover.Device, error) {
			f.walks++
			d, ok := f.devs[t.Host]
			if !ok {
				return nil, fmt.Errorf("get sysName from %s: request timeout", t.Host)
			}
			return d, nil
		},
		LookupIP: func(_ context.Context, t discover.Target, ip string) (int, error) {
			idx, ok := f.ips[ip]
			if !ok {
				return 0, fmt.Errorf("%s has no interface with address %s", t.Host, ip)
			}
			return idx, nil
		},
	}
}

func TestTranslate(t *testing.T) {
	c, err := Load("testdata/exotic.cfg")
	if err != nil {
		t.Fatal(err)
	}
	fa := &fakeAgent{
		devs: map[string]*discover.Device{
			"router1": {Interfaces: []discover.Interface{
				{Index: 2, Name: "ge-0/0/2", Descr: "GigabitEthernet0/2 uplink"},
				{Index: 3, Name: "ge-0/0/3", Descr: "GigabitEthernet0/3"},
				{Index: 5, Name: "ge-0/0/5", Descr: "GigabitEthernet0/5"},
				{Index: 8, Name: "ge-0/0/8", MAC: "00:1a:2b:3c:4d:5e"},
			}},
		},
		ips: map[string]int{"192.0.2.7": 5},
	}
	found, plans := Translate(context.Background(), c, fa.agent())
	got := map[string]string{}
	for _, p := range plans {
		if p.Series != "" {
			got[p.Target.Name] = p.Series
		} else {
			got[p.Target.Name] = "skip: " + p.Target.Skip
		}
	}
	want := map[string]string{
		"included": "router2/xe-1/0/0",
		"byname":   "router1/ge-0/0/1",
		"byindex":  "router1/ge-0/0/3",
		"bydescr":  "router1-1161/ge-0/0/2",
		"byip":     "router1/ge-0/0/5",
		"bymac2":   "router1/ge-0/0/8",
		"oids":     "skip: Target[oids]: looking up ifIndex 4: get sysName from 2001:db8::1: request timeout",
		"splitmax": "router2/ge-0/0/7",
		"dupe":     "skip: Target[dupe]: the same interface as Target[included] (router2/xe-1/0/0)",
		"v3":       "router1-v3/ge-0/0/9",
		"errors":   `router1\target/errors`,
		"temp":     `router1\target/temp`,
		"script":   `router2\target/script`, // the device of the first target
		"swapped":  `\aggregate/swapped`,
		"discards": `router1\target/discards`,
		"sum":      `skip: Target[sum]: 1:public@router1: router1 has no interface with ifIndex "1"`,
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s -> %q, want %q", name, got[name], w)
		}
	}
	if fa.walks != 3 { // router1:161, router1:1161, [2001:db8::1]; never router2 (by name only)
		t.Errorf("%d walks, want 3 (one per agent that needs a lookup)", fa.walks)
	}
	_ = found
	out, _, err := config.Merge("targets.toml", nil, TargetsFile(c, found, plans))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("targets.toml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if cfg.Step.String() != "10m0s" {
		t.Errorf("step %s, want MRTG's Interval 10m", cfg.Step)
	}
	devs := map[string]config.Device{}
	for _, d := range cfg.Devices {
		devs[d.Name] = d
	}
	r1 := devs["router1"]
	if !slices.Equal(r1.Interfaces, []string{"ge-0/0/1", "ge-0/0/3", "ge-0/0/5", "ge-0/0/8"}) || r1.SNMP.Version != "1" {
		t.Errorf("router1 = %+v", r1)
	}
	r1b := devs["router1-1161"]
	if r1b.SNMP.Port != 1161 || r1b.SNMP.Version != "2c" || r1b.Speed["ge-0/0/2"] != 2500000000*8 {
		t.Errorf("router1-1161 = %+v, want port 1161, v2c and AbsMax as speed", r1b)
	}
	if v3 := devs["router1-v3"]; v3.SNMP.Version != "3" || v3.SNMP.Username != "mrtg" || v3.SNMP.AuthProtocol != "SHA" || v3.SNMP.Context != "vrf1" {
		t.Errorf("router1-v3 = %s, want the v3 user", v3.SNMP)
	}
	// The interface of an OID pair's instance is looked up; bits multiplies the factor.
	var discards config.Target
	for _, tg := range r1.Targets {
		if tg.Name == "discards" {
			discards = tg
		}
	}
	for _, p := range plans {
		if p.Target.Name == "discards" && p.Bits != 32 {
			t.Errorf("discards: %d-bit series, want ifTable's 32", p.Bits)
		}
	}
	if !slices.Equal(discards.OIDs, []string{"1.3.6.1.2.1.2.2.1.13.3", "1.3.6.1.2.1.2.2.1.19.3"}) || discards.Factor != 16 || discards.Max != 125000000*16 {
		t.Errorf("discards = %+v, want ifIndex 3's discards, factor 16 and MaxBytes times it", discards)
	}
	if !strings.Contains(string(out), `"ge-0/0/1", # Traffic on uplink (1G)`) {
		t.Errorf("title comment missing:\n%s", out)
	}

	// Offline, each agent gets one device per interface key its targets use.
	c2, _ := Load("testdata/exotic.cfg")
	found, plans = Translate(context.Background(), c2, nil)
	got = map[string]string{}
	for _, p := range plans {
		if p.Series != "" {
			got[p.Target.Name] = p.Series
		} else {
			got[p.Target.Name] = "skip: " + p.Target.Skip
		}
	}
	want = map[string]string{
		"byname":  "router1/ge-0/0/1",
		"byindex": "router1-ifIndex/3",
		"bydescr": "router1-1161/GigabitEthernet0/2 uplink",
		"byip":    "skip: Target[byip]: names the interface by IP address 192.0.2.7; finding it needs the agent (run import where router1 answers)",
		"bymac2":  "router1-mac/00:1a:2b:3c:4d:5e",
		"oids":    "2001:db8::1/4",
		// An OID naming its interface by ifName needs the agent's ifIndex.
		"discards": "skip: Target[discards]: names an interface by ifName ge-0/0/3; finding it needs the agent (run import where router1 answers)",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("offline %s -> %q, want %q", name, got[name], w)
		}
	}
	out, _, err = config.Merge("targets.toml", nil, TargetsFile(c2, found, plans))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err = config.Parse("targets.toml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	keys := map[string]string{}
	for _, d := range cfg.Devices {
		keys[d.Name] = d.Key + " " + strings.Join(d.Interfaces, ",")
	}
	// Offline, Target[sum]'s interfaces (ifIndex 1 and 2) are members of its aggregate
	// and Target[swapped]'s (ge-0/0/5) of its own.
	for dev, w := range map[string]string{"router1-ifIndex": "ifIndex 3,1,2", "router1-1161": "ifDescr GigabitEthernet0/2 uplink",
		"router1-mac": "mac 00:1a:2b:3c:4d:5e", "2001:db8::1": "ifIndex 4", "router1": "ifName ge-0/0/1,ge-0/0/5"} {
		if keys[dev] != w {
			t.Errorf("offline device %s: %q, want %q", dev, keys[dev], w)
		}
	}
}
