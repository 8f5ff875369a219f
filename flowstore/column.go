package flowstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// An integer column holds one value per record, each a uint64 in a domain where
// wrapping subtraction means something (signed values have their sign bit flipped so
// that unsigned order is signed order). It is written in whichever of two forms takes
// fewer bytes per value:
//
//	frame of reference: x = (v - min) / g, g the GCD of all v - min
//	delta:              x = zigzag((v - previous v) / g), g the GCD of the differences
//
// as a mode byte (the width of x in bytes, 0 to 8, plus 0x10 for delta), the base
// (min, or the first value) and g as uvarints, then the x values as width byte
// planes: every x's lowest byte, then every x's next byte, and so on. Columns that do
// not change cost three bytes whatever the record count; planes of high bytes are long
// runs of zeros that zstd removes.

const modeDelta = 0x10

var errShort = errors.New("column past the end of the block")

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func widthOf(x uint64) int { return (bits.Len64(x) + 7) / 8 }

func zigzag(d int64) uint64   { return uint64(d<<1) ^ uint64(d>>63) }
func unzigzag(x uint64) int64 { return int64(x>>1) ^ -int64(x&1) }

// appendColumn appends the column of vs to dst, using scratch (resized as needed) for
// the transformed values, and returns both.
func appendColumn(dst []byte, vs []uint64, scratch []uint64) ([]byte, []uint64) {
	if len(vs) == 0 {
		return append(dst, 0, 0, 1), scratch
	}
	lo := vs[0]
	for _, v := range vs[1:] {
		lo = min(lo, v)
	}
	// The GCDs: most columns fall to 1 within a few values; those that keep a factor
	// (times to the millisecond, counts of a sampling exporter) are divided only when
	// a value does not divide.
	var forMax, forG, deltaG uint64
	prev := vs[0]
	for _, v := range vs {
		x := v - lo
		forMax = max(forMax, x)
		if forG != 1 && (forG == 0 || x%forG != 0) {
			forG = gcd(x, forG)
		}
		d := int64(v - prev)
		prev = v
		a := uint64(d)
		if d < 0 {
			a = -a
		}
		if deltaG != 1 && (deltaG == 0 || a%deltaG != 0) {
			deltaG = gcd(a, deltaG)
		}
	}
	forG = max(forG, 1)
	deltaG = max(deltaG, 1)
	forWidth := widthOf(forMax / forG)
	deltaWidth := 9
	if forWidth > 1 { // a delta form can be narrower only where there is room
		var deltaMax uint64
		prev = vs[0]
		for _, v := range vs {
			deltaMax = max(deltaMax, zigzag(int64(v-prev)))
			prev = v
		}
		if deltaG > 1 { // zigzag(d/g) is at most zigzag(d)/g, give or take one
			deltaMax = deltaMax/deltaG + 1
		}
		deltaWidth = widthOf(deltaMax)
	}
	scratch = grow(scratch, len(vs))
	xs := scratch[:len(vs)]
	var mode byte
	var base, g uint64
	if deltaWidth < forWidth {
		base, g = vs[0], deltaG
		prev = vs[0]
		for i, v := range vs {
			if g == 1 {
				xs[i] = zigzag(int64(v - prev))
			} else {
				xs[i] = zigzag(int64(v-prev) / int64(g))
			}
			prev = v
		}
		// The bound above is one wider than need be at a byte's edge: take the
		// width of what was written.
		var hi uint64
		for _, x := range xs {
			hi = max(hi, x)
		}
		mode = byte(widthOf(hi)) | modeDelta
	} else {
		mode, base, g = byte(forWidth), lo, forG
		if g == 1 {
			for i, v := range vs {
				xs[i] = v - lo
			}
		} else {
			for i, v := range vs {
				xs[i] = (v - lo) / g
			}
		}
	}
	dst = append(dst, mode)
	dst = binary.AppendUvarint(dst, base)
	dst = binary.AppendUvarint(dst, g)
	width := int(mode & 0x0f)
	for plane := range width {
		shift := 8 * plane
		for _, x := range xs {
			dst = append(dst, byte(x>>shift))
		}
	}
	return dst, scratch
}

// column is a column being read, a run of records at a time.
type column struct {
	delta   bool
	width   int
	base, g uint64
	planes  []byte
	count   int
	prev    uint64 // the value before it (delta form)
	bound   uint64 // no value is above it
}

// parseColumn reads the head of a column of count values from the front of src,
// checks that its values are there, and returns the rest of src.
func parseColumn(src []byte, count int) (column, []byte, error) {
	if len(src) < 1 {
		return column{}, nil, errShort
	}
	mode := src[0]
	c := column{width: int(mode & 0x0f), delta: mode&modeDelta != 0, count: count}
	if mode&^(modeDelta|0x0f) != 0 || c.width > 8 {
		return column{}, nil, fmt.Errorf("column mode %#x unknown", mode)
	}
	src = src[1:]
	var n int
	if c.base, n = binary.Uvarint(src); n <= 0 {
		return column{}, nil, errShort
	}
	src = src[n:]
	if c.g, n = binary.Uvarint(src); n <= 0 {
		return column{}, nil, errShort
	}
	src = src[n:]
	if c.width > 0 && len(src)/c.width < count {
		return column{}, nil, errShort
	}
	c.planes = src[:c.width*count]
	c.prev = c.base
	c.bound = math.MaxUint64
	if !c.delta { // base + g*(the widest x), unless that overflows
		xmax := uint64(math.MaxUint64)
		if c.width < 8 {
			xmax = uint64(1)<<(8*c.width) - 1
		}
		mh, ml := bits.Mul64(c.g, xmax)
		if sum, carry := bits.Add64(c.base, ml, 0); carry == 0 && mh == 0 {
			c.bound = sum
		}
	}
	return c, src[c.width*count:], nil
}

// read sets out to the values of records [at, at+len(out)). A column in delta form
// is read in order, from the first record.
func (c *column) read(out []uint64, at int) {
	if !c.delta {
		readPlanes(c.planes, c.count, at, out, c.width, c.base, c.g)
		return
	}
	readPlanes(c.planes, c.count, at, out, c.width, 0, 1)
	prev, g := c.prev, int64(c.g)
	for i, x := range out {
		prev += uint64(unzigzag(x) * g)
		out[i] = prev
	}
	c.prev = prev
}

// readPlanes sets out[i] to base + g*x[at+i], x being width byte planes of stride
// bytes each.
func readPlanes(planes []byte, stride, at int, out []uint64, width int, base, g uint64) {
	count := len(out)
	plane := func(k int) []byte { return planes[k*stride+at : k*stride+at+count] }
	switch width {
	case 0:
		for i := range out {
			out[i] = base
		}
	case 1:
		p0 := plane(0)
		for i := range out {
			out[i] = base + uint64(p0[i])*g
		}
	case 2:
		p0, p1 := plane(0), plane(1)
		for i := range out {
			out[i] = base + (uint64(p0[i])|uint64(p1[i])<<8)*g
		}
	case 3:
		p0, p1, p2 := plane(0), plane(1), plane(2)
		for i := range out {
			out[i] = base + (uint64(p0[i])|uint64(p1[i])<<8|uint64(p2[i])<<16)*g
		}
	case 4:
		p0, p1, p2, p3 := plane(0), plane(1), plane(2), plane(3)
		for i := range out {
			out[i] = base + (uint64(p0[i])|uint64(p1[i])<<8|uint64(p2[i])<<16|uint64(p3[i])<<24)*g
		}
	default:
		p := plane(0)
		for i := range out {
			out[i] = uint64(p[i])
		}
		for k := 1; k < width; k++ {
			p := plane(k)
			shift := 8 * k
			for i := range out {
				out[i] |= uint64(p[i]) << shift
			}
		}
		for i := range out {
			out[i] = base + out[i]*g
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
