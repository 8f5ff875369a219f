package mrtgimport

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/internal/testneed"
	"github.com/mrtgo/mrtgo/rrd"
)

// synthLog writes a log of MRTG's shape ending at end: 600 five-minute rows, 600 of 30
// minutes, 600 of 2 hours and days rows of a day, with rates from f(row time, class).
func synthLog(end time.Time, days int, f func(t time.Time, span time.Duration) (avg, max float64)) string {
	var b strings.Builder
	e := end.Unix()
	fmt.Fprintf(&b, "%d %d %d\n", e, 123456789, 987654321)
	avg, mx := f(end, time.Duration(e%300)*time.Second)
	fmt.Fprintf(&b, "%d %.0f %.0f %.0f %.0f\n", e, avg, avg/2, mx, mx/2)
	t := e / 300 * 300
	for _, c := range []struct {
		span int64
		n    int
	}{{300, 600}, {1800, 600}, {7200, 600}, {86400, days}} {
		t = t / c.span * c.span
		for i := 0; i < c.n; i++ {
			avg, mx := f(time.Unix(t, 0), time.Duration(c.span)*time.Second)
			fmt.Fprintf(&b, "%d %.0f %.0f %.0f %.0f\n", t, avg, avg/2, mx, mx/2)
			t -= c.span
		}
	}
	return b.String()
}

func wave(t time.Time, span time.Duration) (float64, float64) {
	x := float64(t.Unix()) / 86400 * 2 * math.Pi
	avg := math.Round(1e6 + 8e5*math.Sin(x))
	if span <= 5*time.Minute {
		return avg, avg
	}
	return avg, math.Round(avg * (1 + float64(span/(30*time.Minute))*0.1))
}

func importOne(t testing.TB, h *History, maxBps float64, bits int) *rrd.DB {
	t.Helper()
	db, err := rrd.Open(filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ups, start, err := Replay(h, "d/i", 5*time.Minute, maxBps/8, bits)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Create("d/i", series.Spec(5*time.Minute, maxBps, bits), start); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ups); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestReplaySynthetic(t *testing.T) {
	end := time.Date(2026, 11, 27, 8, 3, 7, 0, time.UTC)
	h, err := parseLog("synth.log", strings.NewReader(synthLog(end, 100, wave)))
	if err != nil {
		t.Fatal(err)
	}
	db := importOne(t, h, 1e9, 64)
	compareRows(t, db, "d/i", h, 1e9/8)
}

// compareRows checks the store against MRTG's rows: each five-minute store row against the
// time-weighted mean of the log rows covering it, and each longer row against the store's
// AVERAGE and MAX rows of its length.
func compareRows(t *testing.T, db *rrd.DB, series string, h *History, maxRate float64) {
	t.Helper()
	step := 5 * time.Minute
	near := func(got, want float64) bool {
		return math.Abs(got-want) <= 0.01+2e-7*math.Abs(want)
	}
	checked, bad := 0, 0
	// Five-minute rows: the period of rows up to the heartbeat long.
	var fine []Row
	for _, r := range h.Rows {
		if r.End.Sub(r.Start) <= 2*step {
			fine = append(fine, r)
		}
	}
	if len(fine) > 0 {
		from, to := fine[0].Start.Truncate(step).Add(step), fine[len(fine)-1].End.Truncate(step)
		res, err := db.Fetch(series, rrd.Average, from, to, step)
		if err != nil {
			t.Fatal(err)
		}
		for i := range res.Rows {
			te := res.Time(i)
			ts := te.Add(-step)
			if ts.Before(fine[0].Start) || te.After(fine[len(fine)-1].End) {
				continue
			}
			for d := range 2 {
				want := 0.0
				for _, r := range fine {
					lo, hi := maxTime(r.Start, ts), minTime(r.End, te)
					if hi.After(lo) {
						v := r.In
						if d == 1 {
							v = r.Out
						}
						want += v * hi.Sub(lo).Seconds() / step.Seconds()
					}
				}
				checked++
				if got := res.Rows[i][d]; !near(got, want) {
					bad++
					if bad < 10 {
						t.Errorf("5-minute row ending %s ds %d: got %.4f, want %.4f", te.Format(time.RFC3339), d, got, want)
					}
				}
			}
		}
	}
	// Longer rows, at their own resolution.
	for _, span := range []time.Duration{30 * time.Minute, 2 * time.Hour, 24 * time.Hour} {
		var rows []Row
		for _, r := range h.Rows {
			if r.End.Sub(r.Start) == span {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		for _, cf := range []rrd.CF{rrd.Average, rrd.Max} {
			res, err := db.Fetch(series, cf, rows[0].Start, rows[len(rows)-1].End, span)
			if err != nil {
				t.Fatal(err)
			}
			if res.Step != span {
				t.Fatalf("fetch %s at %s: got step %s", cf, span, res.Step)
			}
			byEnd := map[int64][]float64{}
			for i, v := range res.Rows {
				byEnd[res.Time(i).Unix()] = v
			}
			n := span.Seconds() / step.Seconds()
			for _, r := range rows {
				got, ok := byEnd[r.End.Unix()]
				if !ok {
					t.Errorf("%s row ending %s missing from the store", span, r.End)
					continue
				}
				for d, pair := range [][2]float64{{r.In, r.MaxIn}, {r.Out, r.MaxOut}} {
					want := pair[0]
					if cf == rrd.Max {
						want = math.Min(math.Max(pair[1], pair[0]), pair[0]*n)
						want = math.Max(math.Min(want, maxRate), pair[0])
					}
					checked++
					if !near(got[d], want) {
						bad++
						if bad < 10 {
							t.Errorf("%s %s row ending %s ds %d: got %.4f, want %.4f", span, cf, r.End.Format(time.RFC3339), d, got[d], want)
						}
					}
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d values differ", bad, checked)
	}
	t.Logf("%d values compared", checked)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func BenchmarkReplay(b *testing.B) {
	end := time.Date(2026, 11, 27, 8, 3, 7, 0, time.UTC)
	h, err := parseLog("synth.log", strings.NewReader(synthLog(end, 732, wave)))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("interfaces=1", func(b *testing.B) {
		for b.Loop() {
			importOne(b, h, 1e9, 64)
		}
	})
}

// BenchmarkImportHistory imports n two-year MRTG logs into a new store: the cost of
// moving an installation over, per interface.
func BenchmarkImportHistory(b *testing.B) {
	end := time.Date(2026, 11, 27, 8, 3, 7, 0, time.UTC)
	text := synthLog(end, 732, wave)
	// Interfaces, and gauge targets (MRTG's Options gauge: a [[device.target]] each).
	for _, bc := range []struct {
		kind string
		n    int
	}{{"interfaces", 10}, {"interfaces", 50}, {"interfaces", 1000}, {"gauges", 1000}} {
		n := bc.n
		b.Run(fmt.Sprintf("%s=%d", bc.kind, n), func(b *testing.B) {
			dir := b.TempDir()
			c := &Config{WorkDir: dir, Interval: 5 * time.Minute, LogFormat: "rateup"}
			var plans []*Plan
			for i := range n {
				tg := &Target{Name: fmt.Sprintf("r_if%d", i)}
				if err := os.WriteFile(filepath.Join(dir, tg.Name+".log"), []byte(text), 0o644); err != nil {
					b.Fatal(err)
				}
				p := &Plan{Target: tg, Series: fmt.Sprintf("r/if%d", i), MaxRate: 1.25e8, Bits: 64}
				if bc.kind == "gauges" {
					ct := config.Target{Name: tg.Name, OIDs: []string{"1.3.6.1.4.1.2021.10.1.5.1"}, Kind: config.KindGauge,
						Factor: 1, Per: "second", Max: math.NaN(), KMG: config.DefaultKMG}
					p.Targets = []DeviceTarget{{Device: "r", Target: ct}}
					p.Series, p.MaxRate = series.KindName("r", series.KindTarget, tg.Name), math.NaN()
				}
				plans = append(plans, p)
			}
			rows := 0
			for b.Loop() {
				db, err := rrd.Open(filepath.Join(b.TempDir(), "s.db"), nil)
				if err != nil {
					b.Fatal(err)
				}
				ims, err := ImportHistory(context.Background(), db, c, plans, 5*time.Minute, slog.New(slog.DiscardHandler), nil)
				if err != nil {
					b.Fatal(err)
				}
				rows = 0
				for _, im := range ims {
					rows += im.Rows
				}
				db.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/float64(n), "s/interface")
			b.ReportMetric(float64(rows)/float64(n), "rows/interface")
		})
	}
}

// BenchmarkImportHistoryRRD imports n files of MRTG's rrdtool mode (its archives: 800
// rows of 5 minutes, 30 minutes, 2 hours and a day, AVERAGE and MAX), each filled with
// two years of five-minute updates: most of the cost is "rrdtool dump", a process a file.
func BenchmarkImportHistoryRRD(b *testing.B) {
	rrdtool := testneed.Program(b, "rrdtool", "apt-get install rrdtool")
	dir := b.TempDir()
	base := filepath.Join(dir, "base.rrd")
	end := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC).Unix()
	start := end - 800*86400
	args := []string{"create", base, "-b", strconv.FormatInt(start-10, 10), "-s", "300",
		"DS:ds0:COUNTER:600:0:125000000", "DS:ds1:COUNTER:600:0:125000000"}
	for _, cf := range []string{"AVERAGE", "MAX"} {
		for _, steps := range []int{1, 6, 24, 288} {
			args = append(args, fmt.Sprintf("RRA:%s:0.5:%d:800", cf, steps))
		}
	}
	if out, err := exec.Command(rrdtool, args...).CombinedOutput(); err != nil {
		b.Fatalf("rrdtool create: %v\n%s", err, out)
	}
	var in, out uint64
	ups := []string{"update", base}
	for t := start; t <= end; t += 300 {
		avg, _ := wave(time.Unix(t, 0), 5*time.Minute)
		in += uint64(avg) * 300
		out += uint64(avg/2) * 300
		ups = append(ups, fmt.Sprintf("%d:%d:%d", t, in, out))
		if len(ups) == 5000 || t+300 > end {
			if o, err := exec.Command(rrdtool, ups...).CombinedOutput(); err != nil {
				b.Fatalf("rrdtool update: %v\n%s", err, o)
			}
			ups = ups[:2]
		}
	}
	data, err := os.ReadFile(base)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{20} {
		b.Run(fmt.Sprintf("interfaces=%d", n), func(b *testing.B) {
			c := &Config{WorkDir: dir, Interval: 5 * time.Minute, LogFormat: "rrdtool"}
			var plans []*Plan
			for i := range n {
				tg := &Target{Name: fmt.Sprintf("r_if%d", i)}
				if err := os.WriteFile(filepath.Join(dir, tg.Name+".rrd"), data, 0o644); err != nil {
					b.Fatal(err)
				}
				plans = append(plans, &Plan{Target: tg, Series: fmt.Sprintf("r/if%d", i), MaxRate: 1.25e8, Bits: 64})
			}
			rows := 0
			for b.Loop() {
				db, err := rrd.Open(filepath.Join(b.TempDir(), "s.db"), nil)
				if err != nil {
					b.Fatal(err)
				}
				ims, err := ImportHistory(context.Background(), db, c, plans, 5*time.Minute, slog.New(slog.DiscardHandler), nil)
				if err != nil {
					b.Fatal(err)
				}
				rows = 0
				for _, im := range ims {
					if im.Skipped != "" {
						b.Fatalf("%s: %s", im.Plan.Target.Name, im.Skipped)
					}
					rows += im.Rows
				}
				db.Close()
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/float64(n), "s/interface")
			b.ReportMetric(float64(rows)/float64(n), "rows/interface")
		})
	}
}
