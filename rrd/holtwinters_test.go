package rrd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

// hwCase is one Holt-Winters oracle case: the RRAs given to rrdtool create,
// the parameters they mean, and a series of primary data points.
type hwCase struct {
	name   string
	rras   []string
	tune   []string // rrdtool tune options after create
	params HWParams // without the rows rrdtool chose
	series []float64
	// failing are steps an injected anomaly must have flagged.
	failing []int
}

// hwSeasonalSeries is a daily shape (a sine and a second harmonic) over
// seasons periods, integer-valued so that rrdtool's gauge arithmetic
// returns each value exactly, with noise.
func hwSeasonalSeries(r *rand.Rand, period, seasons int, noise float64) []float64 {
	xs := make([]float64, period*seasons)
	for i := range xs {
		ph := 2 * math.Pi * float64(i%period) / float64(period)
		v := 1000 + 600*math.Sin(ph) + 150*math.Cos(2*ph) + float64(i)/float64(period)*20 + noise*(r.Float64()-0.5)
		xs[i] = math.Round(v)
	}
	return xs
}

func hwCases() []hwCase {
	r := rand.New(rand.NewPCG(7, 11))
	random := make([]float64, 12*10)
	for i := range random {
		random[i] = float64(r.IntN(1000))
	}
	anomaly := hwSeasonalSeries(r, 24, 8, 40)
	for i := 24*6 + 5; i < 24*6+15; i++ {
		anomaly[i] += 2500
	}
	gaps := hwSeasonalSeries(r, 12, 12, 60)
	for i := range gaps {
		if r.IntN(7) == 0 || (i >= 50 && i < 70) {
			gaps[i] = math.NaN()
		}
	}
	gaps[0], gaps[1] = math.NaN(), math.NaN() // unknown before the first value
	day := hwSeasonalSeries(r, 288, 5, 80)
	for i := 288*3 + 100; i < 288*3+130; i++ {
		day[i] = math.Round(day[i] * 0.2)
	}
	for i := 288*4 + 10; i < 288*4+14; i++ {
		day[i] = math.NaN()
	}
	mult := hwSeasonalSeries(r, 12, 10, 100)
	for i := 70; i < 76; i++ {
		mult[i] *= 3
	}
	mult[30] = math.NaN()
	return []hwCase{
		{name: "random", rras: []string{"RRA:HWPREDICT:200:0.3:0.1:12"},
			params: HWParams{Alpha: 0.3, Beta: 0.1, Period: 12}, series: random},
		// The seventh of ten values 2500 above the usual is a failure (7
		// violations of 9), and so are the ones after it.
		{name: "seasonal-anomaly", rras: []string{"RRA:AVERAGE:0.5:1:10", "RRA:HWPREDICT:300:0.2:0.05:24"},
			params: HWParams{Alpha: 0.2, Beta: 0.05, Period: 24}, series: anomaly,
			failing: []int{24*6 + 11, 24*6 + 12, 24*6 + 13, 24*6 + 14}},
		{name: "gaps", rras: []string{"RRA:HWPREDICT:200:0.4:0.2:12"},
			params: HWParams{Alpha: 0.4, Beta: 0.2, Period: 12}, series: gaps},
		{name: "day", rras: []string{"RRA:HWPREDICT:1500:0.1:0.0035:288"},
			params: HWParams{Alpha: 0.1, Beta: 0.0035, Period: 288}, series: day},
		// Explicit archives: their own gammas, a wide smoothing window
		// (runs on a short period), deltas set with tune, a short window.
		{name: "explicit", rras: []string{
			"RRA:HWPREDICT:200:0.3:0.1:12:2",
			"RRA:SEASONAL:12:0.2:1:smoothing-window=0.5",
			"RRA:DEVSEASONAL:12:0.4:1:smoothing-window=0.5",
			"RRA:DEVPREDICT:200:3",
			"RRA:FAILURES:200:3:5:3",
		}, tune: []string{"--deltapos", "3", "--deltaneg", "1.5"},
			params: HWParams{Alpha: 0.3, Beta: 0.1, Gamma: 0.2, DevGamma: 0.4, Period: 12, SmoothingWindow: 0.5,
				DeltaPos: 3, DeltaNeg: 1.5, Threshold: 3, Window: 5},
			series: gaps},
		// rrdtool 1.7 gives MHWPREDICT's implicit arrays a smoothing
		// window of 0: no smoothing.
		{name: "multiplicative", rras: []string{"RRA:MHWPREDICT:200:0.3:0.1:12"},
			params: HWParams{Multiplicative: true, Alpha: 0.3, Beta: 0.1, Period: 12, SmoothingWindow: -1},
			series: mult},
		{name: "multiplicative-explicit", rras: []string{
			"RRA:MHWPREDICT:200:0.25:0.05:12:2",
			"RRA:SEASONAL:12:0.3:1:smoothing-window=0.34",
			"RRA:DEVSEASONAL:12:0.15:1:smoothing-window=0.34",
			"RRA:DEVPREDICT:200:3",
			"RRA:FAILURES:200:4:6:3",
		}, params: HWParams{Multiplicative: true, Alpha: 0.25, Beta: 0.05, Gamma: 0.3, DevGamma: 0.15, Period: 12,
			SmoothingWindow: 0.34, Threshold: 4, Window: 6},
			series: mult},
	}
}

var (
	hwUpdatevLine = regexp.MustCompile(`^\[(\d+)\]RRA\[(\w+)\]\[1\]DS\[x\] = (\S+)$`)
	hwInfoLine    = regexp.MustCompile(`^rra\[(\d+)\]\.(\S+) = "?([^"]*)"?$`)
)

// hwInfo is rrdtool info's per-archive lines: archive → key → value.
func hwInfo(t *testing.T, tool *rrdtoolPipe, file string) map[string]map[string]string {
	t.Helper()
	byIdx := map[string]map[string]string{}
	for _, line := range strings.Split(string(tool.run(t, "info", file)), "\n") {
		m := hwInfoLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if byIdx[m[1]] == nil {
			byIdx[m[1]] = map[string]string{}
		}
		byIdx[m[1]][m[2]] = m[3]
	}
	out := map[string]map[string]string{} // by CF; one of each here
	for _, kv := range byIdx {
		out[kv["cf"]] = kv
	}
	return out
}

func hwFloat(t *testing.T, s string) float64 {
	t.Helper()
	if s == "NaN" || s == "U" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

// hwClose is the oracle's tolerance: both unknown, or equal within 1e-6
// relative (rrdtool prints 11 significant digits).
func hwClose(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b))
}

// TestHoltWintersOracle feeds each case's series to rrdtool, one update per
// step (rrdtool smooths at most once per update call), and to a
// HoltWinters, and requires every row each step writes to each archive
// (rrdtool updatev), and the final arrays and coefficients (info, dump),
// to agree.
func TestHoltWintersOracle(t *testing.T) {
	tool := startRRDtool(t, testneed.Program(t, "rrdtool", "apt-get install rrdtool"))
	dir := t.TempDir()
	const step, start = 300, 1699999800 // start on a step boundary
	for _, c := range hwCases() {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, c.name+".rrd")
			args := append([]string{"create", file, "--start", strconv.Itoa(start), "--step", strconv.Itoa(step), "DS:x:GAUGE:600:U:U"}, c.rras...)
			tool.run(t, args...)
			if len(c.tune) > 0 {
				tool.run(t, append([]string{"tune", file}, c.tune...)...)
			}
			info := hwInfo(t, tool, file)
			p := c.params
			row := func(cf string) int {
				n, err := strconv.Atoi(info[cf]["cur_row"])
				if err != nil {
					t.Fatalf("%s cur_row %q: %v", cf, info[cf]["cur_row"], err)
				}
				return (n + 1) % p.Period
			}
			p.SeasonalRow, p.DeviationRow = row("SEASONAL"), row("DEVSEASONAL")
			m := regexp.MustCompile(`<seasonal_smooth_idx>\s*(\d+)\s*<`).FindSubmatch(tool.run(t, "dump", file))
			if m == nil {
				t.Fatal("no seasonal_smooth_idx in rrdtool dump")
			}
			p.SmoothRow, _ = strconv.Atoi(string(m[1]))
			hw, err := NewHoltWinters(p)
			if err != nil {
				t.Fatal(err)
			}
			predCF := "HWPREDICT"
			if p.Multiplicative {
				predCF = "MHWPREDICT"
			}

			bad, failures := 0, 0
			maxRel := 0.0
			failing := map[int]bool{}
			for _, i := range c.failing {
				failing[i] = true
			}
			for i, x := range c.series {
				ts := start + (i+1)*step
				v := "U"
				if !math.IsNaN(x) {
					v = strconv.FormatFloat(x, 'f', -1, 64)
				}
				out := tool.run(t, "updatev", file, fmt.Sprintf("%d:%s", ts, v))
				want := map[string]float64{}
				for _, line := range strings.Split(string(out), "\n") {
					if m := hwUpdatevLine.FindStringSubmatch(line); m != nil {
						if m[1] != strconv.Itoa(ts) {
							t.Fatalf("step %d: rrdtool wrote row %s, want %d", i, m[1], ts)
						}
						want[m[2]] = hwFloat(t, m[3])
					}
				}
				got := hw.Observe(x)
				gotFail := 0.0
				if got.Failure {
					gotFail = 1
					failures++
				} else if failing[i] {
					t.Errorf("step %d (x=%v): no failure flagged during the anomaly", i, x)
				}
				for _, cmp := range []struct {
					cf   string
					got  float64
					want float64
				}{
					{predCF, got.Prediction, want[predCF]},
					{"SEASONAL", got.Seasonal, want["SEASONAL"]},
					{"DEVSEASONAL", got.DevSeasonal, want["DEVSEASONAL"]},
					{"DEVPREDICT", got.Deviation, want["DEVPREDICT"]},
					{"FAILURES", gotFail, want["FAILURES"]},
				} {
					if _, ok := want[cmp.cf]; !ok {
						t.Fatalf("step %d: rrdtool updatev wrote no %s row:\n%s", i, cmp.cf, out)
					}
					if !math.IsNaN(cmp.got) && !math.IsNaN(cmp.want) && cmp.want != 0 {
						maxRel = math.Max(maxRel, math.Abs(cmp.got-cmp.want)/math.Abs(cmp.want))
					}
					if !hwClose(cmp.got, cmp.want) || (cmp.cf == "FAILURES" && cmp.got != cmp.want) {
						bad++
						if bad <= 10 {
							t.Errorf("step %d (x=%v) %s: got %v, rrdtool %v", i, x, cmp.cf, cmp.got, cmp.want)
						}
					}
				}
			}
			if bad > 0 {
				t.Fatalf("%d rows differ", bad)
			}
			t.Logf("%d steps, %d failure rows, largest relative difference %.2g", len(c.series), failures, maxRel)

			// The arrays after the last smoothing, and the coefficients.
			st := hw.State()
			info = hwInfo(t, tool, file)
			dump := parseDump(t, tool.run(t, "dump", file))
			for _, a := range []struct {
				cf   string
				vals []float64
				row  int
				next float64
				key  string
			}{
				{"SEASONAL", st.Seasonal, st.SeasonalRow, st.SeasonalNext, "cdp_prep[0].seasonal"},
				{"DEVSEASONAL", st.Deviation, st.DeviationRow, st.DeviationNext, "cdp_prep[0].deviation"},
			} {
				var rows [][]float64
				for _, d := range dump {
					if d.cf == a.cf {
						rows = d.rows
					}
				}
				if len(rows) != p.Period {
					t.Fatalf("%s: rrdtool dump has %d rows, want %d", a.cf, len(rows), p.Period)
				}
				// The dump starts at the oldest row, the one written next.
				for k := range rows {
					if g, w := a.vals[(a.row+k)%p.Period], rows[k][0]; !hwClose(g, w) {
						t.Errorf("%s row %d after the last step: got %v, rrdtool %v", a.cf, (a.row+k)%p.Period, g, w)
					}
				}
				if w := hwFloat(t, info[a.cf][a.key]); !hwClose(a.next, w) {
					t.Errorf("%s next coefficient: got %v, rrdtool %v", a.cf, a.next, w)
				}
			}
			pi := info[predCF]
			if w := hwFloat(t, pi["cdp_prep[0].intercept"]); !hwClose(st.Intercept, w) {
				t.Errorf("intercept: got %v, rrdtool %v", st.Intercept, w)
			}
			if w := hwFloat(t, pi["cdp_prep[0].slope"]); !hwClose(st.Slope, w) {
				t.Errorf("slope: got %v, rrdtool %v", st.Slope, w)
			}
			if w := pi["cdp_prep[0].NaN_count"]; strconv.FormatInt(st.NullCount, 10) != w {
				t.Errorf("steps since the last known value: got %d, rrdtool %s", st.NullCount, w)
			}
			var hist strings.Builder
			for _, v := range st.Violations {
				hist.WriteByte("01"[b2i(v)])
			}
			if w := info["FAILURES"]["cdp_prep[0].history"]; hist.String() != w {
				t.Errorf("violation history: got %s, rrdtool %s", hist.String(), w)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestHoltWintersParams(t *testing.T) {
	ok := HWParams{Alpha: 0.1, Beta: 0.01, Period: 12}
	h, err := NewHoltWinters(ok)
	if err != nil {
		t.Fatal(err)
	}
	got := h.Params()
	want := HWParams{Alpha: 0.1, Beta: 0.01, Gamma: 0.1, DevGamma: 0.1, Period: 12, SmoothingWindow: 0.05,
		DeltaPos: 2, DeltaNeg: 2, Threshold: 7, Window: 9}
	if got != want {
		t.Errorf("defaults: got %+v, want %+v", got, want)
	}
	for _, tt := range []struct {
		name string
		edit func(*HWParams)
	}{
		{"alpha 0", func(p *HWParams) { p.Alpha = 0 }},
		{"alpha 1", func(p *HWParams) { p.Alpha = 1 }},
		{"beta above 1", func(p *HWParams) { p.Beta = 1.5 }},
		{"gamma 1", func(p *HWParams) { p.Gamma = 1 }},
		{"deviation gamma negative", func(p *HWParams) { p.DevGamma = -0.2 }},
		{"period 1", func(p *HWParams) { p.Period = 1 }},
		{"smoothing window above 1", func(p *HWParams) { p.SmoothingWindow = 1.5 }},
		{"negative delta", func(p *HWParams) { p.DeltaNeg = -1 }},
		{"threshold above window", func(p *HWParams) { p.Threshold, p.Window = 5, 4 }},
		{"window too long", func(p *HWParams) { p.Threshold, p.Window = 5, 29 }},
		{"smooth row outside the period", func(p *HWParams) { p.SmoothRow = 12 }},
		{"seasonal row negative", func(p *HWParams) { p.SeasonalRow = -1 }},
	} {
		p := ok
		tt.edit(&p)
		if _, err := NewHoltWinters(p); err == nil {
			t.Errorf("%s: no error for %+v", tt.name, p)
		}
	}
}

// A detector restored from its state continues exactly as the original,
// through burn-in smoothing, gaps and failures.
func TestHoltWintersRestore(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	xs := hwSeasonalSeries(r, 24, 8, 50)
	for i := 100; i < 110; i++ {
		xs[i] = math.NaN()
	}
	for i := 150; i < 160; i++ {
		xs[i] *= 4
	}
	p := HWParams{Alpha: 0.3, Beta: 0.05, Period: 24, SmoothingWindow: 0.3, SeasonalRow: 5, DeviationRow: 17, SmoothRow: 9}
	a, err := NewHoltWinters(p)
	if err != nil {
		t.Fatal(err)
	}
	var b *HoltWinters
	failures := 0
	for i, x := range xs {
		if i%37 == 0 {
			// Through the encoding a store would keep.
			enc, err := a.State().MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var st HWState
			if err := st.UnmarshalBinary(enc); err != nil {
				t.Fatal(err)
			}
			if b, err = RestoreHoltWinters(a.Params(), st); err != nil {
				t.Fatal(err)
			}
			if err := st.UnmarshalBinary(enc[:len(enc)-1]); err == nil {
				t.Error("decoded a truncated state")
			}
		}
		ra := a.Observe(x)
		if b == nil {
			continue
		}
		rb := b.Observe(x)
		if ra.Failure {
			failures++
		}
		same := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
		if !same(ra.Prediction, rb.Prediction) || !same(ra.Seasonal, rb.Seasonal) || !same(ra.DevSeasonal, rb.DevSeasonal) ||
			!same(ra.Deviation, rb.Deviation) || ra.Failure != rb.Failure {
			t.Fatalf("step %d: original %+v, restored %+v", i, ra, rb)
		}
	}
	if failures == 0 {
		t.Error("no failure flagged for values four times the usual")
	}
	s := a.State()
	s.Seasonal = s.Seasonal[:5]
	if _, err := RestoreHoltWinters(a.Params(), s); err == nil {
		t.Error("restored a state with 5 seasonal rows for a period of 24")
	}
}
