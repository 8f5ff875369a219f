package flowstore

import (
	"encoding/binary"
	"errors"
	"fmt"
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
	var forMax, forG uint64
	var deltaMax, deltaG uint64
	prev := vs[0]
	for _, v := range vs {
		x := v - lo
		forMax = max(forMax, x)
		if forG != 1 {
			forG = gcd(x, forG)
		}
		d := int64(v - prev)
		prev = v
		a := uint64(d)
		if d < 0 {
			a = -a
		}
		if deltaG != 1 {
			deltaG = gcd(a, deltaG)
		}
	}
	forG = max(forG, 1)
	deltaG = max(deltaG, 1)
	forWidth := widthOf(forMax / forG)
	deltaWidth := 9
	if forWidth > 1 { // a delta form can be narrower only where there is room
		prev = vs[0]
		for _, v := range vs {
			d := int64(v-prev) / int64(deltaG)
			prev = v
			deltaMax = max(deltaMax, zigzag(d))
		}
		deltaWidth = widthOf(deltaMax)
	}
	scratch = grow(scratch, len(vs))
	var mode byte
	var base, g uint64
	if deltaWidth < forWidth {
		mode, base, g = byte(deltaWidth)|modeDelta, vs[0], deltaG
		prev = vs[0]
		for i, v := range vs {
			scratch[i] = zigzag(int64(v-prev) / int64(g))
			prev = v
		}
	} else {
		mode, base, g = byte(forWidth), lo, forG
		for i, v := range vs {
			scratch[i] = (v - lo) / g
		}
	}
	dst = append(dst, mode)
	dst = binary.AppendUvarint(dst, base)
	dst = binary.AppendUvarint(dst, g)
	width := int(mode & 0x0f)
	for plane := range width {
		shift := 8 * plane
		for _, x := range scratch[:len(vs)] {
			dst = append(dst, byte(x>>shift))
		}
	}
	return dst, scratch
}

// readColumn decodes a column of len(out) values from the front of src into out and
// returns the rest of src.
func readColumn(src []byte, out []uint64) ([]byte, error) {
	if len(src) < 1 {
		return nil, errShort
	}
	mode := src[0]
	width := int(mode & 0x0f)
	if mode&^(modeDelta|0x0f) != 0 || width > 8 {
		return nil, fmt.Errorf("column mode %#x unknown", mode)
	}
	src = src[1:]
	base, n := binary.Uvarint(src)
	if n <= 0 {
		return nil, errShort
	}
	src = src[n:]
	g, n := binary.Uvarint(src)
	if n <= 0 {
		return nil, errShort
	}
	src = src[n:]
	count := len(out)
	if width > 0 && len(src)/width < count {
		return nil, errShort
	}
	planes := src[:width*count]
	src = src[width*count:]
	switch width {
	case 0:
		clear(out)
	case 1:
		for i, b := range planes[:count] {
			out[i] = uint64(b)
		}
	default:
		p := planes[:count]
		for i := range out {
			out[i] = uint64(p[i])
		}
		for plane := 1; plane < width; plane++ {
			p := planes[plane*count : (plane+1)*count]
			shift := 8 * plane
			for i := range out {
				out[i] |= uint64(p[i]) << shift
			}
		}
	}
	if mode&modeDelta == 0 {
		if g == 1 {
			for i := range out {
				out[i] += base
			}
		} else {
			for i := range out {
				out[i] = base + out[i]*g
			}
		}
		return src, nil
	}
	prev := base
	for i, x := range out {
		prev += uint64(unzigzag(x) * int64(g))
		out[i] = prev
	}
	return src, nil
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
