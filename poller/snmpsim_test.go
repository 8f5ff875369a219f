package poller

// Tests and benchmarks against the simulator in poller/snmpsim: real UDP, real BER, faults
// on demand, and enough interfaces to measure a cycle at scale.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

// simNet starts simulated devices on loopback with a manual clock and returns them with
// the matching config.Devices (every interface by name).
func simNet(tb testing.TB, devs []snmpsim.DeviceConfig) ([]*snmpsim.Agent, []config.Device, *snmpsim.ManualClock) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	clock := snmpsim.NewManualClock(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	agents, err := snmpsim.StartNetwork(ctx, "127.0.0.1:0", devs, &snmpsim.Options{Now: clock.Now})
	if err != nil {
		cancel()
		tb.Fatalf("start simulator: %v", err)
	}
	tb.Cleanup(func() {
		cancel()
		for _, a := range agents {
			a.Close()
		}
	})
	var cfg []config.Device
	for i, a := range agents {
		var names []string
		for _, f := range devs[i].Interfaces {
			names = append(names, f.Name)
		}
		cfg = append(cfg, config.Device{
			Name: a.Name(), Host: "127.0.0.1",
			SNMP: config.SNMP{Version: "2c", Community: a.Community(), Port: a.Port(),
				Timeout: 2 * time.Second, Retries: 1, MaxOIDs: 60},
			Interfaces: names,
		})
	}
	return agents, cfg, clock
}

// checkCounters compares every sample with what the agent serves at the clock's time.
func checkCounters(t *testing.T, step string, a *snmpsim.Agent, r Result, at time.Time, wantDisc bool) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("%s: %v", step, r.Err)
	}
	if len(r.Missing) != 0 {
		t.Errorf("%s: Missing %v", step, r.Missing)
	}
	for _, s := range r.Samples {
		idx, ok := a.IfIndex(s.Interface)
		if !ok || idx != s.Index {
			t.Errorf("%s: %s read at ifIndex %d, agent has it at %d", step, s.Interface, s.Index, idx)
			continue
		}
		in, out := a.Counters(idx, at)
		if s.Bits == 32 {
			in, out = uint64(uint32(in)), uint64(uint32(out))
		}
		if s.In != in || s.Out != out {
			t.Errorf("%s: %s in %d out %d, agent serves %d %d", step, s.Interface, s.In, s.Out, in, out)
		}
		if s.Discontinuity != wantDisc {
			t.Errorf("%s: %s Discontinuity %v, want %v", step, s.Interface, s.Discontinuity, wantDisc)
		}
	}
}

func TestSimulatorFaults(t *testing.T) {
	devs := snmpsim.Network(1, 40, 1)
	agents, cfg, clock := simNet(t, devs)
	a := agents[0]
	p := New(cfg, Options{Logger: testLogger(t)})
	poll := func() Result { return onlyResult(t, p.Poll(context.Background())) }

	r := poll()
	checkCounters(t, "first", a, r, clock.Now(), false)
	if len(r.Samples) != 40 {
		t.Fatalf("first: %d samples, want 40", len(r.Samples))
	}

	clock.Advance(5 * time.Minute)
	checkCounters(t, "five minutes on", a, poll(), clock.Now(), false)

	// Reboot and renumber: same names, new indexes, counters from zero.
	clock.Advance(5 * time.Minute)
	a.Reboot()
	if err := a.ShiftIndexes(100); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	checkCounters(t, "reboot and renumber", a, poll(), clock.Now(), true)

	clock.Advance(5 * time.Minute)
	checkCounters(t, "after the reboot", a, poll(), clock.Now(), false)

	// Renumbering without a reboot: ifTableLastChange moves, the poller resolves again
	// and every interface (all have a new ifIndex) starts over.
	clock.Advance(5 * time.Minute)
	if err := a.ShiftIndexes(50); err != nil {
		t.Fatal(err)
	}
	checkCounters(t, "renumbered", a, poll(), clock.Now(), true)
	clock.Advance(5 * time.Minute)
	checkCounters(t, "after renumbering", a, poll(), clock.Now(), false)

	// Small responses: the poller shrinks its PDUs and still reads everything.
	a.SetMaxResponseSize(400)
	clock.Advance(5 * time.Minute)
	r = poll()
	checkCounters(t, "tooBig above 400 octets", a, r, clock.Now(), false)
	if len(r.Samples) != 40 {
		t.Errorf("tooBig: %d samples, want 40", len(r.Samples))
	}
	a.SetMaxResponseSize(0)

	// HC counters vanish: 32-bit fallback, flagged as a discontinuity once.
	a.SetOnly32(true)
	clock.Advance(5 * time.Minute)
	r = poll()
	checkCounters(t, "32-bit only", a, r, clock.Now(), true)
	for _, s := range r.Samples {
		if s.Bits != 32 {
			t.Fatalf("32-bit only: %s has %d bits", s.Interface, s.Bits)
		}
	}
	clock.Advance(5 * time.Minute)
	checkCounters(t, "32-bit only, again", a, poll(), clock.Now(), false)

	// Silence: an error naming the device, then recovery.
	a.SetSilent(true)
	p.devices[0].cfg.SNMP.Timeout = 100 * time.Millisecond
	p.devices[0].cfg.SNMP.Retries = 0
	if r := poll(); r.Err == nil {
		t.Errorf("silent agent: Err = nil, want a timeout")
	}
	a.SetSilent(false)
	clock.Advance(5 * time.Minute)
	checkCounters(t, "answering again", a, poll(), clock.Now(), false)
}

func TestSimulatorDeadDeviceDoesNotStopOthers(t *testing.T) {
	agents, cfg, clock := simNet(t, snmpsim.Network(3, 10, 2))
	for i := range cfg {
		cfg[i].SNMP.Timeout = 150 * time.Millisecond
		cfg[i].SNMP.Retries = 1
	}
	agents[1].SetSilent(true)
	p := New(cfg, Options{Logger: testLogger(t)})
	rs := p.Poll(context.Background())
	for i, r := range rs {
		if i == 1 {
			if r.Err == nil || r.Retries != 1 {
				t.Errorf("silent %s: Err %v, Retries %d; want an error after 1 retry", r.Device, r.Err, r.Retries)
			}
			continue
		}
		checkCounters(t, r.Device, agents[i], r, clock.Now(), false)
		if len(r.Samples) != 10 {
			t.Errorf("%s: %d samples, want 10", r.Device, len(r.Samples))
		}
	}
}

func BenchmarkPollSimulator(b *testing.B) {
	for _, bc := range []struct{ devices, ifs int }{{1, 1000}, {100, 100}} {
		b.Run(fmt.Sprintf("%ddev×%dif", bc.devices, bc.ifs), func(b *testing.B) {
			_, cfg, clock := simNet(b, snmpsim.Network(bc.devices, bc.ifs, 3))
			p := New(cfg, Options{})
			ctx := context.Background()
			for _, r := range p.Poll(ctx) {
				if r.Err != nil || len(r.Samples) != bc.ifs {
					b.Fatalf("first poll %s: Err %v, %d samples", r.Device, r.Err, len(r.Samples))
				}
			}
			pdus := 0
			for b.Loop() {
				clock.Advance(time.Minute)
				for _, r := range p.Poll(ctx) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
					pdus += r.Requests
				}
			}
			b.ReportMetric(float64(bc.devices*bc.ifs), "interfaces")
			b.ReportMetric(float64(pdus)/float64(b.N), "PDUs/op")
		})
	}
}
