package rrd

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestLastUpdates(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec := Spec{Step: 300 * time.Second, DS: []DS{{Name: "in", Type: Gauge, Min: 0, Max: 1e9}},
		Archives: []Archive{{CF: Average, Steps: 1, Rows: 10, XFF: 0.5}}}
	start := time.Unix(1764400000, 0).UTC()
	for _, n := range []string{"a", "b"} {
		if err := db.Create(n, spec, start); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Update([]Update{{Series: "a", Time: start.Add(450 * time.Second), Values: []Value{Float(1)}}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.LastUpdates([]string{"b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].Equal(start) || !got[1].Equal(start.Add(450*time.Second)) {
		t.Errorf("LastUpdates = %v", got)
	}
	for i, n := range []string{"b", "a"} {
		_, last, _ := db.Info(n)
		if !last.Equal(got[i]) {
			t.Errorf("%s: LastUpdates %v, Info %v", n, got[i], last)
		}
	}
	if _, err := db.LastUpdates([]string{"a", "none"}); !errors.Is(err, ErrNoSeries) {
		t.Errorf("unknown series: %v", err)
	}
}
