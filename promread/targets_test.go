package promread

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/receivertest"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/remotewrite"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
)

// targetsFile is the pollers' targets file of the target history: a gauge shown at a
// thousandth with a maximum, a counter of two values shown per minute at twice its
// rate, a gauge of one value with a negative factor (its peaks are its smallest
// samples), a target the web node's file no longer has, and two aggregates (of the
// counter target and of itself swapped; of an interface, in bits/s). The host is never
// polled: the samples are made up (a poller's ten days cannot be waited for).
const targetsFile = `step = "5m"

[[device]]
name = "srv1"
host = "192.0.2.9"
interfaces = ["eth0"]

[[device.target]]
name = "temp"
oids = ["1.3.6.1.4.1.2021.13.16.2.1.3.1", "1.3.6.1.4.1.2021.13.16.2.1.3.2"]
kind = "gauge"
factor = 0.001
unit = "C"
max = 120
ylegend = "degrees"
legend_in = "cpu"
legend_out = "board"

[[device.target]]
name = "pkts"
oids = ["1.3.6.1.2.1.11.1.0", "1.3.6.1.2.1.11.2.0"]
per = "minute"
factor = 2
unit = "pkt"

[[device.target]]
name = "skew"
oids = ["1.3.6.1.4.1.2021.100.1.0"]
kind = "gauge"
factor = -1
unit = "ms"

[[device.target]]
name = "gone"
oids = ["1.3.6.1.4.1.2021.100.2.0"]
kind = "gauge"

[[aggregate]]
name = "pkts-both"
sum = ["srv1:pkts", "-srv1:pkts"]

[[aggregate]]
name = "uplink"
sum = ["srv1/eth0"]
`

// targetHistory records ten days of five-minute steps ending at end of cfg's targets,
// aggregates and interface into a store, sending each hour's rows to recv labelled
// site="ams", as a poller does, and returns the store. The gauge "skew" is unknown
// for three hours, the counter "pkts" starts over once (an agent restart), and the
// interface misses single steps (its aggregate is unknown there).
func targetHistory(t *testing.T, recv *receivertest.Receiver, cfg *config.Config, end time.Time) *rrd.DB {
	t.Helper()
	dir := t.TempDir()
	db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	step := cfg.Step
	log := slog.New(slog.DiscardHandler)
	rec := pipeline.NewRecorder(db, step, nil, log)
	rec.SetHoltWinters(nil) // the engine has no predictions; the graphs are compared
	rec.SetTargets(cfg)
	q, err := remotewrite.OpenQueue(filepath.Join(dir, "queue"), remotewrite.QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	x, err := pipeline.NewRemote(db, q, map[string]string{"site": "ams"}, log)
	if err != nil {
		t.Fatal(err)
	}
	x.Targets = pipeline.TargetsOf(cfg)
	w, err := remotewrite.NewWriter(q, remotewrite.Options{URL: recv.WriteURL})
	if err != nil {
		t.Fatal(err)
	}
	steps := int(10 * 24 * time.Hour / step)
	start := end.Add(-time.Duration(steps) * step)
	var octets, pkts [2]uint64
	for k := range steps {
		at := start.Add(time.Duration(k)*step + 7*time.Second)
		h := 2 * math.Pi * float64(k%288) / 288
		res := poller.Result{Device: "srv1"}
		if k%97 != 0 {
			rate := 2e7 * (1.3 + math.Sin(h))
			octets[0] += uint64(rate * step.Seconds())
			octets[1] += uint64(rate * step.Seconds() / 4)
			res.Samples = []poller.Sample{{Device: "srv1", Interface: "eth0", Index: 2, Time: at,
				In: octets[0], Out: octets[1], Bits: 64, Speed: 1e9, Alias: "uplink"}}
		}
		restart := k == steps/4
		if restart {
			pkts = [2]uint64{}
		}
		pkts[0] += uint64(300 * (50 + 40*math.Cos(h)))
		pkts[1] += uint64(300 * (20 + float64(k%7)))
		skew := poller.Float(3 - 9*math.Sin(h+1))
		if k > steps/2 && k < steps/2+36 {
			skew = poller.Unknown
		}
		res.Targets = []poller.TargetSample{
			{Device: "srv1", Target: "temp", Time: at, In: poller.Float(45000 + 15000*math.Sin(h)), Out: poller.Float(float64(30000 + 100*(k%50))), Bits: 64},
			{Device: "srv1", Target: "pkts", Time: at, In: poller.Uint(pkts[0]), Out: poller.Uint(pkts[1]), Bits: 64, Discontinuity: restart},
			{Device: "srv1", Target: "skew", Time: at, In: skew, Out: poller.Unknown, Bits: 64},
			{Device: "srv1", Target: "gone", Time: at, In: poller.Float(1), Out: poller.Unknown, Bits: 64},
		}
		if err := rec.Record([]poller.Result{res}); err != nil {
			t.Fatal(err)
		}
		if k == 0 || k%12 == 11 || k == steps-1 {
			if _, err := x.Export(); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}

// TestTargetsEqualStore: ten days of targets and aggregates sent as a poller sends
// them, read back from each engine by a web node with the same targets file: every
// period's rows (averages and peaks) equal the store's, so do the numbers their pages
// show, and the graphs drawn from the engine are the store's. A target the web node's
// file does not have, or has in another unit, is not read.
func TestTargetsEqualStore(t *testing.T) {
	cfg, err := config.Parse("targets.toml", []byte(targetsFile))
	if err != nil {
		t.Fatal(err)
	}
	// The web node's file: "gone" removed since the poller sent it.
	node := pipeline.TargetsOf(cfg)
	node.Devices["srv1"] = slices.DeleteFunc(slices.Clone(node.Devices["srv1"]), func(t config.Target) bool { return t.Name == "gone" })
	gone := series.KindName("srv1", series.KindTarget, "gone")
	for _, start := range []func(testing.TB) *receivertest.Receiver{receivertest.VictoriaMetrics, receivertest.Prometheus} {
		recv := start(t)
		t.Run(recv.Kind, func(t *testing.T) {
			end := time.Now().UTC().Truncate(cfg.Step)
			db := targetHistory(t, recv, cfg, end)
			recv.Flush()
			at := end.Add(10 * time.Second)
			open := func(targets pipeline.Targets) *Source {
				src, err := New(Options{URL: recv.BaseURL, Step: cfg.Step, Retention: config.DefaultRetention,
					Labels: map[string]string{"site": "ams"}, Now: func() time.Time { return at }, Targets: targets})
				if err != nil {
					t.Fatal(err)
				}
				return src
			}
			src := open(node)
			names, err := src.Series()
			if err != nil {
				t.Fatal(err)
			}
			all, _ := db.Series()
			if want := slices.DeleteFunc(all, func(n string) bool { return n == gone }); fmt.Sprint(names) != fmt.Sprint(want) {
				t.Fatalf("series %q, want the store's but %q: %q", names, gone, want)
			}
			if _, _, err := src.Info(gone); !errors.Is(err, rrd.ErrNoSeries) {
				t.Errorf("info of a target the file lacks: %v, want rrd.ErrNoSeries", err)
			}
			targets := node.RemoteTargets(cfg.Step, series.Archives(cfg.Step, config.DefaultRetention))
			if len(targets) != 5 {
				t.Fatalf("%d targets and aggregates in the file, want 5", len(targets))
			}
			rows := 0
			for name, rt := range targets {
				wantSpec, wantLast, err := db.Info(name)
				if err != nil {
					t.Fatal(err)
				}
				spec, last, err := src.Info(name)
				if err != nil {
					t.Fatal(err)
				}
				// The counter width (DS.Bits) is the poller's to know, and reads nothing.
				layout := func(s rrd.Spec) string {
					var ds []string
					for _, d := range s.DS {
						ds = append(ds, fmt.Sprint(d.Name, d.Type, d.Min, d.Max))
					}
					return fmt.Sprint(s.Step, s.Heartbeat, ds, s.Archives, s.HoltWinters)
				}
				if layout(spec) != layout(wantSpec) {
					t.Errorf("%s: layout %+v, the store's %+v", name, spec, wantSpec)
				}
				if !last.Equal(wantLast.Truncate(cfg.Step)) {
					t.Errorf("%s: last step ends %v, the store was last updated %v", name, last, wantLast)
				}
				for _, p := range render.Periods {
					span, res := p.SpanFor(cfg.Step), p.ResolutionFor(cfg.Step)
					for _, cf := range []rrd.CF{rrd.Average, rrd.Max} {
						want, err := db.Fetch(name, cf, at.Add(-span), at, res)
						if err != nil {
							t.Fatal(err)
						}
						got, err := src.Fetch(name, cf, at.Add(-span), at, res)
						if err != nil {
							t.Fatal(err)
						}
						rows += sameRows(t, fmt.Sprintf("%s %s %v", name, p, cf), got, want)
					}
					// The numbers of the page, in the target's unit.
					var stats [2][6]float64
					for i, st := range []pipeline.Store{db, src} {
						r, err := pipeline.FetchRates(st, name, p, at)
						if err != nil {
							t.Fatal(err)
						}
						for _, col := range [][]float64{r.In, r.Out, r.MaxIn, r.MaxOut} {
							for j := range col {
								col[j] *= rt.Scale / 8
							}
						}
						r.P95In, r.P95Out = math.NaN(), math.NaN()
						in, out := pipeline.Summary(r)
						stats[i] = [6]float64{in.Max, in.Average, in.Current, out.Max, out.Average, out.Current}
					}
					for j, w := range stats[0] {
						if g := stats[1][j]; math.IsNaN(g) != math.IsNaN(w) || !math.IsNaN(w) && math.Abs(g-w) > 1e-6*math.Abs(w)+1e-6 {
							t.Errorf("%s %s: max, average and current (in, out) in %q from the engine %v, from the store %v", name, p, rt.Unit, stats[1], stats[0])
							break
						}
					}
				}
			}
			if rows < 5*4*2*100 {
				t.Errorf("%d rows compared, want at least a hundred of each period and function of five series", rows)
			}
			// A file where the gauge has another unit: its samples are not read as in it.
			other := pipeline.TargetsOf(cfg)
			other.Devices["srv1"] = slices.Clone(other.Devices["srv1"])
			other.Devices["srv1"][0].Unit = "K"
			temp := series.KindName("srv1", series.KindTarget, "temp")
			if _, _, err := open(other).Info(temp); !errors.Is(err, rrd.ErrNoSeries) {
				t.Errorf("info of %s in another unit than sent: %v, want rrd.ErrNoSeries", temp, err)
			}

			// The pages drawn from each: every graph alike.
			dir := t.TempDir()
			for _, c := range []struct {
				site string
				db   pipeline.Store
			}{{"store", db}, {"engine", src}} {
				pub := &pipeline.Publisher{DB: c.db, Dir: filepath.Join(dir, c.site), Location: time.UTC, Step: cfg.Step,
					Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return at }, Targets: node}
				if _, err := pub.Publish(context.Background()); err != nil {
					t.Fatalf("publish from the %s: %v", c.site, err)
				}
			}
			graphs := comparePNGs(t, filepath.Join(dir, "store"), filepath.Join(dir, "engine"))
			if graphs < 5*4*2 {
				t.Errorf("%d target and aggregate graphs compared, want the 1x and 2x graphs of four periods of five", graphs)
			}
			t.Logf("%s: %d rows and %d target graphs compared", recv.Kind, rows, graphs)
		})
	}
}

// sameRows compares rows fetched from the engine with the store's (kept in single
// precision) and returns how many values it compared.
func sameRows(t *testing.T, what string, got, want rrd.Result) int {
	t.Helper()
	if fmt.Sprint(got.DS) != fmt.Sprint(want.DS) || len(got.Rows) != len(want.Rows) || !got.Start.Equal(want.Start) || got.Step != want.Step {
		t.Fatalf("%s: %v %d rows of %v from %v, the store %v %d of %v from %v", what, got.DS, len(got.Rows), got.Step, got.Start,
			want.DS, len(want.Rows), want.Step, want.Start)
	}
	n, bad := 0, 0
	for i := range want.Rows {
		for d := range want.DS {
			g, w := got.Rows[i][d], want.Rows[i][d]
			if math.IsNaN(g) != math.IsNaN(w) || !math.IsNaN(w) && math.Abs(g-w) > 1e-6*math.Abs(w)+1e-9 {
				if bad++; bad <= 3 {
					t.Errorf("%s %s row %d (%v): engine %v, store %v", what, want.DS[d], i, want.Time(i), g, w)
				}
			}
			n++
		}
	}
	return n
}

// comparePNGs compares every target and aggregate graph under want with the file of
// the same name under got, and returns how many it compared. The store keeps its rows
// in single precision, the engine has double: a line may move by a pixel here and
// there, no more.
func comparePNGs(t *testing.T, want, got string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(want, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".png") {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		if !strings.Contains(rel, "=t-") && !strings.HasPrefix(rel, "=aggregate") {
			return nil // an interface's graph: the other tests compare those
		}
		w, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		g, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil {
			t.Errorf("from the engine: %v", err)
			return nil
		}
		n++
		if diff, total := differingPixels(t, g, w); diff*1000 > total {
			t.Errorf("%s: %d of %d pixels of the graph drawn from the engine differ from the store's", rel, diff, total)
		} else if diff > 0 {
			t.Logf("%s: %d of %d pixels differ", rel, diff, total)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// differingPixels decodes two PNG files and counts the pixels that differ.
func differingPixels(t *testing.T, a, b []byte) (n, total int) {
	t.Helper()
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := ia.Bounds()
	if r != ib.Bounds() {
		return r.Dx() * r.Dy(), r.Dx() * r.Dy()
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := ia.At(x, y).RGBA()
			r2, g2, b2, a2 := ib.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				n++
			}
		}
	}
	return n, r.Dx() * r.Dy()
}
