package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// The store's data source names and the poller's group values are one list.
func TestGroupNamesAgree(t *testing.T) {
	if !slices.Equal(series.PacketDS, poller.PacketNames) || !slices.Equal(series.ErrorDS, poller.ErrorNames) {
		t.Errorf("series %v %v, poller %v %v", series.PacketDS, series.ErrorDS, poller.PacketNames, poller.ErrorNames)
	}
}

// groupSample is a sample of r1 ge-0/0/0 at step n: 1,000 unicast, 20 multicast and 10
// broadcast packets/s in, half as many out; 2 errors and 1 discard per second in.
func groupSample(ti time.Time, n uint64) poller.Sample {
	s := sample("r1", "ge-0/0/0", ti, n*1e6*300, n*5e5*300, 1e9)
	s.Admin, s.Oper = poller.StatusUp, poller.StatusUp
	s.Packets = &poller.Group{Bits: 64, Values: []uint64{n * 1000 * 300, n * 500 * 300, n * 20 * 300, n * 10 * 300, n * 10 * 300, n * 5 * 300}}
	s.Errors = &poller.Group{Bits: 32, Values: []uint64{n * 2 * 300, 0, n * 300, 0}}
	return s
}

// Packets and errors become series of their own beside the octets, never taken for
// interfaces; the interface page draws their graphs for every period under the octets';
// the interface's state shows on its pages.
func TestPublishCounterGroups(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	start := now.Add(-3 * 24 * time.Hour)
	for ti, n := start, uint64(0); !ti.After(now); ti, n = ti.Add(step), n+1 {
		s := groupSample(ti, n)
		if ti.Equal(now) {
			s.Admin, s.Oper = poller.StatusDown, poller.StatusDown
		}
		if err := rec.Record([]poller.Result{{Device: "r1", Samples: []poller.Sample{s}}}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.Series()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	want := []string{series.Name("r1", "ge-0/0/0"), series.KindName("r1", series.KindErrors, "ge-0/0/0"), series.KindName("r1", series.KindPackets, "ge-0/0/0")}
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("series %q, want %q", all, want)
	}
	dir := t.TempDir()
	pub := &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: func() time.Time { return now }}
	st, err := pub.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Interfaces != 1 {
		t.Errorf("published %+v, want 1 interface: the group series are not interfaces", st)
	}
	for _, kind := range []string{web.CounterPackets, web.CounterErrors} {
		for _, p := range render.Periods {
			for _, scale := range []int{1, 2} {
				if fi, err := os.Stat(filepath.Join(dir, web.CounterGraphFile("r1", "ge-0/0/0", kind, p.String(), scale))); err != nil || fi.Size() == 0 {
					t.Errorf("%s %s x%d graph: %v", kind, p, scale, err)
				}
			}
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, web.InterfacePage("r1", "ge-0/0/0")))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<h2>Packets: &#39;Daily&#39; Graph (5 Minute Average)</h2>", "Errors and discards: &#39;Yearly&#39;",
		"1.03 kpkt/s", "515 pkt/s", "3 err/s", "admin down"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("interface page lacks %q", s)
		}
	}
	if i, j := strings.Index(string(page), "&#39;Yearly&#39; Graph"), strings.Index(string(page), "Packets: "); i < 0 || j < i {
		t.Errorf("packet graphs not under the octets' (yearly at %d, packets at %d)", i, j)
	}
	for _, p := range []string{"index.html", web.DevicePage("r1")} {
		b, _ := os.ReadFile(filepath.Join(dir, p))
		if !strings.Contains(string(b), "admin down") {
			t.Errorf("%s does not mark ge-0/0/0 admin down", p)
		}
	}
	r, err := fetchGroupRates(db, series.KindName("r1", series.KindPackets, "ge-0/0/0"), render.Day, now)
	if err != nil {
		t.Fatal(err)
	}
	in, out := groupSummary(r)
	if math.Abs(in.Average-1030) > 1e-6 || math.Abs(out.Average-515) > 1e-6 {
		t.Errorf("packets in %+v out %+v, want 1030 and 515/s", in, out)
	}
	r, err = fetchGroupRates(db, series.KindName("r1", series.KindErrors, "ge-0/0/0"), render.Day, now)
	if err != nil {
		t.Fatal(err)
	}
	if in, out := groupSummary(r); math.Abs(in.Average-3) > 1e-9 || out.Average != 0 {
		t.Errorf("errors and discards in %+v out %+v, want 3/s and 0", in, out)
	}

	// A second Publish with nothing new draws nothing, the counter graphs included.
	st, err = pub.Publish(context.Background())
	if err != nil || st.Drawn != 0 {
		t.Errorf("second Publish: %+v, %v; want nothing drawn", st, err)
	}
}

// A discontinuity of the packets (a counter reset) stores no rate for the step, where
// the octets go on: no spike, whatever the counters did.
func TestGroupDiscontinuityStoresNoSpike(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	for n := uint64(0); n < 6; n++ {
		s := groupSample(t0.Add(time.Duration(n)*step), n)
		if n == 3 {
			// Reset to a small count, then a jump: taken as a rate that is a spike.
			for k := range s.Packets.Values {
				s.Packets.Values[k] = 5
			}
			s.Packets.Discontinuity = true
		}
		if n == 4 {
			for k := range s.Packets.Values {
				s.Packets.Values[k] = 5 + 300*1000
			}
		}
		if err := rec.Record([]poller.Result{{Device: "r1", Samples: []poller.Sample{s}}}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := db.Fetch(series.KindName("r1", series.KindPackets, "ge-0/0/0"), rrd.Average, t0.Add(step), t0.Add(5*step), step)
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range res.Rows {
		at := res.Time(r)
		switch {
		case at.Equal(t0.Add(3 * step)):
			if !math.IsNaN(row[0]) {
				t.Errorf("%s: ucast_in %v over the reset, want unknown", at, row[0])
			}
		case at.Equal(t0.Add(4 * step)):
			if row[0] != 1000 {
				t.Errorf("%s: ucast_in %v after the reset, want 1000", at, row[0])
			}
		case at.After(t0) && !at.After(t0.Add(5*step)) && !at.Equal(t0.Add(5*step)):
			if row[0] != 1000 {
				t.Errorf("%s: ucast_in %v, want 1000", at, row[0])
			}
		}
	}
	oct, err := db.Fetch(series.Name("r1", "ge-0/0/0"), rrd.Average, t0.Add(2*step), t0.Add(3*step), step)
	if err != nil || len(oct.Rows) == 0 || math.IsNaN(oct.Rows[len(oct.Rows)-1][0]) {
		t.Errorf("octets over the packets' reset: %+v %v, want a rate", oct.Rows, err)
	}
}

// BenchmarkPollCommitCounters is BenchmarkPollCommit's 1,000 interfaces of one device
// with packets and errors polled and stored too: 10 more columns an interface in the
// read, two more series in the commit.
func BenchmarkPollCommitCounters(b *testing.B) {
	clock := snmpsim.NewManualClock(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	devs := simNetwork(b, 1, 1000, clock)
	for i := range devs {
		devs[i].Counters = config.Counters{Packets: true, Errors: true}
	}
	db := openDB(b)
	p := poller.New(devs, poller.Options{Now: clock.Now, Logger: quiet})
	defer p.Close()
	rec := NewRecorder(db, 5*time.Minute, nil, quiet)
	if err := rec.Record(p.Poll(context.Background())); err != nil {
		b.Fatal(err)
	}
	requests := 0
	cpu0 := cpuTime()
	for b.Loop() {
		clock.Advance(5 * time.Minute)
		rs := p.Poll(context.Background())
		for _, r := range rs {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			requests += r.Requests
		}
		if err := rec.Record(rs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(requests)/float64(b.N), "PDUs/op")
}
