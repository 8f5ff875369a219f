package render

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"testing"
	"time"
)

// flatGraph is a day graph with one row per column: row k fills column
// plotL+k exactly. In is 6 Mb/s and out 3 Mb/s on an 8 Mb/s axis.
func flatGraph() Graph {
	end := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	step := Day.Resolution()
	g := Graph{Period: Day, Step: step, End: end, Start: end.Add(-(plotColumns - 1) * step),
		In: make([]float64, plotColumns), Out: make([]float64, plotColumns), Speed: 8e6, Unscaled: true}
	for i := range g.In {
		g.In[i], g.Out[i] = 6e6, 3e6
	}
	return g
}

func isIn(c color.RGBA) bool  { return c.G > 150 && int(c.G) > int(c.R)+80 && int(c.G) > int(c.B)+80 }
func isOut(c color.RGBA) bool { return c.B > 150 && int(c.B) > int(c.R)+80 && int(c.B) > int(c.G)+80 }

// countColumn counts the in- and out-coloured pixels of one image column
// inside the plot.
func countColumn(img *image.RGBA, x, scale int) (in, out int) {
	for y := plotT * scale; y < plotB*scale; y++ {
		c := img.RGBAAt(x, y)
		if isIn(c) {
			in++
		}
		if isOut(c) {
			out++
		}
	}
	return in, out
}

func TestGapIsDrawnAsGap(t *testing.T) {
	const from, to = 150, 200 // unknown rows: columns plotL+150 … plotL+199
	for _, scale := range []int{1, 2} {
		g := flatGraph()
		g.Scale = scale
		setGap(&g, from, to)
		img, err := Draw(g)
		if err != nil {
			t.Fatalf("Draw: %v", err)
		}
		for col := plotL + from; col < plotL+to; col++ {
			for sub := range scale {
				x := col*scale + sub
				// The out line ends in the middle of the last known row,
				// its antialiasing may touch the first gap column.
				if col == plotL+from && sub == 0 {
					continue
				}
				if in, out := countColumn(img, x, scale); in != 0 || out != 0 {
					t.Errorf("scale %d: gap column %d has %d in and %d out pixels, want none", scale, x, in, out)
				}
			}
		}
		// The band is light grey, darker than the white plot.
		x, y := (plotL+from+25)*scale, (plotT+10)*scale
		if c := img.RGBAAt(x, y); c.R > 230 || c.R < 190 || c.R != c.G || c.G != c.B {
			t.Errorf("scale %d: gap pixel (%d,%d) = %v, want the light grey band", scale, x, y, c)
		}
		// Known columns on both sides are drawn: 6/8 of the plot in green
		// and the out line in blue.
		for _, col := range []int{plotL + 10, plotL + from - 5, plotL + to + 5, plotR - 5} {
			in, out := countColumn(img, col*scale, scale)
			if want := 75 * scale; in < want-yTicks*scale || in > want {
				t.Errorf("scale %d: column %d has %d in pixels, want about %d", scale, col, in, want)
			}
			if out == 0 {
				t.Errorf("scale %d: column %d has no out pixel", scale, col)
			}
		}
		// Nothing is drawn in the white part above the data.
		if c := img.RGBAAt((plotL+10)*scale, (plotT+3)*scale); c != (color.RGBA{255, 255, 255, 255}) {
			t.Errorf("scale %d: pixel above the data = %v, want white", scale, c)
		}
	}
}

// The in area reaches the height of its value: 6 Mb/s on an 8 Mb/s axis is
// three quarters of the plot, and the out line crosses at three eighths.
func TestColoursWhereDataIs(t *testing.T) {
	g := flatGraph()
	img, err := Draw(g)
	if err != nil {
		t.Fatalf("Draw: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 500 || b.Dy() != 135 {
		t.Fatalf("image is %v, want 500x135", b)
	}
	col := plotL + 101 // away from the hour lines
	var top, outRow = -1, -1
	for y := plotT; y < plotB; y++ {
		c := img.RGBAAt(col, y)
		if isIn(c) && top < 0 {
			top = y
		}
		if isOut(c) && outRow < 0 {
			outRow = y
		}
	}
	if want := plotB - 75; top != want {
		t.Errorf("in area starts at row %d, want %d", top, want)
	}
	if want := plotB - 38; outRow < want-1 || outRow > want+1 {
		t.Errorf("out line at row %d, want about %d", outRow, want)
	}
	// The frame outside the plot is MRTG's light grey.
	if c := img.RGBAAt(40, 5); c != (color.RGBA{0xf5, 0xf5, 0xf5, 0xff}) {
		t.Errorf("frame pixel = %v, want #f5f5f5", c)
	}
}

// Peaks are drawn as a dark-green area above the in area and a magenta line.
func TestPeaks(t *testing.T) {
	g := flatGraph()
	g.Period = Week
	g.Step = Week.Resolution()
	g.Start = g.End.Add(-(plotColumns - 1) * g.Step)
	g.MaxIn, g.MaxOut = make([]float64, plotColumns), make([]float64, plotColumns)
	for i := range g.MaxIn {
		g.MaxIn[i], g.MaxOut[i] = 8e6, 5e6
	}
	img, err := Draw(g)
	if err != nil {
		t.Fatalf("Draw: %v", err)
	}
	dark, magenta := 0, 0
	col := plotL + 101
	for y := plotT; y < plotB; y++ {
		c := img.RGBAAt(col, y)
		if c == (color.RGBA{0x00, 0x66, 0x00, 0xff}) {
			dark++
		}
		if c.R > 200 && c.B > 200 && c.G < 80 {
			magenta++
		}
	}
	// 8 Mb/s is the top of a 8 Mb/s axis, in covers 6 of it: 25 rows.
	if dark < 20 || dark > 25 {
		t.Errorf("column %d has %d dark-green rows, want about 25", col, dark)
	}
	if magenta == 0 {
		t.Errorf("column %d has no magenta peak-out pixel", col)
	}
}

func TestDrawErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(g *Graph)
		want error
	}{
		{"period", func(g *Graph) { g.Period = 9 }, ErrPeriod},
		{"lengths", func(g *Graph) { g.Out = g.Out[:10] }, ErrSeries},
		{"peak lengths", func(g *Graph) { g.MaxIn = []float64{1} }, ErrSeries},
		{"no end", func(g *Graph) { g.End = time.Time{} }, ErrTime},
		{"no step", func(g *Graph) { g.Step = 0 }, ErrTime},
		{"scale", func(g *Graph) { g.Scale = 9 }, ErrScale},
		{"out band lengths", func(g *Graph) { g.OutBandHi = []float64{1} }, ErrSeries},
		{"mark colour", func(g *Graph) { g.Marks = []Mark{{Time: g.End, Color: "red"}} }, ErrColor},
		{"mark colour digits", func(g *Graph) { g.Marks = []Mark{{Time: g.End, Color: "#12345g"}} }, ErrColor},
	}
	for _, tt := range tests {
		g := flatGraph()
		tt.edit(&g)
		if err := PNG(io.Discard, g); !errors.Is(err, tt.want) {
			t.Errorf("%s: PNG error = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// Empty series, values beyond the axis and series longer than the plot are
// drawn without error and stay inside the plot.
func TestDrawEdgeCases(t *testing.T) {
	g := flatGraph()
	g.In[10], g.Out[10] = math.Inf(1), -5
	long := flatGraph()
	long.Start = long.Start.Add(-24 * time.Hour)
	long.In = append(make([]float64, 288), long.In...)
	long.Out = append(make([]float64, 288), long.Out...)
	for _, g := range []Graph{{Period: Year, End: time.Unix(0, 0)}, g, long} {
		img, err := Draw(g)
		if err != nil {
			t.Fatalf("Draw: %v", err)
		}
		for x := 0; x < imgW; x++ {
			for _, y := range []int{plotT - 3, plotB + 6} {
				if c := img.RGBAAt(x, y); isIn(c) || isOut(c) {
					t.Errorf("pixel (%d,%d) outside the plot is %v", x, y, c)
				}
			}
		}
	}
}

func BenchmarkPNG(b *testing.B) {
	end := time.Date(2026, 3, 29, 16, 0, 0, 0, time.UTC)
	const n = 600
	step := Day.Span() / n
	g := Graph{Period: Day, Step: step, End: end, Start: end.Add(-(n - 1) * step),
		In: make([]float64, n), Out: make([]float64, n), Location: time.UTC}
	for i := range n {
		g.In[i] = 5e6 + 4e6*math.Sin(float64(i)/40)
		g.Out[i] = 2e6 + 1e6*math.Cos(float64(i)/30)
	}
	// The labels are rasterized on first use and kept: measure the steady state
	// (make bench runs each benchmark once).
	for _, scale := range []int{1, 2} {
		g.Scale = scale
		if err := PNG(io.Discard, g); err != nil {
			b.Fatal(err)
		}
	}
	g.Scale = 0
	// Each operation draws 100 graphs, so that a single run (make bench) is
	// not one noisy sample; ms/graph is the time of one.
	const graphs = 100
	for _, c := range []struct {
		name  string
		scale int
		png   bool
	}{{"draw/scale=1", 1, false}, {"png/scale=1", 1, true}, {"png/scale=2", 2, true}} {
		g.Scale = c.scale
		b.Run(fmt.Sprintf("%s/graphs=%d", c.name, graphs), func(b *testing.B) {
			for b.Loop() {
				for range graphs {
					var err error
					if c.png {
						err = PNG(io.Discard, g)
					} else {
						_, err = Draw(g)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N*graphs), "ms/graph")
		})
	}
}

// Graphs are drawn on all cores at once; nothing is shared between draws.
func TestDrawConcurrent(t *testing.T) {
	want, err := Draw(flatGraph())
	if err != nil {
		t.Fatalf("Draw: %v", err)
	}
	errs := make(chan error, 4)
	imgs := make(chan *image.RGBA, 4)
	for range 4 {
		go func() {
			img, err := Draw(flatGraph())
			errs <- err
			imgs <- img
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("Draw: %v", err)
		}
		if got := <-imgs; !bytes.Equal(got.Pix, want.Pix) {
			t.Error("a graph drawn concurrently differs from the same graph drawn alone")
		}
	}
}

// The 95th-percentile lines are dashed in their colours and the speed is a
// dotted red line, each on the row of its value.
func TestReferenceLines(t *testing.T) {
	g := flatGraph() // axis 0 … 8 Mb/s: a value v sits on row plotB - v/8e6*100
	g.P95In, g.P95Out = 7e6, 2e6
	img, err := Draw(g)
	if err != nil {
		t.Fatalf("Draw: %v", err)
	}
	speed := flatGraph()
	speed.Unscaled, speed.Speed = false, 5e6 // axis scaled to the 6 Mb/s data
	simg, err := Draw(speed)
	if err != nil {
		t.Fatalf("Draw: %v", err)
	}
	tests := []struct {
		name     string
		img      *image.RGBA
		row      int
		col      color.RGBA
		min, max int
	}{
		{"p95 in", img, plotB - 88, opaque(parseHex(ColorP95In)), 240, 270},   // 4 on, 2 off
		{"p95 out", img, plotB - 25, opaque(parseHex(ColorP95Out)), 240, 270}, // over the blue line too
		{"speed", simg, plotB - 84, color.RGBA{0xff, 0, 0, 0xff}, 125, 135},   // 1 on, 2 off
	}
	for _, tt := range tests {
		n := 0
		for x := plotL; x < plotR; x++ {
			if tt.img.RGBAAt(x, tt.row) == tt.col {
				n++
			}
		}
		if n < tt.min || n > tt.max {
			t.Errorf("%s: row %d has %d pixels of %v, want %d to %d", tt.name, tt.row, n, tt.col, tt.min, tt.max)
		}
	}
}

// A graph is written as a palette PNG with exactly the drawn colours (a
// picture with more than 256 colours: see TestCanvasSpill).
func TestPaletted(t *testing.T) {
	g := flatGraph()
	setGap(&g, 20, 40)
	img, err := Draw(g)
	if err != nil {
		t.Fatalf("Draw: %v", err)
	}
	var buf bytes.Buffer
	if err := PNG(&buf, g); err != nil {
		t.Fatalf("PNG: %v", err)
	}
	dec := decode(t, buf.Bytes())
	if _, ok := dec.(*image.Paletted); !ok {
		t.Errorf("decoded %T, want *image.Paletted", dec)
	}
	if n, _ := pixelDiff(dec, img, 0); n != 0 {
		t.Errorf("%d pixels of the PNG differ from Draw's image", n)
	}
}

// A mark is a line of its colour over the plot's full height in the column of
// its time, and nowhere else; marks outside the plot's time range, and no
// marks, leave every pixel as it was.
func TestMarks(t *testing.T) {
	const k = 123 // row k of flatGraph fills column plotL+k
	for _, scale := range []int{1, 2} {
		g := flatGraph()
		g.Scale = scale
		plain, err := Draw(g)
		if err != nil {
			t.Fatal(err)
		}
		mid := g.Start.Add(time.Duration(k)*g.Step - g.Step/2)
		g.Marks = []Mark{{Time: mid, Color: "#cc00cc"}}
		img, err := Draw(g)
		if err != nil {
			t.Fatal(err)
		}
		want := color.RGBA{0xcc, 0x00, 0xcc, 0xff}
		for col := plotL + k - 2; col <= plotL+k+2; col++ {
			for sub := range scale {
				x := col*scale + sub
				n := 0
				for y := plotT * scale; y < plotB*scale; y++ {
					if img.RGBAAt(x, y) == want {
						n++
					}
				}
				if col == plotL+k && n != plotRows*scale {
					t.Errorf("scale %d: column %d has %d mark pixels, want the plot's height %d", scale, x, n, plotRows*scale)
				}
				if col != plotL+k && n != 0 {
					t.Errorf("scale %d: column %d beside the mark has %d mark pixels", scale, x, n)
				}
			}
		}
		// Only the mark's column changed.
		for y := 0; y < imgH*scale; y++ {
			for x := 0; x < imgW*scale; x++ {
				if x/scale != plotL+k && img.RGBAAt(x, y) != plain.RGBAAt(x, y) {
					t.Fatalf("scale %d: pixel (%d,%d) away from the mark changed", scale, x, y)
				}
			}
		}

		// Marks before and after the plot, and an empty list, draw nothing.
		g.Marks = []Mark{{Time: g.End.Add(-g.Period.Span() - time.Second), Color: "#cc00cc"},
			{Time: g.End.Add(time.Second), Color: "#cc00cc"}}
		outside, err := Draw(g)
		if err != nil {
			t.Fatal(err)
		}
		g.Marks = []Mark{}
		empty, err := Draw(g)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(outside.Pix, plain.Pix) || !bytes.Equal(empty.Pix, plain.Pix) {
			t.Errorf("scale %d: marks outside the plot or an empty list changed the graph", scale)
		}
	}
}

// The out band is two lines of its own colour on the out rate's rows, and the
// axis reaches its top.
func TestOutBand(t *testing.T) {
	g := flatGraph() // axis 0 … 8 Mb/s
	n := len(g.Out)
	g.OutBandLo, g.OutBandHi = make([]float64, n), make([]float64, n)
	for i := range g.OutBandLo {
		g.OutBandLo[i], g.OutBandHi[i] = 1e6, 5e6
	}
	img, err := Draw(g)
	if err != nil {
		t.Fatal(err)
	}
	band := opaque(parseHex(ColorOutBand))
	col := plotL + 101
	var rows []int
	for y := plotT; y < plotB; y++ {
		if img.RGBAAt(col, y) == band {
			rows = append(rows, y)
		}
	}
	// 1 and 5 Mb/s sit on rows plotB-12.5 and plotB-62.5; the brush is two
	// rows high.
	near := func(want int) bool {
		for _, r := range rows {
			if r >= want-2 && r <= want+1 {
				return true
			}
		}
		return false
	}
	if !near(plotB-13) || !near(plotB-63) || len(rows) > 4 {
		t.Errorf("column %d has the out band's colour on rows %v, want two lines near %d and %d", col, rows, plotB-13, plotB-63)
	}
	g.OutBandHi[200] = 16e6
	g.Unscaled, g.Speed = false, 0
	d := &drawer{g: g}
	d.lo, d.hi, d.span = g.End.Add(-Day.Span()), g.End, Day.Span()
	d.start = g.Start.Sub(d.lo)
	if m := d.dataMax(); m != 16e6 {
		t.Errorf("data maximum %v, want the out band's top 16e6", m)
	}
}
