package mrtgimport

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/rrd"
)

// TestImportHistoryProgress checks the progress callback: counts that never go back,
// ending at the number of targets with a series, whether targets are imported, skipped
// for a missing file, or skipped because the store already has their span, and across
// more than one group of replays.
func TestImportHistoryProgress(t *testing.T) {
	end := time.Date(2026, 11, 27, 8, 3, 7, 0, time.UTC)
	text := synthLog(end, 3, wave)
	tests := []struct {
		name    string
		n       int // targets with a log
		missing int // targets without one
		noSer   int // targets without a series (not counted)
		twice   bool
	}{
		{name: "three", n: 3},
		{name: "missing files", n: 2, missing: 2, noSer: 1},
		{name: "more than a group", n: group + 3},
		{name: "imported twice", n: 3, twice: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := &Config{WorkDir: dir, Interval: 5 * time.Minute, LogFormat: "rateup"}
			var plans []*Plan
			for i := range tt.n + tt.missing + tt.noSer {
				tg := &Target{Name: fmt.Sprintf("r_if%d", i)}
				p := &Plan{Target: tg, Series: fmt.Sprintf("r/if%d", i), MaxRate: 1.25e8, Bits: 64}
				switch {
				case i < tt.n:
					if err := os.WriteFile(filepath.Join(dir, tg.Name+".log"), []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
				case i >= tt.n+tt.missing:
					p.Series = ""
				}
				plans = append(plans, p)
			}
			db, err := rrd.Open(filepath.Join(dir, "s.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			runs := 1
			if tt.twice {
				runs = 2
			}
			for run := range runs {
				var calls [][2]int
				_, err := ImportHistory(context.Background(), db, c, plans, 5*time.Minute, slog.New(slog.DiscardHandler),
					func(done, total int) { calls = append(calls, [2]int{done, total}) })
				if err != nil {
					t.Fatal(err)
				}
				want := tt.n + tt.missing
				if len(calls) == 0 {
					t.Fatalf("run %d: no progress calls", run)
				}
				for i, c := range calls {
					if c[1] != want {
						t.Fatalf("run %d: call %d total = %d, want %d", run, i, c[1], want)
					}
					if c[0] < 0 || c[0] > want || (i > 0 && c[0] < calls[i-1][0]) {
						t.Fatalf("run %d: done counts %v: want them growing from 0 to %d", run, calls, want)
					}
				}
				if last := calls[len(calls)-1]; last[0] != want {
					t.Errorf("run %d: last call done = %d, want %d", run, last[0], want)
				}
			}
		})
	}
}
