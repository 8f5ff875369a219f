package poller

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
)

// parseTargets reads targets as a targets file writes them, so the tests poll what
// config makes of presets.
func parseTargets(t *testing.T, lines string) []config.Target {
	t.Helper()
	c, err := config.Parse("t.toml", []byte("[[device]]\nname = \"d\"\nhost = \"127.0.0.1\"\n"+lines))
	if err != nil {
		t.Fatal(err)
	}
	return c.Devices[0].Targets
}

func memTotalKB(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Skip("no /proc/meminfo")
	}
	for l := range strings.Lines(string(b)) {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	t.Fatal("no MemTotal in /proc/meminfo")
	return 0
}

func loadAvg(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		t.Skip("no /proc/loadavg")
	}
	v, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return v
}

// The presets and a plain OID against net-snmp, in the same cycle as an interface:
// laLoadInt is /proc/loadavg in hundredths, memTotalReal /proc/meminfo's MemTotal; an
// OID the agent lacks is an unknown value, not an error.
func TestSnmpdTargets(t *testing.T) {
	s := startSnmpd(t, testCommunity, "")
	dev := snmpdDevice(s, "local", "2c", "lo")
	dev.Targets = parseTargets(t, `
[[device.target]]
name = "load"
preset = "cpu"
[[device.target]]
name = "mem"
preset = "memory"
[[device.target]]
name = "uptime"
oids = ["1.3.6.1.2.1.1.3.0"]
kind = "gauge"
[[device.target]]
name = "none"
oids = ["1.3.6.1.4.1.2021.10.1.5.9", "1.3.6.1.2.1.1.3.0"]
`)
	p := New([]config.Device{dev}, Options{Logger: testLogger(t)})
	defer p.Close()
	load := loadAvg(t)
	res := p.Poll(context.Background())[0]
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Samples) != 1 || res.Samples[0].Interface != "lo" {
		t.Errorf("interface samples = %+v, want lo", res.Samples)
	}
	got := map[string]TargetSample{}
	for _, ts := range res.Targets {
		got[ts.Target] = ts
	}
	if len(got) != 4 {
		t.Fatalf("target samples = %+v, want 4", res.Targets)
	}
	l := got["load"]
	if !l.In.Known || !l.Out.Known || !l.In.Exact || math.Abs(l.In.Float/100-load) > 1 {
		t.Errorf("load = %+v, want laLoadInt near %.2f×100", l, load)
	}
	m := got["mem"]
	if total := memTotalKB(t); m.Out.Float != total {
		t.Errorf("memory total = %v kB, want MemTotal %v kB", m.Out.Float, total)
	}
	if !m.In.Known || m.In.Float <= 0 || m.In.Float >= m.Out.Float {
		t.Errorf("memory used = %+v, want between 0 and the total %v", m.In, m.Out.Float)
	}
	up := got["uptime"]
	if !up.In.Known || up.Out.Known || up.In.Float > 60*100 {
		t.Errorf("uptime = %+v, want a fresh agent's sysUpTime and no out", up)
	}
	// Read in the GET after the counters': a tick or two later.
	if d := time.Duration(up.In.Uint)*10*time.Millisecond - res.Uptime; d < 0 || d > 100*time.Millisecond {
		t.Errorf("uptime target %d ticks, device uptime %s", up.In.Uint, res.Uptime)
	}
	n := got["none"]
	if n.In.Known || !n.Out.Known || n.Time.IsZero() {
		t.Errorf("target with a missing OID = %+v, want in unknown, out known", n)
	}
	// The next cycle reads them again without walking: one GET for the counters, one
	// for the targets.
	res = p.Poll(context.Background())[0]
	if res.Err != nil || len(res.Targets) != 4 {
		t.Fatalf("second cycle: %v, %d targets", res.Err, len(res.Targets))
	}
	if res.Requests != 2 {
		t.Errorf("second cycle sent %d requests, want 2 (counters, targets)", res.Requests)
	}
	t.Logf("a cycle of lo and 4 targets: %d requests in %s", res.Requests, res.Duration)
	for _, ts := range res.Targets {
		if ts.Discontinuity {
			t.Errorf("target %s discontinuous without a restart", ts.Target)
		}
	}
	// A restart of the agent marks every target's sample. It shows as sysUpTime going
	// back: the agent must have been up longer than the new one will be when polled.
	time.Sleep(3 * time.Second)
	if res = p.Poll(context.Background())[0]; res.Err != nil {
		t.Fatal(res.Err)
	}
	s.Restart(t)
	res = p.Poll(context.Background())[0]
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, ts := range res.Targets {
		if !ts.Discontinuity {
			t.Errorf("target %s not discontinuous after the agent restarted", ts.Target)
		}
	}
}

// memory-hr against net-snmp: its hrStorageRam row ("Physical memory") in bytes, whose
// size is /proc/meminfo's MemTotal and whose use lies between nothing and all of it.
func TestSnmpdStoragePreset(t *testing.T) {
	s := startSnmpd(t, testCommunity, "")
	dev := snmpdDevice(s, "local", "2c")
	dev.Targets = parseTargets(t, "[[device.target]]\nname = \"mem\"\npreset = \"memory-hr\"\n")
	p := New([]config.Device{dev}, Options{Logger: testLogger(t)})
	defer p.Close()
	res := p.Poll(context.Background())[0]
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Targets) != 1 {
		t.Fatalf("targets = %+v, want one", res.Targets)
	}
	m := res.Targets[0]
	if total := memTotalKB(t) * 1024; m.Out.Float != total {
		t.Errorf("memory size = %v B, want MemTotal %v B", m.Out.Float, total)
	}
	if !m.In.Known || m.In.Float <= 0 || m.In.Float >= m.Out.Float {
		t.Errorf("memory used = %+v, want between 0 and the size %v", m.In, m.Out.Float)
	}
}

// hrProcessorLoad: net-snmp answers it once it has a minute of samples; until then the
// average is unknown, then it is the mean of the processors' rows.
func TestSnmpdProcessorLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("net-snmp needs a minute before it answers hrProcessorLoad")
	}
	t.Parallel()
	s := startSnmpd(t, testCommunity, "")
	dev := snmpdDevice(s, "local", "2c")
	dev.Targets = parseTargets(t, "[[device.target]]\nname = \"cpu\"\npreset = \"cpu-hr\"\n")
	p := New([]config.Device{dev}, Options{Logger: testLogger(t)})
	defer p.Close()
	deadline := time.Now().Add(100 * time.Second)
	for {
		res := p.Poll(context.Background())[0]
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if len(res.Targets) != 1 {
			t.Fatalf("targets = %+v, want one", res.Targets)
		}
		if in := res.Targets[0].In; in.Known {
			if in.Float < 0 || in.Float > 100 {
				t.Errorf("average processor load %v %%, want 0–100", in.Float)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("hrProcessorLoad still unknown after 100 s")
		}
		time.Sleep(2 * time.Second)
	}
}

func script(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// Command targets run beside the SNMP cycle: a good one gives its numbers, one that
// hangs or prints garbage an unknown sample, and neither holds up the cycle beyond its
// own timeout, also when the agent does not answer.
func TestCommandTargets(t *testing.T) {
	good := script(t, "good.sh", "echo 1234\necho 5.5\necho 100\necho srv")
	hang := script(t, "hang.sh", "echo 1\nsleep 30\necho 2")
	garbage := script(t, "garbage.sh", "echo fourty-two\necho 7")
	fails := script(t, "fails.sh", "echo oops >&2\nexit 3")
	older := script(t, "older.sh", `echo 1; echo 2; cat "$(dirname "$0")/uptime"`)
	if err := os.WriteFile(filepath.Join(filepath.Dir(older), "uptime"), []byte("500\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dev := config.Device{Name: "srv", Host: "127.0.0.1",
		SNMP: config.SNMP{Version: "2c", Community: "x", Port: 9, Timeout: 200 * time.Millisecond, MaxOIDs: 60}}
	for _, c := range []struct{ name, path string }{{"good", good}, {"hang", hang}, {"garbage", garbage}, {"fails", fails}, {"older", older}} {
		dev.Targets = append(dev.Targets, config.Target{Name: c.name, Command: []string{c.path}, Timeout: 700 * time.Millisecond, Kind: config.KindGauge})
	}
	p := New([]config.Device{dev}, Options{Logger: testLogger(t)})
	start := time.Now()
	res := p.Poll(context.Background())[0]
	took := time.Since(start)
	if res.Err == nil {
		t.Error("a device without an agent answered")
	}
	// The SNMP timeout (2 × 200 ms) and the commands' (700 ms, then 1 s for the output)
	// run side by side: the cycle ends after the longest, about 1.7 s. Run one after
	// the other they would take their sum, which is the bound (rather than a figure
	// near 1.7 s that a loaded machine can pass); the hanging command alone would
	// take 30 s.
	sum := 2 * dev.SNMP.Timeout
	for _, tg := range dev.Targets {
		sum += tg.Timeout + time.Second
	}
	if took >= sum {
		t.Errorf("cycle took %s, want the longest timeout and not their sum (%s)", took, sum)
	}
	got := map[string]TargetSample{}
	for _, ts := range res.Targets {
		got[ts.Target] = ts
	}
	if g := got["good"]; g.In != Uint(1234) || g.Out.Float != 5.5 || g.Discontinuity {
		t.Errorf("good = %+v, want 1234 and 5.5", g)
	}
	for _, n := range []string{"hang", "garbage", "fails"} {
		if g, ok := got[n]; !ok || g.In.Known || g.Out.Known || g.Time.IsZero() {
			t.Errorf("%s = %+v (present %v), want an unknown sample", n, g, ok)
		}
	}
	if g := got["older"]; !g.HaveUptime || g.Uptime != 500 {
		t.Errorf("older = %+v, want its uptime 500", g)
	}
}

// The temperature preset against net-snmp answering ENTITY-SENSOR-MIB through a pass
// script (testdata/entity-sensors.sh): two celsius sensors, 42.5 (precision 1) and 38
// (milli), and a fan in rpm that is not counted.
func TestSnmpdTemperature(t *testing.T) {
	script, err := filepath.Abs("testdata/entity-sensors.sh")
	if err != nil {
		t.Fatal(err)
	}
	s := startSnmpd(t, testCommunity, "pass .1.3.6.1.2.1.99 /bin/sh "+script)
	dev := snmpdDevice(s, "local", "2c")
	// net-snmp runs the script for every object of a walk: slow on a loaded machine.
	dev.SNMP.Timeout = 10 * time.Second
	dev.Targets = parseTargets(t, "[[device.target]]\nname = \"temp\"\npreset = \"temperature\"\n")
	p := New([]config.Device{dev}, Options{Logger: testLogger(t)})
	defer p.Close()
	res := p.Poll(context.Background())[0]
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Targets) != 1 {
		t.Fatalf("targets %+v", res.Targets)
	}
	if got := res.Targets[0]; math.Abs(got.In.Float-42.5) > 1e-9 || math.Abs(got.Out.Float-40.25) > 1e-9 {
		t.Errorf("temperature = in %v, out %v, want the hottest 42.5 and the average 40.25", got.In, got.Out)
	}
}

// Values of every SNMP type a target meets: counters (Counter32 marks the sample 32
// bits wide), gauges, negative integers, strings that hold a number; and a string that
// does not is unknown.
func TestTargetValueTypes(t *testing.T) {
	a, _ := agentWith(1, false)
	a.set("1.3.6.1.4.1.9.1", gosnmp.Counter32, uint(4000000000))
	a.set("1.3.6.1.4.1.9.2", gosnmp.Gauge32, uint(7))
	a.set("1.3.6.1.4.1.9.3", gosnmp.Integer, -12)
	a.set("1.3.6.1.4.1.9.4", gosnmp.OctetString, []byte("0.15"))
	a.set("1.3.6.1.4.1.9.5", gosnmp.OctetString, []byte("n/a"))
	a.set("1.3.6.1.4.1.9.6", gosnmp.Counter64, uint64(1)<<60)
	d := dev("r1", "2c", 0, "eth1")
	d.Targets = parseTargets(t, `
[[device.target]]
name = "c32"
oids = ["1.3.6.1.4.1.9.1", "1.3.6.1.4.1.9.2"]
[[device.target]]
name = "neg"
oids = ["1.3.6.1.4.1.9.3", "1.3.6.1.4.1.9.4"]
kind = "gauge"
[[device.target]]
name = "text"
oids = ["1.3.6.1.4.1.9.5", "1.3.6.1.4.1.9.6"]
`)
	f := newFixture([]config.Device{d}, map[string]*fakeAgent{"r1": a})
	r := onlyResult(t, f.p.Poll(context.Background()))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got := map[string]TargetSample{}
	for _, ts := range r.Targets {
		got[ts.Target] = ts
	}
	if c := got["c32"]; c.In != Uint(4000000000) || c.Out != Uint(7) || c.Bits != 32 {
		t.Errorf("c32 = %+v, want 4000000000 and 7, 32 bits", c)
	}
	if n := got["neg"]; n.In.Float != -12 || n.In.Exact || n.Out.Float != 0.15 {
		t.Errorf("neg = %+v, want -12 and 0.15", n)
	}
	if x := got["text"]; x.In.Known || x.Out != Uint(1<<60) || x.Bits != 64 {
		t.Errorf("text = %+v, want unknown and 2^60 exactly", x)
	}
}

// A target the agent fails on after the counters were read costs the targets' samples
// of that cycle, not the interfaces'.
func TestTargetFailureKeepsInterfaces(t *testing.T) {
	a, _ := agentWith(2, false)
	a.set("1.3.6.1.4.1.9.1", gosnmp.Gauge32, uint(7))
	d := dev("r1", "2c", 0, "eth1", "eth2")
	d.Targets = parseTargets(t, "[[device.target]]\nname = \"g\"\noids = [\"1.3.6.1.4.1.9.1\"]\nkind = \"gauge\"\n")
	f := newFixture([]config.Device{d}, map[string]*fakeAgent{"r1": a})
	if r := onlyResult(t, f.p.Poll(context.Background())); r.Err != nil || len(r.Targets) != 1 {
		t.Fatalf("first cycle: %v, targets %+v", r.Err, r.Targets)
	}
	gets := 0
	a.mu.Lock()
	a.onGet = func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if gets++; gets == 2 { // the counters' GET, then the targets'
			a.reqErr = errors.New("request timeout")
		}
	}
	a.mu.Unlock()
	r := onlyResult(t, f.p.Poll(context.Background()))
	if r.Err != nil || len(r.Samples) != 2 || len(r.Targets) != 0 {
		t.Errorf("cycle failing on the targets: err %v, %d samples, targets %+v; want the samples and no targets", r.Err, len(r.Samples), r.Targets)
	}
}
