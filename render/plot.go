package render

// The drawing of the data: the drawer, the axes' scale, areas, lines and gaps.

import (
	"image"
	"image/color"
	"math"
	"time"
)

// drawer holds one drawing. All coordinates are MRTG pixels from the top
// left; dev converts them to device pixels.
type drawer struct {
	c *canvas
	s float64 // device pixels per MRTG pixel
	g Graph

	lo, hi time.Time     // the time range of the plot
	span   time.Duration // hi - lo
	start  time.Duration // the end of row 0, from lo
	top    float64       // bits per second at the top of the plot
}

func (d *drawer) draw() error {
	g := d.g
	span := g.Span
	if span == 0 {
		span = g.Period.Span()
	}
	d.hi = g.End
	d.lo = g.End.Add(-span)
	d.span = d.hi.Sub(d.lo)
	d.start = g.Start.Sub(d.lo)

	var labels []string
	kmg := g.KMG
	if len(kmg) == 0 {
		kmg = siPrefixes
	}
	d.top, labels = yScaleKMG(d.dataMax(), kmg)

	// Frame: rateup's light grey background and 3-D border, white plot.
	d.fill(0, 0, imgW, imgH, colBlank)
	d.fill(0, 0, imgW-1, 2, colLight)
	d.fill(0, 0, 2, imgH-1, colLight)
	d.fill(imgW-2, 1, imgW, imgH, colDark)
	d.fill(1, imgH-2, imgW, imgH, colDark)
	d.fill(plotL, plotT, plotR, plotB, colPlot)

	d.failures()
	d.gaps()
	if len(g.Stack) > 0 {
		d.stack()
	}
	if len(g.MaxIn) > 0 {
		d.area(g.MaxIn, parseHex(ColorMaxIn))
	}
	d.area(g.In, parseHex(ColorIn))
	// The out band goes under the out line, which it hugs: the line stays
	// whole where they meet.
	if len(g.OutBandLo) > 0 {
		d.line(g.OutBandLo, parseHex(ColorOutBand))
	}
	if len(g.OutBandHi) > 0 {
		d.line(g.OutBandHi, parseHex(ColorOutBand))
	}
	if len(g.MaxOut) > 0 {
		d.line(g.MaxOut, parseHex(ColorMaxOut))
	}
	d.line(g.Out, parseHex(ColorOut))
	if len(g.BandLo) > 0 {
		d.line(g.BandLo, parseHex(ColorBand))
	}
	if len(g.BandHi) > 0 {
		d.line(g.BandHi, parseHex(ColorBand))
	}

	ticks, xlabels := timeTicks(g.Period, d.lo, d.hi, g.Location)
	d.grid(ticks)
	d.marks()
	if g.Speed > 0 && g.Speed < d.top {
		d.hrule(plotL, plotR, d.y(g.Speed), colMajor, 1, 2)
	}
	for _, p := range []struct {
		v   float64
		col string
	}{{g.P95In, ColorP95In}, {g.P95Out, ColorP95Out}} {
		if p.v > 0 && !math.IsInf(p.v, 0) && p.v <= d.top {
			d.hrule(plotL, plotR, d.y(p.v), parseHex(p.col), 4, 2)
		}
	}
	d.arrow()
	return d.text(g, labels, xlabels)
}

// dataMax is the largest value drawn, which the y axis must reach.
func (d *drawer) dataMax() float64 {
	m := 0.0
	for i := range d.rows() {
		if sum := d.stackSum(i, len(d.g.Stack)); sum > m && !math.IsInf(sum, 1) && d.visible(i) {
			m = sum
		}
	}
	for _, s := range [][]float64{d.g.In, d.g.Out, d.g.MaxIn, d.g.MaxOut, d.g.BandHi, d.g.OutBandHi} {
		for i, v := range s {
			if v > m && !math.IsInf(v, 1) && d.visible(i) {
				m = v
			}
		}
	}
	for _, v := range []float64{d.g.P95In, d.g.P95Out} {
		if v > m && !math.IsInf(v, 1) {
			m = v
		}
	}
	if d.g.Unscaled && d.g.Speed > m {
		m = d.g.Speed
	}
	return m
}

// rowTimes returns the interval (a, b] covered by row i, as offsets from
// lo: the same durations t.Sub(lo) gives for the row's times, in integer
// arithmetic that costs far less than time.Time's for every row.
func (d *drawer) rowTimes(i int) (a, b time.Duration) {
	b = d.start + time.Duration(i)*d.g.Step
	return b - d.g.Step, b
}

func (d *drawer) visible(i int) bool {
	a, b := d.rowTimes(i)
	return b > 0 && a < d.span
}

// x maps a time to a column, clamped to the plot.
func (d *drawer) x(t time.Time) float64 { return d.xOff(t.Sub(d.lo)) }

// xOff maps a time given as an offset from lo to a column, clamped to the
// plot.
func (d *drawer) xOff(off time.Duration) float64 {
	f := float64(off) / float64(d.span)
	return plotL + math.Min(math.Max(f, 0), 1)*plotColumns
}

// y maps a rate to a row, clamped to the plot as MRTG clamps.
func (d *drawer) y(v float64) float64 {
	f := v / d.top
	if math.IsNaN(f) || f < 0 {
		f = 0
	}
	return plotB - math.Min(f, 1)*plotRows
}

// runs calls f for every maximal run [i, j) of known visible rows of s.
func (d *drawer) runs(s []float64, known bool, f func(i, j int)) {
	i := -1
	for k := 0; k <= len(s); k++ {
		ok := k < len(s) && math.IsNaN(s[k]) != known && d.visible(k)
		switch {
		case ok && i < 0:
			i = k
		case !ok && i >= 0:
			f(i, k)
			i = -1
		}
	}
}

// rows is the number of rows of the series drawn.
func (d *drawer) rows() int {
	n := max(len(d.g.In), len(d.g.Out))
	if len(d.g.Stack) > 0 {
		n = max(n, len(d.g.Stack[0]))
	}
	return n
}

// stackSum is the sum of the first n stacked layers at row i; NaN when one is
// unknown.
func (d *drawer) stackSum(i, n int) float64 {
	sum := 0.0
	for _, l := range d.g.Stack[:n] {
		sum += l[i]
	}
	return sum
}

// stack fills the stacked layers, each row a rectangle from the layers below it to
// its own top, over the known rows.
func (d *drawer) stack() {
	total := make([]float64, d.rows())
	for i := range total {
		total[i] = d.stackSum(i, len(d.g.Stack))
	}
	d.runs(total, true, func(i, j int) {
		for k := i; k < j; k++ {
			a, b := d.rowTimes(k)
			x0, x1 := d.dev(d.xOff(a)), d.dev(d.xOff(b))
			below := 0.0
			for li, l := range d.g.Stack {
				col := StackColors[min(li, len(StackColors)-1)]
				top := below + max(l[k], 0)
				if y0, y1 := d.dev(d.y(top)), d.dev(d.y(below)); y0 < y1 {
					d.rect(image.Rect(x0, y0, x1, y1), parseHex(col))
				}
				below = top
			}
		}
	})
}

// gaps shades the rows where in, out or a stacked layer is unknown.
func (d *drawer) gaps() {
	n := d.rows()
	unknown := make([]float64, n)
	for i := range unknown {
		if (len(d.g.In) > 0 && math.IsNaN(d.g.In[i])) || (len(d.g.Out) > 0 && math.IsNaN(d.g.Out[i])) ||
			(len(d.g.Stack) > 0 && math.IsNaN(d.stackSum(i, len(d.g.Stack)))) {
			unknown[i] = math.NaN()
		}
	}
	d.runs(unknown, false, func(i, j int) {
		a, _ := d.rowTimes(i)
		_, b := d.rowTimes(j - 1)
		d.fill(d.xOff(a), plotT, d.xOff(b), plotB, colGap)
	})
}

// failures draws a tick over the whole height of the plot on each run of
// visible failed rows.
func (d *drawer) failures() {
	if len(d.g.Failures) == 0 {
		return
	}
	marked := make([]float64, len(d.g.Failures))
	for i, f := range d.g.Failures {
		if !f {
			marked[i] = math.NaN()
		}
	}
	col := parseHex(ColorFailure)
	d.runs(marked, true, func(i, j int) {
		a, _ := d.rowTimes(i)
		_, b := d.rowTimes(j - 1)
		d.rect(image.Rect(d.dev(d.xOff(a)), plotT*int(d.s), d.dev(d.xOff(b)), plotB*int(d.s)), col)
	})
}

// marks draws a vertical line one MRTG pixel wide over the plot's height at
// each mark inside the plot's time range, in order.
func (d *drawer) marks() {
	for _, m := range d.g.Marks {
		if m.Time.Before(d.lo) || m.Time.After(d.hi) {
			continue
		}
		// The whole MRTG column holding the time, also at Scale 2.
		d.vrule(math.Floor(d.x(m.Time)), plotT, plotB, parseHex(m.Color), 0, 0)
	}
}

// area fills each run of known rows as steps: a row covers its whole
// interval, so nothing is drawn over unknown rows. Edges are on the device
// pixel grid, so each row is a rectangle of whole pixels, set directly.
func (d *drawer) area(s []float64, col color.NRGBA) {
	d.runs(s, true, func(i, j int) {
		for k := i; k < j; k++ {
			a, b := d.rowTimes(k)
			d.rect(image.Rect(d.dev(d.xOff(a)), d.dev(d.y(s[k])), d.dev(d.xOff(b)), plotB*int(d.s)), col)
		}
	})
}

// line joins the middles of the known rows of each run; a run of one row
// is a flat stroke across its interval. Unknown rows break the line. As in
// rateup, the line is stamped with a brush one pixel wide and two high and
// not antialiased: it stays as crisp as MRTG's, and the picture keeps few
// enough colours to be written as a small palette PNG.
func (d *drawer) line(s []float64, col color.NRGBA) {
	c := opaque(col)
	d.runs(s, true, func(i, j int) {
		if j-i == 1 {
			a, b := d.rowTimes(i)
			y := d.y(s[i])
			d.segment(d.xOff(a), y, d.xOff(b), y, c)
			return
		}
		mid := func(k int) (float64, float64) {
			_, b := d.rowTimes(k)
			return d.xOff(b - d.g.Step/2), d.y(s[k])
		}
		px, py := mid(i)
		for k := i + 1; k < j; k++ {
			nx, ny := mid(k)
			d.segment(px, py, nx, ny, c)
			px, py = nx, ny
		}
	})
}

// segment stamps the brush along a straight line, one device pixel at a
// time along its longer axis, clipped to the plot.
func (d *drawer) segment(x0, y0, x1, y1 float64, c color.RGBA) {
	x0, y0, x1, y1 = x0*d.s, y0*d.s, x1*d.s, y1*d.s
	n := int(math.Ceil(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))))
	w := int(d.s)
	clip := image.Rect(plotL*w, plotT*w, plotR*w, plotB*w)
	// On a palette picture the brush sets palette indexes straight, as set would
	// for each stamp: the lines are a large part of a day graph with its bands.
	// The colour is looked up at the first stamp that sets a pixel, as set does, so
	// that a line clipped away adds nothing to the palette.
	pal := d.c.paletted
	var idx uint8
	looked := false
	for k := 0; k <= n; k++ {
		t := 0.0
		if n > 0 {
			t = float64(k) / float64(n)
		}
		x := int(math.Floor(x0 + t*(x1-x0)))
		y := int(math.Floor(y0 + t*(y1-y0)))
		r := image.Rect(x, y-w, x+w, y+w).Intersect(clip)
		if !pal || r.Empty() {
			d.c.set(r, c)
			pal = d.c.paletted
			continue
		}
		if !looked {
			var ok bool
			if idx, ok = d.c.index(c); !ok {
				d.c.set(r, c) // the palette is full: set turns the picture into RGBA
				pal = false
				continue
			}
			looked = true
		}
		p := d.c.pal
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := p.Pix[p.PixOffset(r.Min.X, y):][:r.Dx()]
			for i := range row {
				row[i] = idx
			}
		}
	}
}
