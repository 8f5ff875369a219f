package render

// The PNG encoding of a drawn graph: pooled pictures and compressor state.

import (
	"bufio"
	"fmt"
	"image"
	"image/png"
	"io"
	"sync"
)

// PNG draws g and writes it to w as a PNG: a palette PNG of its exact
// colours, or a full-colour one in the rare picture with more than 256. A
// palette PNG is a third of the data to compress, skips PNG's row filters
// and comes out several times smaller.
func PNG(w io.Writer, g Graph) error {
	if err := g.check(); err != nil {
		return fmt.Errorf("draw %s graph: %w", g.Period, err)
	}
	// The pixels live only until they are encoded: reuse them (clearing
	// fresh memory costs as much as drawing on it; the frame covers every
	// pixel).
	s := max(g.Scale, 1)
	c, _ := canvases[s].Get().(*canvas)
	if c == nil {
		c = newPalettedCanvas(image.Rect(0, 0, imgW*s, imgH*s))
	}
	defer canvases[s].Put(c)
	c.reset()
	if err := draw(c, g); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: pngBuffers}
	if err := enc.Encode(bw, c.image()); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}

// canvases keeps the pictures of graphs being drawn, by scale.
var canvases [maxScale + 1]sync.Pool

// pngBuffers reuses the encoder's compression state between graphs: a
// deflate writer is larger than the image it compresses.
var pngBuffers = &bufferPool{}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() *png.EncoderBuffer {
	e, _ := b.p.Get().(*png.EncoderBuffer)
	return e
}

func (b *bufferPool) Put(e *png.EncoderBuffer) { b.p.Put(e) }
