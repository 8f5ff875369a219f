package render

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"sync"
	"time"
)

// Colours of the graph, as hex for pages that draw a legend. The first four
// are MRTG's defaults.
const (
	ColorIn     = "#00cc00" // in rate, filled area
	ColorOut    = "#0000ff" // out rate, line
	ColorMaxIn  = "#006600" // peak in rate, filled area behind the in area
	ColorMaxOut = "#ff00ff" // peak out rate, line
	ColorP95In  = "#ff8000" // 95th percentile of in, dashed line
	ColorP95Out = "#8000ff" // 95th percentile of out, dashed line
	ColorGap    = "#d9d9d9" // band over unknown samples, as it shows on white
)

// Graph is everything one PNG shows. Times are absolute; Location only
// decides the labels and where the period boundaries fall.
type Graph struct {
	Period Period
	// Title is drawn in the top margin; MRTG graphs usually have none.
	Title string
	// Start is the time at which In[0] ends: as in RRDtool, the row at t
	// covers (t-Step, t]. Row i ends at Start + i*Step.
	Start time.Time
	// Step is the spacing of the rows.
	Step time.Duration
	// In and Out are rates in bits per second; NaN is unknown and is drawn
	// as a gap with a light shaded band. Out may be empty (in only) and so
	// may In; otherwise they have the same length.
	In, Out []float64
	// MaxIn and MaxOut are optional peaks on the rows of In and Out (MRTG
	// draws them on the week, month and year graphs): empty, or the same
	// length as In.
	MaxIn, MaxOut []float64
	// End is the right edge of the graph, usually now; new data is on the
	// right.
	End time.Time
	// Span is the time the plot covers; zero means Period.Span(), MRTG's
	// span for a 5-minute step. With another base step pass
	// Period.SpanFor(step) to keep one row per column.
	Span time.Duration
	// Location is the zone of labels and period boundaries; nil is UTC.
	Location *time.Location
	// Speed is the interface speed in bits per second, 0 if unknown. When
	// it falls inside the plot it is marked with a dotted red line, as MRTG
	// marks MaxBytes.
	Speed float64
	// Unscaled makes the y axis reach at least Speed (MRTG's Unscaled[]);
	// by default the axis is scaled to the data.
	Unscaled bool
	// P95In and P95Out draw dashed 95th-percentile lines; NaN or 0 is none.
	P95In, P95Out float64
	// Scale multiplies the pixel size: 1 is MRTG's 500×135 image with a
	// 400×100 plot, 2 the same picture for high-density screens. 0 means 1.
	Scale int
}

// Width and Height are the size in pixels of a graph at Scale 1 (MRTG's 500×135);
// Scale n multiplies both by n.
const (
	Width  = imgW
	Height = imgH
)

// Layout in MRTG pixels (rateup's geometry for a 400×100 plot): the plot
// occupies columns [plotL, plotR) and rows [plotT, plotB).
const (
	imgW  = plotColumns + 100
	imgH  = plotRows + 35
	plotL = 81
	plotR = plotL + plotColumns
	plotT = 14
	plotB = plotT + plotRows

	plotRows = 100
	maxScale = 4
	fontSize = 10
)

// Errors returned, wrapped, for a Graph that cannot be drawn.
var (
	// ErrPeriod means Graph.Period is not Day, Week, Month or Year.
	ErrPeriod = errors.New("unknown period")
	// ErrSeries means the non-empty series do not all have the same length.
	ErrSeries = errors.New("series lengths differ")
	// ErrTime means End is missing, Span is negative or Step is not positive.
	ErrTime = errors.New("bad time range")
	// ErrScale means Scale is outside 0 to 4.
	ErrScale = errors.New("scale out of range")
)

var (
	colBlank = color.NRGBA{0xf5, 0xf5, 0xf5, 0xff} // rateup's c_blank
	colLight = color.NRGBA{0xc2, 0xc2, 0xc2, 0xff} // c_light, top-left border
	colDark  = color.NRGBA{0x64, 0x64, 0x64, 0xff} // c_dark, bottom-right border
	colMajor = color.NRGBA{0xff, 0x00, 0x00, 0xff} // c_major
	colGrid  = color.NRGBA{0x00, 0x00, 0x00, 0xff}
	colPlot  = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	colGap   = color.NRGBA{0x80, 0x80, 0x80, 0x4d} // over white: ColorGap
)

// PNG draws g and writes it to w as a PNG.
func PNG(w io.Writer, g Graph) error {
	if err := g.check(); err != nil {
		return fmt.Errorf("draw %s graph: %w", g.Period, err)
	}
	// The pixels live only until they are encoded: reuse them (a 2x
	// picture is a megabyte, and clearing fresh memory costs as much as
	// drawing on it; the frame covers every pixel).
	s := max(g.Scale, 1)
	img, _ := pictures[s].Get().(*image.RGBA)
	if img == nil {
		img = image.NewRGBA(image.Rect(0, 0, imgW*s, imgH*s))
	}
	defer pictures[s].Put(img)
	if err := draw(img, g); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: pngBuffers}
	var src image.Image = img
	if p := paletted(img); p != nil {
		src = p
		defer palettes[s].Put(p)
	}
	if err := enc.Encode(bw, src); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}

// paletted returns img with a palette of its exact colours, or nil when it
// has more than 256. Only the text is antialiased, so a graph nearly always
// fits; a palette PNG is a third of the data to compress, skips PNG's row
// filters and comes out several times smaller.
func paletted(img *image.RGBA) *image.Paletted {
	b := img.Bounds()
	s := b.Dx() / imgW
	p, _ := palettes[s].Get().(*image.Paletted)
	if p == nil || p.Rect != b {
		p = image.NewPaletted(b, make(color.Palette, 0, 256))
	}
	p.Palette = p.Palette[:0]
	// Colours to palette indexes: open addressing in a table four times
	// the palette's size (a map costs more than the rest of this loop).
	var index [1024]struct {
		key  uint32
		idx  uint8
		used bool
	}
	have := false
	var last uint32
	var lastIdx uint8
	for y := 0; y < b.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*b.Dx()]
		out := p.Pix[y*p.Stride : y*p.Stride+b.Dx()]
		for x := 0; x < len(out); x++ {
			// Runs of one colour are long: test two pixels at once.
			if have && x+1 < len(out) && binary.LittleEndian.Uint64(row[4*x:]) == uint64(last)|uint64(last)<<32 {
				out[x], out[x+1] = lastIdx, lastIdx
				x++
				continue
			}
			px := row[4*x : 4*x+4 : 4*x+4]
			k := binary.LittleEndian.Uint32(px)
			if !have || k != last {
				h := (k * 2654435761) >> 22
				for index[h].used && index[h].key != k {
					h = (h + 1) % uint32(len(index))
				}
				e := &index[h]
				if !e.used {
					if len(p.Palette) == 256 {
						return nil
					}
					e.key, e.idx, e.used = k, uint8(len(p.Palette)), true
					p.Palette = append(p.Palette, color.RGBA{px[0], px[1], px[2], px[3]})
				}
				have, last, lastIdx = true, k, e.idx
			}
			out[x] = lastIdx
		}
	}
	return p
}

// pictures and palettes keep the pixels of graphs being encoded, by scale.
var (
	pictures [maxScale + 1]sync.Pool
	palettes [maxScale + 1]sync.Pool
)

// pngBuffers reuses the encoder's compression state between graphs: a
// deflate writer is larger than the image it compresses.
var pngBuffers = &bufferPool{}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() *png.EncoderBuffer {
	e, _ := b.p.Get().(*png.EncoderBuffer)
	return e
}

func (b *bufferPool) Put(e *png.EncoderBuffer) { b.p.Put(e) }

// Draw draws g into a new image of 500×135 pixels times g.Scale.
func Draw(g Graph) (*image.RGBA, error) {
	if err := g.check(); err != nil {
		return nil, fmt.Errorf("draw %s graph: %w", g.Period, err)
	}
	s := max(g.Scale, 1)
	img := image.NewRGBA(image.Rect(0, 0, imgW*s, imgH*s))
	if err := draw(img, g); err != nil {
		return nil, err
	}
	return img, nil
}

// draw draws a checked g onto img, which has g's size; every pixel is set.
func draw(img *image.RGBA, g Graph) error {
	d := &drawer{img: img, s: float64(max(g.Scale, 1)), g: g}
	if err := d.draw(); err != nil {
		return fmt.Errorf("draw %s graph: %w", g.Period, err)
	}
	return nil
}

func (g Graph) check() error {
	switch {
	case g.Period < Day || g.Period > Year:
		return ErrPeriod
	case g.Scale < 0 || g.Scale > maxScale:
		return fmt.Errorf("%w: %d, want 1 to %d", ErrScale, g.Scale, maxScale)
	case g.End.IsZero():
		return fmt.Errorf("%w: no end time", ErrTime)
	case g.Span < 0:
		return fmt.Errorf("%w: negative span %v", ErrTime, g.Span)
	}
	n := max(len(g.In), len(g.Out))
	for _, l := range []struct {
		name string
		n    int
	}{{"in", len(g.In)}, {"out", len(g.Out)}, {"max in", len(g.MaxIn)}, {"max out", len(g.MaxOut)}} {
		if l.n != 0 && l.n != n {
			return fmt.Errorf("%w: %s has %d rows, want %d", ErrSeries, l.name, l.n, n)
		}
	}
	if n > 0 && g.Step <= 0 {
		return fmt.Errorf("%w: step %v", ErrTime, g.Step)
	}
	return nil
}

// drawer holds one drawing. All coordinates are MRTG pixels from the top
// left; dev converts them to device pixels.
type drawer struct {
	img *image.RGBA
	s   float64 // device pixels per MRTG pixel
	g   Graph

	lo, hi time.Time // the time range of the plot
	top    float64   // bits per second at the top of the plot
}

func (d *drawer) draw() error {
	g := d.g
	span := g.Span
	if span == 0 {
		span = g.Period.Span()
	}
	d.hi = g.End
	d.lo = g.End.Add(-span)

	var labels []string
	d.top, labels = yScale(d.dataMax())

	// Frame: rateup's light grey background and 3-D border, white plot.
	d.fill(0, 0, imgW, imgH, colBlank)
	d.fill(0, 0, imgW-1, 2, colLight)
	d.fill(0, 0, 2, imgH-1, colLight)
	d.fill(imgW-2, 1, imgW, imgH, colDark)
	d.fill(1, imgH-2, imgW, imgH, colDark)
	d.fill(plotL, plotT, plotR, plotB, colPlot)

	d.gaps()
	if len(g.MaxIn) > 0 {
		d.area(g.MaxIn, parseHex(ColorMaxIn))
	}
	d.area(g.In, parseHex(ColorIn))
	if len(g.MaxOut) > 0 {
		d.line(g.MaxOut, parseHex(ColorMaxOut))
	}
	d.line(g.Out, parseHex(ColorOut))

	ticks, xlabels := timeTicks(g.Period, d.lo, d.hi, g.Location)
	d.grid(ticks)
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
	for _, s := range [][]float64{d.g.In, d.g.Out, d.g.MaxIn, d.g.MaxOut} {
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

// rowTimes returns the interval (a, b] covered by row i.
func (d *drawer) rowTimes(i int) (a, b time.Time) {
	b = d.g.Start.Add(time.Duration(i) * d.g.Step)
	return b.Add(-d.g.Step), b
}

func (d *drawer) visible(i int) bool {
	a, b := d.rowTimes(i)
	return b.After(d.lo) && a.Before(d.hi)
}

// x maps a time to a column, clamped to the plot.
func (d *drawer) x(t time.Time) float64 {
	f := float64(t.Sub(d.lo)) / float64(d.hi.Sub(d.lo))
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

// gaps shades the rows where in or out is unknown.
func (d *drawer) gaps() {
	n := max(len(d.g.In), len(d.g.Out))
	unknown := make([]float64, n)
	for i := range unknown {
		if (len(d.g.In) > 0 && math.IsNaN(d.g.In[i])) || (len(d.g.Out) > 0 && math.IsNaN(d.g.Out[i])) {
			unknown[i] = math.NaN()
		}
	}
	d.runs(unknown, false, func(i, j int) {
		a, _ := d.rowTimes(i)
		_, b := d.rowTimes(j - 1)
		d.fill(d.x(a), plotT, d.x(b), plotB, colGap)
	})
}

// area fills each run of known rows as steps: a row covers its whole
// interval, so nothing is drawn over unknown rows. Edges are on the device
// pixel grid, so each row is a rectangle of whole pixels, set directly.
func (d *drawer) area(s []float64, col color.NRGBA) {
	d.runs(s, true, func(i, j int) {
		for k := i; k < j; k++ {
			a, b := d.rowTimes(k)
			d.rect(image.Rect(d.dev(d.x(a)), d.dev(d.y(s[k])), d.dev(d.x(b)), plotB*int(d.s)), col)
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
			d.segment(d.x(a), y, d.x(b), y, c)
			return
		}
		mid := func(k int) (float64, float64) {
			_, b := d.rowTimes(k)
			return d.x(b.Add(-d.g.Step / 2)), d.y(s[k])
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
	for k := 0; k <= n; k++ {
		t := 0.0
		if n > 0 {
			t = float64(k) / float64(n)
		}
		x := int(math.Floor(x0 + t*(x1-x0)))
		y := int(math.Floor(y0 + t*(y1-y0)))
		r := image.Rect(x, y-w, x+w, y+w).Intersect(clip)
		for py := r.Min.Y; py < r.Max.Y; py++ {
			for px := r.Min.X; px < r.Max.X; px++ {
				d.img.SetRGBA(px, py, c)
			}
		}
	}
}

// grid draws rateup's dotted grid, the tick marks outside the frame, the
// frame itself and the red period boundaries over the data.
func (d *drawer) grid(ticks []xTick) {
	for i := 0; i <= yTicks; i++ {
		y := float64(plotB - i*plotRows/yTicks)
		switch i {
		case 0: // the frame's bottom edge
		case yTicks:
			y = plotT - 1
		default:
			d.hrule(plotL, plotR, y, colGrid, 1, 2)
		}
		d.hrule(plotL-3, plotL, y, colGrid, 0, 0)
		d.hrule(plotR, plotR+3, y, colGrid, 0, 0)
	}
	for _, t := range ticks {
		x := d.x(t.At)
		d.vrule(x, plotT, plotB, colGrid, 1, 2)
		d.vrule(x, plotB, plotB+3, colGrid, 0, 0)
	}
	// The frame sits just outside the data rows and columns.
	d.hrule(plotL-1, plotR+1, plotT-1, colGrid, 0, 0)
	d.hrule(plotL-1, plotR+1, plotB, colGrid, 0, 0)
	d.vrule(plotL-1, plotT-1, plotB+1, colGrid, 0, 0)
	d.vrule(plotR, plotT-1, plotB+1, colGrid, 0, 0)
	for _, t := range ticks {
		if t.Major {
			d.vrule(d.x(t.At), plotT, plotB, colMajor, 0, 0)
		}
	}
}

// fill paints the rectangle [x0, x1) × [y0, y1) in MRTG pixels on whole
// device pixels, blending a translucent colour over what is there.
func (d *drawer) fill(x0, y0, x1, y1 float64, col color.NRGBA) {
	d.rect(image.Rect(d.dev(x0), d.dev(y0), d.dev(x1), d.dev(y1)), col)
}

// rect paints r in device pixels with col, blended over what is there.
func (d *drawer) rect(r image.Rectangle, col color.NRGBA) {
	r = r.Intersect(d.img.Rect)
	if r.Empty() {
		return
	}
	first := d.img.Pix[d.img.PixOffset(r.Min.X, r.Min.Y):d.img.PixOffset(r.Max.X, r.Min.Y)]
	if col.A == 0xff {
		// One row, then copies of it.
		for i := 0; i < len(first); i += 4 {
			p := first[i : i+4 : i+4]
			p[0], p[1], p[2], p[3] = col.R, col.G, col.B, 0xff
		}
		for y := r.Min.Y + 1; y < r.Max.Y; y++ {
			copy(d.img.Pix[d.img.PixOffset(r.Min.X, y):], first)
		}
		return
	}
	// Source over an opaque picture: out = src·a + dst·(1-a). What lies
	// under a band is mostly one colour: blend each run of it once.
	a := uint32(col.A)
	var in, out [3]uint8
	have := false
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := d.img.Pix[d.img.PixOffset(r.Min.X, y):d.img.PixOffset(r.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			p := row[i : i+4 : i+4]
			if !have || p[0] != in[0] || p[1] != in[1] || p[2] != in[2] {
				in = [3]uint8{p[0], p[1], p[2]}
				for k, c := range [3]uint8{col.R, col.G, col.B} {
					out[k] = uint8((uint32(c)*a + uint32(in[k])*(255-a) + 127) / 255)
				}
				have = true
			}
			p[0], p[1], p[2], p[3] = out[0], out[1], out[2], 0xff
		}
	}
}

func (d *drawer) dev(v float64) int { return int(math.Round(v * d.s)) }

// hrule draws a horizontal rule one MRTG pixel thick through the MRTG pixel
// row holding y, from x0 to x1, dashed on/off MRTG pixels (on = 0: solid).
// Rules are set on the pixel grid: exact, and far cheaper than stroking
// dashes.
func (d *drawer) hrule(x0, x1, y float64, col color.NRGBA, on, off int) {
	row := d.clampRow(y)
	x0d, x1d := d.dev(x0), d.dev(x1)
	w := int(d.s)
	for x := x0d; x < x1d; x++ {
		if on > 0 && (x-x0d)%((on+off)*w) >= on*w {
			continue
		}
		for k := range w {
			d.img.SetRGBA(x, row+k, opaque(col))
		}
	}
}

// vrule is hrule's vertical twin, through the MRTG pixel column holding x.
func (d *drawer) vrule(x, y0, y1 float64, col color.NRGBA, on, off int) {
	w := int(d.s)
	c0 := min(int(math.Floor(x*d.s)), plotR*w-w)
	if x < plotL || x > plotR {
		c0 = int(math.Floor(x * d.s))
	}
	y0d, y1d := d.dev(y0), d.dev(y1)
	for y := y0d; y < y1d; y++ {
		if on > 0 && (y-y0d)%((on+off)*w) >= on*w {
			continue
		}
		for k := range w {
			d.img.SetRGBA(c0+k, y, opaque(col))
		}
	}
}

// clampRow returns the first device row of the MRTG pixel row holding y,
// keeping a value at the top of the axis inside the plot.
func (d *drawer) clampRow(y float64) int {
	w := int(d.s)
	row := int(math.Floor(y * d.s))
	if y >= plotT && y <= plotB {
		row = min(max(row, plotT*w), plotB*w-w)
	}
	return row
}

func opaque(c color.NRGBA) color.RGBA { return color.RGBA{c.R, c.G, c.B, 0xff} }

// arrow is rateup's small red arrow where time runs out of the plot, set
// column by column as rateup draws it.
func (d *drawer) arrow() {
	d.fill(plotR-2, plotB-3, plotR, plotB+4, colMajor)
	d.fill(plotR, plotB-2, plotR+1, plotB+3, colMajor)
	d.fill(plotR+1, plotB-1, plotR+3, plotB+2, colMajor)
	d.fill(plotR+3, plotB, plotR+4, plotB+1, colMajor)
}

// parseHex turns "#rrggbb" into an opaque colour.
func parseHex(s string) color.NRGBA {
	var c color.NRGBA
	c.A = 0xff
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &c.R, &c.G, &c.B); err != nil {
		return color.NRGBA{A: 0xff}
	}
	return c
}
