package promread

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/receivertest"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
)

// TestRowsEqualStore reads ten days of three interfaces back from each engine as the
// pages do, and compares every period's rows (averages and peaks), the 95th
// percentile and the statistics with what the local store gives for the same end.
func TestRowsEqualStore(t *testing.T) {
	for _, start := range []func(testing.TB) *receivertest.Receiver{receivertest.VictoriaMetrics, receivertest.Prometheus} {
		recv := start(t)
		t.Run(recv.Kind, func(t *testing.T) {
			end := time.Now().UTC().Truncate(5 * time.Minute)
			db := receivertest.History(t, recv, end)
			recv.Flush()
			src, err := New(Options{URL: recv.BaseURL, Step: 5 * time.Minute, Retention: config.DefaultRetention,
				Labels: map[string]string{"site": "ams"}, Now: func() time.Time { return end.Add(10 * time.Second) }})
			if err != nil {
				t.Fatal(err)
			}
			names, err := src.Series()
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := db.Series(); fmt.Sprint(names) != fmt.Sprint(want) {
				t.Fatalf("series %v, the store has %v", names, want)
			}
			at := end.Add(10 * time.Second)
			rows := 0
			for _, name := range names {
				if _, _, ok := series.Split(name); !ok {
					// A counter group: its rows as the store's, every period.
					for _, p := range render.Periods {
						spec, _ := db.Spec(name)
						span, res := p.SpanFor(spec.Step), p.ResolutionFor(spec.Step)
						for _, cf := range []rrd.CF{rrd.Average, rrd.Max} {
							want, err := db.Fetch(name, cf, at.Add(-span), at, res)
							if err != nil {
								t.Fatal(err)
							}
							got, err := src.Fetch(name, cf, at.Add(-span), at, res)
							if err != nil {
								t.Fatal(err)
							}
							if fmt.Sprint(got.DS) != fmt.Sprint(want.DS) || len(got.Rows) != len(want.Rows) || !got.Start.Equal(want.Start) {
								t.Fatalf("%s %s %v: %v %d rows from %v, store %v %d from %v", name, p, cf, got.DS, len(got.Rows), got.Start, want.DS, len(want.Rows), want.Start)
							}
							bad := 0
							for i := range want.Rows {
								for d := range want.DS {
									g, w := got.Rows[i][d], want.Rows[i][d]
									if math.IsNaN(g) != math.IsNaN(w) || !math.IsNaN(w) && math.Abs(g-w) > 1e-6*math.Abs(w)+1e-9 {
										if bad++; bad <= 3 {
											t.Errorf("%s %s %v %s row %d: engine %v, store %v", name, p, cf, want.DS[d], i, g, w)
										}
									}
									rows++
								}
							}
						}
					}
					continue
				}
				for _, p := range render.Periods {
					want, err := pipeline.FetchRates(db, name, p, at)
					if err != nil {
						t.Fatal(err)
					}
					got, err := pipeline.FetchRates(src, name, p, at)
					if err != nil {
						t.Fatal(err)
					}
					if !got.Start.Equal(want.Start) || got.Step != want.Step || len(got.In) != len(want.In) {
						t.Fatalf("%s %s: %d rows of %v from %v, the store %d of %v from %v", name, p, len(got.In), got.Step, got.Start, len(want.In), want.Step, want.Start)
					}
					for _, c := range []struct {
						what      string
						got, want []float64
					}{{"in", got.In, want.In}, {"out", got.Out, want.Out}, {"peak in", got.MaxIn, want.MaxIn}, {"peak out", got.MaxOut, want.MaxOut}} {
						bad := 0
						for i := range c.want {
							g, w := c.got[i], c.want[i]
							// The store keeps consolidated rows in single precision.
							if math.IsNaN(g) != math.IsNaN(w) || !math.IsNaN(w) && math.Abs(g-w) > 1e-6*math.Abs(w) {
								if bad++; bad <= 3 {
									t.Errorf("%s %s %s row %d (%v): engine %v, store %v", name, p, c.what, i, got.Start.Add(time.Duration(i)*got.Step), g, w)
								}
							}
							rows++
						}
					}
					if math.Abs(got.P95In-want.P95In) > 1e-6*want.P95In || math.Abs(got.P95Out-want.P95Out) > 1e-6*want.P95Out {
						t.Errorf("%s %s: 95th percentile %v/%v, store %v/%v", name, p, got.P95In, got.P95Out, want.P95In, want.P95Out)
					}
				}
				info, err := series.Interface(src, name)
				if err != nil || info.Speed != 10e9 || info.Alias == "" {
					t.Errorf("%s facts: %+v, %v", name, info, err)
				}
			}
			t.Logf("%s: %d rows compared", recv.Kind, rows)
		})
	}
}
