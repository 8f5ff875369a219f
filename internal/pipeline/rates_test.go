package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
)

// TestFetchRings checks that base-step rows fetched for many series at once give
// every period the same rates and percentiles as fetching each series alone.
func TestFetchRings(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	ifaces := make([]string, 70) // more than one FetchMany batch
	for i := range ifaces {
		ifaces[i] = fmt.Sprintf("ge-0/0/%d", i)
	}
	end := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	counters := map[string][2]uint64{}
	from := end.Add(-35 * 24 * time.Hour)
	history(t, rec, "r1", ifaces, from, end.Add(-3*24*time.Hour), step, counters, rhythm)
	// The last interfaces stop early: series last updated at different times
	// share fetches.
	history(t, rec, "r1", ifaces[:60], end.Add(-3*24*time.Hour), end, step, counters, rhythm)
	now := end.Add(10 * time.Second)

	names := make([]string, len(ifaces))
	spans := make([]time.Duration, len(ifaces))
	for i, ifc := range ifaces {
		names[i] = series.Name("r1", ifc)
		spec, last, err := db.Info(names[i])
		if err != nil {
			t.Fatal(err)
		}
		spans[i] = fineSpan(spec, render.Month.SpanFor(spec.Step), now, last)
	}
	spans[5] = 0                         // no ring: fetchRates fetches itself
	spans[7] = render.Week.SpanFor(step) // a batch of its own, shorter than the month asks
	spans[8] = render.Week.SpanFor(step)
	rings, err := fetchRings(db, names, spans, now, step)
	if err != nil {
		t.Fatal(err)
	}
	if rings[5] != nil || rings[0] == nil || rings[len(rings)-1] == nil {
		t.Fatalf("got rings %v, %v, %v; want nil, non-nil, non-nil", rings[5], rings[0], rings[len(rings)-1])
	}
	for i, s := range names {
		for _, p := range []render.Period{render.Week, render.Month} {
			want, err := fetchRates(db, s, p, now, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fetchRates(db, s, p, now, rings[i])
			if err != nil {
				t.Fatal(err)
			}
			if want.P95Step != step {
				t.Fatalf("%s %s: percentile over %v rows, want %v: the test checks nothing", s, p, want.P95Step, step)
			}
			if got.P95Step != want.P95Step || got.P95Span != want.P95Span ||
				!sameFloat(got.P95In, want.P95In) || !sameFloat(got.P95Out, want.P95Out) {
				t.Errorf("%s %s: got p95 %v/%v over %v %v, want %v/%v over %v %v", s, p,
					got.P95In, got.P95Out, got.P95Step, got.P95Span, want.P95In, want.P95Out, want.P95Step, want.P95Span)
			}
		}
	}
}

func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

// TestDayBand checks that the Recorder gives new interfaces a daily Holt-Winters, and
// that the day graph's rates carry the in rate's band and failures from the store
// (the week graph's none), on the in rate's rows.
func TestDayBand(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	end := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	// The daily rhythm with ±5 % of noise, and an hour of the in rate at a tenth
	// of it.
	drop := func(iface string, at time.Time) (float64, float64) {
		in, out := rhythm(iface, at)
		in *= 0.95 + 0.1*rand.New(rand.NewPCG(uint64(at.Unix()), 1)).Float64()
		out *= 0.95 + 0.1*rand.New(rand.NewPCG(uint64(at.Unix()), 2)).Float64()
		if d := end.Sub(at); d >= 3*time.Hour && d < 4*time.Hour {
			in *= 0.1
		}
		return in, out
	}
	// Two days to learn the season and the deviations (RRDtool's detector predicts
	// from its second period, and has deviations from its third), then the graph's.
	history(t, rec, "r1", []string{"ge-0/0/1"}, end.Add(-4*24*time.Hour), end, step, map[string][2]uint64{}, drop)
	name := series.Name("r1", "ge-0/0/1")
	spec, err := db.Spec(name)
	if err != nil {
		t.Fatal(err)
	}
	if spec.HoltWinters == nil || spec.HoltWinters.Period != 288 {
		t.Fatalf("new series' holt-winters %+v, want a period of 288 steps", spec.HoltWinters)
	}
	now := end.Add(10 * time.Second)
	r, err := FetchRates(db, name, render.Day, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.BandLo) != len(r.In) || len(r.BandHi) != len(r.In) || len(r.Failures) != len(r.In) {
		t.Fatalf("band %d, %d and %d failures on %d rows", len(r.BandLo), len(r.BandHi), len(r.Failures), len(r.In))
	}
	if len(r.OutBandLo) != len(r.Out) || len(r.OutBandHi) != len(r.Out) || len(r.OutFailures) != len(r.Out) {
		t.Fatalf("out band %d, %d and %d failures on %d rows", len(r.OutBandLo), len(r.OutBandHi), len(r.OutFailures), len(r.Out))
	}
	hw, err := db.FetchHoltWinters(name, now.Add(-render.Day.SpanFor(step)), now)
	if err != nil {
		t.Fatal(err)
	}
	known, inside, failing, early := 0, 0, 0, 0
	for i := range r.In {
		lo, hi := r.BandLo[i], r.BandHi[i]
		if want := (hw.Prediction[0][i] - 2*hw.Deviation[0][i]) * 8; !sameFloat(lo, want) {
			t.Fatalf("row %d: band from %g, want %g", i, lo, want)
		}
		// The out band is the out data source's, not the in band again.
		if want := (hw.Prediction[1][i] + 2*hw.Deviation[1][i]) * 8; !sameFloat(r.OutBandHi[i], want) {
			t.Fatalf("row %d: out band to %g, want %g", i, r.OutBandHi[i], want)
		}
		if r.OutFailures[i] != hw.Failures[1][i] {
			t.Fatalf("row %d: out failure %v, want %v", i, r.OutFailures[i], hw.Failures[1][i])
		}
		if math.IsNaN(lo) {
			continue
		}
		known++
		if lo <= r.In[i] && r.In[i] <= hi {
			inside++
		}
		if r.Failures[i] {
			switch d := end.Sub(r.Time(i)); {
			case d >= 4*time.Hour:
				early++
			case d >= 3*time.Hour:
				failing++
			}
		}
	}
	// The day graph has a band, the usual rhythm mostly stays inside it, and the
	// drop is flagged (and the climb back, for as long as the level learned in it
	// lasts), nothing before it.
	if known < len(r.In)-1 || inside < known*3/4 || failing == 0 || early > 0 {
		t.Errorf("%d rows: %d with a band, %d inside it, %d failures in the drop and %d before it",
			len(r.In), known, inside, failing, early)
	}
	// The out rate follows its rhythm without a drop: it mostly stays in its own
	// band, which is not the in band.
	outInside, differ := 0, 0
	for i := range r.Out {
		if r.OutBandLo[i] <= r.Out[i] && r.Out[i] <= r.OutBandHi[i] {
			outInside++
		}
		if r.OutBandHi[i] != r.BandHi[i] {
			differ++
		}
	}
	if outInside < known*3/4 || differ < known*3/4 {
		t.Errorf("%d rows: out inside its band on %d, out band apart from the in band on %d", len(r.Out), outInside, differ)
	}
	// The graph ticks the failures of either direction.
	either := eitherFailed(r.Failures, r.OutFailures)
	for i := range either {
		if either[i] != (r.Failures[i] || r.OutFailures[i]) {
			t.Fatalf("row %d: failure tick %v, in %v, out %v", i, either[i], r.Failures[i], r.OutFailures[i])
		}
	}
	week, err := FetchRates(db, name, render.Week, now)
	if err != nil {
		t.Fatal(err)
	}
	if week.BandLo != nil || week.Failures != nil {
		t.Errorf("week graph has a band")
	}
}
