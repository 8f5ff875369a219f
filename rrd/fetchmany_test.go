package rrd

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFetchMany checks that FetchMany returns exactly what Fetch returns for
// each series, across chunks, groups, series updated at different times and
// ranges that wrap the ring or fall outside what is stored.
func TestFetchMany(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "m.db"), &Options{noSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	step := time.Minute
	small := Spec{Step: step, DS: []DS{
		{Name: "in", Type: Counter, Min: 0, Max: 1e9},
		{Name: "out", Type: Gauge, Min: 0, Max: 1e9},
	}, Archives: []Archive{{CF: Average, Steps: 1, Rows: 30}, {CF: Average, Steps: 5, Rows: 10}, {CF: Max, Steps: 5, Rows: 10}}}
	other := small
	other.Archives = []Archive{{CF: Average, Steps: 1, Rows: 20}, {CF: Max, Steps: 3, Rows: 10}}
	t0 := time.Unix(1700000000, 0)
	// More than one chunk of the first group, and a second group.
	names := make([]string, chunkCols+40)
	for i := range names {
		names[i] = fmt.Sprintf("a%d", i)
	}
	if err := db.CreateBatch(names, small, t0); err != nil {
		t.Fatal(err)
	}
	others := []string{"b0", "b1", "b2"}
	if err := db.CreateBatch(others, other, t0); err != nil {
		t.Fatal(err)
	}
	all := append(append([]string(nil), names...), others...)
	// 50 steps, so the 30-row ring wraps; every seventh series stops early.
	for k := 1; k <= 50; k++ {
		var ups []Update
		for i, n := range all {
			if i%7 == 3 && k > 35 {
				continue
			}
			tm := t0.Add(time.Duration(k)*step + time.Duration(i%13)*time.Second)
			ups = append(ups, Update{Series: n, Time: tm, Values: []Value{Uint(uint64(k * (i + 1) * 1000)), Float(float64(k%9) * float64(i+1))}})
		}
		if err := db.Update(ups); err != nil {
			t.Fatal(err)
		}
	}
	end := t0.Add(50 * step)
	pick := []string{"a5", "b1", "a1030", "a0", "a3", "a1063", "b2", "a1024", "a1023", "a10"}
	tests := []struct {
		name       string
		cf         CF
		start, end time.Time
		res        time.Duration
	}{
		{"ring", Average, end.Add(-25 * step), end, 0},
		{"ring, later", Average, end.Add(-20 * step), end.Add(5 * step), 0}, // as many rows: FetchManyInto reuses the ring's
		{"ring beyond stored", Average, end.Add(-45 * step), end.Add(3 * step), 0},
		{"average", Average, end.Add(-45 * step), end, 5 * step},
		{"max", Max, end.Add(-40 * step), end.Add(-7 * step), 5 * step},
		{"unaligned", Average, end.Add(-1234 * time.Second), end.Add(-17 * time.Second), 0},
		{"future", Average, end.Add(time.Hour), end.Add(2 * time.Hour), 0},
	}
	// FetchManyInto fills one dst through every case, twice over: rows of
	// another shape are replaced, rows of the same shape overwritten, stale
	// values included (the "future" case must come out all unknown).
	var dst []Result
	into := func(names []string, cf CF, start, end time.Time, res time.Duration) ([]Result, error) {
		var err error
		dst, err = db.FetchManyInto(dst, names, cf, start, end, res)
		return dst, err
	}
	var runs []struct {
		name  string
		fetch func([]string, CF, time.Time, time.Time, time.Duration) ([]Result, error)
	}
	for _, name := range []string{"FetchMany", "FetchManyInto", "FetchManyInto again"} {
		f := into
		if name == "FetchMany" {
			f = db.FetchMany
		}
		for range tests {
			runs = append(runs, struct {
				name  string
				fetch func([]string, CF, time.Time, time.Time, time.Duration) ([]Result, error)
			}{name, f})
		}
	}
	// FetchInto fills one Result per series through every run, the same way.
	single := make([]Result, len(pick))
	for k, run := range runs {
		tc := tests[k%len(tests)]
		tc.name = run.name + " " + tc.name
		got, err := run.fetch(pick, tc.cf, tc.start, tc.end, tc.res)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) != len(pick) {
			t.Fatalf("%s: got %d results, want %d", tc.name, len(got), len(pick))
		}
		for i, n := range pick {
			want, err := db.Fetch(n, tc.cf, tc.start, tc.end, tc.res)
			if err != nil {
				t.Fatalf("%s: fetch %s: %v", tc.name, n, err)
			}
			if single[i], err = db.FetchInto(single[i], n, tc.cf, tc.start, tc.end, tc.res); err != nil {
				t.Fatalf("%s: fetch into %s: %v", tc.name, n, err)
			}
			for _, g := range []struct {
				how string
				Result
			}{{"", got[i]}, {" (FetchInto)", single[i]}} {
				if !g.Start.Equal(want.Start) || g.Step != want.Step || len(g.Rows) != len(want.Rows) || fmt.Sprint(g.DS) != fmt.Sprint(want.DS) {
					t.Errorf("%s %s%s: got start %v step %v %d rows %v, want %v %v %d %v", tc.name, n, g.how, g.Start, g.Step, len(g.Rows), g.DS, want.Start, want.Step, len(want.Rows), want.DS)
					continue
				}
				known := 0
				for r := range want.Rows {
					for d := range want.Rows[r] {
						if !same(g.Rows[r][d], want.Rows[r][d]) {
							t.Errorf("%s %s%s: row %d ds %d: got %v, want %v", tc.name, n, g.how, r, d, g.Rows[r][d], want.Rows[r][d])
						}
						if want.Rows[r][d] == want.Rows[r][d] {
							known++
						}
					}
				}
				if !strings.HasSuffix(tc.name, "future") && known == 0 {
					t.Errorf("%s %s%s: no known values: the test checks nothing", tc.name, n, g.how)
				}
			}
		}
	}
	// FetchInto reuses rows of the same shape too.
	one, err := db.FetchInto(Result{}, "a5", Average, end.Add(-25*step), end, 0)
	if err != nil {
		t.Fatal(err)
	}
	oneRow := &one.Rows[0][0]
	if one, err = db.FetchInto(one, "a6", Average, end.Add(-25*step), end, 0); err != nil || &one.Rows[0][0] != oneRow {
		t.Errorf("FetchInto with rows of the same shape: %v; rows reused: %v", err, err == nil && &one.Rows[0][0] == oneRow)
	}
	// Rows of the same shape are reused, not allocated again.
	first, err := db.FetchManyInto(nil, pick, Average, end.Add(-25*step), end, 0)
	if err != nil {
		t.Fatal(err)
	}
	row0 := &first[0].Rows[0][0]
	again, err := db.FetchManyInto(first, pick[:3], Average, end.Add(-25*step), end, 0)
	if err != nil || len(again) != 3 || &again[0].Rows[0][0] != row0 {
		t.Errorf("FetchManyInto with rows of the same shape: %d results, %v; rows reused: %v", len(again), err, err == nil && len(again) > 0 && &again[0].Rows[0][0] == row0)
	}
	if _, err := db.FetchMany([]string{"a1", "nope"}, Average, end.Add(-time.Hour), end, 0); !errors.Is(err, ErrNoSeries) {
		t.Errorf("unknown series: got %v, want ErrNoSeries", err)
	}
	if _, err := db.FetchMany([]string{"a1"}, Average, end, end, 0); err == nil {
		t.Errorf("empty range: got no error")
	}
}
