package poller

import (
	"context"
	"slices"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
)

// An SNMPv1 agent with ifTable's packet counters and no ifXTable ones is asked for the
// broadcasts once: from then on one PDU a cycle, multicast standing for all
// non-unicast packets and broadcasts unknown, without a discontinuity for the change.
func TestPacketsV1WithoutIfXTable(t *testing.T) {
	a, _ := agentWith(2, true)
	for i := 1; i <= 2; i++ {
		for k, c := range packetColumns32[:4] {
			a.set(instance(c, i), gosnmp.Counter32, uint(100*i+k))
		}
	}
	d := dev("r1", "1", 0, "eth1", "eth2")
	d.Counters = config.Counters{Packets: true}
	f := newFixture([]config.Device{d}, map[string]*fakeAgent{"r1": a})
	var last Result
	for cycle := 1; cycle <= 3; cycle++ {
		mark := a.getCount()
		r := onlyResult(t, f.p.Poll(context.Background()))
		if r.Err != nil || len(r.Samples) != 2 {
			t.Fatalf("cycle %d: %v, %d samples", cycle, r.Err, len(r.Samples))
		}
		if cycle == 3 {
			if got := a.getSizes(mark); len(got) != 1 {
				t.Errorf("cycle 3: GETs of %v OIDs, want one", got)
			}
		}
		last = r
		if cycle > 1 {
			for _, s := range r.Samples {
				if s.Packets.Discontinuity {
					t.Errorf("cycle %d: %s packets discontinuous", cycle, s.Interface)
				}
			}
		}
	}
	p := last.Samples[1].Packets
	if !slices.Equal(p.Values[:4], []uint64{200, 201, 202, 203}) || p.Absent != 1<<4|1<<5 || p.Bits != 32 {
		t.Errorf("eth2 packets %+v, want 200 201 202 203, broadcasts absent, 32 bits", p)
	}
}
