package rrd

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

// A deleted series is gone from the catalog, also after reopening; the others of its
// group keep their rows and go on; a series created again under its name starts empty.
func TestDelete(t *testing.T) {
	db := openTest(t)
	path := db.Path()
	spec := Spec{Step: 10 * time.Second, DS: []DS{{Name: "in", Type: Counter, Min: 0, Max: math.NaN()}},
		Archives: []Archive{{CF: Average, Steps: 1, Rows: 100, XFF: 0.5}}}
	names := []string{"a", "b", "c"}
	if err := db.CreateBatch(names, spec, at(t0)); err != nil {
		t.Fatal(err)
	}
	update := func(db *DB, names []string, from, to int64) {
		t.Helper()
		for s := from; s <= to; s += 10 {
			var ups []Update
			for _, n := range names {
				ups = append(ups, Update{Series: n, Time: at(s), Values: []Value{Uint(uint64(s-t0) * 100)}})
			}
			if err := db.Update(ups); err != nil {
				t.Fatal(err)
			}
		}
	}
	update(db, names, t0+10, t0+50)
	if err := db.PutMeta(map[string][]byte{"if:b": []byte("{}"), "if:a": []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Delete([]string{"b", "nope"}, nil); !errors.Is(err, ErrNoSeries) {
		t.Fatalf("delete of an unknown series: %v, want ErrNoSeries", err)
	}
	if got, _ := db.Series(); !slices.Equal(got, names) {
		t.Fatalf("a failed delete removed something: %v", got)
	}
	if err := db.Delete([]string{"b"}, map[string][]byte{"if:b": nil}); err != nil {
		t.Fatal(err)
	}
	check := func(db *DB) {
		t.Helper()
		if got, _ := db.Series(); !slices.Equal(got, []string{"a", "c"}) {
			t.Errorf("series %v, want [a c]", got)
		}
		if _, err := db.Fetch("b", Average, at(t0), at(t0+50), 0); !errors.Is(err, ErrNoSeries) {
			t.Errorf("fetch of the deleted series: %v, want ErrNoSeries", err)
		}
		if m, _ := db.Meta("if:b"); m != nil {
			t.Errorf("its meta %q is still there", m)
		}
		if m, _ := db.Meta("if:a"); m == nil {
			t.Error("another series' meta went with it")
		}
	}
	check(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	check(db)
	update(db, []string{"a", "c"}, t0+60, t0+80)
	res, err := db.Fetch("c", Average, at(t0+20), at(t0+80), 0)
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range res.Rows {
		if row[0] != 100 {
			t.Errorf("c at %v: %v, want 100/s", res.Time(r), row[0])
		}
	}
	if err := db.Create("b", spec, at(t0+80)); err != nil {
		t.Fatal(err)
	}
	res, err = db.Fetch("b", Average, at(t0+20), at(t0+80), 0)
	if err != nil {
		t.Fatal(err)
	}
	for r, row := range res.Rows {
		if !math.IsNaN(row[0]) {
			t.Errorf("b created again has %v at %v, want nothing", row[0], res.Time(r))
		}
	}
}
