package render

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/rrd"
)

// p95 is the 95th percentile the pipeline hands in, from rrd's one summary.
func p95(rates []float64, step time.Duration) float64 { return rrd.Summarize(rates, step).P95 }

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata")

// traffic is a deterministic daily rhythm in bits per second: busy in the
// afternoon of loc, quiet at night and at weekends, growing over the year.
func traffic(t time.Time, loc *time.Location, peak float64, rng *rand.Rand) float64 {
	lt := t.In(loc)
	h := float64(lt.Hour()) + float64(lt.Minute())/60
	v := 0.55 + 0.4*math.Sin(2*math.Pi*(h-9)/24)
	if lt.Weekday() == time.Saturday || lt.Weekday() == time.Sunday {
		v *= 0.6
	}
	growth := 0.6 + 0.4*float64(t.Sub(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)).Hours())/(24*455)
	return peak * growth * v * (0.9 + 0.2*rng.Float64())
}

// testGraph builds the graph of period p ending at end, one row per column,
// with every value derived from fixed seeds. A row is the average of
// 5-minute samples (at most 48 of them) and its peak their maximum, as the
// store consolidates.
func testGraph(t *testing.T, p Period, end time.Time, zone string) Graph {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatalf("load zone %s: %v", zone, err)
	}
	step := p.Resolution()
	n := plotColumns
	g := Graph{
		Period:   p,
		Start:    end.Add(-time.Duration(n-1) * step),
		Step:     step,
		End:      end,
		Location: loc,
		In:       make([]float64, n),
		Out:      make([]float64, n),
	}
	if p != Day {
		g.MaxIn = make([]float64, n)
		g.MaxOut = make([]float64, n)
	}
	rng := rand.New(rand.NewPCG(1, uint64(p)))
	samples := min(p.Steps(), 48)
	for i := range n {
		rowEnd := g.Start.Add(time.Duration(i) * step)
		var sumIn, sumOut, maxIn, maxOut float64
		for k := range samples {
			at := rowEnd.Add(-time.Duration(k) * step / time.Duration(samples))
			in, out := traffic(at, loc, 8e6, rng), traffic(at.Add(-2*time.Hour), loc, 3e6, rng)
			sumIn, sumOut = sumIn+in, sumOut+out
			maxIn, maxOut = math.Max(maxIn, in), math.Max(maxOut, out)
		}
		g.In[i], g.Out[i] = sumIn/float64(samples), sumOut/float64(samples)
		if p != Day {
			g.MaxIn[i], g.MaxOut[i] = maxIn, maxOut
		}
	}
	return g
}

// holtWintersBand fills g's in band and failures as the store's Holt-Winters
// would: RRDtool's daily detector (rrd.DefaultHoltWinters) learns two days
// of the same rhythm before the graph's rows, then the rows themselves.
func holtWintersBand(t *testing.T, g *Graph) {
	t.Helper()
	g.BandLo, g.BandHi, g.Failures = bandOf(t, g, g.In, 8e6, 0)
}

// holtWintersBands fills both directions' bands, and the failures of either,
// as the pipeline hands them in.
func holtWintersBands(t *testing.T, g *Graph) {
	t.Helper()
	var in, out []bool
	g.BandLo, g.BandHi, in = bandOf(t, g, g.In, 8e6, 0)
	g.OutBandLo, g.OutBandHi, out = bandOf(t, g, g.Out, 3e6, 2*time.Hour)
	g.Failures = make([]bool, len(in))
	for i := range in {
		g.Failures[i] = in[i] || out[i]
	}
}

// bandOf runs the daily detector over two days of testGraph's rhythm (peak,
// shifted back by lag) before the rows, then over rows, and returns the band
// and failures on rows.
func bandOf(t *testing.T, g *Graph, rows []float64, peak float64, lag time.Duration) (lo, hi []float64, fail []bool) {
	t.Helper()
	p := rrd.DefaultHoltWinters(g.Step)
	hw, err := rrd.NewHoltWinters(*p)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for k := 2 * p.Period; k > 0; k-- {
		hw.Observe(traffic(g.Start.Add(-time.Duration(k)*g.Step-lag), g.Location, peak, rng))
	}
	n := len(rows)
	lo, hi, fail = make([]float64, n), make([]float64, n), make([]bool, n)
	hp := hw.Params()
	for i, v := range rows {
		r := hw.Observe(v)
		lo[i] = r.Prediction - hp.DeltaNeg*r.Deviation
		hi[i] = r.Prediction + hp.DeltaPos*r.Deviation
		fail[i] = r.Failure
	}
	return lo, hi, fail
}

// setGap marks rows [i, j) unknown in every series.
func setGap(g *Graph, i, j int) {
	for _, s := range [][]float64{g.In, g.Out, g.MaxIn, g.MaxOut} {
		for k := i; k < j && k < len(s); k++ {
			s[k] = math.NaN()
		}
	}
}

func TestGolden(t *testing.T) {
	berlinDST := time.Date(2026, 3, 29, 16, 0, 0, 0, time.UTC) // 18:00 CEST, the day clocks went forward
	nyFall := time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC)     // 21:00 EST on 1 Nov, the day clocks went back
	tests := []struct {
		name  string
		p     Period
		end   time.Time
		zone  string
		scale int
		edit  func(g *Graph)
	}{
		{name: "day_berlin_dst", p: Day, end: berlinDST, zone: "Europe/Berlin", edit: func(g *Graph) {
			setGap(g, 250, 280)
			g.P95In, g.P95Out = p95(g.In, g.Step), p95(g.Out, g.Step)
		}},
		{name: "day_newyork_fall", p: Day, end: nyFall, zone: "America/New_York"},
		{name: "month_berlin_2x", p: Month, end: berlinDST, zone: "Europe/Berlin", scale: 2, edit: func(g *Graph) {
			g.Speed = 8e6 // inside the plot: a dotted red line
			g.P95In, g.P95Out = p95(g.In, g.Step), p95(g.Out, g.Step)
		}},
		{name: "day_berlin_dst_2x", p: Day, end: berlinDST, zone: "Europe/Berlin", scale: 2, edit: func(g *Graph) {
			setGap(g, 250, 280)
		}},
		{name: "week_berlin", p: Week, end: berlinDST, zone: "Europe/Berlin", edit: func(g *Graph) {
			g.Title = "core1 ge-0/0/1 <uplink>"
			g.P95In, g.P95Out = p95(g.In, g.Step), p95(g.Out, g.Step)
		}},
		{name: "month_berlin", p: Month, end: berlinDST, zone: "Europe/Berlin", edit: func(g *Graph) {
			setGap(g, 100, 112)
			g.P95In, g.P95Out = p95(g.In, g.Step), p95(g.Out, g.Step)
		}},
		{name: "day_stack_services", p: Day, end: berlinDST, zone: "Europe/Berlin", edit: func(g *Graph) {
			// Traffic by service: the day's in-rate split into three layers and other.
			g.Stack = make([][]float64, 4)
			for _, v := range g.In {
				for l, share := range []float64{0.5, 0.25, 0.15, 0.1} {
					g.Stack[l] = append(g.Stack[l], v*share)
				}
			}
			g.In, g.Out = nil, nil
			for l := range g.Stack {
				for i := 250; i < 280; i++ {
					g.Stack[l][i] = math.NaN()
				}
			}
		}},
		{name: "day_holtwinters", p: Day, end: berlinDST, zone: "Europe/Berlin", edit: func(g *Graph) {
			// A drop to a fifth for 90 minutes, then a gap.
			for i := 300; i < 318; i++ {
				g.In[i] *= 0.2
			}
			setGap(g, 340, 350)
			holtWintersBand(t, g)
		}},
		{name: "day_holtwinters_both", p: Day, end: berlinDST, zone: "Europe/Berlin", edit: func(g *Graph) {
			// The in rate drops to a fifth for 90 minutes; later the out rate
			// triples for an hour; both bands, the failures of either.
			for i := 300; i < 318; i++ {
				g.In[i] *= 0.2
			}
			for i := 360; i < 372; i++ {
				g.Out[i] *= 3
			}
			holtWintersBands(t, g)
		}},
		{name: "day_marks", p: Day, end: berlinDST, zone: "Europe/Berlin", edit: func(g *Graph) {
			// Events of each severity, least grave first as the pipeline
			// orders them; one before the plot is left out.
			row := func(i int) time.Time { return g.Start.Add(time.Duration(i)*g.Step - g.Step/2) }
			g.Marks = []Mark{
				{Time: g.Start.Add(-48 * time.Hour), Color: "#000000"},
				{Time: row(60), Color: "#808080"},
				{Time: row(150), Color: "#e6b800"},
				{Time: row(151), Color: "#ff6600"},
				{Time: row(330), Color: "#cc00cc"},
			}
		}},
		{name: "day_gauge_celsius", p: Day, end: berlinDST, zone: "Europe/Berlin", edit: func(g *Graph) {
			// A target in its own unit (two temperature sensors, MRTG's gauge with
			// YLegend and kMG set): values in tens, no prefixes, its MaxBytes marked.
			for i := range g.In {
				h := 2 * math.Pi * float64(i) / float64(len(g.In))
				g.In[i] = 41 + 9*math.Sin(h) + float64(i%7)/4
				g.Out[i] = 29 + 4*math.Sin(h+1)
			}
			setGap(g, 200, 212) // the sensor did not answer for an hour
			g.YLegend, g.KMG, g.Speed = "Degrees Celsius", []string{""}, 48
		}},
		{name: "year_utc", p: Year, end: berlinDST, zone: "UTC", edit: func(g *Graph) {
			g.Speed, g.Unscaled = 10e6, true
			setGap(g, 0, 60) // an interface added 340 days ago
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testGraph(t, tt.p, tt.end, tt.zone)
			g.Scale = tt.scale
			if tt.edit != nil {
				tt.edit(&g)
			}
			var buf bytes.Buffer
			if err := PNG(&buf, g); err != nil {
				t.Fatalf("PNG: %v", err)
			}
			golden := filepath.Join("testdata", tt.name+"_golden.png")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatalf("write golden: %v", err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (regenerate with go test ./render -update): %v", err)
			}
			gotImg, wantImg := decode(t, buf.Bytes()), decode(t, want)
			// The PNG is drawn as palette indexes, Draw's image in RGBA:
			// the same pixels either way.
			drawn, err := Draw(g)
			if err != nil {
				t.Fatalf("Draw: %v", err)
			}
			if n, _ := pixelDiff(gotImg, drawn, 0); n != 0 {
				t.Errorf("%d pixels of the PNG differ from Draw's image", n)
			}
			if n, total := pixelDiff(gotImg, wantImg, 48); n > total/500 {
				dir := keepFailure(t, tt.name, buf.Bytes(), gotImg, wantImg)
				t.Errorf("%d of %d pixels differ from %s; the result and a diff (differing pixels red over the golden) are in %s; regenerate with -update if intended",
					n, total, golden, dir)
			}
		})
	}
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img
}

// pixelDiff counts the pixels whose channels differ by more than tol, a
// tolerant comparison that survives tiny antialiasing changes. Images of
// different sizes differ everywhere.
func pixelDiff(a, b image.Image, tol int) (n, total int) {
	ab, bb := a.Bounds(), b.Bounds()
	total = ab.Dx() * ab.Dy()
	if ab.Size() != bb.Size() {
		return total, total
	}
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			p := color.NRGBAModel.Convert(a.At(ab.Min.X+x, ab.Min.Y+y)).(color.NRGBA)
			q := color.NRGBAModel.Convert(b.At(bb.Min.X+x, bb.Min.Y+y)).(color.NRGBA)
			if absDiff(p.R, q.R) > tol || absDiff(p.G, q.G) > tol || absDiff(p.B, q.B) > tol || absDiff(p.A, q.A) > tol {
				n++
			}
		}
	}
	return n, total
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// keepFailure writes a graph that differs from its golden, as name.png, and
// name_diff.png into a directory that outlives the test, for a person to open,
// and returns the directory.
func keepFailure(t *testing.T, name string, got []byte, gotImg, wantImg image.Image) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mrtgo-render-golden-")
	if err != nil {
		t.Fatalf("keep failing image: %v", err)
	}
	var diff bytes.Buffer
	if err := png.Encode(&diff, diffImage(gotImg, wantImg, 48)); err != nil {
		t.Fatalf("encode diff: %v", err)
	}
	for file, b := range map[string][]byte{name + ".png": got, name + "_diff.png": diff.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
			t.Fatalf("keep failing image: %v", err)
		}
	}
	return dir
}

// diffImage shows want faded to a quarter of its contrast, with the pixels
// where got differs by more than tol in pure red (all of got's area when the
// sizes differ).
func diffImage(got, want image.Image, tol int) *image.NRGBA {
	gb, wb := got.Bounds(), want.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, max(gb.Dx(), wb.Dx()), max(gb.Dy(), wb.Dy())))
	red := color.NRGBA{0xff, 0, 0, 0xff}
	for y := 0; y < out.Rect.Dy(); y++ {
		for x := 0; x < out.Rect.Dx(); x++ {
			in := func(b image.Rectangle) bool { return x < b.Dx() && y < b.Dy() }
			if !in(gb) || !in(wb) {
				out.SetNRGBA(x, y, red)
				continue
			}
			p := color.NRGBAModel.Convert(got.At(gb.Min.X+x, gb.Min.Y+y)).(color.NRGBA)
			q := color.NRGBAModel.Convert(want.At(wb.Min.X+x, wb.Min.Y+y)).(color.NRGBA)
			if absDiff(p.R, q.R) > tol || absDiff(p.G, q.G) > tol || absDiff(p.B, q.B) > tol || absDiff(p.A, q.A) > tol {
				out.SetNRGBA(x, y, red)
				continue
			}
			fade := func(c uint8) uint8 { return 0xff - (0xff-c)/4 }
			out.SetNRGBA(x, y, color.NRGBA{fade(q.R), fade(q.G), fade(q.B), 0xff})
		}
	}
	return out
}

// The diff image marks exactly the pixels that differ.
func TestDiffImage(t *testing.T) {
	g := testGraph(t, Day, time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC), "UTC")
	a, err := Draw(g)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Draw(g)
	if err != nil {
		t.Fatal(err)
	}
	b.Set(10, 20, color.RGBA{0xff, 0xff, 0, 0xff})
	b.Set(300, 70, color.RGBA{0, 0, 0, 0xff})
	d := diffImage(b, a, 48)
	red := color.NRGBA{0xff, 0, 0, 0xff}
	n := 0
	for y := 0; y < d.Rect.Dy(); y++ {
		for x := 0; x < d.Rect.Dx(); x++ {
			if d.NRGBAAt(x, y) == red {
				n++
			}
		}
	}
	if d.NRGBAAt(10, 20) != red || n > 2 {
		t.Errorf("diff marks %d pixels red (10,20 red: %v), want the changed ones only", n, d.NRGBAAt(10, 20) == red)
	}
	dir := keepFailure(t, "example", nil, b, a)
	defer os.RemoveAll(dir)
	if _, err := os.Stat(filepath.Join(dir, "example_diff.png")); err != nil {
		t.Errorf("diff not kept: %v", err)
	}
}
