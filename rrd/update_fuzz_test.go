package rrd_test

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/rrd"
)

// FuzzUpdate feeds a series arbitrary update sequences through the public API:
// timestamps out of order or repeated, NaN, infinities, huge and negative values,
// counter wraps, discontinuities. Updates may be refused with an error, but nothing
// panics, the store closes and reopens, and every value Fetch returns is unknown or
// within the data source's bounds.
//
// The input is a list of 11-byte updates: a signed 16-bit time offset in seconds from
// the previous update, a flag byte (bit 0 discontinuity, bits 1-3 the kind of value)
// and 8 bytes of value.
func FuzzUpdate(f *testing.F) {
	up := func(dt int16, flags byte, v uint64) []byte {
		b := binary.BigEndian.AppendUint16(nil, uint16(dt))
		b = append(b, flags)
		return binary.BigEndian.AppendUint64(b, v)
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	f.Add(cat(up(60, 0, 0), up(60, 0, 6000), up(60, 0, 12000)))
	f.Add(cat(up(60, 0, 1000), up(-120, 0, 2000), up(0, 0, 3000), up(60, 0, 4000)))               // backwards and repeated
	f.Add(cat(up(60, 0, math.MaxUint64-10), up(60, 0, 50), up(60, 1, 60)))                        // wrap, then a discontinuity
	f.Add(cat(up(60, 2, math.Float64bits(math.NaN())), up(60, 2, math.Float64bits(math.Inf(1))))) // NaN, +Inf floats
	f.Add(cat(up(60, 4, 1<<63), up(32767, 6, 0), up(-32768, 8, 5)))                               // negative int, unknown, gap
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "s.db")
		db, err := rrd.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		const step = time.Minute
		const max = 1e6
		spec := rrd.Spec{Step: step, Heartbeat: 2 * step,
			DS: []rrd.DS{
				{Name: "c64", Type: rrd.Counter, Min: 0, Max: max, Bits: 64},
				{Name: "c32", Type: rrd.Counter, Min: 0, Max: max, Bits: 32},
				{Name: "g", Type: rrd.Gauge, Min: -max, Max: max},
			},
			Archives: []rrd.Archive{
				{CF: rrd.Average, Steps: 1, Rows: 300, XFF: 0.5},
				{CF: rrd.Max, Steps: 6, Rows: 60, XFF: 0.5},
				{CF: rrd.Min, Steps: 6, Rows: 60, XFF: 0.5},
			}}
		start := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
		if err := db.Create("s", spec, start); err != nil {
			t.Fatal(err)
		}
		when := start
		var ups []rrd.Update
		for len(data) >= 11 && len(ups) < 200 {
			when = when.Add(time.Duration(int16(binary.BigEndian.Uint16(data))) * time.Second)
			flags, raw := data[2], binary.BigEndian.Uint64(data[3:11])
			data = data[11:]
			var v rrd.Value
			switch (flags >> 1) & 7 {
			case 0, 5:
				v = rrd.Uint(raw)
			case 1:
				v = rrd.Float(math.Float64frombits(raw))
			case 2:
				v = rrd.Int(int64(raw))
			case 3:
				v = rrd.Unknown()
			case 4:
				v = rrd.Uint(raw & math.MaxUint32)
			default:
				v = rrd.Float(float64(int64(raw)) / 1000)
			}
			ups = append(ups, rrd.Update{Series: "s", Time: when, Values: []rrd.Value{v, v, v}, Discontinuity: flags&1 == 1})
		}
		// Half one batch, half one at a time: both paths see the same garbage.
		half := len(ups) / 2
		_ = db.Update(ups[:half])
		for _, u := range ups[half:] {
			_ = db.Update([]rrd.Update{u})
		}
		if err := db.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}

		db, err = rrd.Open(path, &rrd.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer db.Close()
		_, last, err := db.Info("s")
		if err != nil {
			t.Fatalf("info: %v", err)
		}
		for _, cf := range []rrd.CF{rrd.Average, rrd.Max, rrd.Min} {
			res, err := db.Fetch("s", cf, last.Add(-6*time.Hour), last.Add(step), 0)
			if err != nil {
				t.Fatalf("fetch %s: %v", cf, err)
			}
			for i, row := range res.Rows {
				for d, v := range row {
					lo := spec.DS[d].Min
					if math.IsInf(v, 0) || (!math.IsNaN(v) && (v < lo || v > max)) {
						t.Errorf("%s row %d %s = %g, outside [%g, %g]", cf, i, spec.DS[d].Name, v, lo, max)
					}
				}
			}
		}
	})
}
