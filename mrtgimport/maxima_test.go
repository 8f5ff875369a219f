package mrtgimport

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/testneed"
	"github.com/mrtgo/mrtgo/rrd"
)

// TestImportMRTGMaxima checks that MRTG's maxima reach the store's MAX archives. MRTG
// keeps, for each 30-minute, 2-hour and daily row, the highest five-minute rate it saw
// in it; rateup, the program mrtg runs to write its .log, computes them when five-minute
// rows age out of the first 600. Four days of five-minute rows of varied traffic go into
// a log, rateup itself takes one more reading and consolidates everything older than its
// 600 five-minute rows into 30-minute rows (a run of mrtg does the same, a reading a
// run; this is the one run that matters, without 1,150 runs before it), and the imported
// store's 30-minute MAX rows must be rateup's maxima, its AVERAGE rows rateup's means.
func TestImportMRTGMaxima(t *testing.T) {
	rateup := testneed.Program(t, "rateup", "apt-get install mrtg")
	dir := t.TempDir()
	const n = 1152 // four days of five-minute rows
	end := time.Now().UTC().Truncate(30 * time.Minute).Add(-time.Hour).Unix()
	r := rand.New(rand.NewPCG(7, 7))
	type sample struct {
		t       int64
		in, out int64
	}
	var fed []sample // newest first, as the log
	var b strings.Builder
	fmt.Fprintf(&b, "%d %d %d\n", end, 1_000_000_000, 100_000_000)
	for i := range n {
		s := sample{end - int64(i)*300, int64(1000 + r.IntN(900_000)), int64(100 + r.IntN(90_000))}
		fed = append(fed, s)
		fmt.Fprintf(&b, "%d %d %d %d %d\n", s.t, s.in, s.out, s.in, s.out)
	}
	logPath := filepath.Join(dir, "r1.log")
	if err := os.WriteFile(logPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// The next reading, as mrtg hands it to rateup: 500,000 B/s in, 5,000 out.
	cmd := exec.Command(rateup, dir+"/", "r1", strconv.FormatInt(end+300, 10), "-Z", "u",
		strconv.FormatInt(1_000_000_000+300*500_000, 10), strconv.FormatInt(100_000_000+300*5_000, 10), "125000000")
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C", "TZ=UTC")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rateup: %v\n%s", err, out)
	}
	h, err := ReadLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// rateup's 30-minute rows against the five-minute rates fed to it.
	var half []Row
	for _, row := range h.Rows {
		if row.End.Sub(row.Start) == 30*time.Minute && row.End.Unix() <= end && row.Start.Unix() >= fed[n-1].t {
			half = append(half, row)
		}
	}
	if len(half) < 80 {
		t.Fatalf("rateup wrote %d 30-minute rows of the fed traffic, want about %d", len(half), (n-600)/6)
	}
	higher := 0
	for _, row := range half {
		var sum, mx [2]float64
		k := 0
		for _, s := range fed {
			if s.t > row.Start.Unix() && s.t <= row.End.Unix() {
				for d, v := range []int64{s.in, s.out} {
					sum[d] += float64(v)
					mx[d] = max(mx[d], float64(v))
				}
				k++
			}
		}
		if k != 6 {
			t.Fatalf("30-minute row ending %s holds %d five-minute rows", row.End, k)
		}
		for d, got := range [][2]float64{{row.In, row.MaxIn}, {row.Out, row.MaxOut}} {
			if math.Abs(got[0]-sum[d]/6) > 1 || got[1] != mx[d] {
				t.Fatalf("rateup's row ending %s ds %d: mean %v max %v; the fed rates give %v and %v",
					row.End, d, got[0], got[1], sum[d]/6, mx[d])
			}
		}
		if row.MaxIn > row.In*1.05 {
			higher++
		}
	}
	if higher < len(half)/2 {
		t.Fatalf("only %d of %d rows have a maximum above their mean", higher, len(half))
	}

	db, err := rrd.Open(filepath.Join(dir, "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &Config{WorkDir: dir, Interval: 5 * time.Minute, LogFormat: "rateup"}
	plans := []*Plan{{Target: &Target{Name: "r1"}, Series: "r/eth0", MaxRate: 125_000_000, Bits: 64}}
	ims, err := ImportHistory(context.Background(), db, c, plans, 5*time.Minute, slog.New(slog.DiscardHandler), nil)
	if err != nil || ims[0].Skipped != "" {
		t.Fatalf("import: %v %+v", err, ims)
	}
	for _, cf := range []rrd.CF{rrd.Max, rrd.Average} {
		res, err := db.Fetch("r/eth0", cf, half[0].Start, half[len(half)-1].End, 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		byEnd := map[int64][]float64{}
		for i, v := range res.Rows {
			byEnd[res.Time(i).Unix()] = v
		}
		for _, row := range half {
			want := [2]float64{row.MaxIn, row.MaxOut}
			if cf == rrd.Average {
				want = [2]float64{row.In, row.Out}
			}
			got := byEnd[row.End.Unix()]
			for d := range 2 {
				if got == nil || math.Abs(got[d]-want[d]) > 0.01+2e-7*want[d] {
					t.Fatalf("store's 30-minute %s row ending %s ds %d: %v, MRTG's %v", cf, row.End, d, got, want)
				}
			}
		}
	}
	compareRows(t, db, "r/eth0", h, 125_000_000)
}
