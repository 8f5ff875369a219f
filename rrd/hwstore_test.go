package rrd

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hwStoreSpec is a series with Holt-Winters over a short period, a counter
// in and a gauge out, with a one-step archive that holds every step of the
// tests below.
func hwStoreSpec(hw *HWParams) Spec {
	s := Spec{Step: time.Minute, DS: []DS{
		{Name: "in", Type: Counter, Min: 0, Max: math.NaN()},
		{Name: "out", Type: Gauge, Min: math.NaN(), Max: math.NaN()},
	}, Archives: []Archive{{CF: Average, Steps: 1, Rows: 400, XFF: 0.5}, {CF: Max, Steps: 6, Rows: 50, XFF: 0.5}},
		HoltWinters: hw}
	if hw != nil {
		s.HWRows = 60
	}
	return s
}

func hwStoreParams() *HWParams {
	// A smoothing window of 3 rows of the 12, so that the smoother runs.
	return &HWParams{Alpha: 0.2, Beta: 0.01, Gamma: 0.3, Period: 12, SmoothingWindow: 0.25, SmoothRow: 5}
}

// hwFeed updates the series plain, a and b (b from step 6 on) through
// steps 1..n after t0 with a seasonal rate per data source, an anomaly,
// unknown values, gaps longer than the heartbeat, and steps of two
// updates, reopening the store every 40 steps.
func hwFeed(t *testing.T, path string, db *DB, t0 time.Time, n int) *DB {
	f := &hwFeeder{path: path, db: db, t0: t0, r: rand.New(rand.NewPCG(3, 5)), counter: make([]uint64, 3)}
	f.run(t, 1, n)
	return f.db
}

type hwFeeder struct {
	path    string
	db      *DB
	t0      time.Time
	r       *rand.Rand
	counter []uint64
}

// run feeds steps from..to.
func (f *hwFeeder) run(t *testing.T, from, to int) {
	t.Helper()
	path, t0, r, counter := f.path, f.t0, f.r, f.counter
	db := f.db
	defer func() { f.db = db }()
	all := []string{"plain", "a", "b"}
	for k := from; k <= to; k++ {
		names := all
		if k <= 5 {
			names = all[:2]
		}
		if k%40 == 0 {
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			var err error
			if db, err = Open(path, &Options{noSync: true}); err != nil {
				t.Fatal(err)
			}
		}
		if k >= 245 && k < 249 {
			continue // a gap of 4 steps: beyond the heartbeat, unknown
		}
		ph := 2 * math.Pi * float64(k%12) / 12
		var ups []Update
		for i, name := range names {
			rate := math.Round(1000 + 600*math.Sin(ph) + 80*r.Float64() + 100*float64(i))
			if k >= 265 && k < 275 {
				rate += 3000 // an anomaly
			}
			at := t0.Add(time.Duration(k) * time.Minute)
			if k%17 == 0 {
				// Two updates in the step, the first half way through it.
				counter[i] += uint64(rate) * 30
				ups = append(ups, Update{Series: name, Time: at.Add(-30 * time.Second), Values: []Value{Uint(counter[i]), Float(rate)}})
			}
			half := uint64(0)
			if k%17 == 0 {
				half = 30
			}
			counter[i] += uint64(rate) * (60 - half)
			out := Float(rate / 2)
			if k%23 == 0 {
				out = Unknown()
			}
			ups = append(ups, Update{Series: name, Time: at, Values: []Value{Uint(counter[i]), out}})
		}
		if err := db.Update(ups); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHoltWintersStore checks that a series' detectors, updated through
// Update across reopens of the store, gaps and unknown values, give the
// rows a HoltWinters fed the series' own rates gives (and so rrdtool's:
// holtwinters_test.go), for each data source and two series that started
// at different rows of the period.
func TestHoltWintersStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hw.db")
	db, err := Open(path, &Options{noSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1700000000, 0).Truncate(time.Minute)
	plain := hwStoreSpec(nil)
	if err := db.Create("plain", plain, t0); err != nil {
		t.Fatal(err)
	}
	if err := db.Create("a", hwStoreSpec(hwStoreParams()), t0); err != nil {
		t.Fatal(err)
	}
	// b starts 5 steps later: another row of the period.
	if err := db.Create("b", hwStoreSpec(hwStoreParams()), t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	const n = 300
	db = hwFeed(t, path, db, t0, n)
	defer db.Close()

	end := t0.Add(n * time.Minute)
	for _, name := range []string{"a", "b"} {
		spec, err := db.Spec(name)
		if err != nil {
			t.Fatal(err)
		}
		start := t0
		if name == "b" {
			start = t0.Add(5 * time.Minute)
		}
		rates, err := db.Fetch(name, Average, start, end, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.FetchHoltWinters(name, start, end)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Start.Equal(rates.Start) || got.Step != rates.Step || len(got.Prediction[0]) != len(rates.Rows) {
			t.Fatalf("%s: holt-winters rows from %s by %s × %d, rates from %s by %s × %d", name,
				got.Start, got.Step, len(got.Prediction[0]), rates.Start, rates.Step, len(rates.Rows))
		}
		p := *spec.HoltWinters
		first := rates.Time(0).Unix() / 60
		p.SeasonalRow, p.DeviationRow = int(first%12), int(first%12)
		kept := len(rates.Rows) - spec.HWRows
		for d := range spec.DS {
			hw, err := NewHoltWinters(p)
			if err != nil {
				t.Fatal(err)
			}
			known, failures, unknownRates := 0, 0, 0
			for i, row := range rates.Rows {
				if math.IsNaN(row[d]) {
					unknownRates++
				}
				want := hw.Observe(row[d])
				gp, gd, gf := got.Prediction[d][i], got.Deviation[d][i], got.Failures[d][i]
				if i < kept {
					if !math.IsNaN(gp) || !math.IsNaN(gd) || gf {
						t.Errorf("%s %s step %d: %g ± %g (failure %v) older than the rows kept", name, spec.DS[d].Name, i, gp, gd, gf)
					}
					continue
				}
				if !same32(gp, want.Prediction) || !same32(gd, want.Deviation) || gf != want.Failure {
					t.Errorf("%s %s step %d: got %g ± %g failure %v, want %g ± %g failure %v", name, spec.DS[d].Name, i,
						gp, gd, gf, want.Prediction, want.Deviation, want.Failure)
				}
				if !math.IsNaN(gp) {
					known++
				}
				if gf {
					failures++
				}
			}
			// The comparison means something only if the rows hold predictions,
			// failures and the gaps.
			if known < spec.HWRows/2 || failures == 0 || unknownRates < 4 {
				t.Errorf("%s %s: %d known predictions, %d failures, %d unknown rates in the rows kept", name, spec.DS[d].Name, known, failures, unknownRates)
			}
		}
	}
	if _, err := db.FetchHoltWinters("plain", t0, end); !errors.Is(err, ErrNoHoltWinters) {
		t.Errorf("plain series: err %v, want ErrNoHoltWinters", err)
	}
}

// same32 reports whether a stored float32 holds v (both unknown, or equal).
func same32(stored, v float64) bool {
	if math.IsNaN(v) {
		return math.IsNaN(stored)
	}
	return stored == float64(float32(v))
}

// TestHoltWintersSpecStored checks that a spec without Holt-Winters is
// stored as before it existed, and one with it comes back normalized.
func TestHoltWintersSpecStored(t *testing.T) {
	b, _ := json.Marshal(toStored(hwStoreSpec(nil)))
	if strings.Contains(string(b), "HoltWinters") || strings.Contains(string(b), "HWRows") {
		t.Errorf("spec without holt-winters stored as %s", b)
	}
	path := filepath.Join(t.TempDir(), "hw.db")
	db, err := Open(path, &Options{noSync: true})
	if err != nil {
		t.Fatal(err)
	}
	p := hwStoreParams()
	p.SeasonalRow = 3
	spec := hwStoreSpec(p)
	spec.HWRows = 0
	if err := db.Create("a", spec, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(path, nil); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Spec("a")
	if err != nil {
		t.Fatal(err)
	}
	if got.HoltWinters == nil || got.HoltWinters.DeltaPos != 2 || got.HoltWinters.Window != 9 || got.HoltWinters.SeasonalRow != 0 || got.HWRows != 24 {
		t.Errorf("stored holt-winters %+v, rows %d; want defaults filled, seasonal row 0, 24 rows", got.HoltWinters, got.HWRows)
	}
	// Other parameters than the layout change like bounds; the period is a
	// new shape.
	q := *got.HoltWinters
	q.Alpha = 0.5
	spec.HoltWinters = &q
	if err := db.Create("a", spec, time.Time{}); err != nil {
		t.Errorf("create with another alpha: %v", err)
	}
	q.Period = 6
	if err := db.Create("a", spec, time.Time{}); !errors.Is(err, ErrSpecMismatch) {
		t.Errorf("create with another period: %v, want ErrSpecMismatch", err)
	}
}

// TestHoltWintersReshape checks that a series given Holt-Winters by Reshape
// learns its history (the rows are those of a HoltWinters fed its rates),
// and that a reshape keeping the period carries the detectors over.
func TestHoltWintersReshape(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hw.db")
	db, err := Open(path, &Options{noSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1700000000, 0).Truncate(time.Minute)
	for _, n := range []string{"plain", "a", "b"} {
		spec := hwStoreSpec(nil)
		if n == "a" {
			spec = hwStoreSpec(hwStoreParams())
		}
		if err := db.Create(n, spec, t0); err != nil {
			t.Fatal(err)
		}
	}
	const n = 300
	f := &hwFeeder{path: path, db: db, t0: t0, r: rand.New(rand.NewPCG(3, 5)), counter: make([]uint64, 3)}
	f.run(t, 1, n)
	defer func() { f.db.Close() }()
	db = f.db
	end := t0.Add(n * time.Minute)

	before, err := db.FetchHoltWinters("a", t0, end)
	if err != nil {
		t.Fatal(err)
	}
	spec := hwStoreSpec(hwStoreParams())
	spec.Archives = append(spec.Archives, Archive{CF: Average, Steps: 12, Rows: 40, XFF: 0.5})
	if err := db.Reshape("a", spec); err != nil {
		t.Fatal(err)
	}
	after, err := db.FetchHoltWinters("a", t0, end)
	if err != nil {
		t.Fatal(err)
	}
	for d := range before.Prediction {
		for i := range before.Prediction[d] {
			if !same32(after.Prediction[d][i], before.Prediction[d][i]) || !same32(after.Deviation[d][i], before.Deviation[d][i]) ||
				after.Failures[d][i] != before.Failures[d][i] {
				t.Fatalf("a data source %d step %d after reshape: %g ± %g, before %g ± %g", d, i,
					after.Prediction[d][i], after.Deviation[d][i], before.Prediction[d][i], before.Deviation[d][i])
			}
		}
	}

	if err := db.Reshape("plain", hwStoreSpec(hwStoreParams())); err != nil {
		t.Fatal(err)
	}
	// It goes on learning from where its history left it.
	f.run(t, n+1, n+30)
	db = f.db
	end = end.Add(30 * time.Minute)
	rates, err := db.Fetch("plain", Average, end.Add(-400*time.Minute), end, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.FetchHoltWinters("plain", end.Add(-400*time.Minute), end)
	if err != nil {
		t.Fatal(err)
	}
	p := *hwStoreParams()
	first := rates.Time(0).Unix() / 60
	p.SeasonalRow, p.DeviationRow = int(first%12), int(first%12)
	known := 0
	for d := range rates.DS {
		hw, err := NewHoltWinters(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range rates.Rows {
			want := hw.Observe(row[d])
			if i < len(rates.Rows)-60 {
				continue
			}
			if !same32(got.Prediction[d][i], want.Prediction) || !same32(got.Deviation[d][i], want.Deviation) || got.Failures[d][i] != want.Failure {
				t.Errorf("plain data source %d step %d after reshape: %g ± %g failure %v, want %g ± %g failure %v", d, i,
					got.Prediction[d][i], got.Deviation[d][i], got.Failures[d][i], want.Prediction, want.Deviation, want.Failure)
			}
			if !math.IsNaN(got.Prediction[d][i]) {
				known++
			}
		}
	}
	if known < 100 {
		t.Errorf("plain after reshape: %d known predictions of 120", known)
	}
}

// A series in the second chunk of its group (its column past chunkCols) reads its
// own Holt-Winters rows, not its neighbour chunk's: FetchHoltWinters steps through
// the slots with one cursor and must seek past the other chunk's keys, also once the
// rows wrap. Series k of each chunk gets the same rates, so their rows are equal,
// and unlike those of the series before them.
func TestFetchHoltWintersChunks(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "hw.db"), &Options{noSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Unix(1700000000, 0).Truncate(time.Minute)
	names := make([]string, chunkCols+2)
	for i := range names {
		names[i] = fmt.Sprintf("s%04d", i)
	}
	if err := db.CreateBatch(names, hwStoreSpec(hwStoreParams()), t0); err != nil {
		t.Fatal(err)
	}
	const n = 90 // past the 60 rows kept
	counter := make([]uint64, len(names))
	for k := 1; k <= n; k++ {
		ups := make([]Update, len(names))
		for i, name := range names {
			rate := 1000 + 600*math.Sin(2*math.Pi*float64(k%12)/12) + 50*float64(i%chunkCols)
			counter[i] += uint64(rate) * 60
			ups[i] = Update{Series: name, Time: t0.Add(time.Duration(k) * time.Minute), Values: []Value{Uint(counter[i]), Float(rate)}}
		}
		if err := db.Update(ups); err != nil {
			t.Fatal(err)
		}
	}
	end := t0.Add(n * time.Minute)
	fetch := func(name string) HWResult {
		t.Helper()
		hw, err := db.FetchHoltWinters(name, end.Add(-80*time.Minute), end)
		if err != nil {
			t.Fatal(err)
		}
		return hw
	}
	for k := range 2 {
		first, second := fetch(names[k]), fetch(names[chunkCols+k])
		other := fetch(names[k+1])
		known := 0
		for d := range first.Prediction {
			for i, v := range first.Prediction[d] {
				w := second.Prediction[d][i]
				if v != w && !(math.IsNaN(v) && math.IsNaN(w)) {
					t.Fatalf("series %d of chunks 0 and 1, ds %d row %d: predictions %v and %v", k, d, i, v, w)
				}
				if !math.IsNaN(v) {
					known++
					if v == other.Prediction[d][i] {
						t.Fatalf("series %d and %d, ds %d row %d: the same prediction %v for other rates", k, k+1, d, i, v)
					}
				}
			}
		}
		if known < 60 {
			t.Errorf("series %d: %d known predictions, want the 60 rows kept of each data source at least", k, known)
		}
	}
}
