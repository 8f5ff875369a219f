package render

// The picture being drawn: palette indexes while its colours fit, RGBA after.

import (
	"image"
	"image/color"
)

// canvas holds the pixels of one graph. A graph has few colours (rateup's
// frame, the series, the rules, and 32 levels of ink over a handful of
// backgrounds), so it is drawn as palette indexes: a quarter of the memory
// of RGBA, nothing to convert before the PNG encoder, and a blend or a level
// of ink worked out once per colour instead of once per pixel. A picture
// that needs a 257th colour is turned into RGBA where it stands and goes on
// there; Draw draws in RGBA from the start. Both modes set the same pixels:
// the arithmetic is the same, only where its result is kept differs.
type canvas struct {
	rect image.Rectangle
	pal  *image.Paletted // the indexes; its Palette is set by palette
	rgba *image.RGBA     // the pixels in RGBA mode, else nil or a spare

	paletted bool // palette mode: pal holds the picture
	n        int  // colours in use, colors[:n]
	colors   [256]color.RGBA

	// Lookups, valid for this picture: index's last answer, the colour a
	// translucent fill turns each colour into (idx+1, 0 unknown), and the
	// colour ink of each level turns each colour into (the same).
	lastCol   color.RGBA
	lastIdx   uint8
	haveLast  bool
	blendCol  color.NRGBA
	haveBlend bool
	blended   [256]uint16
	inked     [256][inkLevels]uint16
}

// inkLevels is the number of coverage levels ink tells apart (see inkKeep).
const inkLevels = 33

// newPalettedCanvas returns a canvas of size r in palette mode.
func newPalettedCanvas(r image.Rectangle) *canvas {
	c := &canvas{rect: r, pal: image.NewPaletted(r, nil)}
	c.reset()
	return c
}

// newRGBACanvas returns a canvas drawing onto img in RGBA mode.
func newRGBACanvas(img *image.RGBA) *canvas {
	return &canvas{rect: img.Rect, rgba: img}
}

// reset starts a new picture on a palette canvas. Its pixels are left as
// they are: a graph's frame covers every one.
func (c *canvas) reset() {
	c.paletted = true
	c.n = 0
	c.haveLast, c.haveBlend = false, false
	clear(c.inked[:])
}

// image returns the picture: palette indexes with their palette, or RGBA.
func (c *canvas) image() image.Image {
	if !c.paletted {
		return c.rgba
	}
	p := c.pal.Palette[:0]
	for _, col := range c.colors[:c.n] {
		p = append(p, col)
	}
	c.pal.Palette = p
	return c.pal
}

// index returns the palette index of col, adding it if it is new; false
// when the palette is full.
func (c *canvas) index(col color.RGBA) (uint8, bool) {
	if c.haveLast && col == c.lastCol {
		return c.lastIdx, true
	}
	i := 0
	for i < c.n && c.colors[i] != col {
		i++
	}
	if i == c.n {
		if c.n == len(c.colors) {
			return 0, false
		}
		c.colors[i] = col
		c.n++
	}
	c.lastCol, c.lastIdx, c.haveLast = col, uint8(i), true
	return uint8(i), true
}

// spill turns the picture into RGBA, for good.
func (c *canvas) spill() {
	if c.rgba == nil || c.rgba.Rect != c.rect {
		c.rgba = image.NewRGBA(c.rect)
	}
	w := c.rect.Dx()
	for y := 0; y < c.rect.Dy(); y++ {
		src := c.pal.Pix[y*c.pal.Stride : y*c.pal.Stride+w]
		dst := c.rgba.Pix[y*c.rgba.Stride : y*c.rgba.Stride+4*w]
		for x, i := range src {
			col := c.colors[i]
			p := dst[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = col.R, col.G, col.B, col.A
		}
	}
	c.paletted = false
}

// fill paints r with col, blended over what is there when col is
// translucent.
func (c *canvas) fill(r image.Rectangle, col color.NRGBA) {
	if col.A == 0xff {
		c.set(r, opaque(col))
		return
	}
	c.blend(r, col)
}

// set paints r with the opaque col.
func (c *canvas) set(r image.Rectangle, col color.RGBA) {
	r = r.Intersect(c.rect)
	if r.Empty() {
		return
	}
	if c.paletted {
		i, ok := c.index(col)
		if ok {
			setRows(c.pal.Pix, c.pal.PixOffset(r.Min.X, r.Min.Y), r.Dx(), r.Dy(), c.pal.Stride, i)
			return
		}
		c.spill()
	}
	first := c.rgba.Pix[c.rgba.PixOffset(r.Min.X, r.Min.Y):c.rgba.PixOffset(r.Max.X, r.Min.Y)]
	for i := 0; i < len(first); i += 4 {
		p := first[i : i+4 : i+4]
		p[0], p[1], p[2], p[3] = col.R, col.G, col.B, 0xff
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		copy(c.rgba.Pix[c.rgba.PixOffset(r.Min.X, y):], first)
	}
}

// setRows sets h rows of w bytes, stride apart from off, to v: one row,
// then copies of it.
func setRows(pix []uint8, off, w, h, stride int, v uint8) {
	first := pix[off : off+w]
	if w == 1 {
		for y := range h {
			pix[off+y*stride] = v
		}
		return
	}
	first[0] = v
	for i := 1; i < w; i *= 2 {
		copy(first[i:], first[:i])
	}
	for y := 1; y < h; y++ {
		copy(pix[off+y*stride:off+y*stride+w], first)
	}
}

// blendOver is col drawn with its alpha over the opaque in: out = src·a +
// dst·(1-a), rounded.
func blendOver(in color.RGBA, col color.NRGBA) color.RGBA {
	a := uint32(col.A)
	mix := func(c, d uint8) uint8 { return uint8((uint32(c)*a + uint32(d)*(255-a) + 127) / 255) }
	return color.RGBA{mix(col.R, in.R), mix(col.G, in.G), mix(col.B, in.B), 0xff}
}

// blend paints r with the translucent col over an opaque picture.
func (c *canvas) blend(r image.Rectangle, col color.NRGBA) {
	r = r.Intersect(c.rect)
	if r.Empty() {
		return
	}
	if c.paletted {
		if !c.haveBlend || c.blendCol != col {
			clear(c.blended[:])
			c.blendCol, c.haveBlend = col, true
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := c.pal.Pix[c.pal.PixOffset(r.Min.X, y):c.pal.PixOffset(r.Max.X, y)]
			for x, i := range row {
				b := c.blended[i]
				if b == 0 {
					j, ok := c.index(blendOver(c.colors[i], col))
					if !ok {
						c.spill()
						px := r.Min.X + x
						c.blendRGBA(image.Rect(px, y, r.Max.X, y+1), col)
						c.blendRGBA(image.Rect(r.Min.X, y+1, r.Max.X, r.Max.Y), col)
						return
					}
					b = uint16(j) + 1
					c.blended[i] = b
				}
				row[x] = uint8(b - 1)
			}
		}
		return
	}
	c.blendRGBA(r, col)
}

// blendRGBA is blend in RGBA mode, on r inside the picture. What lies under
// a band is mostly one colour: each run of it is blended once.
func (c *canvas) blendRGBA(r image.Rectangle, col color.NRGBA) {
	var in, out color.RGBA
	have := false
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := c.rgba.Pix[c.rgba.PixOffset(r.Min.X, y):c.rgba.PixOffset(r.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			p := row[i : i+4 : i+4]
			if !have || p[0] != in.R || p[1] != in.G || p[2] != in.B {
				in = color.RGBA{p[0], p[1], p[2], 0xff}
				out = blendOver(in, col)
				have = true
			}
			p[0], p[1], p[2], p[3] = out.R, out.G, out.B, 0xff
		}
	}
}

// inkKeep is the share (of 255) of the picture that ink of coverage a
// leaves. Coverage is rounded to 32 levels, so the picture keeps few
// colours; level is (a+4)>>3.
func inkKeep(level int) uint32 { return 255 - uint32(min(level<<3, 255)) }

// inked is col under ink that keeps keep/255 of it.
func inked(col color.RGBA, keep uint32) color.RGBA {
	k := func(v uint8) uint8 { return uint8((uint32(v)*keep + 127) / 255) }
	return color.RGBA{k(col.R), k(col.G), k(col.B), col.A}
}

// ink darkens the picture under a coverage mask placed at (x, y): black ink
// over the opaque picture, each channel times the share inkKeep leaves.
func (c *canvas) ink(m *image.Alpha, x, y int) {
	r := m.Rect.Add(image.Pt(x, y)).Intersect(c.rect)
	if !c.paletted {
		c.inkRGBA(m, x, y, r)
		return
	}
	for py := r.Min.Y; py < r.Max.Y; py++ {
		row := c.pal.Pix[c.pal.PixOffset(r.Min.X, py):c.pal.PixOffset(r.Max.X, py)]
		cov := m.Pix[m.PixOffset(r.Min.X-x, py-y):]
		for px, i := range row {
			a := cov[px]
			if a == 0 {
				continue
			}
			level := (int(a) + 4) >> 3
			b := c.inked[i][level]
			if b == 0 {
				j, ok := c.index(inked(c.colors[i], inkKeep(level)))
				if !ok {
					c.spill()
					c.inkRGBA(m, x, y, image.Rect(r.Min.X+px, py, r.Max.X, py+1))
					c.inkRGBA(m, x, y, image.Rect(r.Min.X, py+1, r.Max.X, r.Max.Y))
					return
				}
				b = uint16(j) + 1
				c.inked[i][level] = b
			}
			row[px] = uint8(b - 1)
		}
	}
}

// inkRGBA is ink in RGBA mode, on r inside both the picture and the mask.
func (c *canvas) inkRGBA(m *image.Alpha, x, y int, r image.Rectangle) {
	for py := r.Min.Y; py < r.Max.Y; py++ {
		for px := r.Min.X; px < r.Max.X; px++ {
			a := m.Pix[m.PixOffset(px-x, py-y)]
			if a == 0 {
				continue
			}
			keep := inkKeep((int(a) + 4) >> 3)
			i := c.rgba.PixOffset(px, py)
			p := c.rgba.Pix[i : i+3 : i+3]
			for k := range p {
				p[k] = uint8((uint32(p[k])*keep + 127) / 255)
			}
		}
	}
}
