package poller

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
)

// Interfaces on consecutive rows of the agent's table are read with GETBULK, and the
// answer is what a GET would have given, whatever the table did since it was mapped.
func TestPollBulkReadsConsecutiveRows(t *testing.T) {
	a, names := agentWith(100, false)
	a.addIf(fakeIf{index: 200, name: "lonely", in: 7, out: 8, highSpeed: 1000})
	a.delIf(40)
	a.addIf(fakeIf{index: 40, name: "eth40", in: 40000, out: 80000, no64: true, highSpeed: 1000})
	names = append(names, "lonely")
	f := newFixture([]config.Device{dev("r1", "2c", 0, names...)}, map[string]*fakeAgent{"r1": a})
	check := func(cycle string, r Result, skip ...string) {
		t.Helper()
		if r.Err != nil {
			t.Fatalf("%s: %v", cycle, r.Err)
		}
		var got []string
		for _, s := range r.Samples {
			got = append(got, fmt.Sprintf("%s@%d=%d/%d/%d", s.Interface, s.Index, s.In, s.Out, s.Bits))
		}
		var want []string
		for i := 1; i <= 100; i++ {
			name := fmt.Sprintf("eth%d", i)
			if slices.Contains(skip, name) {
				continue
			}
			bits := 64
			if i == 40 {
				bits = 32
			}
			want = append(want, fmt.Sprintf("%s@%d=%d/%d/%d", name, i, 1000*i, 2000*i, bits))
		}
		want = append(want, "lonely@200=7/8/64")
		if !slices.Equal(got, want) {
			t.Errorf("%s: samples\n%v\nwant\n%v", cycle, got, want)
		}
	}
	check("first", onlyResult(t, f.p.Poll(context.Background())))

	mark, bulks := a.getCount(), a.bulks
	r := onlyResult(t, f.p.Poll(context.Background()))
	check("second", r)
	// One GET: 2 scalars and eth40 (32-bit, a run of its own); eth1-39, and eth41-100
	// with lonely (ifIndex 200 is the row after 100) in GETBULKs of up to 25 rows (twice
	// max_oids, 100 varbinds / 4 columns: octets and status): 25+14 and 25+25+11.
	if got := a.getSizes(mark); !slices.Equal(got, []int{2 + 4}) {
		t.Errorf("OIDs per GET = %v, want [6]", got)
	}
	if got, want := a.bulks-bulks, 2+3; got != want {
		t.Errorf("%d GETBULKs, want %d", got, want)
	}
	if r.Requests != 1+5 {
		t.Errorf("Requests = %d, want 6", r.Requests)
	}

	// A row deleted without the agent saying so (no ifNumber, ifTableLastChange
	// unchanged): the bulk answer shows eth51 where eth50 was expected, the rest of
	// the run is read with GET, and eth50 is missing as a GET would say.
	a.delIf(50)
	r = onlyResult(t, f.p.Poll(context.Background()))
	check("row gone", r, "eth50")
	if !slices.Contains(r.Missing, "eth50") {
		t.Errorf("Missing = %v, want eth50", r.Missing)
	}
}

// An agent that answers tooBig to a GETBULK makes the poller ask for fewer rows, and
// remember the smaller PDU.
func TestPollBulkTooBig(t *testing.T) {
	a, names := agentWith(100, false)
	a.maxVars = 20
	f := newFixture([]config.Device{dev("r1", "2c", 60, names...)}, map[string]*fakeAgent{"r1": a})
	for cycle := range 3 {
		r := onlyResult(t, f.p.Poll(context.Background()))
		if r.Err != nil || len(r.Samples) != 100 {
			t.Fatalf("cycle %d: Err %v, %d samples", cycle, r.Err, len(r.Samples))
		}
		for i, s := range r.Samples {
			if s.In != uint64(1000*(i+1)) {
				t.Fatalf("cycle %d: sample %d In = %d", cycle, i, s.In)
			}
		}
	}
	asked := a.bulkRepsAsked[len(a.bulkRepsAsked)-1]
	if asked == 0 || asked*2 > 20 {
		t.Errorf("last GETBULK asked for %d rows of 2 columns, want at most 10", asked)
	}
}

// A GETBULK asks for answers of twice max_oids; an agent that sends fewer rows, as
// RFC 3416 lets it (net-snmp's cap is 100 varbinds), is asked again from the last row
// it sent, and the samples are all there, read by GETBULK alone.
func TestPollBulkShortAnswers(t *testing.T) {
	a, names := agentWith(100, false)
	a.bulkCap = 40 // 10 rows of 4 columns
	f := newFixture([]config.Device{dev("r1", "2c", 60, names...)}, map[string]*fakeAgent{"r1": a})
	for cycle := range 2 {
		mark, bulks := a.getCount(), a.bulks
		r := onlyResult(t, f.p.Poll(context.Background()))
		if r.Err != nil || len(r.Samples) != 100 {
			t.Fatalf("cycle %d: Err %v, %d samples", cycle, r.Err, len(r.Samples))
		}
		for i, s := range r.Samples {
			if s.In != uint64(1000*(i+1)) || s.Out != uint64(2000*(i+1)) {
				t.Fatalf("cycle %d: sample %d In %d Out %d", cycle, i, s.In, s.Out)
			}
		}
		if cycle == 0 {
			continue
		}
		asked := a.bulkRepsAsked[len(a.bulkRepsAsked)-1]
		// Four chunks of 25 rows, each answered 10, 10 and 5 rows at a time.
		if got := a.getSizes(mark); a.bulks-bulks != 12 || asked == 0 || asked > 25 || !slices.Equal(got, []int{2}) {
			t.Errorf("%d GETBULKs (last asked %d rows), GETs of %v OIDs; want 12 of up to 25 rows and one GET of the 2 scalars",
				a.bulks-bulks, asked, got)
		}
	}
}

// Up to max_inflight GETBULKs of one read await their answer at once, each on a client
// of its own, and the samples are those of one GETBULK at a time; a row deleted in the
// middle of the table is still read as a GET would read it.
func TestPollBulkInFlight(t *testing.T) {
	for _, inflight := range []int{1, 3} {
		t.Run(fmt.Sprintf("max_inflight=%d", inflight), func(t *testing.T) {
			a, names := agentWith(300, false)
			d := dev("r1", "2c", 0, names...)
			d.SNMP.MaxInflight = inflight
			f := newFixture([]config.Device{d}, map[string]*fakeAgent{"r1": a})
			if r := onlyResult(t, f.p.Poll(context.Background())); r.Err != nil {
				t.Fatal(r.Err)
			}
			a.mu.Lock()
			a.bulkHold, a.maxInflight, a.dials, a.closes = 5*time.Millisecond, 0, 0, 0
			a.mu.Unlock()
			a.delIf(150)
			r := onlyResult(t, f.p.Poll(context.Background()))
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			var got []string
			for _, s := range r.Samples {
				got = append(got, fmt.Sprintf("%s=%d/%d", s.Interface, s.In, s.Out))
			}
			var want []string
			for i := 1; i <= 300; i++ {
				if i != 150 {
					want = append(want, fmt.Sprintf("eth%d=%d/%d", i, 1000*i, 2000*i))
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("samples\n%v\nwant\n%v", got, want)
			}
			if !slices.Equal(r.Missing, []string{"eth150"}) {
				t.Errorf("Missing = %v, want [eth150]", r.Missing)
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			if a.maxInflight != inflight {
				t.Errorf("%d GETBULKs answered at once, want %d", a.maxInflight, inflight)
			}
			if a.dials != inflight || a.closes != inflight {
				t.Errorf("%d clients dialled and %d closed, want %d", a.dials, a.closes, inflight)
			}
		})
	}
}
