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

// Layout lays rows out as Fetch returns them.
func TestLayoutIsFetch(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	step := 300 * time.Second
	spec := Spec{Step: step, DS: []DS{{Name: "in", Type: Gauge, Min: 0, Max: 1e9}},
		Archives: []Archive{{CF: Average, Steps: 1, Rows: 288}, {CF: Max, Steps: 1, Rows: 288},
			{CF: Average, Steps: 6, Rows: 400}, {CF: Max, Steps: 6, Rows: 400}, {CF: Average, Steps: 288, Rows: 800}}}
	start := time.Unix(1764400000, 0).UTC()
	if err := db.Create("a", spec, start); err != nil {
		t.Fatal(err)
	}
	var ups []Update
	for k := 1; k < 400; k++ {
		ups = append(ups, Update{Series: "a", Time: start.Add(time.Duration(k) * step), Values: []Value{Float(float64(k))}})
	}
	if err := db.Update(ups); err != nil {
		t.Fatal(err)
	}
	_, last, _ := db.Info("a")
	for _, q := range []struct {
		cf         CF
		from, to   time.Duration // before last
		resolution time.Duration
	}{{Average, 24 * time.Hour, 0, step}, {Max, 7 * 24 * time.Hour, 0, 30 * time.Minute}, {Average, 30 * 24 * time.Hour, time.Hour, 2 * time.Hour},
		{Average, 3 * time.Hour, 7 * time.Minute, 0}, {Max, 400 * 24 * time.Hour, 0, 24 * time.Hour}} {
		from, to := last.Add(-q.from), last.Add(-q.to+1500*time.Millisecond)
		res, err := db.Fetch("a", q.cf, from, to, q.resolution)
		if err != nil {
			t.Fatal(err)
		}
		_, row, first, n := spec.Layout(q.cf, from, to, q.resolution, last)
		if row != res.Step || !first.Equal(res.Time(0)) || n != len(res.Rows) {
			t.Errorf("%v from %v to %v at %v: Layout gives %d rows of %v from %v, Fetch %d of %v from %v",
				q.cf, from, to, q.resolution, n, row, first, len(res.Rows), res.Step, res.Time(0))
		}
	}
}
