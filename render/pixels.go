package render

// Pixels: the grid and frame, rectangles and rules on the device pixel grid,
// and colours.

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

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
