package render

import (
	"bytes"
	"image"
	"image/color"
	"testing"
)

// A palette canvas sets the same pixels as an RGBA one, and a picture that
// needs more than 256 colours goes on in RGBA where it stands: the same
// operations on both, with the palette running out in the middle of a
// fill, a blend or a stroke of ink, end in the same pixels.
func TestCanvasSpill(t *testing.T) {
	r := image.Rect(0, 0, 40, 30)
	mask := image.NewAlpha(image.Rect(-3, -20, 30, 4))
	for i := range mask.Pix {
		mask.Pix[i] = uint8(i * 37)
	}
	// tiles sets n tiles of 2×1 pixels in n colours, row by row.
	tiles := func(n int) func(c *canvas) {
		return func(c *canvas) {
			for i := range n {
				x, y := 2*(i%20), i/20
				c.set(image.Rect(x, y, x+2, y+1), color.RGBA{uint8(i), uint8(i >> 8), 0x40, 0xff})
			}
		}
	}
	for _, tt := range []struct {
		name  string
		setup func(c *canvas)
		last  func(c *canvas)
		spill bool
	}{
		{"fits", tiles(100), func(c *canvas) { c.blend(image.Rect(5, 0, 25, 4), colGap) }, false},
		{"spills in a fill", tiles(255), tiles(300), true},
		{"spills in a blend", tiles(200), func(c *canvas) { c.blend(image.Rect(0, 0, 40, 10), colGap) }, true},
		{"spills in the ink", tiles(230), func(c *canvas) { c.ink(mask, 4, 20) }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPalettedCanvas(r)
			want := newRGBACanvas(image.NewRGBA(r))
			for _, c := range []*canvas{p, want} {
				c.set(r, color.RGBA{0xf5, 0xf5, 0xf5, 0xff})
				tt.setup(c)
			}
			if !p.paletted {
				t.Fatal("the palette ran out before the last operation")
			}
			tt.last(p)
			tt.last(want)
			img := p.image()
			if _, isRGBA := img.(*image.RGBA); isRGBA != tt.spill {
				t.Fatalf("picture is %T, want RGBA: %v", img, tt.spill)
			}
			got := image.NewRGBA(r)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					got.Set(x, y, img.At(x, y))
				}
			}
			if !bytes.Equal(got.Pix, want.rgba.Pix) {
				n, _ := pixelDiff(got, want.rgba, 0)
				t.Errorf("%d pixels differ from the same operations in RGBA", n)
			}
		})
	}
}
