package render

import (
	"fmt"
	"image"
	"math"
	"sync"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
)

// subpixels is how finely a label's horizontal position is kept: a quarter
// pixel, so that a label rasterized once serves every graph (the hour labels
// move with the clock) within an eighth of a pixel of where it belongs.
const subpixels = 4

// maxLabels bounds the cache; labels are few (numbers of the y axis, hours,
// weekdays, months, titles), so it is only reached with many titled graphs.
const maxLabels = 8192

// labels rasterizes text once per scale, position fraction and string. The
// glyphs of a graph are the same few labels again and again, and turning
// outlines into coverage costs more than the rest of the graph.
var labels = &labelCache{}

type labelCache struct {
	mu     sync.Mutex
	faces  map[int]xfont.Face // by scale; a Face is not safe for concurrent use
	masks  map[labelKey]*image.Alpha
	widths map[labelKey]fixed.Int26_6
}

type labelKey struct {
	scale, frac int // frac: position within the pixel, in 1/subpixels
	text        string
}

// face returns the scale's face; the caller holds mu.
func (c *labelCache) face(scale int) (xfont.Face, error) {
	if f, ok := c.faces[scale]; ok {
		return f, nil
	}
	gf := font.NewCache(liberation.Collection()).Lookup(font.Font{Typeface: "Liberation", Variant: "Sans"}, fontSize)
	f, err := opentype.NewFace(gf.Face, &opentype.FaceOptions{Size: fontSize, DPI: 72 * float64(scale), Hinting: xfont.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("make font face: %w", err)
	}
	if c.faces == nil {
		c.faces = map[int]xfont.Face{}
		c.masks = map[labelKey]*image.Alpha{}
		c.widths = map[labelKey]fixed.Int26_6{}
	}
	c.faces[scale] = f
	return f, nil
}

// metrics returns the ascent and descent of the scale's face in device pixels.
func (c *labelCache) metrics(scale int) (ascent, descent fixed.Int26_6, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.face(scale)
	if err != nil {
		return 0, 0, err
	}
	m := f.Metrics()
	return m.Ascent, m.Descent, nil
}

// width returns the advance of text in device pixels.
func (c *labelCache) width(scale int, text string) (fixed.Int26_6, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := labelKey{scale: scale, text: text}
	if w, ok := c.widths[k]; ok {
		return w, nil
	}
	f, err := c.face(scale)
	if err != nil {
		return 0, err
	}
	w := xfont.MeasureString(f, text)
	c.trim()
	c.widths[k] = w
	return w, nil
}

// mask returns the coverage of text drawn with its dot at (frac/subpixels, 0):
// the image's bounds are relative to the dot's whole pixel.
func (c *labelCache) mask(scale, frac int, text string) (*image.Alpha, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := labelKey{scale, frac, text}
	if m, ok := c.masks[k]; ok {
		return m, nil
	}
	f, err := c.face(scale)
	if err != nil {
		return nil, err
	}
	dot := fixed.Point26_6{X: fixed.Int26_6(frac * 64 / subpixels)}
	b, _ := xfont.BoundString(f, text)
	r := image.Rect(b.Min.X.Floor(), b.Min.Y.Floor(), b.Max.X.Ceil()+1, b.Max.Y.Ceil()+1).Add(image.Pt(1, 0))
	m := image.NewAlpha(r)
	(&xfont.Drawer{Dst: m, Src: image.Opaque, Face: f, Dot: dot}).DrawString(text)
	c.trim()
	c.masks[k] = m
	return m, nil
}

// trim empties the cache when it is full; the caller holds mu.
func (c *labelCache) trim() {
	if len(c.masks)+len(c.widths) >= maxLabels {
		clear(c.masks)
		clear(c.widths)
	}
}

// text draws the labels with gonum's embedded Liberation Sans straight onto
// the pixels: vgimg's FillString would build a face and resample every glyph
// through an affine transform, which costs more than the rest of the graph.
func (d *drawer) text(g Graph, ylabels []string, xlabels []xLabel) error {
	scale := int(d.s)
	ascent26, descent26, err := labels.metrics(scale)
	if err != nil {
		return err
	}
	var werr error
	width := func(s string) float64 {
		w, err := labels.width(scale, s)
		if err != nil {
			werr = err
		}
		return float64(w) / 64 / d.s
	}
	put := func(x, baseline float64, s string) {
		px := math.Round(x * d.s * subpixels)
		whole := int(math.Floor(px / subpixels))
		m, err := labels.mask(scale, int(px)-whole*subpixels, s)
		if err != nil {
			werr = err
			return
		}
		d.c.ink(m, whole, int(math.Round(baseline*d.s)))
	}
	ascent := float64(ascent26) / 64 / d.s

	// y labels, right-aligned before the tick marks and centred on them.
	for i, l := range ylabels {
		y := plotB - float64(i*plotRows/yTicks)
		put(plotL-6-width(l), y+ascent/2-1, l)
	}
	// x labels centred under their time; keep them inside the image.
	for _, l := range xlabels {
		w := width(l.Text)
		put(math.Min(math.Max(d.x(l.At)-w/2, 2), imgW-2-w), plotB+4+ascent, l.Text)
	}
	if g.Title != "" {
		put(plotL, 1+ascent, g.Title)
	}
	if werr != nil {
		return werr
	}

	// "Bits per Second" up the left edge, centred on the plot: drawn flat,
	// then turned a quarter left pixel by pixel.
	legend := "Bits per Second"
	if g.YLegend != "" {
		legend = g.YLegend
	}
	flat, err := labels.mask(scale, 0, legend)
	if err != nil {
		return err
	}
	lw := int(math.Ceil(width(legend) * d.s))
	lh := (ascent26 + descent26).Ceil()
	asc := ascent26.Ceil()
	x0 := int(math.Round(7 * d.s))
	y0 := int(math.Round((plotB-(plotRows-width(legend))/2)*d.s)) - lw
	turned := image.NewAlpha(image.Rect(0, 0, lh, lw))
	for py := 0; py < lh; py++ {
		for px := 0; px < lw; px++ {
			if p := image.Pt(px, py-asc); p.In(flat.Rect) {
				turned.Pix[turned.PixOffset(py, lw-1-px)] = flat.Pix[flat.PixOffset(p.X, p.Y)]
			}
		}
	}
	d.c.ink(turned, x0, y0)
	return nil
}
