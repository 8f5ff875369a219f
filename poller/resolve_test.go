package poller

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
)

func sampleNames(r Result) []string {
	var got []string
	for _, s := range r.Samples {
		got = append(got, s.Interface)
	}
	return got
}

// A counter clear shows only in ifCounterDiscontinuityTime when the counter has grown
// past its old value again (or is a 32-bit counter, where a decrease looks like a
// wrap): the sample is a discontinuity, the other interfaces are not.
func TestPollCounterDiscontinuityTime(t *testing.T) {
	a, _ := agentWith(3, false)
	for i := 1; i <= 3; i++ {
		a.set(instance(oidIfCounterDiscontinuityTime, i), gosnmp.TimeTicks, uint32(0))
	}
	f := newFixture([]config.Device{dev("r1", "2c", 0, "eth1", "eth2", "eth3")}, map[string]*fakeAgent{"r1": a})
	steps := []struct {
		name   string
		change func()
		want   []bool
	}{
		{"first", func() {}, []bool{false, false, false}},
		{"eth2 cleared, counter already higher", func() {
			a.uptime(40000)
			a.set(instance(oidIfCounterDiscontinuityTime, 2), gosnmp.TimeTicks, uint32(39000))
			a.set(instance(oidIfHCInOctets, 2), gosnmp.Counter64, uint64(1_000_000))
		}, []bool{false, true, false}},
		{"nothing new", func() { a.uptime(70000) }, []bool{false, false, false}},
	}
	for _, st := range steps {
		st.change()
		r := onlyResult(t, f.p.Poll(context.Background()))
		if r.Err != nil {
			t.Fatalf("%s: %v", st.name, r.Err)
		}
		var got []bool
		for _, s := range r.Samples {
			got = append(got, s.Discontinuity)
		}
		if !slices.Equal(got, st.want) {
			t.Errorf("%s: Discontinuity %v, want %v", st.name, got, st.want)
		}
	}
	if f.p.devices[0].noDisc {
		t.Error("device marked as lacking ifCounterDiscontinuityTime")
	}
}

// An agent without ifCounterDiscontinuityTime is asked once, then not again.
func TestPollWithoutCounterDiscontinuityTime(t *testing.T) {
	a, names := agentWith(2, false)
	f := newFixture([]config.Device{dev("r1", "2c", 0, names...)}, map[string]*fakeAgent{"r1": a})
	f.p.Poll(context.Background())
	mark := a.getCount()
	if r := onlyResult(t, f.p.Poll(context.Background())); r.Err != nil {
		t.Fatal(r.Err)
	}
	// sysUpTime, ifTableLastChange and two counters and two states per interface
	// (ifNumber is absent too).
	if got := a.getSizes(mark); !slices.Equal(got, []int{10}) {
		t.Errorf("second cycle OIDs per GET = %v, want [10]", got)
	}
}

// ["*"] picks up an interface added to ifTable in the same cycle (ifNumber moved), one
// that came up after ResolveEvery cycles, and keeps polling one that went down.
func TestPollAllInterfacesPicksUpNew(t *testing.T) {
	a := newFakeAgent()
	a.uptime(100)
	a.set(oidIfNumber, gosnmp.Integer, 2)
	a.addIf(fakeIf{index: 1, name: "eth1", in: 1, out: 1})
	a.addIf(fakeIf{index: 2, name: "eth2", in: 2, out: 2, down: true})
	f := newFixture([]config.Device{dev("r1", "2c", 0, "*")}, map[string]*fakeAgent{"r1": a})
	f.p.devices[0].resolveEvery = 3
	poll := func(step string, want ...string) {
		t.Helper()
		r := onlyResult(t, f.p.Poll(context.Background()))
		if r.Err != nil {
			t.Fatalf("%s: %v", step, r.Err)
		}
		if got := sampleNames(r); !slices.Equal(got, want) {
			t.Errorf("%s: polled %v, want %v", step, got, want)
		}
	}
	poll("first", "eth1")
	a.addIf(fakeIf{index: 3, name: "eth3", in: 3, out: 3})
	a.set(oidIfNumber, gosnmp.Integer, 3)
	poll("eth3 added", "eth1", "eth3")
	a.addIf(fakeIf{index: 2, name: "eth2", in: 2, out: 2}) // comes up; ifNumber unchanged
	poll("eth2 up, cycle 1 after resolve", "eth1", "eth3")
	poll("cycle 2", "eth1", "eth3")
	poll("cycle 3: resolve again", "eth1", "eth2", "eth3")
	a.addIf(fakeIf{index: 2, name: "eth2", in: 2, out: 2, down: true})
	poll("eth2 down", "eth1", "eth2", "eth3")
	poll("cycle 2", "eth1", "eth2", "eth3")
	poll("cycle 3: resolve again, eth2 kept", "eth1", "eth2", "eth3")
}

// An SNMPv3 client lives across cycles; after an error it is closed and dialled again.
func TestPollV3KeepsClient(t *testing.T) {
	a, names := agentWith(2, false)
	d := dev("r1", "3", 0, names...)
	d.SNMP.Username, d.SNMP.SecurityLevel = "u", config.NoAuthNoPriv
	f := newFixture([]config.Device{d}, map[string]*fakeAgent{"r1": a})
	counts := func() (int, int) {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.dials, a.closes
	}
	for range 3 {
		if r := onlyResult(t, f.p.Poll(context.Background())); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if dials, closes := counts(); dials != 1 || closes != 0 {
		t.Errorf("after 3 cycles: %d dials, %d closes; want 1 and 0", dials, closes)
	}
	a.mu.Lock()
	a.reqErr = errors.New("request timeout")
	a.mu.Unlock()
	if r := onlyResult(t, f.p.Poll(context.Background())); r.Err == nil {
		t.Fatal("no error from a failing agent")
	}
	a.mu.Lock()
	a.reqErr = nil
	a.mu.Unlock()
	if r := onlyResult(t, f.p.Poll(context.Background())); r.Err != nil {
		t.Fatal(r.Err)
	}
	if dials, closes := counts(); dials != 2 || closes != 1 {
		t.Errorf("after an error and a good cycle: %d dials, %d closes; want 2 and 1", dials, closes)
	}
	f.p.Close()
	if _, closes := counts(); closes != 2 {
		t.Errorf("Close: %d closes, want 2", closes)
	}
}

// An SNMPv1 agent refuses a whole PDU for each object it lacks: ifCounterDiscontinuityTime
// is asked for once, not once per interface.
func TestPollV1ProbesCounterDiscontinuityTime(t *testing.T) {
	a, names := agentWith(50, true)
	f := newFixture([]config.Device{dev("r1", "1", 0, names...)}, map[string]*fakeAgent{"r1": a})
	r := onlyResult(t, f.p.Poll(context.Background()))
	if r.Err != nil || len(r.Samples) != 50 {
		t.Fatalf("Err %v, %d samples", r.Err, len(r.Samples))
	}
	// Resolve: 201 OIDs in 4 GETs, one more after the probe's noSuchName; counters and
	// states: 202 OIDs in 4 GETs, one more after ifNumber's noSuchName.
	if got := a.getCount(); got > 10 {
		t.Errorf("first cycle sent %d GETs, want at most 10", got)
	}
	if !f.p.devices[0].noDisc {
		t.Error("device not marked as lacking ifCounterDiscontinuityTime")
	}
}

// Each interface key finds the same interface, and keeps finding it after renumbering.
func TestPollInterfaceKeys(t *testing.T) {
	tests := []struct {
		key  string
		want string // the key value of eth2
	}{
		{config.KeyIfName, "eth2"},
		{config.KeyIfDescr, "Ethernet eth2"},
		{config.KeyIfAlias, "uplink eth2"},
		{config.KeyMAC, "02:00:00:00:00:02"},
		{config.KeyIfIndex, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			a, _ := agentWith(3, false)
			for i := 1; i <= 3; i++ {
				a.set(instance(oidIfPhysAddress, i), gosnmp.OctetString, []byte{2, 0, 0, 0, 0, byte(i)})
			}
			d := dev("r1", "2c", 0, tt.want)
			d.Key = tt.key
			f := newFixture([]config.Device{d}, map[string]*fakeAgent{"r1": a})
			r := onlyResult(t, f.p.Poll(context.Background()))
			if r.Err != nil || len(r.Samples) != 1 {
				t.Fatalf("Err %v, samples %+v", r.Err, r.Samples)
			}
			if s := r.Samples[0]; s.Interface != tt.want || s.Index != 2 || s.In != 2000 {
				t.Errorf("sample %s at ifIndex %d in %d, want %s at 2 in 2000", s.Interface, s.Index, s.In, tt.want)
			}
			// Renumber after a restart: eth2's row moves to ifIndex 7.
			a.uptime(10)
			a.delIf(2)
			a.addIf(fakeIf{index: 7, name: "eth2", in: 5, out: 6, descr: "Ethernet eth2", alia: "uplink eth2"})
			a.set(instance(oidIfPhysAddress, 7), gosnmp.OctetString, []byte{2, 0, 0, 0, 0, 2})
			a.del(instance(oidIfPhysAddress, 2))
			r = onlyResult(t, f.p.Poll(context.Background()))
			if tt.key == config.KeyIfIndex {
				// ifIndex is the identity: index 2 is gone.
				if r.Err != nil || len(r.Samples) != 0 || !slices.Equal(r.Missing, []string{"2"}) {
					t.Errorf("after renumbering: Err %v, samples %+v, missing %v; want ifIndex 2 missing", r.Err, r.Samples, r.Missing)
				}
				return
			}
			if r.Err != nil || len(r.Samples) != 1 {
				t.Fatalf("after renumbering: Err %v, samples %+v", r.Err, r.Samples)
			}
			if s := r.Samples[0]; s.Interface != tt.want || s.Index != 7 || s.In != 5 || !s.Discontinuity {
				t.Errorf("after renumbering: %s at ifIndex %d in %d disc %v, want %s at 7 in 5, a discontinuity",
					s.Interface, s.Index, s.In, s.Discontinuity, tt.want)
			}
		})
	}
}

// Devices that failed their last cycle start after those that answered, so that a slot
// among Options.Parallel is not spent waiting on them first; results keep their order.
func TestPollDevicesDownLast(t *testing.T) {
	live, names := agentWith(1, false)
	devs := []config.Device{dev("dead1", "2c", 0, names...), dev("live", "2c", 0, names...), dev("dead2", "2c", 0, names...)}
	f := newFixture(devs, map[string]*fakeAgent{"live": live})
	f.p.parallel = 1 // one at a time: the start order is the dial order
	for cycle, want := range [][]string{{"dead1", "live", "dead2"}, {"live", "dead1", "dead2"}} {
		f.net.mu.Lock()
		f.net.dialed = nil
		f.net.mu.Unlock()
		rs := f.p.Poll(context.Background())
		if got := f.net.dialed; !slices.Equal(got, want) {
			t.Errorf("cycle %d: dialled %v, want %v", cycle+1, got, want)
		}
		for i, r := range rs {
			if r.Device != devs[i].Name || (r.Err == nil) != (i == 1) {
				t.Errorf("cycle %d: result %d is %s with Err %v", cycle+1, i, r.Device, r.Err)
			}
		}
	}
}
