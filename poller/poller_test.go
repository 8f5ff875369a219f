package poller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/snmp"
)

var t0 = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

// fixture is one fake network and a Poller over it.
type fixture struct {
	net   *fakeNet
	clock *fakeClock
	p     *Poller
}

func newFixture(devices []config.Device, agents map[string]*fakeAgent) *fixture {
	f := &fixture{
		net:   &fakeNet{agents: agents},
		clock: &fakeClock{t: t0, tick: time.Millisecond},
	}
	f.p = newPoller(devices, Options{Now: f.clock.now}, f.net.dial)
	return f
}

func dev(name, version string, maxOIDs int, ifs ...string) config.Device {
	return config.Device{
		Name: name, Host: name,
		SNMP:       config.SNMP{Version: version, Community: "secret-community", Port: 161, Timeout: time.Second, Retries: 1, MaxOIDs: maxOIDs},
		Interfaces: ifs,
	}
}

// agentWith returns a v2c (or v1) agent with n interfaces eth1..ethN at indexes 1..n,
// counters in = 1000×i, out = 2000×i, 1 Gbit/s.
func agentWith(n int, v1 bool) (*fakeAgent, []string) {
	a := newFakeAgent()
	a.v1 = v1
	a.uptime(1000)
	a.set(oidIfTableLastChange, gosnmp.TimeTicks, uint32(0))
	var names []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("eth%d", i)
		names = append(names, name)
		a.addIf(fakeIf{index: i, name: name, in: uint64(1000 * i), out: uint64(2000 * i),
			highSpeed: 1000, speed: 1_000_000_000, descr: "Ethernet " + name, alia: "uplink " + name})
	}
	return a, names
}

func onlyResult(t testing.TB, rs []Result) Result {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("got %d results, want 1", len(rs))
	}
	return rs[0]
}

func TestPollReadsCounters(t *testing.T) {
	a, _ := agentWith(3, false)
	f := newFixture([]config.Device{dev("r1", "2c", 0, "eth2", "eth3")}, map[string]*fakeAgent{"r1": a})
	r := onlyResult(t, f.p.Poll(context.Background()))
	if r.Err != nil {
		t.Fatalf("Poll: %v", r.Err)
	}
	want := []Sample{
		{Device: "r1", Interface: "eth2", Index: 2, In: 2000, Out: 4000, Bits: 64, Speed: 1_000_000_000, Descr: "Ethernet eth2", Alias: "uplink eth2", Admin: StatusUp, Oper: StatusUp},
		{Device: "r1", Interface: "eth3", Index: 3, In: 3000, Out: 6000, Bits: 64, Speed: 1_000_000_000, Descr: "Ethernet eth3", Alias: "uplink eth3", Admin: StatusUp, Oper: StatusUp},
	}
	if len(r.Samples) != len(want) {
		t.Fatalf("got %d samples, want %d: %+v", len(r.Samples), len(want), r.Samples)
	}
	for i := range want {
		got := r.Samples[i]
		if got.Time.IsZero() || got.Time.Before(t0) {
			t.Errorf("sample %d: Time = %v, want a reading of the injected clock", i, got.Time)
		}
		got.Time = time.Time{}
		if got != want[i] {
			t.Errorf("sample %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	if r.Requests == 0 || r.Duration <= 0 {
		t.Errorf("Requests = %d, Duration = %v; want both positive", r.Requests, r.Duration)
	}
	if a.dials != 1 || a.closes != 1 {
		t.Errorf("dials = %d, closes = %d; want one client per device per cycle, closed", a.dials, a.closes)
	}
}

func TestPollPacksOIDsPerPDU(t *testing.T) {
	tests := []struct {
		name    string
		maxOIDs int
		ifs     int
		want    []int // OIDs per GET in a cycle after the first: 2 scalars + 4 per interface (octets, status)
	}{
		// Every other row of the agent's table is polled: no two are consecutive rows,
		// so all are read with GET.
		{"default 60", 0, 100, []int{60, 60, 60, 60, 60, 60, 42}},
		{"configured 60", 60, 100, []int{60, 60, 60, 60, 60, 60, 42}},
		{"configured 25", 25, 30, []int{25, 25, 25, 25, 22}},
		{"fits one PDU", 60, 14, []int{58}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, all := agentWith(2*tt.ifs, false)
			var names []string
			for i := 0; i < len(all); i += 2 {
				names = append(names, all[i])
			}
			f := newFixture([]config.Device{dev("r1", "2c", tt.maxOIDs, names...)}, map[string]*fakeAgent{"r1": a})
			if r := onlyResult(t, f.p.Poll(context.Background())); r.Err != nil {
				t.Fatalf("first Poll: %v", r.Err)
			}
			mark := a.getCount()
			r := onlyResult(t, f.p.Poll(context.Background()))
			if r.Err != nil {
				t.Fatalf("second Poll: %v", r.Err)
			}
			if got := a.getSizes(mark); !slices.Equal(got, tt.want) {
				t.Errorf("OIDs per GET = %v, want %v", got, tt.want)
			}
			if r.Requests != len(tt.want) {
				t.Errorf("Requests = %d, want %d", r.Requests, len(tt.want))
			}
			if len(r.Samples) != tt.ifs {
				t.Fatalf("got %d samples, want %d", len(r.Samples), tt.ifs)
			}
			for i, s := range r.Samples {
				k := 2*i + 1
				if s.Index != k || s.In != uint64(1000*k) || s.Out != uint64(2000*k) {
					t.Errorf("sample %d = %s idx %d in %d out %d, want idx %d in %d out %d",
						i, s.Interface, s.Index, s.In, s.Out, k, 1000*k, 2000*k)
				}
			}
		})
	}
}

func TestPollHalvesOnTooBig(t *testing.T) {
	a, all := agentWith(200, false)
	var names []string // every other row: read with GET
	for i := 0; i < len(all); i += 2 {
		names = append(names, all[i])
	}
	a.maxVars = 20 // GETs above 20 OIDs and GETBULK answers above 20 varbinds are tooBig
	f := newFixture([]config.Device{dev("r1", "2c", 60, names...)}, map[string]*fakeAgent{"r1": a})
	for cycle := 1; cycle <= 2; cycle++ {
		mark := a.getCount()
		r := onlyResult(t, f.p.Poll(context.Background()))
		if r.Err != nil {
			t.Fatalf("cycle %d: %v", cycle, r.Err)
		}
		if len(r.Samples) != 100 {
			t.Fatalf("cycle %d: got %d samples, want 100", cycle, len(r.Samples))
		}
		for i, s := range r.Samples {
			if s.In != uint64(1000*(2*i+1)) {
				t.Fatalf("cycle %d: sample %d In = %d, want %d", cycle, i, s.In, 1000*(2*i+1))
			}
		}
		if cycle == 2 {
			// 60 → 30 → 15 was learnt in cycle 1: 402 OIDs in 26 PDUs of 15 and one of 12.
			want := append(slices.Repeat([]int{15}, 26), 12)
			if got := a.getSizes(mark); !slices.Equal(got, want) {
				t.Errorf("cycle 2 OIDs per GET = %v, want %v", got, want)
			}
		}
	}
	for _, reps := range a.bulkRepsAsked {
		if reps == 0 {
			t.Errorf("GETBULK with max-repetitions 0")
		}
	}
}

func TestPollTooBigForOneOID(t *testing.T) {
	// An agent refusing even one OID must give an error, not loop.
	a := newFakeAgent()
	a.uptime(1)
	a.pduErr = gosnmp.TooBig
	f := newFixture([]config.Device{dev("r1", "2c", 60, "eth1", "eth2")}, map[string]*fakeAgent{"r1": a})
	d := f.p.devices[0]
	d.ifaces = []iface{{name: "eth1", index: 1}, {name: "eth2", index: 2}}
	d.resolved = true // go straight to the counters
	r := onlyResult(t, f.p.Poll(context.Background()))
	if !errors.Is(r.Err, snmp.ErrTooBig) {
		t.Errorf("Err = %v, want snmp.ErrTooBig", r.Err)
	}
	// sysUpTime, ifTableLastChange, ifNumber and five objects per interface (octets,
	// ifCounterDiscontinuityTime, status): 13 → 6 → 3 → 1.
	if got, want := a.getSizes(0), []int{13, 6, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("OIDs per GET = %v, want %v", got, want)
	}
}

func TestPollFallsBackTo32Bit(t *testing.T) {
	a := newFakeAgent()
	a.uptime(500)
	a.addIf(fakeIf{index: 1, name: "ge1", in: 10, out: 20, highSpeed: 1000})
	a.addIf(fakeIf{index: 2, name: "old", in: 30, out: 40, no64: true, speed: 10_000_000})
	a.addIf(fakeIf{index: 3, name: "ge3", in: 50, out: 60, highSpeed: 10000})
	a.set(oidIfTableLastChange, gosnmp.TimeTicks, uint32(0))
	f := newFixture([]config.Device{dev("r1", "2c", 0, "ge1", "old", "ge3")}, map[string]*fakeAgent{"r1": a})
	for cycle := 1; cycle <= 2; cycle++ {
		mark := a.getCount()
		r := onlyResult(t, f.p.Poll(context.Background()))
		if r.Err != nil {
			t.Fatalf("cycle %d: %v", cycle, r.Err)
		}
		type got struct {
			name    string
			in, out uint64
			bits    int
			speed   uint64
		}
		var gots []got
		for _, s := range r.Samples {
			gots = append(gots, got{s.Interface, s.In, s.Out, s.Bits, s.Speed})
		}
		want := []got{{"ge1", 10, 20, 64, 1e9}, {"old", 30, 40, 32, 10e6}, {"ge3", 50, 60, 64, 10e9}}
		if !slices.Equal(gots, want) {
			t.Errorf("cycle %d samples = %v, want %v", cycle, gots, want)
		}
		if cycle == 2 {
			// The fallback is remembered: no more asking for ifHCInOctets.2.
			a.mu.Lock()
			for _, g := range a.gets[mark:] {
				if slices.Contains(g, instance(oidIfHCInOctets, 2)) {
					t.Errorf("cycle 2 asked for %s again", instance(oidIfHCInOctets, 2))
				}
			}
			a.mu.Unlock()
			if r.Requests != 1 {
				t.Errorf("cycle 2 Requests = %d, want 1", r.Requests)
			}
		}
	}
}

func TestPollV1(t *testing.T) {
	a, _ := agentWith(3, true)
	a.del(instance(oidIfHighSpeed, 2)) // speed then comes from ifSpeed
	a.set(instance(oidIfSpeed, 2), gosnmp.Gauge32, uint(100_000_000))
	f := newFixture([]config.Device{dev("r1", "1", 0, "eth1", "eth2", "nope")}, map[string]*fakeAgent{"r1": a})
	r := onlyResult(t, f.p.Poll(context.Background()))
	if r.Err != nil {
		t.Fatalf("Poll: %v", r.Err)
	}
	if a.bulks != 0 {
		t.Errorf("sent %d GETBULKs to an SNMPv1 agent", a.bulks)
	}
	if !slices.Equal(r.Missing, []string{"nope"}) {
		t.Errorf("Missing = %v, want [nope]", r.Missing)
	}
	if len(r.Samples) != 2 {
		t.Fatalf("got %d samples, want 2", len(r.Samples))
	}
	for i, s := range r.Samples {
		if s.Bits != 32 || s.In != uint64(1000*(i+1)) || s.Out != uint64(2000*(i+1)) {
			t.Errorf("sample %d = bits %d in %d out %d, want 32, %d, %d", i, s.Bits, s.In, s.Out, 1000*(i+1), 2000*(i+1))
		}
	}
	if got := r.Samples[1].Speed; got != 100_000_000 {
		t.Errorf("eth2 Speed = %d, want 100000000 from ifSpeed", got)
	}
}

func TestPollDiscontinuity(t *testing.T) {
	a, _ := agentWith(2, false)
	f := newFixture([]config.Device{dev("r1", "2c", 0, "eth1", "eth2")}, map[string]*fakeAgent{"r1": a})
	steps := []struct {
		name     string
		change   func()
		wantDisc []bool
		wantIdx  []int
		wantIn   []uint64
	}{
		{"first cycle", func() {}, []bool{false, false}, []int{1, 2}, []uint64{1000, 2000}},
		{"uptime goes on", func() {
			a.uptime(31000)
			a.set(instance(oidIfHCInOctets, 1), gosnmp.Counter64, uint64(5000))
		}, []bool{false, false}, []int{1, 2}, []uint64{5000, 2000}},
		{"reboot renumbers", func() {
			a.uptime(300)
			a.delIf(1)
			a.delIf(2)
			a.addIf(fakeIf{index: 7, name: "eth1", in: 11, out: 12})
			a.addIf(fakeIf{index: 8, name: "eth2", in: 21, out: 22})
		}, []bool{true, true}, []int{7, 8}, []uint64{11, 21}},
		{"after the reboot", func() { a.uptime(30300) }, []bool{false, false}, []int{7, 8}, []uint64{11, 21}},
		{"counters of eth2 cleared", func() {
			a.uptime(60300)
			a.set(instance(oidIfHCOutOctets, 8), gosnmp.Counter64, uint64(3))
		}, []bool{false, true}, []int{7, 8}, []uint64{11, 21}},
		{"counters go on", func() { a.uptime(90300) }, []bool{false, false}, []int{7, 8}, []uint64{11, 21}},
		{"eth2 renumbered without a reboot", func() {
			a.uptime(120300)
			a.set(oidIfTableLastChange, gosnmp.TimeTicks, uint32(120000))
			a.delIf(8)
			a.addIf(fakeIf{index: 9, name: "eth2", in: 31, out: 32})
		}, []bool{false, true}, []int{7, 9}, []uint64{11, 31}},
		{"same numbering", func() { a.uptime(150300) }, []bool{false, false}, []int{7, 9}, []uint64{11, 31}},
	}
	for _, st := range steps {
		st.change()
		r := onlyResult(t, f.p.Poll(context.Background()))
		if r.Err != nil {
			t.Fatalf("%s: %v", st.name, r.Err)
		}
		var idx []int
		var in []uint64
		var disc []bool
		for _, s := range r.Samples {
			disc = append(disc, s.Discontinuity)
			idx = append(idx, s.Index)
			in = append(in, s.In)
		}
		if !slices.Equal(disc, st.wantDisc) {
			t.Errorf("%s: Discontinuity %v, want %v", st.name, disc, st.wantDisc)
		}
		if !slices.Equal(idx, st.wantIdx) || !slices.Equal(in, st.wantIn) {
			t.Errorf("%s: indexes %v in %v, want %v %v", st.name, idx, in, st.wantIdx, st.wantIn)
		}
		if len(r.Missing) != 0 {
			t.Errorf("%s: Missing = %v, want none", st.name, r.Missing)
		}
	}
}

func TestPollMissingAndVanished(t *testing.T) {
	a, _ := agentWith(3, false)
	f := newFixture([]config.Device{dev("r1", "2c", 0, "eth1", "ghost", "eth3")}, map[string]*fakeAgent{"r1": a})
	r := onlyResult(t, f.p.Poll(context.Background()))
	if r.Err != nil || !slices.Equal(r.Missing, []string{"ghost"}) || len(r.Samples) != 2 {
		t.Fatalf("cycle 1: Err %v Missing %v %d samples; want nil [ghost] 2", r.Err, r.Missing, len(r.Samples))
	}
	a.delIf(3) // hot-removed line card
	r = onlyResult(t, f.p.Poll(context.Background()))
	if r.Err != nil || !slices.Equal(r.Missing, []string{"ghost", "eth3"}) || len(r.Samples) != 1 {
		t.Fatalf("cycle 2: Err %v Missing %v %d samples; want nil [ghost eth3] 1", r.Err, r.Missing, len(r.Samples))
	}
	a.addIf(fakeIf{index: 9, name: "eth3", in: 99, out: 98})
	a.addIf(fakeIf{index: 10, name: "ghost", in: 77, out: 76})
	r = onlyResult(t, f.p.Poll(context.Background()))
	if r.Err != nil || len(r.Missing) != 0 {
		t.Fatalf("cycle 3: Err %v Missing %v; want nil and none", r.Err, r.Missing)
	}
	var got []string
	for _, s := range r.Samples {
		got = append(got, fmt.Sprintf("%s@%d=%d/%v", s.Interface, s.Index, s.In, s.Discontinuity))
	}
	// eth3 came back on another ifIndex: its counters are not the old ones.
	if want := []string{"eth1@1=1000/false", "ghost@10=77/false", "eth3@9=99/true"}; !slices.Equal(got, want) {
		t.Errorf("cycle 3 samples %v, want %v", got, want)
	}
}

func TestPollAllInterfacesUp(t *testing.T) {
	a := newFakeAgent()
	a.uptime(1)
	a.addIf(fakeIf{index: 1, name: "lo", in: 1, out: 1})
	a.addIf(fakeIf{index: 2, name: "down", in: 2, out: 2, down: true})
	a.addIf(fakeIf{index: 3, name: "shut", in: 3, out: 3, down: true, adminDown: true})
	a.addIf(fakeIf{index: 4, name: "eth0", in: 4, out: 4})
	a.addIf(fakeIf{index: 5, name: "admin-down", in: 5, out: 5, adminDown: true}) // oper up(1) as some agents report
	f := newFixture([]config.Device{dev("r1", "2c", 0, "*")}, map[string]*fakeAgent{"r1": a})
	r := onlyResult(t, f.p.Poll(context.Background()))
	if r.Err != nil {
		t.Fatalf("Poll: %v", r.Err)
	}
	var got []string
	for _, s := range r.Samples {
		got = append(got, s.Interface)
	}
	if want := []string{"lo", "eth0"}; !slices.Equal(got, want) {
		t.Errorf("interfaces = %v, want %v", got, want)
	}
}

func TestPollDeviceErrors(t *testing.T) {
	good, _ := agentWith(2, false)
	dead, _ := agentWith(2, false)
	dead.reqErr = errors.New("request timeout (after 1 retries)")
	genErr, _ := agentWith(2, false)
	genErr.pduErr = gosnmp.GenErr
	agents := map[string]*fakeAgent{"good": good, "dead": dead, "generr": genErr}
	devices := []config.Device{
		dev("dead", "2c", 0, "eth1"),
		dev("good", "2c", 0, "eth1", "eth2"),
		dev("nohost", "2c", 0, "eth1"), // dial fails
		dev("generr", "2c", 0, "eth1"),
	}
	f := newFixture(devices, agents)
	rs := f.p.Poll(context.Background())
	if len(rs) != len(devices) {
		t.Fatalf("got %d results, want %d", len(rs), len(devices))
	}
	for i, r := range rs {
		name := devices[i].Name
		if r.Device != name {
			t.Errorf("result %d is for %q, want %q (configuration order)", i, r.Device, name)
		}
		if name == "good" {
			if r.Err != nil || len(r.Samples) != 2 {
				t.Errorf("good: Err %v, %d samples; want nil, 2", r.Err, len(r.Samples))
			}
			continue
		}
		if r.Err == nil {
			t.Errorf("%s: Err = nil, want an error", name)
			continue
		}
		if !strings.Contains(r.Err.Error(), name) {
			t.Errorf("%s: Err %q does not name the device", name, r.Err)
		}
		if strings.Contains(r.Err.Error(), "secret-community") {
			t.Errorf("%s: Err %q shows the community", name, r.Err)
		}
		if len(r.Samples) != 0 {
			t.Errorf("%s: %d samples with an error", name, len(r.Samples))
		}
	}
}

func TestPollCancelled(t *testing.T) {
	a, _ := agentWith(1, false)
	f := newFixture([]config.Device{dev("r1", "2c", 0, "eth1")}, map[string]*fakeAgent{"r1": a})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := onlyResult(t, f.p.Poll(ctx))
	if !errors.Is(r.Err, context.Canceled) {
		t.Errorf("Err = %v, want context.Canceled", r.Err)
	}
	if r.Requests != 0 {
		t.Errorf("Requests = %d after cancel, want 0", r.Requests)
	}
}

func TestRunAlignsCyclesAndFinishesTheOneInFlight(t *testing.T) {
	const step = 20 * time.Millisecond
	a, _ := agentWith(1, false)
	p := newPoller([]config.Device{dev("r1", "2c", 0, "eth1")}, Options{}, (&fakeNet{agents: map[string]*fakeAgent{"r1": a}}).dial)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var cycles [][]Result
	// Cancel while the third cycle's GET is in flight: Run must still finish it and hand
	// it to the sink.
	gets := 0
	a.onGet = func() {
		gets++
		if gets == 4 { // cycle 1: resolve GET + counters GET; cycles 2, 3: one GET each
			cancel()
		}
	}
	err := p.Run(ctx, step, func(sctx context.Context, rs []Result) error {
		if sctx.Err() != nil {
			t.Errorf("sink context done: %v", sctx.Err())
		}
		cycles = append(cycles, rs)
		return nil
	})
	if err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
	if len(cycles) != 3 {
		t.Fatalf("sink called %d times, want 3", len(cycles))
	}
	var slots []time.Time
	for i, rs := range cycles {
		r := onlyResult(t, rs)
		if r.Err != nil || len(r.Samples) != 1 {
			t.Fatalf("cycle %d: Err %v, %d samples", i, r.Err, len(r.Samples))
		}
		slots = append(slots, r.Samples[0].Time.Truncate(step))
	}
	for i := 1; i < len(slots); i++ {
		if !slots[i].After(slots[i-1]) {
			t.Errorf("cycles %d and %d in the same step slot %v: not on step boundaries", i-1, i, slots[i])
		}
	}
}

func TestRunStops(t *testing.T) {
	a, _ := agentWith(1, false)
	p := newPoller([]config.Device{dev("r1", "2c", 0, "eth1")}, Options{}, (&fakeNet{agents: map[string]*fakeAgent{"r1": a}}).dial)
	sinkErr := errors.New("disk full")
	err := p.Run(context.Background(), 10*time.Millisecond, func(context.Context, []Result) error { return sinkErr })
	if !errors.Is(err, sinkErr) {
		t.Errorf("Run = %v, want the sink's error", err)
	}
	if err := p.Run(context.Background(), 0, func(context.Context, []Result) error { return nil }); err == nil {
		t.Errorf("Run with step 0 = nil, want an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	if err := p.Run(ctx, time.Hour, func(context.Context, []Result) error { called = true; return nil }); err != nil || called {
		t.Errorf("Run on a cancelled context = %v, sink called %v; want nil, false", err, called)
	}
}

func TestPollSpreadStaggersDevices(t *testing.T) {
	const n, spread = 4, 40 * time.Millisecond
	agents := map[string]*fakeAgent{}
	var devices []config.Device
	for i := range n {
		name := fmt.Sprintf("r%d", i)
		agents[name], _ = agentWith(1, false)
		devices = append(devices, dev(name, "2c", 0, "eth1"))
	}
	p := newPoller(devices, Options{}, (&fakeNet{agents: agents}).dial)
	before := time.Now()
	rs := p.poll(context.Background(), spread, 0)
	for i, r := range rs {
		if r.Err != nil || len(r.Samples) != 1 {
			t.Fatalf("%s: Err %v, %d samples", r.Device, r.Err, len(r.Samples))
		}
		earliest := before.Add(spread * time.Duration(i) / n)
		if got := r.Samples[0].Time; got.Before(earliest) {
			t.Errorf("%s polled at +%v, want not before +%v", r.Device, got.Sub(before), earliest.Sub(before))
		}
	}
}

func TestPollLastSuccess(t *testing.T) {
	a, _ := agentWith(1, false)
	f := newFixture([]config.Device{dev("r1", "2c", 0, "eth1")}, map[string]*fakeAgent{"r1": a})
	r1 := onlyResult(t, f.p.Poll(context.Background()))
	if r1.Err != nil || r1.LastSuccess.IsZero() {
		t.Fatalf("cycle 1: Err %v, LastSuccess %v; want nil and set", r1.Err, r1.LastSuccess)
	}
	a.mu.Lock()
	a.reqErr = errors.New("request timeout")
	a.mu.Unlock()
	r2 := onlyResult(t, f.p.Poll(context.Background()))
	if r2.Err == nil || !r2.LastSuccess.Equal(r1.LastSuccess) {
		t.Errorf("cycle 2: Err %v, LastSuccess %v; want an error and %v", r2.Err, r2.LastSuccess, r1.LastSuccess)
	}
	a.mu.Lock()
	a.reqErr = nil
	a.mu.Unlock()
	r3 := onlyResult(t, f.p.Poll(context.Background()))
	if r3.Err != nil || !r3.LastSuccess.After(r1.LastSuccess) {
		t.Errorf("cycle 3: Err %v, LastSuccess %v; want nil and after %v", r3.Err, r3.LastSuccess, r1.LastSuccess)
	}
}

func TestPollV1WithoutIfTableLastChange(t *testing.T) {
	a, _ := agentWith(2, true)
	a.del(oidIfTableLastChange) // v1 answers noSuchName for the whole PDU
	f := newFixture([]config.Device{dev("r1", "1", 0, "eth1", "eth2")}, map[string]*fakeAgent{"r1": a})
	for cycle := 1; cycle <= 3; cycle++ {
		mark := a.getCount()
		r := onlyResult(t, f.p.Poll(context.Background()))
		if r.Err != nil || len(r.Samples) != 2 {
			t.Fatalf("cycle %d: Err %v, %d samples; want nil, 2", cycle, r.Err, len(r.Samples))
		}
		if cycle > 1 {
			// Asked once, learnt absent: later cycles send one PDU of uptime + 4 counters
			// + 4 states.
			if got := a.getSizes(mark); !slices.Equal(got, []int{9}) {
				t.Errorf("cycle %d: OIDs per GET %v, want [9]", cycle, got)
			}
		}
	}
}

// A configured speed replaces the agent's; the agent's uptime is reported.
func TestPollSpeedOverrideAndUptime(t *testing.T) {
	a, _ := agentWith(2, false)
	d := dev("r1", "2c", 0, "eth1", "eth2")
	d.Speed = map[string]uint64{"eth2": 10_000_000_000}
	f := newFixture([]config.Device{d}, map[string]*fakeAgent{"r1": a})
	r := onlyResult(t, f.p.Poll(context.Background()))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if got := []uint64{r.Samples[0].Speed, r.Samples[1].Speed}; got[0] != 1e9 || got[1] != 10e9 {
		t.Errorf("speeds = %v, want the agent's 1e9 for eth1 and the configured 1e10 for eth2", got)
	}
	if r.Uptime != 10*time.Second {
		t.Errorf("Uptime = %v, want 10s (1000 ticks)", r.Uptime)
	}
}
