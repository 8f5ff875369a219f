package snmpsim

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

const (
	oidSysUpTime   = ".1.3.6.1.2.1.1.3.0"
	oidSysName     = ".1.3.6.1.2.1.1.5.0"
	oidIfTable     = ".1.3.6.1.2.1.2.2"
	oidIfInOctets  = ".1.3.6.1.2.1.2.2.1.10"
	oidIfOutOctets = ".1.3.6.1.2.1.2.2.1.16"
	oidIfXTable    = ".1.3.6.1.2.1.31.1.1"
	oidIfName      = ".1.3.6.1.2.1.31.1.1.1.1"
	oidIfHCIn      = ".1.3.6.1.2.1.31.1.1.1.6"
	oidIfHCOut     = ".1.3.6.1.2.1.31.1.1.1.10"
	oidIfDiscont   = ".1.3.6.1.2.1.31.1.1.1.19"
	oidIfTableLC   = ".1.3.6.1.2.1.31.1.5.0"
)

// t0 is a Wednesday afternoon, far from any day boundary.
var t0 = time.Date(2026, time.March, 18, 14, 0, 0, 0, time.UTC)

func testDevice() DeviceConfig {
	return DeviceConfig{
		Name:      "sim1",
		Community: "s3cret",
		Seed:      42,
		Interfaces: []Interface{
			{Name: "ge-0/0/0", Alias: "uplink", Speed: 1e9, Up: true, MeanBps: 300e6},
			{Name: "ge-0/0/1", Alias: "cust A", Speed: 1e9, Up: true, MeanBps: 50e6},
			{Name: "xe-1/0/0", Alias: "core", Speed: 10e9, Up: true, MeanBps: 4e9},
			{Name: "ge-0/0/2", Alias: "spare", Speed: 1e9, Up: false},
			{Name: "fe-0/0/3", Speed: 100e6, Up: true, MeanBps: 200e6}, // above what fits: capped
		},
	}
}

// startAgent serves dev on loopback with a manual clock at t0.
func startAgent(t *testing.T, dev DeviceConfig) (*Agent, *ManualClock) {
	t.Helper()
	clock := NewManualClock(t0)
	a, err := Start(t.Context(), "127.0.0.1:0", dev, &Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return a, clock
}

func client(t *testing.T, a *Agent, version gosnmp.SnmpVersion, community string) *gosnmp.GoSNMP {
	t.Helper()
	g := &gosnmp.GoSNMP{
		Target:    "127.0.0.1",
		Port:      uint16(a.Port()),
		Community: community,
		Version:   version,
		Timeout:   2 * time.Second,
		Retries:   1,
		MaxOids:   60,
	}
	if err := g.Connect(); err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = g.Conn.Close() })
	return g
}

func parse(t *testing.T, s string) []uint32 {
	t.Helper()
	o, ok := parseOID(s)
	if !ok {
		t.Fatalf("parseOID(%q) failed", s)
	}
	return o
}

// checkOrder fails unless the walked OIDs strictly increase.
func checkOrder(t *testing.T, pdus []gosnmp.SnmpPDU) {
	t.Helper()
	for i := 1; i < len(pdus); i++ {
		if compareOID(parse(t, pdus[i-1].Name), parse(t, pdus[i].Name)) >= 0 {
			t.Fatalf("walk out of order at %d: %s then %s", i, pdus[i-1].Name, pdus[i].Name)
		}
	}
}

func TestWalk(t *testing.T) {
	dev := testDevice()
	a, _ := startAgent(t, dev)
	n := len(dev.Interfaces)
	// system 6 + ifNumber 1 + ifTable 19 columns + ifXTable 16 columns (6 of them
	// Counter64) + ifTableLastChange.
	tests := []struct {
		name    string
		version gosnmp.SnmpVersion
		bulk    bool
		root    string
		want    int
		wantHC  bool
	}{
		{"v2c bulk mib-2", gosnmp.Version2c, true, ".1.3.6.1.2.1", 6 + 1 + 19*n + 16*n + 1, true},
		{"v2c getnext mib-2", gosnmp.Version2c, false, ".1.3.6.1.2.1", 6 + 1 + 19*n + 16*n + 1, true},
		{"v1 getnext mib-2", gosnmp.Version1, false, ".1.3.6.1.2.1", 6 + 1 + 19*n + 8*n + 1, false},
		{"v2c bulk from iso", gosnmp.Version2c, true, ".1.3", 6 + 1 + 19*n + 16*n + 1, true},
		{"v1 ifXTable", gosnmp.Version1, false, oidIfXTable, 8 * n, false},
		{"v2c bulk ifTable", gosnmp.Version2c, true, oidIfTable, 19 * n, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := client(t, a, tt.version, dev.Community)
			g.MaxRepetitions = 7
			var pdus []gosnmp.SnmpPDU
			var err error
			if tt.bulk {
				pdus, err = g.BulkWalkAll(tt.root)
			} else {
				pdus, err = g.WalkAll(tt.root)
			}
			if err != nil {
				t.Fatalf("walk %s: %v", tt.root, err)
			}
			if len(pdus) != tt.want {
				t.Errorf("walk %s: got %d varbinds, want %d", tt.root, len(pdus), tt.want)
			}
			checkOrder(t, pdus)
			hc := false
			for _, p := range pdus {
				if p.Type == gosnmp.Counter64 {
					hc = true
				}
				if p.Type == gosnmp.EndOfMibView || p.Type == gosnmp.NoSuchObject || p.Type == gosnmp.NoSuchInstance {
					t.Errorf("walk returned %s %v", p.Name, p.Type)
				}
			}
			if hc != tt.wantHC {
				t.Errorf("walk %s: Counter64 present %v, want %v", tt.root, hc, tt.wantHC)
			}
		})
	}
}

func TestBulkWalkIfName(t *testing.T) {
	dev := testDevice()
	dev.FirstIndex = 501
	a, _ := startAgent(t, dev)
	g := client(t, a, gosnmp.Version2c, dev.Community)
	g.MaxRepetitions = 2 // several round trips
	pdus, err := g.BulkWalkAll(oidIfName)
	if err != nil {
		t.Fatalf("BulkWalkAll: %v", err)
	}
	if len(pdus) != len(dev.Interfaces) {
		t.Fatalf("got %d names, want %d", len(pdus), len(dev.Interfaces))
	}
	for i, p := range pdus {
		wantOID := fmt.Sprintf("%s.%d", oidIfName, 501+i)
		want := dev.Interfaces[i].Name
		got, _ := p.Value.([]byte)
		if p.Name != wantOID || string(got) != want {
			t.Errorf("varbind %d: got %s=%q, want %s=%q", i, p.Name, got, wantOID, want)
		}
	}
}

func TestGetMany(t *testing.T) {
	dev := testDevice()
	a, clock := startAgent(t, dev)
	clock.Advance(90 * time.Second)
	g := client(t, a, gosnmp.Version2c, dev.Community)
	oids := []string{
		oidSysName, oidSysUpTime,
		oidIfHCIn + ".3", oidIfHCOut + ".3", oidIfInOctets + ".3", oidIfName + ".2",
		".1.3.6.1.2.1.2.2.1.8.4", // ifOperStatus of the down interface
		oidIfHCIn + ".99",        // no such interface
		".1.3.6.1.2.1.99.1.0",    // no such object
		".1.3.6.1.2.1.1.5",       // object without instance
	}
	res, err := g.Get(oids)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if res.Error != gosnmp.NoError {
		t.Fatalf("Get: error status %v", res.Error)
	}
	if len(res.Variables) != len(oids) {
		t.Fatalf("got %d varbinds, want %d", len(res.Variables), len(oids))
	}
	in, out := a.Counters(3, clock.Now())
	wantUp := uint32((DefaultUptime + 90*time.Second) / (10 * time.Millisecond))
	want := []struct {
		typ gosnmp.Asn1BER
		val any
	}{
		{gosnmp.OctetString, []byte("sim1")},
		{gosnmp.TimeTicks, wantUp},
		{gosnmp.Counter64, in},
		{gosnmp.Counter64, out},
		{gosnmp.Counter32, uint(uint32(in))},
		{gosnmp.OctetString, []byte("ge-0/0/1")},
		{gosnmp.Integer, 2},
		{gosnmp.NoSuchInstance, nil},
		{gosnmp.NoSuchObject, nil},
		{gosnmp.NoSuchInstance, nil},
	}
	for i, p := range res.Variables {
		if p.Name != oids[i] {
			t.Errorf("varbind %d: name %s, want %s", i, p.Name, oids[i])
		}
		if p.Type != want[i].typ {
			t.Errorf("%s: type %v, want %v", oids[i], p.Type, want[i].typ)
			continue
		}
		if want[i].val != nil && fmt.Sprint(p.Value) != fmt.Sprint(want[i].val) {
			t.Errorf("%s: value %v, want %v", oids[i], p.Value, want[i].val)
		}
	}
	if in == 0 || out == 0 {
		t.Errorf("Counters(3) = %d, %d; want both non-zero", in, out)
	}
}

func TestV1(t *testing.T) {
	dev := testDevice()
	a, _ := startAgent(t, dev)
	g := client(t, a, gosnmp.Version1, dev.Community)
	tests := []struct {
		name      string
		oids      []string
		next      bool
		wantErr   gosnmp.SNMPError
		wantIndex uint8
		wantNames []string
	}{
		{"get counter32", []string{oidIfInOctets + ".1", oidSysName}, false, gosnmp.NoError, 0, nil},
		{"get HC is noSuchName", []string{oidSysName, oidIfHCIn + ".1"}, false, gosnmp.NoSuchName, 2, nil},
		{"getnext skips HC", []string{oidIfName + ".5"}, true, gosnmp.NoError, 0, []string{".1.3.6.1.2.1.31.1.1.1.2.1"}},
		{"getnext skips HC packets", []string{".1.3.6.1.2.1.31.1.1.1.5.5"}, true, gosnmp.NoError, 0, []string{".1.3.6.1.2.1.31.1.1.1.15.1"}},
		{"getnext past end", []string{oidIfTableLC}, true, gosnmp.NoSuchName, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res *gosnmp.SnmpPacket
			var err error
			if tt.next {
				res, err = g.GetNext(tt.oids)
			} else {
				res, err = g.Get(tt.oids)
			}
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			if res.Error != tt.wantErr || res.ErrorIndex != tt.wantIndex {
				t.Errorf("error %v index %d, want %v index %d", res.Error, res.ErrorIndex, tt.wantErr, tt.wantIndex)
			}
			for i, w := range tt.wantNames {
				if res.Variables[i].Name != w {
					t.Errorf("varbind %d: got %s, want %s", i, res.Variables[i].Name, w)
				}
			}
		})
	}
}

func TestWrongCommunityTimesOut(t *testing.T) {
	dev := testDevice()
	a, _ := startAgent(t, dev)
	for _, v := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
		g := client(t, a, v, "public")
		g.Timeout, g.Retries = 200*time.Millisecond, 0
		if _, err := g.Get([]string{oidSysName}); err == nil {
			t.Errorf("version %v with wrong community: got an answer, want a timeout", v)
		}
	}
}

// integrate is the octets between from and to by Simpson's rule over the
// agent's rate function, independent of the closed form.
func integrate(a *Agent, ifIndex int, from, to time.Time) (in, out float64) {
	const steps = 2000
	h := to.Sub(from) / steps
	for i := 0; i <= steps; i++ {
		w := simpson(i, steps)
		ri, ro := a.Rate(ifIndex, from.Add(time.Duration(i)*h))
		in += w * ri / 8
		out += w * ro / 8
	}
	s := h.Seconds() / 3
	return in * s, out * s
}

func TestCounterRate(t *testing.T) {
	dev := testDevice()
	a, clock := startAgent(t, dev)
	g := client(t, a, gosnmp.Version2c, dev.Community)
	get := func() map[string]uint64 {
		t.Helper()
		var oids []string
		for idx := 1; idx <= len(dev.Interfaces); idx++ {
			oids = append(oids, fmt.Sprintf("%s.%d", oidIfHCIn, idx), fmt.Sprintf("%s.%d", oidIfHCOut, idx))
		}
		res, err := g.Get(oids)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		m := make(map[string]uint64)
		for _, p := range res.Variables {
			m[p.Name] = gosnmp.ToBigInt(p.Value).Uint64()
		}
		return m
	}
	// Intervals across midnight into a weekend and across a noise knot.
	starts := []time.Time{t0, time.Date(2026, time.March, 20, 23, 58, 0, 0, time.UTC)}
	for _, start := range starts {
		clock.Set(start)
		before := get()
		end := clock.Advance(5 * time.Minute)
		after := get()
		for i, ifc := range dev.Interfaces {
			idx := i + 1
			wantIn, wantOut := integrate(a, idx, start, end)
			for _, c := range []struct {
				oid  string
				want float64
			}{{fmt.Sprintf("%s.%d", oidIfHCIn, idx), wantIn}, {fmt.Sprintf("%s.%d", oidIfHCOut, idx), wantOut}} {
				got := float64(after[c.oid] - before[c.oid])
				if after[c.oid] < before[c.oid] {
					t.Errorf("%s at %v: counter went back from %d to %d", c.oid, start, before[c.oid], after[c.oid])
				}
				if math.Abs(got-c.want) > 1e-6*c.want+2 {
					t.Errorf("%s from %v: got %.0f octets, want %.0f", c.oid, start, got, c.want)
				}
				if bps := got * 8 / 300; bps > float64(ifc.Speed) {
					t.Errorf("%s: rate %.0f bit/s above speed %d", c.oid, bps, ifc.Speed)
				}
				if !ifc.Up && got != 0 {
					t.Errorf("%s: down interface moved %.0f octets", c.oid, got)
				}
				if ifc.Up && got == 0 {
					t.Errorf("%s: up interface moved no octets", c.oid)
				}
			}
		}
	}
}

func TestReboot(t *testing.T) {
	dev := testDevice()
	a, clock := startAgent(t, dev)
	g := client(t, a, gosnmp.Version2c, dev.Community)
	oids := []string{oidSysUpTime, oidIfHCIn + ".1", oidIfInOctets + ".1", oidIfDiscont + ".1"}
	before, err := g.Get(oids)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	a.Reboot()
	clock.Advance(10 * time.Second)
	after, err := g.Get(oids)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got := after.Variables[0].Value.(uint32); got != 1000 {
		t.Errorf("sysUpTime 10 s after reboot: got %d, want 1000", got)
	}
	hcBefore := gosnmp.ToBigInt(before.Variables[1].Value).Uint64()
	hcAfter := gosnmp.ToBigInt(after.Variables[1].Value).Uint64()
	in, _ := integrate(a, 1, clock.Now().Add(-10*time.Second), clock.Now())
	if hcAfter >= hcBefore || math.Abs(float64(hcAfter)-in) > 1e-6*in+2 {
		t.Errorf("ifHCInOctets after reboot: got %d (before %d), want about %.0f", hcAfter, hcBefore, in)
	}
	if got := after.Variables[2].Value.(uint); uint64(got) != hcAfter&math.MaxUint32 {
		t.Errorf("ifInOctets after reboot: got %d, want %d", got, hcAfter&math.MaxUint32)
	}

	// Clearing one interface's counters moves its discontinuity time.
	clock.Advance(20 * time.Second)
	if err := a.ClearCounters(1); err != nil {
		t.Fatalf("ClearCounters: %v", err)
	}
	clock.Advance(time.Second)
	res, err := g.Get([]string{oidIfDiscont + ".1", oidIfDiscont + ".2", oidIfHCIn + ".1"})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got := res.Variables[0].Value.(uint32); got != 3000 {
		t.Errorf("ifCounterDiscontinuityTime.1 after clear: got %d, want 3000", got)
	}
	if got := res.Variables[1].Value.(uint32); got != 0 {
		t.Errorf("ifCounterDiscontinuityTime.2: got %d, want 0", got)
	}
	in, _ = integrate(a, 1, clock.Now().Add(-time.Second), clock.Now())
	if got := gosnmp.ToBigInt(res.Variables[2].Value).Uint64(); math.Abs(float64(got)-in) > 1e-6*in+2 {
		t.Errorf("ifHCInOctets.1 one second after clear: got %d, want about %.0f", got, in)
	}
	if err := a.ClearCounters(99); err == nil {
		t.Errorf("ClearCounters(99): got nil error, want one")
	}
}

func TestCounter32Wraps(t *testing.T) {
	dev := testDevice()
	a, clock := startAgent(t, dev)
	g := client(t, a, gosnmp.Version2c, dev.Community)
	// 4 Gbit/s moves 2^32 octets in under 9 s: over 10 minutes the 32-bit
	// counter must wrap at least once and still equal the low bits.
	wrapped := false
	var last uint
	for i := range 60 {
		res, err := g.Get([]string{oidIfHCIn + ".3", oidIfInOctets + ".3"})
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		hc := gosnmp.ToBigInt(res.Variables[0].Value).Uint64()
		c32 := res.Variables[1].Value.(uint)
		if uint64(c32) != hc&math.MaxUint32 {
			t.Fatalf("ifInOctets %d is not the low 32 bits of ifHCInOctets %d", c32, hc)
		}
		if i > 0 && c32 < last {
			wrapped = true
		}
		last = c32
		clock.Advance(10 * time.Second)
	}
	if !wrapped {
		t.Errorf("ifInOctets.3 never wrapped in 10 minutes at multi-gigabit rates")
	}
}

func TestFaults(t *testing.T) {
	dev := testDevice()
	a, clock := startAgent(t, dev)
	g := client(t, a, gosnmp.Version2c, dev.Community)

	t.Run("only32", func(t *testing.T) {
		a.SetOnly32(true)
		res, err := g.Get([]string{oidIfHCIn + ".1", oidIfInOctets + ".1"})
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if res.Variables[0].Type != gosnmp.NoSuchObject || res.Variables[1].Type != gosnmp.Counter32 {
			t.Errorf("types %v, %v; want NoSuchObject, Counter32", res.Variables[0].Type, res.Variables[1].Type)
		}
		pdus, err := g.BulkWalkAll(oidIfXTable)
		if err != nil {
			t.Fatalf("BulkWalkAll: %v", err)
		}
		if want := 8 * len(dev.Interfaces); len(pdus) != want {
			t.Errorf("ifXTable walk: got %d varbinds, want %d", len(pdus), want)
		}
		a.SetOnly32(false)
		res, err = g.Get([]string{oidIfHCIn + ".1"})
		if err != nil || res.Variables[0].Type != gosnmp.Counter64 {
			t.Errorf("after SetOnly32(false): got %v, %v; want Counter64", res.Variables[0].Type, err)
		}
	})

	t.Run("renumber", func(t *testing.T) {
		name := "xe-1/0/0"
		oldIdx, _ := a.IfIndex(name)
		inBefore, _ := a.Counters(oldIdx, clock.Now())
		if err := a.ShiftIndexes(100); err != nil {
			t.Fatalf("ShiftIndexes: %v", err)
		}
		newIdx, _ := a.IfIndex(name)
		if newIdx != oldIdx+100 {
			t.Errorf("IfIndex(%s) after shift: got %d, want %d", name, newIdx, oldIdx+100)
		}
		if in, _ := a.Counters(newIdx, clock.Now()); in != inBefore {
			t.Errorf("counter under new ifIndex %d: got %d, want %d", newIdx, in, inBefore)
		}
		pdus, err := g.BulkWalkAll(oidIfName)
		if err != nil {
			t.Fatalf("BulkWalkAll: %v", err)
		}
		want := fmt.Sprintf("%s.%d", oidIfName, newIdx)
		i := slices.IndexFunc(pdus, func(p gosnmp.SnmpPDU) bool { return string(p.Value.([]byte)) == name })
		if i < 0 || pdus[i].Name != want {
			t.Errorf("walk after shift: %s not at %s (%v)", name, want, pdus)
		}
		res, err := g.Get([]string{oidIfTableLC, oidSysUpTime})
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if res.Variables[0].Value.(uint32) != res.Variables[1].Value.(uint32) {
			t.Errorf("ifTableLastChange %v, want sysUpTime %v", res.Variables[0].Value, res.Variables[1].Value)
		}
		// Reverse the order: the last interface gets ifIndex 1.
		n := len(dev.Interfaces)
		perm := make([]int, n)
		for i := range perm {
			perm[i] = n - i
		}
		if err := a.Renumber(perm); err != nil {
			t.Fatalf("Renumber: %v", err)
		}
		pdus, err = g.BulkWalkAll(oidIfName)
		if err != nil {
			t.Fatalf("BulkWalkAll: %v", err)
		}
		for i, p := range pdus {
			if got, want := string(p.Value.([]byte)), dev.Interfaces[n-1-i].Name; got != want {
				t.Errorf("walk after renumber, row %d: got %s, want %s", i, got, want)
			}
		}
		for _, bad := range [][]int{{1, 1, 2, 3, 4}, {1, 2}, {0, 1, 2, 3, 4}} {
			if err := a.Renumber(bad); err == nil {
				t.Errorf("Renumber(%v): got nil error, want one", bad)
			}
		}
	})

	t.Run("silent", func(t *testing.T) {
		a.SetSilent(true)
		g.Timeout, g.Retries = 200*time.Millisecond, 0
		if _, err := g.Get([]string{oidSysName}); err == nil {
			t.Errorf("silent agent answered")
		}
		a.SetSilent(false)
		g.Timeout, g.Retries = 2*time.Second, 1
		if _, err := g.Get([]string{oidSysName}); err != nil {
			t.Errorf("agent after SetSilent(false): %v", err)
		}
	})

	t.Run("delay", func(t *testing.T) {
		a.SetDelay(400 * time.Millisecond)
		defer a.SetDelay(0)
		short := client(t, a, gosnmp.Version2c, dev.Community)
		short.Timeout, short.Retries = 100*time.Millisecond, 0
		if _, err := short.Get([]string{oidSysName}); err == nil {
			t.Errorf("delayed agent answered within a 100 ms timeout")
		}
		patient := client(t, a, gosnmp.Version2c, dev.Community)
		patient.Timeout, patient.Retries = 5*time.Second, 0
		if _, err := patient.Get([]string{oidSysName}); err != nil {
			t.Errorf("delayed agent with a 5 s timeout: %v", err)
		}
	})

	t.Run("tooBig", func(t *testing.T) {
		a.SetMaxResponseSize(300)
		defer a.SetMaxResponseSize(0)
		var oids []string
		for idx := 1; idx <= len(dev.Interfaces); idx++ {
			oids = append(oids, fmt.Sprintf("%s.%d", oidIfName, idx), fmt.Sprintf("%s.%d", oidIfHCIn, idx))
		}
		oids = append(oids, oidSysName, oidSysUpTime)
		res, err := g.Get(oids)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if res.Error != gosnmp.TooBig {
			t.Errorf("Get of %d OIDs with a 300-octet limit: error %v, want TooBig", len(oids), res.Error)
		}
		res, err = g.Get(oids[:2])
		if err != nil || res.Error != gosnmp.NoError {
			t.Errorf("Get of 2 OIDs: %v, %v; want no error", err, res.Error)
		}
		// GETBULK is cut to fit instead, so a bulk walk still completes.
		g.MaxRepetitions = 50
		pdus, err := g.BulkWalkAll(".1.3.6.1.2.1")
		if err != nil {
			t.Fatalf("BulkWalkAll: %v", err)
		}
		if want := 6 + 1 + 35*len(dev.Interfaces) + 1; len(pdus) != want {
			t.Errorf("bulk walk under size limit: got %d varbinds, want %d", len(pdus), want)
		}
	})
}

func TestContextStopsAgent(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	a, err := Start(ctx, "127.0.0.1:0", testDevice(), nil)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	cancel()
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("agent still running 30 s after its context was cancelled")
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
}

func TestStartRejects(t *testing.T) {
	dup := testDevice()
	dup.Interfaces[1].Name = dup.Interfaces[0].Name
	clash := testDevice()
	clash.Interfaces[2].Index = 1
	tests := []struct {
		name string
		addr string
		dev  DeviceConfig
		want string
	}{
		{"non-loopback address", "0.0.0.0:0", testDevice(), "not loopback"},
		{"no device name", "127.0.0.1:0", DeviceConfig{}, "name is empty"},
		{"duplicate interface", "127.0.0.1:0", dup, "duplicate name"},
		{"ifIndex clash", "127.0.0.1:0", clash, "already used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Start(t.Context(), tt.addr, tt.dev, nil)
			if err == nil {
				_ = a.Close()
				t.Fatalf("Start: got nil error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start: got %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestGetBulkAndEndOfMib(t *testing.T) {
	dev := testDevice()
	a, _ := startAgent(t, dev)
	g := client(t, a, gosnmp.Version2c, dev.Community)
	res, err := g.GetBulk([]string{".1.3.6.1.2.1.1.3", oidIfName, oidIfHCIn}, 1, 3)
	if err != nil {
		t.Fatalf("GetBulk: %v", err)
	}
	want := []string{oidSysUpTime,
		oidIfName + ".1", oidIfHCIn + ".1",
		oidIfName + ".2", oidIfHCIn + ".2",
		oidIfName + ".3", oidIfHCIn + ".3"}
	var got []string
	for _, p := range res.Variables {
		got = append(got, p.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("GetBulk names:\n got %v\nwant %v", got, want)
	}

	// Past the last object: endOfMibView, repeated for every repetition.
	res, err = g.GetBulk([]string{oidIfTableLC}, 0, 2)
	if err != nil {
		t.Fatalf("GetBulk: %v", err)
	}
	if len(res.Variables) != 1 || res.Variables[0].Type != gosnmp.EndOfMibView {
		t.Errorf("GetBulk past the end: got %v, want one endOfMibView", res.Variables)
	}
	res, err = g.GetNext([]string{oidIfTableLC, oidSysName})
	if err != nil {
		t.Fatalf("GetNext: %v", err)
	}
	if res.Variables[0].Type != gosnmp.EndOfMibView || res.Variables[1].Name != ".1.3.6.1.2.1.1.6.0" {
		t.Errorf("GetNext: got %v, want endOfMibView then sysLocation.0", res.Variables)
	}
}

// TestRecreate: a deleted and re-created interface leaves its dead twin in the table
// under the same name, down and frozen, beside the live one at a new ifIndex, until the
// agent restarts.
func TestRecreate(t *testing.T) {
	dev := testDevice()
	a, clock := startAgent(t, dev)
	g := client(t, a, gosnmp.Version2c, dev.Community)
	name := dev.Interfaces[0].Name
	old, _ := a.IfIndex(name)
	clock.Advance(time.Hour)
	before, _ := a.Counters(old, clock.Now())
	dead, live, err := a.Recreate(name)
	if err != nil {
		t.Fatal(err)
	}
	if dead != old || live <= slices.Max(a.Indexes()[1:]) {
		t.Fatalf("Recreate: dead %d live %d, want dead %d and a live ifIndex above every other", dead, live, old)
	}
	if idx, _ := a.IfIndex(name); idx != live {
		t.Errorf("IfIndex(%s) = %d, want the live %d", name, idx, live)
	}
	clock.Advance(5 * time.Minute)
	if in, _ := a.Counters(dead, clock.Now()); in != before {
		t.Errorf("dead twin's counter %d, want it frozen at %d", in, before)
	}
	if in, _ := a.Counters(live, clock.Now()); in == 0 || in >= before {
		t.Errorf("live counter %d five minutes after creation, want a fresh count", in)
	}
	names, err := g.BulkWalkAll(oidIfName)
	if err != nil {
		t.Fatal(err)
	}
	twins := 0
	for _, p := range names {
		if string(p.Value.([]byte)) == name {
			twins++
		}
	}
	r, err := g.Get([]string{".1.3.6.1.2.1.2.1.0",
		fmt.Sprintf(".1.3.6.1.2.1.2.2.1.8.%d", dead), fmt.Sprintf(".1.3.6.1.2.1.2.2.1.8.%d", live),
		".1.3.6.1.2.1.31.1.5.0", fmt.Sprintf(".1.3.6.1.2.1.31.1.1.1.19.%d", live)})
	if err != nil {
		t.Fatal(err)
	}
	number := gosnmp.ToBigInt(r.Variables[0].Value).Int64()
	if twins != 2 || number != int64(len(dev.Interfaces)+1) {
		t.Errorf("%d rows named %s, ifNumber %d; want 2 and %d", twins, name, number, len(dev.Interfaces)+1)
	}
	if d, l := gosnmp.ToBigInt(r.Variables[1].Value).Int64(), gosnmp.ToBigInt(r.Variables[2].Value).Int64(); d != 2 || l != 1 {
		t.Errorf("ifOperStatus dead %d live %d, want 2 and 1", d, l)
	}
	if c, disc := gosnmp.ToBigInt(r.Variables[3].Value).Int64(), gosnmp.ToBigInt(r.Variables[4].Value).Int64(); c == 0 || disc != c {
		t.Errorf("ifTableLastChange %d, live ifCounterDiscontinuityTime %d; want both at the re-creation", c, disc)
	}

	a.Reboot()
	if in, _ := a.Counters(dead, clock.Now()); in != 0 {
		t.Errorf("dead twin still served after a restart (counter %d)", in)
	}
	if idx, _ := a.IfIndex(name); idx != live || len(a.Indexes()) != len(dev.Interfaces) {
		t.Errorf("after the restart: %s at %d, %d interfaces; want %d and %d", name, idx, len(a.Indexes()), live, len(dev.Interfaces))
	}
}

// simpson is the weight of point i of 0..n (n even) in Simpson's rule, before the
// common factor h/3.
func simpson(i, n int) float64 {
	switch {
	case i == 0 || i == n:
		return 1
	case i%2 == 1:
		return 4
	}
	return 2
}
