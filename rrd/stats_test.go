package rrd

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	ramp := make([]float64, 100)
	for i := range ramp {
		ramp[i] = float64(i + 1) // 1..100
	}
	tests := []struct {
		name   string
		values []float64
		step   time.Duration
		want   Stats
	}{
		{"empty", nil, time.Minute, Stats{nan, nan, nan, nan, nan}},
		{"all unknown", []float64{nan, nan}, time.Minute, Stats{nan, nan, nan, nan, nan}},
		{"one value", []float64{nan, 5, nan}, 10 * time.Second, Stats{Max: 5, Average: 5, Current: 5, P95: 5, Total: 50}},
		// nearest rank: the 95th of 1..100 is 95; a 5-minute step: total = sum × 300 s
		{"ramp", ramp, 5 * time.Minute, Stats{Max: 100, Average: 50.5, Current: 100, P95: 95, Total: 5050 * 300}},
		{"unknowns ignored", []float64{1, nan, 3, nan}, time.Second, Stats{Max: 3, Average: 2, Current: 3, P95: 3, Total: 4}},
		// 20 values: rank ceil(19) = 19th smallest
		{"twenty", append(make([]float64, 18), 10, 20), time.Second, Stats{Max: 20, Average: 1.5, Current: 20, P95: 10, Total: 30}},
	}
	for _, tc := range tests {
		got := Summarize(tc.values, tc.step)
		g := []float64{got.Max, got.Average, got.Current, got.P95, got.Total}
		w := []float64{tc.want.Max, tc.want.Average, tc.want.Current, tc.want.P95, tc.want.Total}
		for i := range g {
			if !same(g[i], w[i]) {
				t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
				break
			}
		}
	}
}

func TestDefaultArchives(t *testing.T) {
	as := DefaultArchives(5 * time.Minute)
	want := []Archive{
		{Average, 1, 8928, 0.5}, {Max, 1, 8928, 0.5},
		{Average, 6, 800, 0.5}, {Max, 6, 800, 0.5},
		{Average, 24, 800, 0.5}, {Max, 24, 800, 0.5},
		{Average, 288, 800, 0.5}, {Max, 288, 800, 0.5},
	}
	if len(as) != len(want) {
		t.Fatalf("got %v, want %v", as, want)
	}
	for i := range as {
		if as[i] != want[i] {
			t.Errorf("archive %d: got %+v, want %+v", i, as[i], want[i])
		}
	}
	// A shorter step keeps the spans: 31 days and 800 days of days.
	short := DefaultArchives(time.Minute)
	if short[0].Rows != 31*24*60 || short[6].Rows*288 < 800*24*60/1 {
		t.Errorf("1-minute archives %+v do not keep the spans", short)
	}
}

// TestFetchPicksArchive checks Fetch's choice on the default retention.
func TestFetchPicksArchive(t *testing.T) {
	db := openTest(t)
	spec := benchSpec()
	start := at(t0 - 900*86400)
	if err := db.Create("s", spec, start); err != nil {
		t.Fatal(err)
	}
	end := at(t0)
	if err := db.Update([]Update{{Series: "s", Time: end, Values: []Value{Uint(0), Uint(0)}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		span time.Duration
		res  time.Duration
		cf   CF
		want time.Duration
	}{
		{24 * time.Hour, 0, Average, 5 * time.Minute},
		{24 * time.Hour, 0, Max, 5 * time.Minute}, // one-step rows serve MAX
		{7 * 24 * time.Hour, 30 * time.Minute, Average, 30 * time.Minute},
		{31 * 24 * time.Hour, 2 * time.Hour, Max, 2 * time.Hour},
		{40 * 24 * time.Hour, 0, Average, 2 * time.Hour}, // finest archive covering the range
		{365 * 24 * time.Hour, 24 * time.Hour, Average, 24 * time.Hour},
		{2000 * 24 * time.Hour, 0, Average, 24 * time.Hour}, // none covers: the one covering most
	}
	for _, tc := range tests {
		res, err := db.Fetch("s", tc.cf, end.Add(-tc.span), end, tc.res)
		if err != nil {
			t.Fatal(err)
		}
		if res.Step != tc.want {
			t.Errorf("span %v resolution %v %s: step %v, want %v", tc.span, tc.res, tc.cf, res.Step, tc.want)
		}
	}
	if _, err := db.Fetch("nope", Average, start, end, 0); err == nil {
		t.Error("Fetch of a missing series: no error")
	}
}

// TestNthSmallest checks the selection behind P95 against sorting, on data
// with many ties, sorted and reversed runs and random values.
func TestNthSmallest(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	gens := map[string]func(i, n int) float64{
		"random":   func(i, n int) float64 { return r.Float64() * 1e9 },
		"ties":     func(i, n int) float64 { return float64(r.IntN(3)) },
		"sorted":   func(i, n int) float64 { return float64(i) },
		"reversed": func(i, n int) float64 { return float64(n - i) },
		"constant": func(i, n int) float64 { return 42 },
		"zigzag":   func(i, n int) float64 { return float64(i%2*n + i) },
	}
	for name, gen := range gens {
		for _, n := range []int{1, 2, 3, 5, 17, 100, 1001, 8928} {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = gen(i, n)
			}
			sorted := slices.Clone(xs)
			slices.Sort(sorted)
			for _, k := range []int{0, n / 2, int(math.Ceil(0.95*float64(n))) - 1, n - 1} {
				if got, want := nthSmallest(slices.Clone(xs), k), sorted[k]; got != want {
					t.Errorf("%s n=%d k=%d: got %v, want %v", name, n, k, got, want)
				}
			}
		}
	}
}
