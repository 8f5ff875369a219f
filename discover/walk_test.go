package discover

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/testsnmpd"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

// TestWalkSnmpd walks a real net-snmp agent: its loopback is found, typed and skipped.
func TestWalkSnmpd(t *testing.T) {
	a := testsnmpd.Start(t, "disc0ver", "sysName testhost.example\n")
	for _, version := range []string{"2c", "1"} {
		t.Run("v"+version, func(t *testing.T) {
			dev, err := Walk(context.Background(), Target{Host: a.Host, SNMP: config.SNMP{Port: a.Port, Community: a.Community,
				Version: version, Timeout: 2 * time.Second, Retries: 1}})
			if err != nil {
				t.Fatal(err)
			}
			if dev.SysName != "testhost.example" {
				t.Errorf("sysName %q, want testhost.example", dev.SysName)
			}
			var lo *Interface
			for i, f := range dev.Interfaces {
				if f.Name == "lo" {
					lo = &dev.Interfaces[i]
				}
			}
			if lo == nil {
				t.Fatalf("no lo among %+v", dev.Interfaces)
			}
			if lo.Type != 24 || lo.Admin != 1 || lo.Oper != 1 || lo.Descr != "lo" {
				t.Errorf("lo = %+v, want type 24, up, descr lo", *lo)
			}
			keep, skip := Select{}.Choose(dev)
			for _, p := range keep {
				if p.Key == "lo" {
					t.Errorf("lo kept by default")
				}
			}
			if !slices.ContainsFunc(skip, func(s Skip) bool { return s.Key == "lo" && s.Reason == "loopback" }) {
				t.Errorf("skips %+v do not name lo as loopback", skip)
			}
			keep, _ = Select{Loopback: true, Include: []Rule{{Field: "name", Re: mustRe(t, "^lo$")}}}.Choose(dev)
			if len(keep) != 1 || keep[0].Key != "lo" {
				t.Fatalf("with --loopback --include name=^lo$: kept %+v", keep)
			}
			out, _, err := Merge("t.toml", nil, []Found{{Name: DeviceName(dev), Target: dev.Target, Keep: keep, All: map[string]bool{"lo": true}}})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Parse("t.toml", out)
			if err != nil {
				t.Fatalf("written file does not load: %v\n%s", err, out)
			}
			d := cfg.Devices[0]
			if d.Name != "testhost.example" || d.SNMP.Port != a.Port || d.SNMP.Community != a.Community ||
				d.SNMP.Version != version || !slices.Equal(d.Interfaces, []string{"lo"}) {
				t.Errorf("written device %+v", d)
			}
		})
	}
}

func TestWalkErrors(t *testing.T) {
	a := testsnmpd.Start(t, "right", "")
	_, err := Walk(context.Background(), Target{Host: a.Host, SNMP: config.SNMP{Port: a.Port, Community: "wrong", Version: "2c",
		Timeout: 200 * time.Millisecond, Retries: 0}})
	if err == nil || !strings.Contains(err.Error(), "get sysName from 127.0.0.1") {
		t.Errorf("wrong community: error %v, want a timeout naming the host", err)
	}
	_, err = Walk(context.Background(), Target{Host: a.Host, SNMP: config.SNMP{Version: "4"}})
	if err == nil || !strings.Contains(err.Error(), `SNMP version "4" not supported`) {
		t.Errorf("version 4: error %v", err)
	}
}

func mustRe(t *testing.T, s string) *regexp.Regexp {
	t.Helper()
	r, err := ParseRule(s)
	if err != nil {
		t.Fatal(err)
	}
	return r.Re
}

// simAgent starts one simulated device and returns its target.
func simAgent(tb testing.TB, dev snmpsim.DeviceConfig) (*snmpsim.Agent, Target) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	clock := snmpsim.NewManualClock(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	a, err := snmpsim.Start(ctx, "127.0.0.1:0", dev, &snmpsim.Options{Now: clock.Now})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cancel(); a.Close() })
	return a, Target{Host: "127.0.0.1", SNMP: config.SNMP{Port: a.Port(), Community: a.Community(), Version: "2c",
		Timeout: 2 * time.Second, Retries: 1}}
}

// TestWalkSimulator1000 walks 1,000 interfaces, then re-runs after the device grew two
// interfaces and the user edited a title and added a comment.
func TestWalkSimulator1000(t *testing.T) {
	devs := snmpsim.Network(1, 1000, 7)
	dev := devs[0]
	dev.Interfaces[3].Up = false
	_, tgt := simAgent(t, dev)
	got, err := Walk(context.Background(), tgt)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Interfaces) != 1000 {
		t.Fatalf("walked %d interfaces, want 1000", len(got.Interfaces))
	}
	for i, f := range got.Interfaces {
		w := dev.Interfaces[i]
		if f.Name != w.Name || f.Alias != w.Alias || f.Bps() != w.Speed {
			t.Fatalf("interface %d = %+v, want %s %q %d", i, f, w.Name, w.Alias, w.Speed)
		}
	}
	keep, skip := Select{}.Choose(got)
	if len(keep) != 999 || len(skip) != 1 || skip[0].Key != dev.Interfaces[3].Name || skip[0].Reason != "administratively down" {
		t.Fatalf("kept %d, skipped %+v; want 999 and %s administratively down", len(keep), skip, dev.Interfaces[3].Name)
	}
	f := Found{Name: DeviceName(got), Target: tgt, Keep: keep, Skip: skip, All: all(got)}
	first, _, err := Merge("t.toml", nil, []Found{f})
	if err != nil {
		t.Fatal(err)
	}
	// Hand edits: a retitled interface and a comment line.
	edited := strings.Replace(string(first), `"ge-0/0/1",   # link 1 of dev0001 (1G)`, `"ge-0/0/1",   # to the lab, ticket 42`, 1)
	edited = strings.Replace(edited, "[[device]]\n", "# racked 2026-11\n[[device]]\n", 1)
	if edited == string(first) || !strings.Contains(edited, "ticket 42") {
		t.Fatalf("the edit did not apply; written:\n%.600s", first)
	}

	dev.Interfaces = append(dev.Interfaces,
		snmpsim.Interface{Name: "ge-9/0/0", Alias: "new customer", Speed: 1e9, Up: true, MeanBps: 1e6},
		snmpsim.Interface{Name: "ge-9/0/1", Speed: 1e9, Up: true, MeanBps: 1e6})
	dev.Interfaces = slices.Delete(dev.Interfaces, 10, 11) // ge-0/0/10 is gone
	_, tgt2 := simAgent(t, dev)
	got2, err := Walk(context.Background(), tgt2)
	if err != nil {
		t.Fatal(err)
	}
	keep2, skip2 := Select{}.Choose(got2)
	f2 := Found{Name: DeviceName(got2), Target: tgt2, Keep: keep2, Skip: skip2, All: all(got2)}
	second, chg, err := Merge("t.toml", []byte(edited), []Found{f2})
	if err != nil {
		t.Fatal(err)
	}
	if !subsequence(splitLines([]byte(edited)), splitLines(second)) {
		t.Errorf("re-run lost a line:\n%s", Diff("edited", "second", []byte(edited), second))
	}
	if !slices.Equal(chg[0].Added, []string{"ge-9/0/0", "ge-9/0/1"}) || !slices.Equal(chg[0].Vanished, []string{"ge-0/0/10"}) {
		t.Errorf("change %+v, want ge-9/0/0 and ge-9/0/1 added, ge-0/0/10 vanished", chg[0])
	}
	wantDiff := "+  \"ge-9/0/0\", # new customer (1G)\n+  \"ge-9/0/1\", # (1G)\n"
	if d := Diff("a", "b", []byte(edited), second); !strings.Contains(d, wantDiff) {
		t.Errorf("diff:\n%s\nwant it to contain:\n%s", d, wantDiff)
	}
	if _, err := config.Parse("t.toml", second); err != nil {
		t.Error(err)
	}
}

func all(d *Device) map[string]bool {
	m := map[string]bool{}
	for _, f := range d.Interfaces {
		m[(Select{}).KeyOf(f)] = true
	}
	return m
}

func BenchmarkDiscover(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("interfaces=%d", n), func(b *testing.B) {
			_, tgt := simAgent(b, snmpsim.Network(1, n, 7)[0])
			for b.Loop() {
				dev, err := Walk(context.Background(), tgt)
				if err != nil {
					b.Fatal(err)
				}
				keep, skip := Select{}.Choose(dev)
				if _, _, err := Merge("t.toml", nil, []Found{{Name: DeviceName(dev), Target: tgt, Keep: keep, Skip: skip, All: all(dev)}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestWalkSnmpdV3 walks a real agent as an SNMPv3 user with authentication and privacy,
// and writes the device with its v3 settings.
func TestWalkSnmpdV3(t *testing.T) {
	a := testsnmpd.Start(t, "unused-community", "createUser disco SHA \"disco-auth-pass\" AES \"disco-priv-pass\"\nrouser disco priv\n")
	tgt := Target{Host: a.Host, SNMP: config.SNMP{Version: "3", Port: a.Port, Timeout: 2 * time.Second, Retries: 1,
		Username: "disco", SecurityLevel: config.AuthPriv, AuthProtocol: "SHA", AuthPassword: "disco-auth-pass",
		PrivProtocol: "AES", PrivPassword: "disco-priv-pass"}}
	dev, err := Walk(context.Background(), tgt)
	if err != nil {
		t.Fatal(err)
	}
	keep, _ := Select{Loopback: true, Key: KeyMAC, ZeroSpeed: true, Include: []Rule{{Field: "name", Re: mustRe(t, "^lo$")}}}.Choose(dev)
	if len(keep) != 0 {
		t.Errorf("lo has no MAC address, yet kept by mac: %+v", keep)
	}
	keep, _ = Select{Loopback: true, Key: KeyDescr, Include: []Rule{{Field: "name", Re: mustRe(t, "^lo$")}}}.Choose(dev)
	if len(keep) != 1 {
		t.Fatalf("kept %+v, want lo", keep)
	}
	out, _, err := Merge("t.toml", nil, []Found{{Name: "v3dev", Target: dev.Target, Keep: keep, All: all(dev), Key: KeyDescr}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("t.toml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	d := cfg.Devices[0]
	if d.SNMP.Version != "3" || d.SNMP.Username != "disco" || d.SNMP.SecurityLevel != config.AuthPriv ||
		d.SNMP.AuthProtocol != "SHA" || d.SNMP.PrivProtocol != "AES" || d.SNMP.PrivPassword != "disco-priv-pass" ||
		d.Key != config.KeyIfDescr || !slices.Equal(d.Interfaces, []string{"lo"}) {
		t.Errorf("written device %s key %s interfaces %q:\n%s", d.SNMP, d.Key, d.Interfaces, out)
	}
	if strings.Contains(string(out), "community") && strings.Count(string(out), "community") > 1 {
		t.Errorf("a v3 device got a community:\n%s", out)
	}
	// The file names interfaces by ifDescr: a run by ifName adds nothing and says why.
	_, chg, err := Merge("t.toml", out, []Found{{Name: "v3dev", Target: dev.Target, Keep: []Pick{{Key: "lo"}}, All: all(dev)}})
	if err != nil || len(chg) != 1 || chg[0].KeyConflict != string(KeyDescr) || len(chg[0].Added) != 0 {
		t.Errorf("merge by another key: %+v, %v", chg, err)
	}
}

// The host forms of "mrtgo discover" reach a real agent listening on 127.0.0.1 and ::1.
func TestWalkSnmpdHostForms(t *testing.T) {
	testsnmpd.NeedIPv6Loopback(t)
	a := testsnmpd.StartWith(t, testsnmpd.Options{Community: "disc0ver", ExtraConf: "sysName dual.example\n", IPv6: true})
	base := Target{SNMP: config.SNMP{Version: "2c", Community: "wrong", Port: 1, Timeout: time.Second, Retries: 1}}
	for _, arg := range []string{
		fmt.Sprintf("disc0ver@127.0.0.1:%d", a.Port),
		fmt.Sprintf("disc0ver@[::1]:%d", a.Port),
		fmt.Sprintf("disc0ver@localhost:%d", a.Port),
	} {
		tgt, err := ParseHost(arg, base)
		if err != nil {
			t.Errorf("%s: %v", arg, err)
			continue
		}
		dev, err := Walk(context.Background(), tgt)
		if err != nil {
			t.Errorf("%s: %v", arg, err)
			continue
		}
		if dev.SysName != "dual.example" {
			t.Errorf("%s: sysName %q, want dual.example", arg, dev.SysName)
		}
	}
}

// net-snmp answers UCD load and memory and has a processor table: discover proposes
// the three presets, and the file it writes loads with them as targets.
func TestWalkPresetsSnmpd(t *testing.T) {
	a := testsnmpd.Start(t, "disc0ver", "")
	dev, err := Walk(context.Background(), Target{Host: a.Host, SNMP: config.SNMP{Port: a.Port, Community: a.Community,
		Version: "2c", Timeout: 2 * time.Second, Retries: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cpu", "cpu-hr", "memory"}; !slices.Equal(dev.Presets, want) {
		t.Fatalf("presets %q, want %q", dev.Presets, want)
	}
	f := Found{Name: "srv", Target: dev.Target, All: map[string]bool{}, Presets: dev.Presets}
	out, changes, err := Merge("t.toml", nil, []Found{f})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("t.toml", out)
	if err != nil {
		t.Fatalf("written file does not load: %v\n%s", err, out)
	}
	if names := cfg.Devices[0].TargetNames(); !slices.Equal(names, []string{"cpu", "cpu-hr", "memory"}) {
		t.Errorf("targets written %q:\n%s", names, out)
	}
	var b strings.Builder
	Report(&b, []Found{f}, changes)
	if !strings.Contains(b.String(), "target memory added: memory used and total") {
		t.Errorf("report does not name the targets added:\n%s", b.String())
	}
	// A second run adds nothing: the targets are there by name.
	again, changes, err := Merge("t.toml", out, []Found{f})
	if err != nil || string(again) != string(out) || len(changes[0].AddedTargets) != 0 {
		t.Errorf("second merge changed the file (%v, %+v):\n%s", err, changes, again)
	}
}
