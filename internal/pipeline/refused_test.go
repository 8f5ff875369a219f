package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/web"
)

// A rate above the interface speed is stored as unknown and counted: by the cycle that
// saw it (for /metrics) and in the store across processes (for the pages and serve).
func TestRefusedAboveSpeed(t *testing.T) {
	for _, cron := range []bool{true, false} {
		t.Run(map[bool]string{true: "cron", false: "daemon"}[cron], func(t *testing.T) { testRefused(t, cron) })
	}
}

// testRefused runs the cycles with a new Recorder each (cron) or one for all (daemon).
func testRefused(t *testing.T, cron bool) {
	db := openDB(t)
	step := time.Minute
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	const speed = 10e6 // net-snmp's lo: 10 Mb/s
	in := uint64(0)
	// 5 Mb/s, then 3 steps at 50 Mb/s in (out stays at 1 Mb/s), then 5 Mb/s again.
	rates := []uint64{5e6, 5e6, 50e6, 50e6, 50e6, 5e6}
	var lastRefused [][]Refused
	rec := NewRecorder(db, step, nil, quiet)
	for i := 0; i <= len(rates); i++ {
		if cron {
			rec = NewRecorder(db, step, nil, quiet)
		}
		if i > 0 {
			in += rates[i-1] / 8 * 60
		}
		s := sample("lo-host", "lo", t0.Add(time.Duration(i)*step), in, uint64(i)*1e6/8*60, speed)
		if err := rec.Record([]poller.Result{{Device: "lo-host", Samples: []poller.Sample{s}}}); err != nil {
			t.Fatal(err)
		}
		lastRefused = append(lastRefused, rec.LastRefused())
	}
	for i, r := range lastRefused {
		want := 0
		if i >= 3 && i <= 5 {
			want = 1
		}
		if len(r) != want || want == 1 && (r[0].Direction != "in" || r[0].Series != series.Name("lo-host", "lo")) {
			t.Errorf("cycle %d: LastRefused %v, want %d refusal of lo-host/lo in", i, r, want)
		}
	}
	rf, err := RefusalsOf(db, series.Name("lo-host", "lo"))
	if err != nil {
		t.Fatal(err)
	}
	if rf.In != 3 || rf.Out != 0 || !rf.First.Equal(t0.Add(3*step)) || !rf.Last.Equal(t0.Add(5*step)) {
		t.Errorf("refusals %+v, want 3 in, 0 out, first at +3m, last at +5m", rf)
	}

	dir := t.TempDir()
	pub := &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: func() time.Time { return t0.Add(7 * step) }}
	if _, err := pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, web.InterfacePage("lo-host", "lo")))
	if err != nil {
		t.Fatal(err)
	}
	want := "3 steps in and 0 out were faster than 10 Mb/s and are stored as unknown (the last ended 2026-11-02 10:05:00 UTC)"
	if !strings.Contains(string(page), want) {
		t.Errorf("interface page lacks %q", want)
	}
}
