package mrtgimport

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/rrd"
)

// withUnknown marks every k-th row of an MRTG log unknown (-1, as rateup writes it).
func withUnknown(text string, k int) string {
	lines := strings.Split(text, "\n")
	for i := 2; i < len(lines); i += k {
		f := strings.Fields(lines[i])
		if len(f) == 5 {
			lines[i] = f[0] + " -1 -1 -1 -1"
		}
	}
	return strings.Join(lines, "\n")
}

// importLog imports one log through ImportHistory into db as series name.
func importLog(t *testing.T, db *rrd.DB, text, name string, maxRate float64, bits int) []Imported {
	t.Helper()
	dir := t.TempDir()
	c := &Config{WorkDir: dir, Interval: 5 * time.Minute, LogFormat: "rateup"}
	tg := &Target{Name: "r_if"}
	if err := os.WriteFile(filepath.Join(dir, tg.Name+".log"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	plans := []*Plan{{Target: tg, Series: name, MaxRate: maxRate, Bits: bits}}
	ims, err := ImportHistory(context.Background(), db, c, plans, 5*time.Minute, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ims) != 1 || ims[0].Skipped != "" {
		t.Fatalf("import: %+v", ims)
	}
	return ims
}

// archives returns every row of every archive of a series: by archive and row end.
func archives(t *testing.T, db *rrd.DB, name string) map[string][]float64 {
	t.Helper()
	spec, last, err := db.Info(name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, a := range spec.Archives {
		res := time.Duration(a.Steps) * spec.Step
		end := last.Truncate(res)
		got, err := db.Fetch(name, a.CF, end.Add(-time.Duration(a.Rows)*res).Add(time.Second), end, res)
		if err != nil {
			t.Fatal(err)
		}
		if got.Step != res {
			t.Fatalf("%s of %s rows: fetched %s rows", a.CF, res, got.Step)
		}
		for i, row := range got.Rows {
			out[fmt.Sprintf("%s %s %s", a.CF, res, got.Time(i).Format(time.RFC3339))] = row
		}
	}
	return out
}

// TestImportAsReplay holds the import against the store that Replay's counter updates
// make through rrd.Update, one by one (the way imports went before rrd.Backfill): every
// row of every archive, with MRTG's unknown rows in every part of the log, 64- and 32-bit
// counters. The replayed counters are whole bytes, so the rates differ in the last
// digits, never in which rows are known.
func TestImportAsReplay(t *testing.T) {
	end := time.Date(2026, 11, 27, 8, 3, 7, 0, time.UTC)
	for _, tt := range []struct {
		name string
		text string
	}{
		{"known", synthLog(end, 300, wave)},
		{"unknown rows", withUnknown(synthLog(end, 300, wave), 37)},
	} {
		h, err := parseLog("synth.log", strings.NewReader(tt.text))
		if err != nil {
			t.Fatal(err)
		}
		for _, bits := range []int{64, 32} {
			t.Run(fmt.Sprintf("%s bits=%d", tt.name, bits), func(t *testing.T) {
				text := tt.text
				old := importOne(t, h, 1e9, bits)
				db, err := rrd.Open(filepath.Join(t.TempDir(), "s.db"), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				importLog(t, db, text, "d/i", 1e9/8, bits)
				want, got := archives(t, old, "d/i"), archives(t, db, "d/i")
				if len(got) != len(want) {
					t.Fatalf("%d rows, replayed %d", len(got), len(want))
				}
				known, bad := 0, 0
				for k, w := range want {
					g := got[k]
					for d := range w {
						ok := math.IsNaN(w[d]) == math.IsNaN(g[d]) &&
							(math.IsNaN(w[d]) || math.Abs(g[d]-w[d]) <= 0.01+1e-6*math.Abs(w[d]))
						if !ok {
							bad++
							if bad < 10 {
								t.Errorf("%s ds %d: %v, replayed %v", k, d, g[d], w[d])
							}
						}
						if !math.IsNaN(w[d]) {
							known++
						}
					}
				}
				if known < len(want) {
					t.Errorf("only %d known values in %d rows", known, len(want))
				}
				_, lo, _ := old.Info("d/i")
				_, ln, _ := db.Info("d/i")
				if !lo.Equal(ln) || !ln.Equal(h.Last) {
					t.Errorf("last update %s, replayed %s, MRTG's last reading %s", ln, lo, h.Last)
				}
				if tt.name == "known" {
					compareRows(t, db, "d/i", h, 1e9/8)
				}
				// Imported again: nothing changes, the last update included.
				if ims := importLog(t, db, text, "d/i", 1e9/8, bits); !ims[0].Merged {
					t.Errorf("second import not reported merged: %+v", ims[0])
				}
				for k, a := range archives(t, db, "d/i") {
					if !same(a, got[k]) {
						t.Errorf("second import changed row %s: %v, was %v", k, a, got[k])
					}
				}
				if _, l, _ := db.Info("d/i"); !l.Equal(ln) {
					t.Errorf("second import moved the last update from %s to %s", ln, l)
				}
			})
		}
	}
}

// TestImportMerge imports MRTG's history under a series mrtgo has polled for a while:
// the rows older than the series' own are MRTG's, every row of the series' own time
// stays as it was, and a second import changes nothing.
func TestImportMerge(t *testing.T) {
	end := time.Date(2026, 11, 27, 8, 3, 7, 0, time.UTC)
	text := synthLog(end, 300, wave)
	for _, hw := range []bool{false, true} {
		t.Run(fmt.Sprintf("holt-winters=%v", hw), func(t *testing.T) {
			db, err := rrd.Open(filepath.Join(t.TempDir(), "s.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// Polled from three days before MRTG's last run (MRTG went on meanwhile)
			// until a day after it, the way a recorder creates and feeds a series.
			step := 5 * time.Minute
			from := end.Add(-72 * time.Hour).Truncate(step)
			spec := series.Spec(step, 1e9, 64)
			if hw {
				spec.HoltWinters = rrd.DefaultHoltWinters(step)
			}
			if err := db.Create("d/i", spec, from.Add(-step)); err != nil {
				t.Fatal(err)
			}
			var ups []rrd.Update
			c := uint64(1 << 50)
			for at := from; !at.After(end.Add(24 * time.Hour)); at = at.Add(step) {
				ups = append(ups, rrd.Update{Series: "d/i", Time: at, Values: []rrd.Value{rrd.Uint(c), rrd.Uint(c / 3)}})
				c += 3_000_000 * 300
			}
			if err := db.Update(ups); err != nil {
				t.Fatal(err)
			}
			before := archives(t, db, "d/i")
			_, last, _ := db.Info("d/i")
			if ims := importLog(t, db, text, "d/i", 1e9/8, 64); !ims[0].Merged {
				t.Errorf("import under a polled series: %+v, want it reported merged", ims[0])
			}
			after := archives(t, db, "d/i")
			// MRTG's rows alone, for the older rows.
			alone, err := rrd.Open(filepath.Join(t.TempDir(), "alone.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer alone.Close()
			if ims := importLog(t, alone, text, "d/i", 1e9/8, 64); ims[0].Merged {
				t.Errorf("import into a new series reported merged")
			}
			mrtg := archives(t, alone, "d/i")
			rowTimes := func(k string) (start, end time.Time) {
				f := strings.Fields(k)
				end, _ = time.Parse(time.RFC3339, f[2])
				res, _ := time.ParseDuration(f[1])
				return end.Add(-res), end
			}
			// The start of the series' oldest known row, in any archive.
			oldest := last
			for k, b := range before {
				if start, _ := rowTimes(k); !math.IsNaN(b[0]) && start.Before(oldest) {
					oldest = start
				}
			}
			if oldest.After(from) || oldest.Before(from.Add(-24*time.Hour)) {
				t.Fatalf("oldest known row starts %s; polling began %s", oldest, from)
			}
			older, own := 0, 0
			for k, b := range before {
				a := after[k]
				if _, end := rowTimes(k); end.After(oldest) {
					if !same(a, b) {
						t.Errorf("own row %s changed: %v, was %v", k, a, b)
					}
					own++
					continue
				}
				m, ok := mrtg[k]
				if !ok || !same(a, m) {
					t.Errorf("older row %s = %v, MRTG's history alone gives %v", k, a, m)
				}
				if !math.IsNaN(a[0]) {
					older++
				}
			}
			if older < 1000 || own < 1000 {
				t.Errorf("%d older rows from MRTG, %d own rows kept: want both", older, own)
			}
			if _, l, _ := db.Info("d/i"); !l.Equal(last) {
				t.Errorf("last update moved from %s to %s", last, l)
			}
			importLog(t, db, text, "d/i", 1e9/8, 64)
			for k, a := range archives(t, db, "d/i") {
				if !same(a, after[k]) {
					t.Errorf("second import changed row %s: %v, was %v", k, a, after[k])
				}
			}
		})
	}
}

func same(a, b []float64) bool {
	for d := range a {
		if math.Float64bits(a[d]) != math.Float64bits(b[d]) && !(math.IsNaN(a[d]) && math.IsNaN(b[d])) {
			return false
		}
	}
	return true
}

// TestImportSkips: a series of another step than the import's is left alone, and of two
// targets naming one series only the first fills it; both say why.
func TestImportSkips(t *testing.T) {
	end := time.Date(2026, 11, 27, 8, 3, 7, 0, time.UTC)
	text := synthLog(end, 10, wave)
	dir := t.TempDir()
	c := &Config{WorkDir: dir, Interval: 5 * time.Minute, LogFormat: "rateup"}
	var plans []*Plan
	for i, s := range []string{"r/minute", "r/twice", "r/twice"} {
		tg := &Target{Name: fmt.Sprintf("r_if%d", i)}
		if err := os.WriteFile(filepath.Join(dir, tg.Name+".log"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		plans = append(plans, &Plan{Target: tg, Series: s, MaxRate: 1.25e8, Bits: 64})
	}
	db, err := rrd.Open(filepath.Join(dir, "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Create("r/minute", series.Spec(time.Minute, 1e9, 64), end); err != nil {
		t.Fatal(err)
	}
	ims, err := ImportHistory(context.Background(), db, c, plans, 5*time.Minute, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"series r/minute has a step of 1m0s, the targets file 5m0s", "", "series r/twice takes the history of Target[r_if1]"}
	for i, im := range ims {
		if im.Skipped != want[i] {
			t.Errorf("target %d: skipped %q, want %q", i, im.Skipped, want[i])
		}
	}
	if res, err := db.Fetch("r/minute", rrd.Average, end.Add(-time.Hour), end, 0); err != nil || len(res.Rows) == 0 || !math.IsNaN(res.Rows[0][0]) {
		t.Errorf("series of another step: %v %v, want it untouched", res.Rows, err)
	}
}

// TestImportHoltWintersNewer imports a history reaching past the last update of a series
// with Holt-Winters detectors (mrtgo polled it, then stopped while MRTG went on): the
// older rows are MRTG's, the series' last update stays where it was, and the import
// is no error.
func TestImportHoltWintersNewer(t *testing.T) {
	end := time.Date(2026, 11, 27, 8, 3, 7, 0, time.UTC)
	text := synthLog(end, 300, wave)
	db, err := rrd.Open(filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	step := 5 * time.Minute
	from := end.Add(-72 * time.Hour).Truncate(step)
	spec := series.Spec(step, 1e9, 64)
	spec.HoltWinters = rrd.DefaultHoltWinters(step)
	if err := db.Create("d/i", spec, from.Add(-step)); err != nil {
		t.Fatal(err)
	}
	var ups []rrd.Update
	c := uint64(1 << 50)
	for at := from; at.Before(end.Add(-24 * time.Hour)); at = at.Add(step) {
		ups = append(ups, rrd.Update{Series: "d/i", Time: at, Values: []rrd.Value{rrd.Uint(c), rrd.Uint(c / 3)}})
		c += 3_000_000 * 300
	}
	if err := db.Update(ups); err != nil {
		t.Fatal(err)
	}
	_, last, _ := db.Info("d/i")
	importLog(t, db, text, "d/i", 1e9/8, 64)
	if _, l, _ := db.Info("d/i"); !l.Equal(last) {
		t.Errorf("last update moved from %s to %s", last, l)
	}
	res, err := db.Fetch("d/i", rrd.Average, from.Add(-20*24*time.Hour), from.Add(-19*24*time.Hour), 24*time.Hour)
	if err != nil || len(res.Rows) == 0 || math.IsNaN(res.Rows[0][0]) {
		t.Errorf("daily row three weeks before the polling: %v %v, want MRTG's", res.Rows, err)
	}
}
