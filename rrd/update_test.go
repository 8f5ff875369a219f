package rrd

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "t.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

const t0 = int64(1700000000) // a multiple of 10

func at(sec int64) time.Time { return time.Unix(sec, 0) }

// pdps returns the one-step rows of ds d between from and to (row times).
func pdps(t testing.TB, db *DB, name string, d int, from, to int64) map[int64]float64 {
	t.Helper()
	times, rows := archiveRows(t, db, name, 0)
	out := map[int64]float64{}
	for i, tm := range times {
		if tm >= from && tm <= to {
			out[tm] = rows[i][d]
		}
	}
	return out
}

func same(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b))
}

func oneDSSpec(ds DS) Spec {
	return Spec{Step: 10 * time.Second, DS: []DS{ds}, Archives: []Archive{{CF: Average, Steps: 1, Rows: 100, XFF: 0.5}, {CF: Max, Steps: 3, Rows: 50, XFF: 0.5}}}
}

// TestCounterRules covers mrtgo's counter rules, each against the rate a
// person would compute by hand. Samples are on step boundaries, so each
// one-step row is exactly the rate of the interval before it.
func TestCounterRules(t *testing.T) {
	nan := math.NaN()
	type sample struct {
		dt    int64 // seconds after the previous sample
		v     Value
		reset bool
	}
	tests := []struct {
		name    string
		ds      DS
		samples []sample
		want    []float64 // one-step rows after the first sample
	}{
		{"64-bit steady", DS{Name: "in", Type: Counter, Min: nan, Max: nan},
			[]sample{{10, Uint(1000), false}, {10, Uint(2000), false}, {10, Uint(2500), false}},
			[]float64{100, 50}},
		{"64-bit backwards is a discontinuity", DS{Name: "in", Type: Counter, Min: nan, Max: nan},
			[]sample{{10, Uint(1 << 40), false}, {10, Uint(5000), false}, {10, Uint(6000), false}},
			[]float64{nan, 100}},
		{"64-bit wrap past 2^64 is also a discontinuity", DS{Name: "in", Type: Counter, Min: nan, Max: nan},
			[]sample{{10, Uint(math.MaxUint64 - 99), false}, {10, Uint(900), false}, {10, Uint(1900), false}},
			[]float64{nan, 100}},
		{"32-bit wrap within max", DS{Name: "in", Type: Counter, Bits: 32, Min: 0, Max: 1e6},
			[]sample{{10, Uint(math.MaxUint32 - 999), false}, {10, Uint(9000), false}},
			[]float64{1000}},
		{"32-bit backwards above max is unknown", DS{Name: "in", Type: Counter, Bits: 32, Min: 0, Max: 1e6},
			[]sample{{10, Uint(4000000000), false}, {10, Uint(1000), false}, {10, Uint(2000), false}},
			[]float64{nan, 100}},
		{"rate above max is unknown", DS{Name: "in", Type: Counter, Min: 0, Max: 125},
			[]sample{{10, Uint(0), false}, {10, Uint(1250), false}, {10, Uint(2510), false}, {10, Uint(3000), false}},
			[]float64{125, nan, 49}},
		{"reset flagged by the poller", DS{Name: "in", Type: Counter, Min: nan, Max: nan},
			[]sample{{10, Uint(10000), false}, {10, Uint(20000), false}, {10, Uint(20500), true}, {10, Uint(21500), false}},
			[]float64{1000, nan, 100}},
		{"reset to zero, flagged", DS{Name: "in", Type: Counter, Min: nan, Max: nan},
			[]sample{{10, Uint(10000), false}, {10, Uint(0), true}, {10, Uint(700), false}},
			[]float64{nan, 70}},
		{"missed polls beyond heartbeat", DS{Name: "in", Type: Counter, Min: nan, Max: nan},
			[]sample{{10, Uint(0), false}, {10, Uint(100), false}, {30, Uint(400), false}, {10, Uint(500), false}},
			[]float64{10, nan, nan, nan, 10}},
		{"gauge flagged reset is unknown", DS{Name: "g", Type: Gauge, Min: nan, Max: nan},
			[]sample{{10, Float(5), false}, {10, Float(7), true}, {10, Float(9), false}},
			[]float64{nan, 9}},
		{"absolute", DS{Name: "a", Type: Absolute, Min: nan, Max: nan},
			[]sample{{10, Uint(100), false}, {10, Uint(300), false}},
			[]float64{30}},
		{"derive goes down", DS{Name: "d", Type: Derive, Min: nan, Max: nan},
			[]sample{{10, Int(100), false}, {10, Int(-100), false}},
			[]float64{-20}},
	}
	// The updates whose rate fell outside [Min, Max]: Update marks them Refused.
	refusedAt := map[string][]int{
		"32-bit backwards above max is unknown": {1},
		"rate above max is unknown":             {2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t)
			if err := db.Create("s", oneDSSpec(tc.ds), at(t0)); err != nil {
				t.Fatal(err)
			}
			now := t0
			var ups []Update
			for _, s := range tc.samples {
				now += s.dt
				ups = append(ups, Update{Series: "s", Time: at(now), Values: []Value{s.v}, Discontinuity: s.reset})
			}
			if err := db.Update(ups); err != nil {
				t.Fatal(err)
			}
			var refused []int
			for i, u := range ups {
				if u.Refused != 0 {
					refused = append(refused, i)
				}
			}
			if !slices.Equal(refused, refusedAt[tc.name]) {
				t.Errorf("updates marked Refused %v, want %v", refused, refusedAt[tc.name])
			}
			first := t0 + tc.samples[0].dt
			got := pdps(t, db, "s", 0, first+10, now)
			for i, w := range tc.want {
				tm := first + 10*int64(i+1)
				if !same(got[tm], w) {
					t.Errorf("row at +%ds: got %v, want %v", tm-t0, got[tm], w)
				}
			}
		})
	}
}

// TestFaultsNeverAboveMax drives 32- and 64-bit counters through wraps,
// resets, bursts above the interface speed and missed polls, at irregular
// times, and checks that no row of any archive exceeds the maximum.
func TestFaultsNeverAboveMax(t *testing.T) {
	const speed = 1.25e6 // bytes/s
	for _, bits := range []int{32, 64} {
		t.Run(strconv.Itoa(bits), func(t *testing.T) {
			db := openTest(t)
			spec := Spec{Step: 10 * time.Second, DS: []DS{{Name: "in", Type: Counter, Bits: bits, Min: 0, Max: speed}},
				Archives: []Archive{{Average, 1, 500, 0.5}, {Max, 1, 500, 0.5}, {Average, 6, 100, 0.5}, {Max, 6, 100, 0.5}, {Max, 24, 30, 0.9}, {Last, 5, 30, 0.5}, {Min, 5, 30, 0.5}}}
			if err := db.Create("s", spec, at(t0)); err != nil {
				t.Fatal(err)
			}
			mod := uint64(1) << 32
			if bits == 64 {
				mod = 0
			}
			var c uint64 = mod - 5e6 // close to a 32-bit wrap
			if bits == 64 {
				c = math.MaxUint64 - 5e6
			}
			now := t0
			var ups []Update
			step := func(dt int64, rate float64, reset bool) {
				now += dt
				c += uint64(rate * float64(dt))
				if mod != 0 {
					c %= mod
				}
				ups = append(ups, Update{Series: "s", Time: at(now), Values: []Value{Uint(c)}, Discontinuity: reset})
			}
			for i := 0; i < 400; i++ {
				dt := int64(7 + i%7)
				switch {
				case i%37 == 5: // burst: exactly the speed
					step(dt, speed, false)
				case i%41 == 7: // above speed
					step(dt, speed*1.5, false)
				case i%53 == 11: // missed polls
					step(dt+40, speed/2, false)
				case i%61 == 13: // reset to zero, flagged
					now += dt
					c = 0
					ups = append(ups, Update{Series: "s", Time: at(now), Values: []Value{Uint(0)}, Discontinuity: true})
				case i%67 == 17: // reset to zero, not flagged
					now += dt
					c = 12345
					ups = append(ups, Update{Series: "s", Time: at(now), Values: []Value{Uint(c)}})
				default:
					step(dt, speed*float64(i%10)/10, false)
				}
			}
			if err := db.Update(ups); err != nil {
				t.Fatal(err)
			}
			known := 0
			for i, a := range spec.Archives {
				_, rows := archiveRows(t, db, "s", i)
				for j, r := range rows {
					if r[0] > speed || r[0] < 0 {
						t.Errorf("archive %d (%s %d) row %d: %v outside [0, %v]", i, a.CF, a.Steps, j, r[0], speed)
					}
					if !math.IsNaN(r[0]) {
						known++
					}
				}
			}
			if known < 100 {
				t.Errorf("only %d known rows; the test should store many", known)
			}
		})
	}
}

func TestUpdateErrors(t *testing.T) {
	db := openTest(t)
	nan := math.NaN()
	if err := db.Create("s", oneDSSpec(DS{Name: "in", Type: Counter, Min: nan, Max: nan}), at(t0)); err != nil {
		t.Fatal(err)
	}
	err := db.Update([]Update{
		{Series: "s", Time: at(t0 + 10), Values: []Value{Uint(1)}},
		{Series: "nope", Time: at(t0 + 10), Values: []Value{Uint(1)}},
		{Series: "s", Time: at(t0 + 10), Values: []Value{Uint(2)}},
		{Series: "s", Time: at(t0 + 20), Values: []Value{Float(1.5)}},
		{Series: "s", Time: at(t0 + 20), Values: []Value{Uint(1), Uint(2)}},
		{Series: "s", Time: at(t0 + 20), Values: []Value{Uint(101)}},
	})
	for _, want := range []error{ErrNoSeries, ErrNotAfter, ErrBadValue} {
		if !errors.Is(err, want) {
			t.Errorf("Update error %v: want it to wrap %v", err, want)
		}
	}
	// The valid updates were committed.
	got := pdps(t, db, "s", 0, t0+20, t0+20)[t0+20]
	if got != 10 {
		t.Errorf("rate after skipped updates: got %v, want 10", got)
	}
	if _, last, _ := db.Info("s"); !last.Equal(at(t0 + 20)) {
		t.Errorf("last update %v, want %v", last, at(t0+20))
	}
}

func TestCreateIdempotentAndMismatch(t *testing.T) {
	db := openTest(t)
	nan := math.NaN()
	spec := oneDSSpec(DS{Name: "in", Type: Counter, Min: 0, Max: 100})
	if err := db.Create("s", spec, at(t0)); err != nil {
		t.Fatal(err)
	}
	spec2 := oneDSSpec(DS{Name: "in", Type: Counter, Min: 0, Max: 200})
	if err := db.Create("s", spec2, at(t0+100)); err != nil {
		t.Fatalf("Create again with a new max: %v", err)
	}
	got, last, err := db.Info("s")
	if err != nil || got.DS[0].Max != 200 || !last.Equal(at(t0)) {
		t.Errorf("Info: max %v last %v err %v; want 200, %v", got.DS[0].Max, last, err, at(t0))
	}
	other := oneDSSpec(DS{Name: "in", Type: Gauge, Min: nan, Max: nan})
	if err := db.Create("s", other, at(t0)); !errors.Is(err, ErrSpecMismatch) {
		t.Errorf("Create with another type: %v, want ErrSpecMismatch", err)
	}
	if err := db.SetMax("s", 0, 50); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := db.Info("s"); got.DS[0].Max != 50 {
		t.Errorf("after SetMax: max %v, want 50", got.DS[0].Max)
	}
	// A 64-bit counter that goes backwards is unknown; after SetBits(32) a
	// 32-bit counter that goes backwards wrapped.
	for i, v := range []uint64{1<<32 - 100, 100} {
		if err := db.Update([]Update{{Series: "s", Time: at(t0 + 10*int64(i+1)), Values: []Value{Uint(v)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetBits("s", 0, 32); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := db.Info("s"); got.DS[0].Bits != 32 || got.DS[0].Max != 50 {
		t.Errorf("after SetBits: %+v, want bits 32 and max 50 kept", got.DS[0])
	}
	if err := db.Update([]Update{{Series: "s", Time: at(t0 + 30), Values: []Value{Uint(1<<32 - 50)}},
		{Series: "s", Time: at(t0 + 40), Values: []Value{Uint(250)}}}); err != nil {
		t.Fatal(err)
	}
	rates := pdps(t, db, "s", 0, t0+20, t0+40)
	if !math.IsNaN(rates[t0+20]) || rates[t0+40] != 30 {
		t.Errorf("rates %v: want unknown (64-bit reset) at %d and 30 (32-bit wrap) at %d", rates, t0+20, t0+40)
	}
	if err := db.SetBits("s", 0, 16); err == nil {
		t.Error("SetBits(16) accepted")
	}
	bad := []Spec{
		{Step: 0, DS: spec.DS, Archives: spec.Archives},
		{Step: 1500 * time.Millisecond, DS: spec.DS, Archives: spec.Archives},
		{Step: time.Second, Archives: spec.Archives},
		{Step: time.Second, DS: []DS{{Name: "x", Type: Counter}}, Archives: spec.Archives}, // max 0 = min 0
		{Step: time.Second, DS: spec.DS},
		{Step: time.Second, DS: spec.DS, Archives: []Archive{{Average, 1, 10, 1}}},
	}
	for i, b := range bad {
		if err := db.Create("bad"+strconv.Itoa(i), b, at(t0)); err == nil || !strings.Contains(err.Error(), "create series") {
			t.Errorf("bad spec %d: err %v, want a create error", i, err)
		}
	}
	names, _ := db.Series()
	if len(names) != 1 || names[0] != "s" {
		t.Errorf("Series() = %v, want [s]", names)
	}
}

// TestPersistence reopens the file and finds the same rows and state.
func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	spec := oneDSSpec(DS{Name: "in", Type: Counter, Min: nan, Max: nan})
	if err := db.CreateBatch([]string{"a", "b"}, spec, at(t0)); err != nil {
		t.Fatal(err)
	}
	if err := db.Update([]Update{{Series: "a", Time: at(t0 + 10), Values: []Value{Uint(0)}}, {Series: "b", Time: at(t0 + 10), Values: []Value{Uint(0)}}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update([]Update{{Series: "a", Time: at(t0 + 20), Values: []Value{Uint(100)}}, {Series: "b", Time: at(t0 + 20), Values: []Value{Uint(300)}}}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"a": 10, "b": 30} {
		if got := pdps(t, db, name, 0, t0+20, t0+20)[t0+20]; got != want {
			t.Errorf("%s after reopen: got %v, want %v", name, got, want)
		}
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro.db")
	if _, err := Open(path, &Options{ReadOnly: true}); err == nil {
		t.Error("read-only open of a missing file: no error")
	}
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	if err := db.Create("s", oneDSSpec(DS{Name: "g", Type: Gauge, Min: nan, Max: nan}), at(t0)); err != nil {
		t.Fatal(err)
	}
	if err := db.Update([]Update{{Series: "s", Time: at(t0 + 10), Values: []Value{Float(4)}}, {Series: "s", Time: at(t0 + 20), Values: []Value{Float(6)}}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Update([]Update{{Series: "s", Time: at(t0 + 30), Values: []Value{Float(1)}}}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Update on read-only: %v, want ErrReadOnly", err)
	}
	if err := ro.Create("x", oneDSSpec(DS{Name: "g", Type: Gauge, Min: nan, Max: nan}), at(t0)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Create on read-only: %v, want ErrReadOnly", err)
	}
	res, err := ro.Fetch("s", Average, at(t0), at(t0+20), 0)
	if err != nil || len(res.Rows) != 2 || res.Rows[1][0] != 6 {
		t.Errorf("Fetch read-only: %+v, %v; want rows [4 6]", res.Rows, err)
	}
}
