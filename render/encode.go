package render

// The PNG encoding of a drawn graph: a palette of its exact colours, pooled
// pixels and compressor state.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"sync"
)

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
