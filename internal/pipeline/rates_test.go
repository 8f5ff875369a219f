package pipeline

import (
	"fmt"
	"math"
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
