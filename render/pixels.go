package render

// Pixels: the grid and frame, rectangles and rules on the device pixel grid,
// and colours.

import (
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
func (d *drawer) rect(r image.Rectangle, col color.NRGBA) { d.c.fill(r, col) }

func (d *drawer) dev(v float64) int { return int(math.Round(v * d.s)) }

// hrule draws a horizontal rule one MRTG pixel thick through the MRTG pixel
// row holding y, from x0 to x1, dashed on/off MRTG pixels (on = 0: solid).
// Rules are set on the pixel grid: exact, and far cheaper than stroking
// dashes.
func (d *drawer) hrule(x0, x1, y float64, col color.NRGBA, on, off int) {
	row := d.clampRow(y)
	x0d, x1d := d.dev(x0), d.dev(x1)
	w := int(d.s)
	if x1d <= x0d {
		return // image.Rect would swap the ends
	}
	if on == 0 {
		d.c.set(image.Rect(x0d, row, x1d, row+w), opaque(col))
		return
	}
	for x := x0d; x < x1d; x += (on + off) * w {
		d.c.set(image.Rect(x, row, min(x+on*w, x1d), row+w), opaque(col))
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
	if y1d <= y0d {
		return
	}
	if on == 0 {
		d.c.set(image.Rect(c0, y0d, c0+w, y1d), opaque(col))
		return
	}
	for y := y0d; y < y1d; y += (on + off) * w {
		d.c.set(image.Rect(c0, y, c0+w, min(y+on*w, y1d)), opaque(col))
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

// parseHex turns "#rrggbb" into an opaque colour; anything else is black.
func parseHex(s string) color.NRGBA {
	c, _ := hexColor(s)
	return c
}

// hexColor turns "#rrggbb" into an opaque colour; ok is false (and the
// colour black) for anything else.
func hexColor(s string) (c color.NRGBA, ok bool) {
	c.A = 0xff
	if len(s) != 7 || s[0] != '#' {
		return c, false
	}
	var v [3]uint8
	for i := range v {
		hi, ok1 := hexDigit(s[1+2*i])
		lo, ok2 := hexDigit(s[2+2*i])
		if !ok1 || !ok2 {
			return color.NRGBA{A: 0xff}, false
		}
		v[i] = hi<<4 | lo
	}
	c.R, c.G, c.B = v[0], v[1], v[2]
	return c, true
}

func hexDigit(b byte) (uint8, bool) {
	switch {
	case b >= '0' && b <= '9':
		return b - '0', true
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10, true
	case b >= 'A' && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}
