package poller

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/snmp"
	"github.com/mrtgo/mrtgo/internal/syncbuf"
	"github.com/mrtgo/mrtgo/internal/testsnmpd"
)

const testCommunity = "mrtgo-ro-7d1f"

// tlog sends the poller's log lines to the test log.
type tlog struct{ tb testing.TB }

func (w tlog) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlog{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func snmpdDevice(s *testSnmpd, name, version string, ifs ...string) config.Device {
	return config.Device{
		Name: name, Host: s.Host,
		SNMP: config.SNMP{Version: version, Community: s.Community, Port: s.Port,
			Timeout: time.Second, Retries: 1, MaxOIDs: 60},
		Interfaces: ifs,
	}
}

// loOctets reads the loopback byte counters from /proc/net/dev, where snmpd reads them.
func loOctets(t *testing.T) (rx, tx uint64) {
	t.Helper()
	f, err := os.Open("/proc/net/dev")
	if err != nil {
		t.Fatalf("read loopback counters: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) != "lo" {
			continue
		}
		fields := strings.Fields(rest)
		rx, err1 := strconv.ParseUint(fields[0], 10, 64)
		tx, err2 := strconv.ParseUint(fields[8], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("parse /proc/net/dev lo line %q", sc.Text())
		}
		return rx, tx
	}
	t.Fatal("no lo in /proc/net/dev")
	return 0, 0
}

// sendLoopback pushes n bytes through a TCP connection on 127.0.0.1 and returns once
// the receiver has read them all.
func sendLoopback(t *testing.T, n int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		m, _ := io.Copy(io.Discard, c)
		got <- m
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	buf := make([]byte, 64<<10)
	for sent := 0; sent < n; {
		k, err := c.Write(buf[:min(len(buf), n-sent)])
		if err != nil {
			t.Fatalf("write: %v", err)
		}
		sent += k
	}
	c.Close()
	if m := <-got; m != int64(n) {
		t.Fatalf("receiver read %d bytes, want %d", m, n)
	}
}

func findSample(r Result, name string) (Sample, bool) {
	i := slices.IndexFunc(r.Samples, func(s Sample) bool { return s.Interface == name })
	if i < 0 {
		return Sample{}, false
	}
	return r.Samples[i], true
}

// The traffic sent over loopback shows in the counters with every SNMP version: 64-bit
// with v2c and v3 (authPriv), 32-bit with v1.
func TestSnmpdLoopbackRate(t *testing.T) {
	// Before the agent exists: a floor for anything it reports (it caches counters).
	rx0, tx0 := loOctets(t)
	s := startSnmpd(t, testCommunity, v3Conf())
	v3 := v3Users[1].device(s, "local")
	v3.Interfaces = []string{"lo", "no-such-if"}
	for _, tt := range []struct {
		name string
		dev  config.Device
		bits int
	}{
		{"v2c", snmpdDevice(s, "local", "2c", "lo", "no-such-if"), 64},
		{"v1", snmpdDevice(s, "local", "1", "lo", "no-such-if"), 32},
		{"v3", v3, 64},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each waits seconds for snmpd to refresh its counters
			loopbackRate(t, tt.dev, tt.bits, rx0, tx0)
		})
	}
}

func loopbackRate(t *testing.T, dev config.Device, bits int, rx0, tx0 uint64) {
	p := New([]config.Device{dev}, Options{Logger: testLogger(t)})
	defer p.Close()
	ctx := context.Background()

	r1 := onlyResult(t, p.Poll(ctx))
	if r1.Err != nil {
		t.Fatalf("first poll: %v", r1.Err)
	}
	if !slices.Equal(r1.Missing, []string{"no-such-if"}) {
		t.Errorf("Missing = %v, want [no-such-if]", r1.Missing)
	}
	a, ok := findSample(r1, "lo")
	if !ok {
		t.Fatalf("no sample for lo: %+v", r1)
	}
	if a.Bits != bits || a.Index < 1 || a.Speed == 0 || a.Descr != "lo" || a.Discontinuity {
		t.Errorf("lo sample %+v: want %d bits, an ifIndex, a speed, ifDescr lo, no discontinuity", a, bits)
	}
	delta := func(x, y uint64) uint64 {
		if bits == 32 {
			return uint64(uint32(y) - uint32(x)) // at most one wrap in a few seconds
		}
		return y - x
	}

	const n = 4 << 20
	sendLoopback(t, n)

	// snmpd refreshes its interface table every few seconds: ask until the traffic shows,
	// as a second cycle of a daemon would see it.
	var b Sample
	for attempt := 0; ; attempt++ {
		time.Sleep(500 * time.Millisecond)
		r2 := onlyResult(t, p.Poll(ctx))
		if r2.Err != nil {
			t.Fatalf("poll %d: %v", attempt+2, r2.Err)
		}
		if b, ok = findSample(r2, "lo"); !ok {
			t.Fatalf("poll %d: no sample for lo", attempt+2)
		}
		if delta(a.In, b.In) >= n || attempt == 30 {
			break
		}
	}
	rx1, tx1 := loOctets(t)
	dIn, dOut := delta(a.In, b.In), delta(a.Out, b.Out)
	if dIn < n || dOut < n {
		t.Fatalf("counter deltas in %d out %d, want both ≥ %d bytes sent over loopback", dIn, dOut, n)
	}
	if dIn > rx1-rx0 || dOut > tx1-tx0 {
		t.Errorf("counter deltas in %d out %d exceed what the kernel counted meanwhile (%d, %d)", dIn, dOut, rx1-rx0, tx1-tx0)
	}
	if b.Discontinuity || b.Index != a.Index {
		t.Errorf("second sample %+v: want same index %d, no discontinuity", b, a.Index)
	}
	dt := b.Time.Sub(a.Time).Seconds()
	if dt <= 0 {
		t.Fatalf("sample times %v then %v: want increasing", a.Time, b.Time)
	}
	rate := float64(dIn) * 8 / dt
	t.Logf("lo: +%d in, +%d out octets over %.2fs = %.0f bit/s in", dIn, dOut, dt, rate)
}

func TestSnmpdV1Uses32BitCounters(t *testing.T) {
	s := startSnmpd(t, testCommunity, "")
	p := New([]config.Device{snmpdDevice(s, "local-v1", "1", "lo")}, Options{Logger: testLogger(t)})
	for cycle := 1; cycle <= 2; cycle++ {
		r := onlyResult(t, p.Poll(context.Background()))
		if r.Err != nil {
			t.Fatalf("cycle %d: %v", cycle, r.Err)
		}
		lo, ok := findSample(r, "lo")
		if !ok {
			t.Fatalf("cycle %d: no sample for lo: %+v", cycle, r)
		}
		if lo.Bits != 32 || lo.In == 0 || lo.Out == 0 || lo.Speed == 0 {
			t.Errorf("cycle %d: lo = %+v, want 32-bit non-zero counters and a speed", cycle, lo)
		}
	}
}

func TestSnmpdAllInterfacesUp(t *testing.T) {
	s := startSnmpd(t, testCommunity, "")
	p := New([]config.Device{snmpdDevice(s, "local", "2c", "*")}, Options{Logger: testLogger(t)})
	r := onlyResult(t, p.Poll(context.Background()))
	if r.Err != nil {
		t.Fatalf("poll: %v", r.Err)
	}
	if _, ok := findSample(r, "lo"); !ok {
		t.Errorf("[\"*\"] gave %d samples without lo", len(r.Samples))
	}
}

func TestSnmpdUnreachableDeviceDoesNotStopOthers(t *testing.T) {
	s := startSnmpd(t, testCommunity, "")
	deadPort, err := testsnmpd.FreeUDPPort() // nobody listens there
	if err != nil {
		t.Fatal(err)
	}
	dead := snmpdDevice(s, "dead", "2c", "lo")
	dead.SNMP.Port = deadPort
	dead.SNMP.Timeout = 200 * time.Millisecond
	dead.SNMP.Retries = 0
	wrong := snmpdDevice(s, "wrong-community", "2c", "lo") // snmpd drops it: a timeout
	wrong.SNMP.Community = "not-" + testCommunity
	wrong.SNMP.Timeout = 200 * time.Millisecond
	wrong.SNMP.Retries = 1
	var logBuf syncbuf.Buffer
	p := New([]config.Device{dead, snmpdDevice(s, "alive", "2c", "lo"), wrong},
		Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	rs := p.Poll(context.Background())
	if len(rs) != 3 {
		t.Fatalf("got %d results, want 3", len(rs))
	}
	for _, r := range []Result{rs[0], rs[2]} {
		if r.Err == nil {
			t.Errorf("%s: Err = nil, want an error", r.Device)
		} else if !strings.Contains(r.Err.Error(), r.Device) {
			t.Errorf("%s: Err %q does not name the device", r.Device, r.Err)
		}
	}
	// wrong-community: its first PDU is sent twice (retries = 1) and never answered.
	if rs[2].Requests != 1 || rs[2].Retries != 1 {
		t.Errorf("wrong-community: Requests %d Retries %d, want 1 and 1", rs[2].Requests, rs[2].Retries)
	}
	if rs[1].Err != nil || len(rs[1].Samples) != 1 || rs[1].Retries != 0 {
		t.Errorf("alive: Err %v, %d samples, %d retries; want nil, 1, 0", rs[1].Err, len(rs[1].Samples), rs[1].Retries)
	}
	t.Logf("errors: %v; %v", rs[0].Err, rs[2].Err)
	logs := logBuf.String()
	for _, name := range []string{"dead", "wrong-community"} {
		if !strings.Contains(logs, "device="+name) {
			t.Errorf("log does not mention device %s:\n%s", name, logs)
		}
	}
	if strings.Contains(logs, testCommunity) {
		t.Errorf("log shows the community:\n%s", logs)
	}
}

func BenchmarkPollSnmpd(b *testing.B) {
	s := startSnmpd(b, testCommunity, "")
	// Every interface the agent has (lo and whatever else this host shows), by name.
	names, err := snmpdIfNames(s)
	if err != nil {
		b.Fatal(err)
	}
	p := New([]config.Device{snmpdDevice(s, "local", "2c", names...)}, Options{})
	ctx := context.Background()
	if r := onlyResult(b, p.Poll(ctx)); r.Err != nil || len(r.Samples) != len(names) {
		b.Fatalf("first poll: Err %v, %d samples, want %d", r.Err, len(r.Samples), len(names))
	}
	requests := 0
	b.ResetTimer()
	for b.Loop() {
		r := p.Poll(ctx)[0]
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		requests += r.Requests
	}
	b.ReportMetric(float64(len(names)), "interfaces")
	b.ReportMetric(float64(requests)/float64(b.N), "PDUs/op")
}

// snmpdIfNames lists the agent's ifName values with one walk.
func snmpdIfNames(s *testSnmpd) ([]string, error) {
	d := snmpdDevice(s, "names", "2c", "*")
	c, err := snmp.Dial(context.Background(), d.Host, d.SNMP, nil)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(); err != nil {
		return nil, err
	}
	defer c.Close()
	ss := &snmp.Session{Client: c}
	t, err := ss.Walk([]string{oidIfName})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, v := range t[0] {
		names = append(names, v.Text())
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("agent has no ifName")
	}
	slices.Sort(names)
	return names, nil
}

func BenchmarkPollFake(b *testing.B) {
	for _, bc := range []struct{ devices, ifs int }{{1, 1000}, {100, 100}} {
		b.Run(fmt.Sprintf("devices=%d/interfaces=%d", bc.devices, bc.devices*bc.ifs), func(b *testing.B) {
			agents := map[string]*fakeAgent{}
			var devices []config.Device
			for i := range bc.devices {
				a, names := agentWith(bc.ifs, false)
				name := fmt.Sprintf("r%d", i)
				a.quiet = true
				agents[name] = a
				devices = append(devices, dev(name, "2c", 0, names...))
			}
			p := newPoller(devices, Options{}, (&fakeNet{agents: agents}).dial)
			ctx := context.Background()
			p.Poll(ctx)
			b.ResetTimer()
			for b.Loop() {
				for _, r := range p.Poll(ctx) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
			}
			b.ReportMetric(float64(bc.devices*bc.ifs), "interfaces")
		})
	}
}
