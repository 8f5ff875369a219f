package rrd

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Key layout inside a group's bucket (see doc.go):
//
//	's' chunk:u32                      → state records of chunkCols series
//	'r' archive:u8 slot:u32 chunk:u32  → one row of chunkCols series × nds float32
const (
	dsRecSize = 21 // kind u8, last u64, pdp value f64, unknown seconds u32
	nanBits32 = 0x7FC00000
)

func recSize(nds int) int { return 8 + dsRecSize*nds }

func stateKey(chunk uint32) []byte {
	k := []byte{'s', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(k[1:], chunk)
	return k
}

const rowKeyLen = 10

func rowKey(arch int, slot int64, chunk uint32) []byte {
	k := make([]byte, rowKeyLen)
	putRowKey(k, arch, slot, chunk)
	return k
}

func putRowKey(k []byte, arch int, slot int64, chunk uint32) {
	k[0] = 'r'
	k[1] = byte(arch)
	binary.BigEndian.PutUint32(k[2:], uint32(slot))
	binary.BigEndian.PutUint32(k[6:], chunk)
}

// initState writes the state of a new series created at start: no last
// value, the part of the first step before start unknown (as rrdtool create).
func initState(rec []byte, g *group, start time.Time) {
	t := start.UnixMicro()
	binary.LittleEndian.PutUint64(rec[0:], uint64(t))
	stepS := g.stepUs / 1e6
	unkn := floorMod(floorDiv(t, 1e6), stepS)
	for d := 0; d < g.nds; d++ {
		r := rec[8+d*dsRecSize:]
		r[0] = byte(kindUnknown)
		binary.LittleEndian.PutUint64(r[1:], 0)
		binary.LittleEndian.PutUint64(r[9:], math.Float64bits(0))
		binary.LittleEndian.PutUint32(r[17:], uint32(unkn))
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// rowBuf is one row chunk during a write transaction: either the stored
// bytes (read-only, valid until the transaction ends) or a private copy
// that will be written back.
type rowBuf struct {
	data  []byte
	dirty bool
}

// groupWork is the write set of one group in one transaction.
type groupWork struct {
	w      *work
	g      *group
	b      *bolt.Bucket
	cols   uint32
	states []*[]byte             // by chunk
	rows   []map[int64][]*rowBuf // [archive] slot → by chunk
	last   []struct {            // [archive] the slot used last
		slot int64
		sl   []*rowBuf
	}
	// Holt-Winters keys (hwstore.go): state by chunk, rows by key, and the
	// rows used last, which the next series of a chunk usually uses too.
	hwStates []*[]byte
	hwRows   map[[hwKeyLen]byte]*rowBuf
	hwPeriod [][]*rowBuf // by chunk: every 'a' key, once one smoothed
	hwLast   [4]struct {
		key [hwKeyLen]byte
		rb  *rowBuf
	}
}

// work collects the rows and states a transaction touches, so each key is
// read and written once however many updates touch it.
type work struct {
	tx     *bolt.Tx
	groups map[uint32]*groupWork
	order  []*groupWork
	pool   *bufPool // nil: allocate
}

func newWork(tx *bolt.Tx) *work { return &work{tx: tx, groups: map[uint32]*groupWork{}} }

// bufPool keeps the buffers of one write transaction's keys for the next:
// bbolt holds on to a value until its transaction ends, so buffers are
// handed out during one and taken back only after it.
type bufPool struct {
	free map[int][][]byte // by length
	used [][]byte
}

func (p *bufPool) get(n int) []byte {
	if p == nil {
		return make([]byte, n)
	}
	var b []byte
	if f := p.free[n]; len(f) > 0 {
		b = f[len(f)-1]
		p.free[n] = f[:len(f)-1]
	} else {
		b = make([]byte, n)
	}
	p.used = append(p.used, b)
	return b
}

// release makes every buffer handed out since the last release free again;
// call it only once the transaction that used them has ended.
func (p *bufPool) release() {
	if p.free == nil {
		p.free = map[int][][]byte{}
	}
	for i, b := range p.used {
		p.free[len(b)] = append(p.free[len(b)], b)
		p.used[i] = nil
	}
	p.used = p.used[:0]
}

func (w *work) group(b *bolt.Bucket, g *group, cols uint32) *groupWork {
	gw := w.groups[g.id]
	if gw == nil {
		if b == nil {
			b = w.tx.Bucket(g.bucket)
		}
		// Row keys are written in ascending slot order the first time round the
		// ring and overwritten in place after: pack pages nearly full instead of
		// bbolt's half-full split, or a small store takes twice its size.
		b.FillPercent = 0.95
		gw = &groupWork{w: w, g: g, b: b, cols: cols, rows: make([]map[int64][]*rowBuf, len(g.arch))}
		gw.last = make([]struct {
			slot int64
			sl   []*rowBuf
		}, len(g.arch))
		w.groups[g.id] = gw
		w.order = append(w.order, gw)
	}
	return gw
}

func chunks(cols uint32) int { return int((cols + chunkCols - 1) / chunkCols) }

func colsIn(cols uint32, chunk uint32) int {
	n := int(cols) - int(chunk)*chunkCols
	return min(n, chunkCols)
}

// stateRec returns the state record of column col, for modification.
func (w *work) stateRec(b *bolt.Bucket, g *group, col, cols uint32) []byte {
	gw := w.group(b, g, cols)
	return gw.stateRec(col)
}

func (gw *groupWork) stateRec(col uint32) []byte {
	c := col / chunkCols
	for len(gw.states) <= int(c) {
		gw.states = append(gw.states, nil)
	}
	rs := recSize(gw.g.nds)
	if gw.states[c] == nil {
		want := colsIn(gw.cols, c) * rs
		buf := gw.w.pool.get(want)
		n := copy(buf, gw.b.Get(stateKey(c)))
		clear(buf[n:])
		gw.states[c] = &buf
	}
	buf := *gw.states[c]
	off := int(col%chunkCols) * rs
	return buf[off : off+rs]
}

// row returns the row chunk of archive a at slot; for writing it is a
// private copy at full width, unknown where nothing was stored.
func (gw *groupWork) row(a int, slot int64, chunk uint32, write bool) *rowBuf {
	var sl []*rowBuf
	if l := &gw.last[a]; l.sl != nil && l.slot == slot {
		sl = l.sl
	} else {
		if gw.rows[a] == nil {
			gw.rows[a] = map[int64][]*rowBuf{}
		}
		sl = gw.rows[a][slot]
		if sl == nil {
			sl = make([]*rowBuf, chunks(gw.cols))
			gw.rows[a][slot] = sl
		}
		l.slot, l.sl = slot, sl
	}
	rb := sl[chunk]
	if rb == nil {
		rb = &rowBuf{data: gw.b.Get(rowKey(a, slot, chunk))}
		sl[chunk] = rb
	}
	if write && !rb.dirty {
		width := colsIn(gw.cols, chunk) * gw.g.nds * 4
		buf := gw.w.pool.get(width)
		n := copy(buf, rb.data)
		for i := n &^ 3; i < width; i += 4 {
			binary.LittleEndian.PutUint32(buf[i:], nanBits32)
		}
		rb.data = buf
		rb.dirty = true
	}
	return rb
}

// get reads the value of data source d of column col in a row chunk.
func (rb *rowBuf) get(col uint32, nds, d int) float64 {
	off := (int(col%chunkCols)*nds + d) * 4
	if off+4 > len(rb.data) {
		return math.NaN()
	}
	return float64(math.Float32frombits(binary.LittleEndian.Uint32(rb.data[off:])))
}

func (rb *rowBuf) set(col uint32, nds, d int, v float32) {
	off := (int(col%chunkCols)*nds + d) * 4
	binary.LittleEndian.PutUint32(rb.data[off:], math.Float32bits(v))
}

// flush writes every modified key back, in key order.
func (w *work) flush() error {
	for _, gw := range w.order {
		for c, p := range gw.states {
			if p == nil {
				continue
			}
			if err := gw.b.Put(stateKey(uint32(c)), *p); err != nil {
				return fmt.Errorf("put state: %w", err)
			}
		}
		for a, slots := range gw.rows {
			order := make([]int64, 0, len(slots))
			for slot := range slots {
				order = append(order, slot)
			}
			slices.Sort(order)
			for _, slot := range order {
				for c, rb := range slots[slot] {
					if rb == nil || !rb.dirty {
						continue
					}
					if err := gw.b.Put(rowKey(a, int64(slot), uint32(c)), rb.data); err != nil {
						return fmt.Errorf("put row: %w", err)
					}
				}
			}
		}
		if err := gw.flushHW(); err != nil {
			return err
		}
	}
	return nil
}

// readLastUp returns the last update time (µs) of s.
func readLastUp(tx *bolt.Tx, s *series) (int64, error) {
	b := tx.Bucket(s.g.bucket)
	if b == nil {
		return 0, fmt.Errorf("group bucket %d missing", s.g.id)
	}
	v := b.Get(stateKey(s.col / chunkCols))
	rs := recSize(s.g.nds)
	off := int(s.col%chunkCols) * rs
	if off+rs > len(v) {
		return 0, fmt.Errorf("state of %s missing", s.name)
	}
	return int64(binary.LittleEndian.Uint64(v[off:])), nil
}
