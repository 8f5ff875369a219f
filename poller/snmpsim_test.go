package poller

// Tests and benchmarks against the simulator in poller/snmpsim: real UDP, real BER, faults
// on demand, and enough interfaces to measure a cycle at scale.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"syscall"
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
			if r.Err == nil || r.Retries != 1 || r.Timeouts != 2 {
				t.Errorf("silent %s: Err %v, Retries %d, Timeouts %d; want an error after 1 retry and 2 timeouts", r.Device, r.Err, r.Retries, r.Timeouts)
			}
			continue
		}
		if r.Timeouts != 0 {
			t.Errorf("%s: %d timeouts, want 0", r.Device, r.Timeouts)
			continue
		}
		checkCounters(t, r.Device, agents[i], r, clock.Now(), false)
		if len(r.Samples) != 10 {
			t.Errorf("%s: %d samples, want 10", r.Device, len(r.Samples))
		}
	}
}

// BenchmarkCycle is one poll cycle (no store) over simulated devices on loopback, after
// a first cycle has resolved the interface names. The simulator runs in the same process
// and shares its CPU and memory: cpu-s/op and peak-heap-MB count both.
func BenchmarkCycle(b *testing.B) {
	for _, bc := range []struct{ devices, ifs int }{{1, 1000}, {100, 10_000}, {1000, 100_000}} {
		b.Run(fmt.Sprintf("devices=%d/interfaces=%d", bc.devices, bc.ifs), func(b *testing.B) {
			_, cfg, clock := simNet(b, snmpsim.Network(bc.devices, bc.ifs/bc.devices, 3))
			p := New(cfg, Options{Now: clock.Now})
			ctx := context.Background()
			for _, r := range p.Poll(ctx) {
				if r.Err != nil || len(r.Samples) != bc.ifs/bc.devices {
					b.Fatalf("first poll %s: Err %v, %d samples", r.Device, r.Err, len(r.Samples))
				}
			}
			peak := watchHeap()
			cpu0 := cpuTime()
			pdus := 0
			b.ResetTimer()
			for b.Loop() {
				clock.Advance(time.Minute)
				for _, r := range p.Poll(ctx) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
					pdus += r.Requests
				}
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(pdus)/float64(b.N), "PDUs/op")
		})
	}
}

// watchHeap samples the heap in use until the returned func is called, which reports
// the largest value seen.
func watchHeap() func() uint64 {
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	read := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	go func() {
		defer close(stopped)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		read()
		return peak
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Each device's deadline inside the step (the budget Run gives it) cuts off a device
// that answers too slowly, without holding up the others.
func TestPollDeviceBudget(t *testing.T) {
	agents, cfg, clock := simNet(t, snmpsim.Network(2, 4, 5))
	agents[0].SetDelay(5 * time.Second) // beyond the budget, within the timeout
	for i := range cfg {
		cfg[i].SNMP.Timeout = 10 * time.Second
	}
	p := New(cfg, Options{Logger: testLogger(t)})
	rs := p.poll(context.Background(), 0, 200*time.Millisecond)
	if !errors.Is(rs[0].Err, context.DeadlineExceeded) {
		t.Errorf("slow %s: Err = %v, want the deadline", rs[0].Device, rs[0].Err)
	}
	checkCounters(t, rs[1].Device, agents[1], rs[1], clock.Now(), false)
	if len(rs[1].Samples) != 4 {
		t.Errorf("%s: %d samples, want 4", rs[1].Device, len(rs[1].Samples))
	}
}
