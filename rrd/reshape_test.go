package rrd

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// feed sends the same stream to every named series.
func feed(t *testing.T, db *DB, names []string, stream []oracleUp) {
	t.Helper()
	var ups []Update
	for _, u := range stream {
		for _, n := range names {
			ups = append(ups, Update{Series: n, Time: at(u.t), Values: u.vals})
		}
	}
	if err := db.Update(ups); err != nil {
		t.Fatal(err)
	}
}

func TestReshapeKeepsHistory(t *testing.T) {
	nan := math.NaN()
	ds := []DS{{Name: "in", Type: Counter, Min: 0, Max: 2000}, {Name: "out", Type: Gauge, Min: nan, Max: nan}}
	step := 10 * time.Second
	// The old shape keeps every primary data point of the stream, so the
	// reshaped series must equal one created with the new shape.
	long := Spec{Step: step, DS: ds, Archives: []Archive{{Average, 1, 3000, 0.5}, {Max, 6, 50, 0.5}}}
	next := Spec{Step: step, DS: ds, Archives: []Archive{{Average, 1, 2500, 0.5}, {Max, 6, 300, 0.5}, {Average, 12, 100, 0.3}, {Min, 4, 200, 0.5}, {Last, 5, 100, 0.5}}}
	// The old shape keeps only coarse rows for most of the stream: those
	// must come from its six-step AVERAGE rows.
	short := Spec{Step: step, DS: ds, Archives: []Archive{{Average, 1, 100, 0.5}, {Average, 6, 400, 0.5}, {Max, 6, 400, 0.5}}}
	coarse := Spec{Step: step, DS: ds, Archives: []Archive{{Average, 1, 200, 0.5}, {Average, 12, 200, 0.5}, {Max, 18, 100, 0.5}}}

	r := rand.New(rand.NewPCG(3, 3))
	stream := randStream(r, long, t0, 2000, false, false)
	more := randStream(r, long, stream[len(stream)-1].t, 200, false, false)
	// randStream starts counters afresh: continue them from the stream.
	for i := range more {
		for d := range more[i].vals {
			if !more[i].vals[d].IsUnknown() && ds[d].Type == Counter {
				more[i].vals[d] = Uint(more[i].vals[d].bits + (1 << 41))
			}
		}
	}

	// Consolidated rows combine exactly only when none of their primary
	// data points is unknown: a steady stream for that case.
	var steady []oracleUp
	for i := int64(1); i <= 2000; i++ {
		rate := float64(100 + (i*37)%900)
		steady = append(steady, oracleUp{t: t0 + 10*i, vals: []Value{Uint(uint64(i * 5000)), Float(rate)}})
	}
	steadyMore := []oracleUp{}
	for i := int64(2001); i <= 2200; i++ {
		steadyMore = append(steadyMore, oracleUp{t: t0 + 10*i, vals: []Value{Uint(uint64(i * 5000)), Float(float64(i % 300))}})
	}

	tests := []struct {
		name          string
		from, to      Spec
		stream, after []oracleUp
		// Rows starting before this are not compared: rebuilt from coarse
		// rows, the first rows of a series count unknowns by whole rows.
		from0 int64
	}{
		{"from primary data points", long, next, stream, more, 0},
		{"from consolidated rows", short, coarse, steady, steadyMore, t0 + 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t)
			if err := db.Create("old", tc.from, at(t0)); err != nil {
				t.Fatal(err)
			}
			if err := db.Create("fresh", tc.to, at(t0)); err != nil {
				t.Fatal(err)
			}
			feed(t, db, []string{"old", "fresh"}, tc.stream)
			if err := db.Reshape("old", tc.to); err != nil {
				t.Fatal(err)
			}
			got, _, err := db.Info("old")
			if err != nil || len(got.Archives) != len(tc.to.Archives) {
				t.Fatalf("Info after reshape: %+v, %v", got, err)
			}
			feed(t, db, []string{"old", "fresh"}, tc.after)
			known := 0
			for i, a := range tc.to.Archives {
				_, want := archiveRows(t, db, "fresh", i)
				times, rows := archiveRows(t, db, "old", i)
				for j := range rows {
					if times[j]-int64(a.Steps)*10 < tc.from0 {
						continue
					}
					for d := range rows[j] {
						w := want[j][d]
						if !within(rows[j][d], w, 2000) {
							t.Errorf("archive %d (%s %d) row %s ds %d: reshaped %v, fresh %v", i, a.CF, a.Steps, at(times[j]).Format(time.TimeOnly), d, rows[j][d], w)
						}
						if !math.IsNaN(w) {
							known++
						}
					}
				}
			}
			if known < 500 {
				t.Errorf("only %d known rows compared", known)
			}
		})
	}
}

func TestReshapeRejects(t *testing.T) {
	db := openTest(t)
	nan := math.NaN()
	spec := oneDSSpec(DS{Name: "in", Type: Counter, Min: nan, Max: nan})
	if err := db.Create("s", spec, at(t0)); err != nil {
		t.Fatal(err)
	}
	other := spec
	other.Step = 20 * time.Second
	if err := db.Reshape("s", other); !errors.Is(err, ErrSpecMismatch) {
		t.Errorf("reshape to another step: %v, want ErrSpecMismatch", err)
	}
	if err := db.Reshape("nope", spec); !errors.Is(err, ErrNoSeries) {
		t.Errorf("reshape of a missing series: %v, want ErrNoSeries", err)
	}
	// Bounds only: stays in place.
	spec.DS = []DS{{Name: "in", Type: Counter, Min: 0, Max: 10}}
	if err := db.Reshape("s", spec); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := db.Info("s"); got.DS[0].Max != 10 {
		t.Errorf("max after reshape: %v, want 10", got.DS[0].Max)
	}
}
