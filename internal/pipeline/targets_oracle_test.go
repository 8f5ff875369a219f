package pipeline

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/internal/testneed"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/rrd"
)

// Each kind of target, recorded through the Recorder at irregular times, gives the
// rows rrdtool gives for the same samples in a data source of that type: gauges that go
// below zero, absolute counts, derives that go down, counters.
func TestTargetKindsAgainstRRDtool(t *testing.T) {
	tool := testneed.Program(t, "rrdtool", "apt-get install rrdtool")
	kinds := []struct {
		kind, rrdType, min string
		in, out            func(i int) poller.Reading
	}{
		{"gauge", "GAUGE", "U", func(i int) poller.Reading { return poller.Float(-5 + 0.37*float64(i*i%17)) },
			func(i int) poller.Reading { return poller.Uint(uint64(40 + i%3)) }},
		{"absolute", "ABSOLUTE", "0", func(i int) poller.Reading { return poller.Uint(uint64(1000 + 97*(i%5))) },
			func(i int) poller.Reading { return poller.Uint(uint64(i % 4)) }},
		{"derive", "DERIVE", "U", func(i int) poller.Reading { return poller.Uint(uint64(100000 + 1000*i - 300*(i%4)*i)) },
			func(i int) poller.Reading { return poller.Uint(uint64(5000000 - 777*i)) }},
		{"counter", "COUNTER", "0", func(i int) poller.Reading { return poller.Uint(uint64(1e9 + 123457*i*i)) },
			func(i int) poller.Reading { return poller.Uint(uint64(3e6 + 999*i)) }},
	}
	step := 5 * time.Minute
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	for _, k := range kinds {
		t.Run(k.kind, func(t *testing.T) {
			cfg := parseConfig(t, fmt.Sprintf("[[device]]\nname = \"d\"\nhost = \"127.0.0.1\"\n[[device.target]]\nname = \"x\"\noids = [\"1.3.6.1.4.1.9.1\", \"1.3.6.1.4.1.9.2\"]\nkind = %q\n", k.kind))
			db := openDB(t)
			rec := NewRecorder(db, step, nil, quiet)
			rec.SetTargets(cfg)
			file := filepath.Join(t.TempDir(), "x.rrd")
			var times []time.Time
			ti := t0.Add(13 * time.Second)
			for i := range 40 {
				times = append(times, ti)
				ts := poller.TargetSample{Device: "d", Target: "x", Time: ti, In: k.in(i), Out: k.out(i), Bits: 64}
				if err := rec.Record([]poller.Result{{Device: "d", Targets: []poller.TargetSample{ts}}}); err != nil {
					t.Fatal(err)
				}
				ti = ti.Add(step + time.Duration(i%7*23-60)*time.Second)
			}
			hb := int(2 * step / time.Second)
			args := []string{"create", file, "--start", strconv.FormatInt(times[0].Add(-step).Unix(), 10), "--step", "300",
				fmt.Sprintf("DS:in:%s:%d:%s:U", k.rrdType, hb, k.min), fmt.Sprintf("DS:out:%s:%d:%s:U", k.rrdType, hb, k.min),
				"RRA:AVERAGE:0.5:1:200"}
			rrdtoolRun(t, tool, args...)
			up := []string{"update", file}
			for i, tm := range times {
				up = append(up, fmt.Sprintf("%d:%s:%s", tm.Unix(), rrdtoolNum(k.in(i)), rrdtoolNum(k.out(i))))
			}
			rrdtoolRun(t, tool, up...)
			start, end := times[0], times[len(times)-1].Truncate(step)
			out := rrdtoolRun(t, tool, "fetch", file, "AVERAGE", "-r", "300", "-s", strconv.FormatInt(start.Unix(), 10), "-e", strconv.FormatInt(end.Unix(), 10))
			want := map[int64][2]float64{}
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				ts, vals, ok := strings.Cut(sc.Text(), ":")
				if !ok {
					continue
				}
				sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
				if err != nil {
					continue
				}
				f := strings.Fields(vals)
				a, _ := strconv.ParseFloat(f[0], 64) // "-nan" and "nan" parse as NaN
				b, _ := strconv.ParseFloat(f[1], 64)
				want[sec] = [2]float64{a, b}
			}
			got, err := db.Fetch(series.KindName("d", series.KindTarget, "x"), rrd.Average, start, end, step)
			if err != nil {
				t.Fatal(err)
			}
			compared := 0
			for i, row := range got.Rows {
				w, ok := want[got.Time(i).Unix()]
				if !ok {
					continue
				}
				for d := range 2 {
					if math.IsNaN(w[d]) != math.IsNaN(row[d]) || !math.IsNaN(w[d]) && math.Abs(row[d]-w[d]) > 1e-6*math.Max(1, math.Abs(w[d])) {
						t.Errorf("%s %s row %s: %v, rrdtool %v", k.kind, []string{"in", "out"}[d], got.Time(i).Format("15:04"), row[d], w[d])
					}
				}
				compared++
			}
			if compared < 30 {
				t.Errorf("compared %d rows, want at least 30:\n%s", compared, out)
			}
		})
	}
}

func rrdtoolNum(r poller.Reading) string {
	if r.Exact {
		return strconv.FormatUint(r.Uint, 10)
	}
	return strconv.FormatFloat(r.Float, 'g', -1, 64)
}

func rrdtoolRun(t *testing.T, tool string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rrdtool %s: %v: %s", args[0], err, out)
	}
	return out
}
