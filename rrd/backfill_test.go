package rrd

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func backfillSpec() Spec {
	ds := func(n string) DS { return DS{Name: n, Type: Counter, Min: 0, Max: 1e6} }
	return Spec{Step: 300 * time.Second, DS: []DS{ds("in"), ds("out")}, Archives: []Archive{
		{CF: Average, Steps: 1, Rows: 60, XFF: 0.5}, {CF: Max, Steps: 1, Rows: 60, XFF: 0.5},
		{CF: Average, Steps: 6, Rows: 20, XFF: 0.5}, {CF: Max, Steps: 6, Rows: 20, XFF: 0.5},
		{CF: Average, Steps: 24, Rows: 40, XFF: 0.5}, {CF: Max, Steps: 24, Rows: 40, XFF: 0.5},
	}}
}

// steps is a history of n steps after the step boundary from: whole rates (so that a
// counter's increase over a step is exact), some above the maximum, and runs of steps
// with a counter reset before them (unknown).
type steps struct {
	from   int64 // seconds, a step boundary: the time of the baseline reading
	base   [2]uint64
	rates  [][2]float64
	reset  []bool
	counts [][2]uint64 // counters at from + (i+1)·step
}

func makeSteps(from int64, n int, seed uint64) *steps {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &steps{from: from}
	c := [2]uint64{1<<40 + seed, 1<<41 + seed}
	s.base = c
	for i := range n {
		rate := [2]float64{float64(r.IntN(900_000)), float64(r.IntN(1000))}
		if r.IntN(50) == 0 {
			rate[0] = 2e6 // above the maximum: refused
		}
		reset := i%97 >= 90 // seven steps in every 97 unknown
		if reset {
			c = [2]uint64{uint64(r.IntN(1000)), uint64(r.IntN(1000))}
		} else {
			for d := range 2 {
				c[d] += uint64(rate[d]) * 300
			}
		}
		s.rates = append(s.rates, rate)
		s.reset = append(s.reset, reset)
		s.counts = append(s.counts, c)
	}
	return s
}

func (s *steps) end() int64 { return s.from + int64(len(s.rates))*300 }

// update applies the steps to a series as a poller would: a reading at every step
// boundary, the first a baseline.
func (s *steps) update(t *testing.T, db *DB, name string) {
	t.Helper()
	ups := []Update{{Series: name, Time: at(s.from), Values: []Value{Uint(s.base[0]), Uint(s.base[1])}}}
	for i, c := range s.counts {
		ups = append(ups, Update{Series: name, Time: at(s.from + int64(i+1)*300), Values: []Value{Uint(c[0]), Uint(c[1])}, Discontinuity: s.reset[i]})
	}
	if err := db.Update(ups); err != nil {
		t.Fatal(err)
	}
}

// history is the steps as Backfill takes them.
func (s *steps) history() History {
	h := History{End: at(s.end()), Last: []Value{Uint(s.counts[len(s.counts)-1][0]), Uint(s.counts[len(s.counts)-1][1])}}
	for i, r := range s.rates {
		for d := range 2 {
			v := r[d]
			if s.reset[i] {
				v = math.NaN()
			}
			h.Rates = append(h.Rates, v)
		}
	}
	return h
}

// allRows is every row of every archive of a series, by archive and row time.
func allRows(t *testing.T, db *DB, name string) map[string][2]float64 {
	t.Helper()
	out := map[string][2]float64{}
	spec, err := db.Spec(name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range spec.Archives {
		times, rows := archiveRows(t, db, name, i)
		for r, tm := range times {
			out[fmt.Sprintf("%d@%d", i, tm)] = [2]float64{rows[r][0], rows[r][1]}
		}
	}
	return out
}

func bitsEqual(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}

// TestBackfillAsUpdate checks that a series backfilled with the rates of its steps holds
// exactly what a series updated step by step with the same traffic holds, in every row
// of every archive (the ring wraps many times over), and continues alike.
func TestBackfillAsUpdate(t *testing.T) {
	db := openTest(t)
	s := makeSteps(t0-t0%300, 1000, 1)
	for _, n := range []string{"updated", "backfilled"} {
		if err := db.Create(n, backfillSpec(), at(s.from-300)); err != nil {
			t.Fatal(err)
		}
	}
	s.update(t, db, "updated")
	if err := db.Backfill([]string{"backfilled"}, func(int) (History, error) { return s.history(), nil }); err != nil {
		t.Fatal(err)
	}
	compare := func(when string) {
		want, got := allRows(t, db, "updated"), allRows(t, db, "backfilled")
		known := 0
		for k, w := range want {
			g, ok := got[k]
			if !ok || !bitsEqual(g[0], w[0]) || !bitsEqual(g[1], w[1]) {
				t.Errorf("%s: row %s = %v, updated series has %v", when, k, g, w)
			}
			if !math.IsNaN(w[0]) {
				known++
			}
		}
		if len(got) != len(want) || known < len(want)/2 {
			t.Errorf("%s: %d rows, want %d of which %d known", when, len(got), len(want), known)
		}
	}
	compare("after backfill")
	_, lu, _ := db.Info("updated")
	_, lb, _ := db.Info("backfilled")
	if !lu.Equal(lb) {
		t.Errorf("last update %s, updated series %s", lb, lu)
	}
	// The next reading continues from Last.
	last := s.counts[len(s.counts)-1]
	next := func(n string) Update {
		return Update{Series: n, Time: at(s.end() + 420), Values: []Value{Uint(last[0] + 123_456), Uint(last[1] + 7)}}
	}
	if err := db.Update([]Update{next("updated"), next("backfilled")}); err != nil {
		t.Fatal(err)
	}
	compare("after the next update")
}

// TestBackfillMany backfills enough series of one chunk at once to consolidate on more
// than one core: each holds exactly what its twin updated step by step holds.
func TestBackfillMany(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	db := openTest(t)
	const n = 4 * parallelMin
	var hs []*steps
	var names []string
	for i := range n {
		s := makeSteps(t0-t0%300, 300, uint64(10+i))
		hs = append(hs, s)
		for _, name := range []string{fmt.Sprintf("updated%d", i), fmt.Sprintf("backfilled%d", i)} {
			if err := db.Create(name, backfillSpec(), at(s.from-300)); err != nil {
				t.Fatal(err)
			}
		}
		s.update(t, db, fmt.Sprintf("updated%d", i))
		names = append(names, fmt.Sprintf("backfilled%d", i))
	}
	asked := map[int]int{}
	err := db.Backfill(names, func(i int) (History, error) {
		asked[i]++
		return hs[i].history(), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if asked[i] != 1 {
			t.Errorf("history %d asked for %d times", i, asked[i])
		}
		want, got := allRows(t, db, fmt.Sprintf("updated%d", i)), allRows(t, db, names[i])
		for k, w := range want {
			if g := got[k]; !bitsEqual(g[0], w[0]) || !bitsEqual(g[1], w[1]) {
				t.Fatalf("%s row %s = %v, updated twin has %v", names[i], k, g, w)
			}
		}
	}
}

// TestBackfillMerge backfills an older history into a series that holds newer data:
// the rows before the series' first known row take the history, the series' own rows
// are untouched, and a second backfill changes nothing.
func TestBackfillMerge(t *testing.T) {
	for _, hw := range []bool{false, true} {
		t.Run(fmt.Sprintf("holt-winters=%v", hw), func(t *testing.T) {
			db := openTest(t)
			spec := backfillSpec()
			if hw {
				spec.HoltWinters = &HWParams{Alpha: 0.1, Beta: 0.0035, Gamma: 0.1, Period: 12}
			}
			old := makeSteps(t0-t0%7200, 400, 2)           // 400 steps of an earlier history
			polled := makeSteps(old.end()-300*100, 150, 3) // polled over its last 100 steps, and 50 after
			if err := db.Create("s", spec, at(polled.from-300)); err != nil {
				t.Fatal(err)
			}
			polled.update(t, db, "s")
			// The rows the history gives: a series holding it alone.
			db2 := openTest(t)
			if err := db2.Create("history", backfillSpec(), at(old.from-300)); err != nil {
				t.Fatal(err)
			}
			old.update(t, db2, "history")
			before := allRows(t, db, "s")
			// The start of the series' oldest known row, in any archive.
			spec, _ = db.Spec("s")
			first := int64(math.MaxInt64)
			for i, a := range spec.Archives {
				times, rows := archiveRows(t, db, "s", i)
				for r, tm := range times {
					if !math.IsNaN(rows[r][0]) || !math.IsNaN(rows[r][1]) {
						first = min(first, tm-int64(a.Steps)*300)
					}
				}
			}
			if first > polled.from || first < polled.from-86400 {
				t.Fatalf("oldest known row of the polled series starts at %d, polling began at %d", first, polled.from)
			}
			_, lastBefore, _ := db.Info("s")
			h := old.history()
			if err := db.Backfill([]string{"s"}, func(int) (History, error) { return h, nil }); err != nil {
				t.Fatal(err)
			}
			after := allRows(t, db, "s")
			alone := allRows(t, db2, "history")
			filled, kept := 0, 0
			for i := range spec.Archives {
				times, _ := archiveRows(t, db, "s", i)
				for _, tm := range times {
					k := fmt.Sprintf("%d@%d", i, tm)
					g, b := after[k], before[k]
					if tm > first {
						if !bitsEqual(g[0], b[0]) || !bitsEqual(g[1], b[1]) {
							t.Errorf("row %s of the series' own time changed: %v, was %v", k, g, b)
						}
						kept++
						continue
					}
					want, ok := alone[k]
					if !ok {
						want = [2]float64{math.NaN(), math.NaN()}
					}
					if !bitsEqual(g[0], want[0]) || !bitsEqual(g[1], want[1]) {
						t.Errorf("older row %s = %v, the history alone gives %v", k, g, want)
					}
					if !math.IsNaN(g[0]) {
						filled++
					}
				}
			}
			if filled < 20 || kept < 100 {
				t.Errorf("%d older rows filled, %d own rows kept: want both", filled, kept)
			}
			if _, last, _ := db.Info("s"); !last.Equal(lastBefore) {
				t.Errorf("last update moved from %s to %s", lastBefore, last)
			}
			if err := db.Backfill([]string{"s"}, func(int) (History, error) { return h, nil }); err != nil {
				t.Fatal(err)
			}
			again := allRows(t, db, "s")
			for k, a := range after {
				if g := again[k]; !bitsEqual(g[0], a[0]) || !bitsEqual(g[1], a[1]) {
					t.Errorf("second backfill changed row %s: %v, was %v", k, g, a)
				}
			}
			// A history reaching past the last update: taken by a series without
			// Holt-Winters, refused by one with.
			newer := makeSteps(polled.end(), 20, 4)
			err := db.Backfill([]string{"s"}, func(int) (History, error) { return newer.history(), nil })
			if hw != (err != nil) || hw && !errors.Is(err, ErrNotAfter) {
				t.Errorf("backfill past the last update: error %v", err)
			}
			if _, last, _ := db.Info("s"); hw == last.Equal(at(newer.end())) {
				t.Errorf("holt-winters %v: last update %s after a newer history ending %s", hw, last, at(newer.end()))
			}
		})
	}
}

func TestBackfillErrors(t *testing.T) {
	db := openTest(t)
	if err := db.Create("s", backfillSpec(), at(t0)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		h    History
		want error
	}{
		{"odd rates", History{End: at(t0 - t0%300 + 3000), Rates: []float64{1, 2, 3}}, ErrBadValue},
		{"end off the step", History{End: at(t0 - t0%300 + 3001), Rates: []float64{1, 2}}, nil},
		{"last of a gauge type", History{End: at(t0 - t0%300 + 3000), Rates: []float64{1, 2}, Last: []Value{Float(1.5), Uint(1)}}, ErrBadValue},
	} {
		err := db.Backfill([]string{"s", "missing"}, func(int) (History, error) { return tt.h, nil })
		if err == nil || !errors.Is(err, ErrNoSeries) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: error %v, want %v and the missing series", tt.name, err, tt.want)
		}
	}
	stop := errors.New("stop")
	if err := db.Backfill([]string{"s"}, func(int) (History, error) { return History{}, stop }); !errors.Is(err, stop) {
		t.Errorf("error from history: %v", err)
	}
}

// BenchmarkBackfillHistory writes two years of five-minute steps (the default archives) into
// n new series: the store side of importing an MRTG installation.
func BenchmarkBackfillHistory(b *testing.B) {
	const days = 800
	end := t0 - t0%86400
	n := days * 288
	rates := make([]float64, 2*n)
	for i := range rates {
		rates[i] = 1e6 + 5e5*math.Sin(float64(i)/600)
	}
	for _, series := range []int{100} {
		b.Run(fmt.Sprintf("series=%d", series), func(b *testing.B) {
			names := benchNames(series)
			for b.Loop() {
				db, err := Open(filepath.Join(b.TempDir(), "b.db"), nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := db.CreateBatch(names, benchSpec(), at(end-int64(n)*300-1)); err != nil {
					b.Fatal(err)
				}
				err = db.Backfill(names, func(int) (History, error) {
					return History{End: at(end), Rates: rates, Last: []Value{Uint(1), Uint(2)}}, nil
				})
				if err != nil {
					b.Fatal(err)
				}
				db.Close()
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/float64(series)*1e3, "ms/series")
		})
	}
}
