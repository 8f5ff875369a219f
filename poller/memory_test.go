package poller

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
)

// memoryScenario is a sequence of agent changes, each followed by one cycle.
type memoryStep struct {
	name   string
	change func(a *fakeAgent)
}

func memoryScenario() []memoryStep {
	return []memoryStep{
		{"first", func(a *fakeAgent) {}},
		{"counters go on", func(a *fakeAgent) {
			a.uptime(31000)
			a.set(instance(oidIfHCInOctets, 1), gosnmp.Counter64, uint64(5000))
		}},
		{"eth2 loses its 64-bit counters", func(a *fakeAgent) {
			a.uptime(61000)
			a.del(instance(oidIfHCInOctets, 2))
			a.del(instance(oidIfHCOutOctets, 2))
		}},
		{"32-bit eth2 goes on", func(a *fakeAgent) {
			a.uptime(91000)
			a.set(instance(oidIfInOctets, 2), gosnmp.Counter32, uint(9000))
		}},
		{"eth3 deleted and re-created: its dead twin stays under its name", func(a *fakeAgent) {
			a.uptime(121000)
			a.set(instance(oidIfOperStatus, 3), gosnmp.Integer, 2)
			a.set(instance(oidIfAdminStatus, 3), gosnmp.Integer, 2)
			a.addIf(fakeIf{index: 7, name: "eth3", in: 40, out: 50, highSpeed: 1000, speed: 1_000_000_000})
			a.set(oidIfNumber, gosnmp.Integer, 4)
		}},
		{"eth1 counters cleared", func(a *fakeAgent) {
			a.uptime(151000)
			a.set(instance(oidIfHCInOctets, 1), gosnmp.Counter64, uint64(10))
		}},
		{"the live eth3 counts on", func(a *fakeAgent) {
			a.uptime(181000)
			a.set(instance(oidIfHCInOctets, 7), gosnmp.Counter64, uint64(90_000))
		}},
		{"agent restarts: the dead twin is gone, eth3 renumbered", func(a *fakeAgent) {
			a.uptime(500)
			a.delIf(3)
			a.delIf(7)
			a.addIf(fakeIf{index: 3, name: "eth3", in: 5, out: 6, highSpeed: 1000, speed: 1_000_000_000})
			a.set(oidIfNumber, gosnmp.Integer, 3)
		}},
		{"after the restart", func(a *fakeAgent) { a.uptime(30500) }},
		{"eth1 packet counter reset, eth3's move on", func(a *fakeAgent) {
			a.uptime(60500)
			a.set(instance(packetColumnsHC[0], 1), gosnmp.Counter64, uint64(3))
			addGroups(a, 3, 70)
		}},
		{"eth2 loses its 64-bit packet counters", func(a *fakeAgent) {
			a.uptime(90500)
			for _, c := range packetColumnsHC {
				a.del(instance(c, 2))
			}
		}},
		{"errors on eth2", func(a *fakeAgent) {
			a.uptime(120500)
			a.set(instance(errorColumns[0], 2), gosnmp.Counter32, uint(90))
			a.set(instance(packetColumns32[0], 2), gosnmp.Counter32, uint(900))
		}},
		{"eth1 goes down", func(a *fakeAgent) {
			a.uptime(150500)
			a.set(instance(oidIfOperStatus, 1), gosnmp.Integer, StatusDown)
		}},
	}
}

func memoryAgent() *fakeAgent {
	a, _ := agentWith(3, false)
	a.set(oidIfNumber, gosnmp.Integer, 3)
	for i := 1; i <= 3; i++ {
		addGroups(a, i, 10*i)
	}
	return a
}

// addGroups gives interface i packet (64- and 32-bit) and error counters from base up.
func addGroups(a *fakeAgent, i, base int) {
	for k, c := range packetColumnsHC {
		a.set(instance(c, i), gosnmp.Counter64, uint64(base+k))
	}
	// ucast, ucast, nucast (multicast and broadcast), nucast, bcast, bcast.
	for k, v := range []int{base, base + 1, 2*base + 2 + 4, 2*base + 3 + 5, base + 4, base + 5} {
		a.set(instance(packetColumns32[k], i), gosnmp.Counter32, uint(v))
	}
	for k, c := range errorColumns {
		a.set(instance(c, i), gosnmp.Counter32, uint(k))
	}
}

// sampleLine is what the store is told of a sample, without its time.
func sampleLine(s Sample) string {
	line := fmt.Sprintf("%s@%d in=%d out=%d bits=%d speed=%d disc=%v admin=%d oper=%d",
		s.Interface, s.Index, s.In, s.Out, s.Bits, s.Speed, s.Discontinuity, s.Admin, s.Oper)
	for _, g := range []*Group{s.Packets, s.Errors} {
		if g != nil {
			line += fmt.Sprintf(" %v/%d/%d/%v", g.Values, g.Absent, g.Bits, g.Discontinuity)
		}
	}
	return line
}

// TestMemoryCronDecidesAsDaemon runs the same agent history through one long-lived
// Poller and through a new Poller per cycle that is given the previous cycle's memory,
// as "poll --once" from cron is: every sample, and every PDU sent, must be the same;
// with the packet and error groups too.
func TestMemoryCronDecidesAsDaemon(t *testing.T) {
	for _, counters := range []config.Counters{{}, {Packets: true, Errors: true}} {
		t.Run(fmt.Sprintf("%+v", counters), func(t *testing.T) { cronDecidesAsDaemon(t, counters) })
	}
}

func cronDecidesAsDaemon(t *testing.T, counters config.Counters) {
	cfg := []config.Device{dev("r1", "2c", 0, "eth1", "eth2", "eth3")}
	cfg[0].Counters = counters
	daemonAgent, cronAgent := memoryAgent(), memoryAgent()
	daemon := newFixture(cfg, map[string]*fakeAgent{"r1": daemonAgent})
	cronNet := &fakeNet{agents: map[string]*fakeAgent{"r1": cronAgent}}
	var state, mapping []byte
	walks := 0
	for _, st := range memoryScenario() {
		st.change(daemonAgent)
		st.change(cronAgent)
		want := onlyResult(t, daemon.p.Poll(context.Background()))

		cron := newPoller(cfg, Options{Now: daemon.clock.now}, cronNet.dial)
		if err := cron.Restore(func(string) ([]byte, []byte) { return state, mapping }); err != nil {
			t.Fatalf("%s: Restore: %v", st.name, err)
		}
		before := cronAgent.walkCount()
		got := onlyResult(t, cron.Poll(context.Background()))
		walked := cronAgent.walkCount() > before
		if walked {
			walks++
		}
		state = got.State
		if got.Mapping != nil {
			mapping = got.Mapping
		}
		if want.Err != nil || got.Err != nil {
			t.Fatalf("%s: daemon Err %v, cron Err %v", st.name, want.Err, got.Err)
		}
		var wl, gl []string
		for _, s := range want.Samples {
			wl = append(wl, sampleLine(s))
		}
		for _, s := range got.Samples {
			gl = append(gl, sampleLine(s))
		}
		if !slices.Equal(gl, wl) {
			t.Errorf("%s:\ncron   %v\ndaemon %v", st.name, gl, wl)
		}
		if got.Requests != want.Requests {
			t.Errorf("%s: cron sent %d PDUs, daemon %d", st.name, got.Requests, want.Requests)
		}
		if counters.Any() {
			checkGroupDecisions(t, st.name, want.Samples)
		}
		if st.name == "counters go on" && walked {
			t.Errorf("%s: cron walked the interface table with a valid mapping", st.name)
		}
	}
	// First cycle, the twin's appearance (ifNumber moved) and the restart.
	if walks != 3 {
		t.Errorf("cron walked in %d cycles, want 3", walks)
	}
}

// checkGroupDecisions holds the daemon's samples of the memory scenario with counters to
// the decisions each step calls for.
func checkGroupDecisions(t *testing.T, step string, ss []Sample) {
	t.Helper()
	by := map[string]Sample{}
	for _, s := range ss {
		by[s.Interface] = s
	}
	pk := func(name string, disc bool, bits int) {
		t.Helper()
		s := by[name]
		if s.Packets == nil || s.Packets.Discontinuity != disc || s.Packets.Bits != bits {
			t.Errorf("%s: %s packets %+v, want discontinuity %v, %d bits", step, name, s.Packets, disc, bits)
		}
	}
	switch step {
	case "counters go on":
		pk("eth1", false, 64)
		pk("eth2", false, 64)
	case "eth1 packet counter reset, eth3's move on":
		pk("eth1", true, 64)
		pk("eth2", false, 64) // its packets kept their 64-bit counters
		// Without packet counters while it was a twin, asked again after the restart.
		pk("eth3", false, 64)
		if by["eth1"].Discontinuity {
			t.Errorf("%s: eth1 octets marked discontinuous by its packets", step)
		}
	case "eth2 loses its 64-bit packet counters":
		pk("eth1", false, 64)
		pk("eth2", true, 32) // another width
	case "errors on eth2":
		pk("eth2", false, 32)
		if e := by["eth2"].Errors; e == nil || e.Discontinuity || e.Values[0] != 90 {
			t.Errorf("%s: eth2 errors %+v, want 90 in, no discontinuity", step, e)
		}
		// Multicast is ifInNUcastPkts less ifInBroadcastPkts.
		if p := by["eth2"].Packets; !slices.Equal(p.Values, []uint64{900, 21, 22, 23, 24, 25}) {
			t.Errorf("%s: eth2 packets %v, want [900 21 22 23 24 25]", step, p.Values)
		}
	case "eth1 goes down":
		if s := by["eth1"]; s.Oper != StatusDown || s.Admin != StatusUp {
			t.Errorf("%s: eth1 admin %d oper %d, want 1 2", step, s.Admin, s.Oper)
		}
	}
}

func TestMemoryTwinDiscontinuities(t *testing.T) {
	a := memoryAgent()
	f := newFixture([]config.Device{dev("r1", "2c", 0, "eth1", "eth2", "eth3")}, map[string]*fakeAgent{"r1": a})
	want := map[string][]string{
		"eth3 deleted and re-created: its dead twin stays under its name": {"eth3@7 disc=true"},
		"the live eth3 counts on":                                {"eth3@7 disc=false"},
		"agent restarts: the dead twin is gone, eth3 renumbered": {"eth1@1 disc=true", "eth3@3 disc=true"},
	}
	for _, st := range memoryScenario() {
		st.change(a)
		r := onlyResult(t, f.p.Poll(context.Background()))
		for _, w := range want[st.name] {
			found := false
			for _, s := range r.Samples {
				if fmt.Sprintf("%s@%d disc=%v", s.Interface, s.Index, s.Discontinuity) == w {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no sample %q in %v", st.name, w, r.Samples)
			}
		}
	}
}

func TestTwinsPickTheLiveOne(t *testing.T) {
	tests := []struct {
		name string
		rows []fakeIf
		// ifLastChange by ifIndex
		changes map[int]uint32
		want    int
	}{
		{"dead twin at the lower index", []fakeIf{
			{index: 2, name: "tun0", down: true, adminDown: true}, {index: 9, name: "tun0"}}, nil, 9},
		{"dead twin at the higher index", []fakeIf{
			{index: 2, name: "tun0"}, {index: 9, name: "tun0", down: true}}, nil, 2},
		{"both up: the most recent change", []fakeIf{
			{index: 2, name: "tun0"}, {index: 9, name: "tun0"}}, map[int]uint32{2: 500, 9: 100}, 2},
		{"both up, same change: the highest index", []fakeIf{
			{index: 2, name: "tun0"}, {index: 9, name: "tun0"}}, nil, 9},
		{"three, one alive", []fakeIf{
			{index: 2, name: "tun0", down: true}, {index: 5, name: "tun0"}, {index: 9, name: "tun0", adminDown: true}}, nil, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newFakeAgent()
			a.uptime(1000)
			for _, r := range tt.rows {
				r.highSpeed, r.in, r.out = 1000, uint64(r.index), uint64(r.index)
				a.addIf(r)
			}
			for idx, c := range tt.changes {
				a.set(instance(oidIfLastChange, idx), gosnmp.TimeTicks, c)
			}
			for _, ifs := range [][]string{{"tun0"}, {"*"}} {
				f := newFixture([]config.Device{dev("r1", "2c", 0, ifs...)}, map[string]*fakeAgent{"r1": a})
				r := onlyResult(t, f.p.Poll(context.Background()))
				if r.Err != nil || len(r.Samples) != 1 || r.Samples[0].Index != tt.want {
					t.Errorf("interfaces %v: Err %v samples %+v, want tun0 at ifIndex %d", ifs, r.Err, r.Samples, tt.want)
				}
			}
		})
	}
}

func TestRestoreOtherAgentOrGarbage(t *testing.T) {
	cfg := []config.Device{dev("r1", "2c", 0, "eth1", "eth2")}
	a, _ := agentWith(2, false)
	f := newFixture(cfg, map[string]*fakeAgent{"r1": a})
	first := onlyResult(t, f.p.Poll(context.Background()))

	moved := dev("r1", "2c", 0, "eth1", "eth2")
	moved.SNMP.Port = 1161 // the same name, another agent
	fewer := dev("r1", "2c", 0, "eth1")
	tests := []struct {
		name           string
		cfg            config.Device
		state, mapping []byte
		wantErr        bool
		wantDisc       bool
		wantWalk       bool
	}{
		{"same agent", cfg[0], first.State, first.Mapping, false, false, false},
		{"another port", moved, first.State, first.Mapping, false, true, true},
		{"fewer interfaces: walk again, counters still trusted", fewer, first.State, first.Mapping, false, false, true},
		{"mapping missing", cfg[0], first.State, nil, false, false, true},
		{"state truncated", cfg[0], first.State[:len(first.State)-3], first.Mapping, true, true, true},
		{"mapping truncated", cfg[0], first.State, first.Mapping[:len(first.Mapping)-2], false, false, true},
		{"garbage", cfg[0], []byte{memoryVersion, 1, 2}, nil, true, true, true},
		{"other format", cfg[0], append([]byte{stateVersion + 1}, first.State[1:]...), first.Mapping, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.set(instance(oidIfHCInOctets, 1), gosnmp.Counter64, uint64(7000))
			net := &fakeNet{agents: map[string]*fakeAgent{"r1": a}}
			p := newPoller([]config.Device{tt.cfg}, Options{Now: f.clock.now}, net.dial)
			err := p.Restore(func(string) ([]byte, []byte) { return tt.state, tt.mapping })
			if (err != nil) != tt.wantErr {
				t.Fatalf("Restore: %v, want error %v", err, tt.wantErr)
			}
			before := a.walkCount()
			r := onlyResult(t, p.Poll(context.Background()))
			if r.Err != nil || len(r.Samples) == 0 {
				t.Fatalf("Poll: %v, %d samples", r.Err, len(r.Samples))
			}
			if walked := a.walkCount() > before; walked != tt.wantWalk {
				t.Errorf("walked %v, want %v", walked, tt.wantWalk)
			}
			if d := r.Samples[0].Discontinuity; d != tt.wantDisc {
				t.Errorf("eth1 Discontinuity %v, want %v", d, tt.wantDisc)
			}
		})
	}
}

// FuzzRestore: no blob makes Restore panic, and a device restored from anything polls.
func FuzzRestore(f *testing.F) {
	a, _ := agentWith(2, false)
	fx := newFixture([]config.Device{dev("r1", "2c", 0, "eth1", "eth2")}, map[string]*fakeAgent{"r1": a})
	r := onlyResult(f, fx.p.Poll(context.Background()))
	f.Add(r.State, r.Mapping)
	f.Add([]byte{memoryVersion}, []byte{})
	f.Fuzz(func(t *testing.T, state, mapping []byte) {
		p := newPoller([]config.Device{dev("r1", "2c", 0, "eth1", "eth2")}, Options{Now: fx.clock.now}, fx.net.dial)
		_ = p.Restore(func(string) ([]byte, []byte) { return state, mapping })
		if r := onlyResult(t, p.Poll(context.Background())); r.Err != nil || len(r.Samples) != 2 {
			t.Fatalf("poll after restore: %v, %d samples", r.Err, len(r.Samples))
		}
	})
}
