package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
)

// siteFileInfos returns the FileInfo of every file under dir but the hidden ones (the
// render state, spares), by relative path: os.SameFile on two of them, one publish
// apart, tells whether a file was replaced (every write is a rename onto it, of a
// new file or of its spare: another inode) or left alone.
func siteFileInfos(t *testing.T, dir string) map[string]os.FileInfo {
	t.Helper()
	infos := map[string]os.FileInfo{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		fi, err := os.Stat(p)
		rel, _ := filepath.Rel(dir, p)
		infos[filepath.ToSlash(rel)] = fi
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return infos
}

// Step after step, an incremental Publish leaves the site exactly as a full Publish
// into an empty directory at the same time writes it: every graph and every page
// byte for byte, but for the generation time of a page it left alone (which keeps
// the time its content last changed). It replaces only the graphs whose period has
// a new row and the pages whose numbers moved: the day graphs every step, the week
// graphs every sixth, the interface and device pages every step, the index never.
// The rates follow a daily rhythm, so a graph or number kept from an earlier step
// would differ from one drawn now if its period had moved on.
func TestIncrementalEqualsFull(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	ifaces := []string{"ge-0/0/0", "ge-0/0/1", "ge-0/0/10"}
	counters := map[string][2]uint64{}
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	history(t, rec, "r1", ifaces, t0.Add(-9*24*time.Hour), t0, step, counters, rhythm)

	dir := t.TempDir()
	now := t0.Add(10 * time.Second)
	clock := func() time.Time { return now }
	pub := &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: clock}
	if _, err := pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	stamp := regexp.MustCompile(`Generated [^<]* by `)
	last := t0
	// Seven steps: the sixth, to 12:30, begins a row of the week graph.
	for k := 1; k <= 7; k++ {
		before, beforeContent := siteFileInfos(t, dir), readSite(t, dir)
		end := t0.Add(time.Duration(k) * step)
		history(t, rec, "r1", ifaces, end.Add(-step), end, step, counters, rhythm)
		prevNow, prevLast := now, last
		now, last = now.Add(step), end
		st, err := pub.Publish(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		moved := map[string]bool{} // periods with a new row
		for _, p := range render.Periods {
			res := p.ResolutionFor(step)
			moved[p.String()] = !prevNow.Truncate(res).Equal(now.Truncate(res)) || !prevLast.Truncate(res).Equal(last.Truncate(res))
		}
		drawn := 0
		for _, m := range moved {
			if m {
				drawn += len(ifaces)
			}
		}
		if st.Drawn != drawn {
			t.Errorf("step to %s: drew %d graphs, want %d (periods moved: %v)", end.Format("15:04"), st.Drawn, drawn, moved)
		}

		full := &Publisher{DB: db, Dir: t.TempDir(), Location: time.UTC, Step: step, Log: quiet, Now: clock}
		if _, err := full.Publish(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, want, after := readSite(t, dir), readSite(t, full.Dir), siteFileInfos(t, dir)
		if len(got) != len(want) {
			t.Errorf("step to %s: incremental site has %d files, full %d", end.Format("15:04"), len(got), len(want))
		}
		for rel, w := range want {
			g, ok := got[rel]
			if !ok {
				t.Errorf("step to %s: incremental site lacks %s", end.Format("15:04"), rel)
				continue
			}
			skipped := before[rel] != nil && os.SameFile(before[rel], after[rel])
			if skipped && strings.HasSuffix(rel, ".html") {
				g, w = stamp.ReplaceAllString(g, "Generated … by "), stamp.ReplaceAllString(w, "Generated … by ")
			}
			if g != w {
				t.Errorf("step to %s: %s (left alone: %v) differs from the full publish's", end.Format("15:04"), rel, skipped)
			}

			// What was replaced: the graphs of the periods that moved, and the pages
			// whose content changed.
			wantSkipped := rel == "index.html"
			if strings.HasSuffix(rel, ".png") {
				period := strings.TrimSuffix(strings.TrimSuffix(rel[strings.LastIndexByte(rel, '-')+1:], ".png"), "@2x")
				wantSkipped = !moved[period]
			}
			if skipped != wantSkipped {
				t.Errorf("step to %s: %s left alone %v, want %v", end.Format("15:04"), rel, skipped, wantSkipped)
			}
			if strings.HasSuffix(rel, ".html") && !skipped && stamp.ReplaceAllString(beforeContent[rel], "") == stamp.ReplaceAllString(got[rel], "") {
				t.Errorf("step to %s: %s was written again though its content did not change", end.Format("15:04"), rel)
			}
		}
	}
	// The numbers the pages were written with are the last step's.
	cur := pub.drawn[graphKey(series.Name("r1", "ge-0/0/1"), render.Day)].In.Current
	if in, _ := rhythm("ge-0/0/1", last); math.Abs(cur-in*8) > 1e-3*in*8 {
		t.Errorf("day graph's current rate in %v bits/s, want the last step's %v", cur, in*8)
	}
}
