package flowtop

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// entry is a listed key of one list: its estimated weight, by how much that may be
// over the truth (err) and by how much under it (miss).
type entry struct {
	key          string // stored form, see keyLen
	w, err, miss uint64
}

// list is one (dimension, measure) top list of a row: the heaviest keys, and bound,
// the most that any key not listed may weigh.
type list struct {
	bound   uint64
	entries []entry
}

// compareEntries orders entries heaviest first; ties by the smaller uncertainty,
// then by key, so that lists are the same whatever order they were built in.
func compareEntries(a, b *entry) int {
	switch {
	case a.w != b.w:
		if a.w > b.w {
			return -1
		}
		return 1
	case a.err+a.miss != b.err+b.miss:
		if a.err+a.miss < b.err+b.miss {
			return -1
		}
		return 1
	}
	return strings.Compare(a.key, b.key)
}

// sortEntries sorts entries in compareEntries' order.
func sortEntries(es []entry) {
	slices.SortFunc(es, func(a, b entry) int { return compareEntries(&a, &b) })
}

// selectFirst reorders s so that its n first in cmp's order come first, in no
// particular order: quickselect, in time linear in len(s), falling back to a sort
// if pivots keep going wrong.
func selectFirst[T any](s []T, n int, cmp func(a, b *T) int) {
	lo, hi := 0, len(s) // the boundary n lies in s[lo:hi]
	if n <= 0 || n >= hi {
		return
	}
	for round := 0; hi-lo > 1; round++ {
		if round > 64 {
			slices.SortFunc(s[lo:hi], func(a, b T) int { return cmp(&a, &b) })
			return
		}
		p := s[lo+(hi-lo)/2]
		// Three-way partition: before p, equal to it, after it.
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch c := cmp(&s[i], &p); {
			case c < 0:
				s[lt], s[i] = s[i], s[lt]
				lt++
				i++
			case c > 0:
				gt--
				s[gt], s[i] = s[i], s[gt]
			default:
				i++
			}
		}
		switch {
		case n < lt:
			hi = lt
		case n > gt:
			lo = gt
		default:
			return
		}
	}
}

// mergeLists merges lists of disjoint parts of the traffic (rows of consecutive
// steps, or the two directions) into one of at most keep entries (keep < 0: all).
//
// A key's weight is the sum of its listed weights, so that the weights of any list
// never exceed its total and "other" is never negative. That sum can be over the
// truth by the listed errs, and under it by the bound of every list that did not
// list the key (miss). A key dropped here weighed at most its weight plus its miss,
// and a key in no list at most the sum of the bounds: the merged bound is the
// larger of the two.
func mergeLists(ls []*list, keep int) list {
	var mg merger
	return mg.merge(ls, keep)
}

// merger merges lists, keeping its scratch memory from one merge to the next.
type merger struct {
	idx    map[string]int32
	sums   []entry
	listed []uint64
}

func (mg *merger) merge(ls []*list, keep int) list {
	var sumBound uint64
	n := 0
	for _, l := range ls {
		sumBound += l.bound
		n += len(l.entries)
	}
	if len(ls) == 1 && (keep < 0 || len(ls[0].entries) <= keep) {
		return list{bound: ls[0].bound, entries: slices.Clone(ls[0].entries)}
	}
	// Each key's sum, and in listed the sum of the bounds of the lists that
	// listed it.
	if mg.idx == nil {
		mg.idx = make(map[string]int32, n)
	} else {
		clear(mg.idx)
	}
	sums, listed := mg.sums[:0], mg.listed[:0]
	for _, l := range ls {
		for _, e := range l.entries {
			i, ok := mg.idx[e.key]
			if !ok {
				i = int32(len(sums))
				mg.idx[e.key] = i
				sums = append(sums, entry{key: e.key})
				listed = append(listed, 0)
			}
			a := &sums[i]
			a.w += e.w
			a.err += e.err
			a.miss += e.miss
			listed[i] += l.bound
		}
	}
	mg.sums, mg.listed = sums, listed
	for i := range sums {
		sums[i].miss += sumBound - listed[i]
	}
	bound := sumBound
	if keep >= 0 && len(sums) > keep {
		selectFirst(sums, keep, compareEntries)
		for _, e := range sums[keep:] {
			bound = max(bound, e.w+e.miss)
		}
		sums = sums[:keep]
	}
	out := slices.Clone(sums)
	sortEntries(out)
	return list{bound: bound, entries: out}
}

// row is one archive row of one series (or a merge of several): its exact totals
// and its lists, by dimension and measure.
type row struct {
	total [numMeasures]uint64
	lists [numDims][numMeasures]list
}

// mergeRows merges rows into one, keeping at most keep entries per list (keep < 0:
// all).
func mergeRows(rs []*row, keep int) *row {
	out := &row{}
	ls := make([]*list, len(rs))
	for _, r := range rs {
		for m := range out.total {
			out.total[m] += r.total[m]
		}
	}
	var mg merger
	for d := range numDims {
		for m := range numMeasures {
			for i, r := range rs {
				ls[i] = &r.lists[d][m]
			}
			out.lists[d][m] = mg.merge(ls, keep)
		}
	}
	return out
}

// Row values are
//
//	uvarint p (the row's index: its end / its length)
//	uvarint total bytes, packets, flows
//	a byte: 1 if the rest is one zstd frame, 0 if it follows as is
//	numDims dimensions, each: uvarint length of the rest of the dimension, then
//	  uvarint keys, the stored keys (each once, whatever lists name it),
//	  numMeasures lists, each: uvarint bound, uvarint entries, a byte of flags
//	  (1: errs follow, 2: misses follow), then per entry the key's number
//	  (implicit in the first list, whose keys come first and in its order),
//	  uvarint weight (the first; then each the previous one minus it, as lists
//	  are heaviest first), uvarint err and uvarint miss if flagged.
//
// and the marker of a row (series 0) is uvarint p, uvarint steps recorded in it.
// Most keys are listed by all three measures, and most lists of a busy row are
// exact or of equal errors, so sharing keys, differences of weights and flags
// cut a row to about 60% of its lists written out in full. zstd, at its default
// level, takes a further quarter off the coarse archives' rows (addresses recur
// between the address and conversation lists), for about 5 µs of CPU per row
// read; step rows, four in five of those a commit writes and those a day's
// views read, are stored as is. The index and totals stay outside the frame, so
// that Totals reads them without decompressing. A row that zstd would not shrink
// (a quiet interface's) is stored as is.

const (
	flagErr  = 1
	flagMiss = 2
)

// rowEncoder encodes rows, keeping its scratch memory between them.
type rowEncoder struct {
	// plain stores rows as is: the step archive's, which a commit writes for
	// every series and day views read, at the cost of a twentieth of the file.
	plain bool

	dim  []byte
	raw  []byte
	keys map[string]int
}

// zstd is the rows' compressor: made once, safe for concurrent use.
var zstdCodec = sync.OnceValue(func() (c struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}) {
	var err error
	c.enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false), zstd.WithLowerEncoderMem(true))
	if err != nil {
		panic(err) // only for bad options
	}
	c.dec, err = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxRowLen))
	if err != nil {
		panic(err)
	}
	return c
})

// maxRowLen bounds a decompressed row: 21 lists of 10000 entries, with the
// largest keys and varints, fit well within it.
const maxRowLen = 64 << 20

const (
	rowRaw  = 0
	rowZstd = 1
)

func appendRow(b []byte, p int64, r *row) []byte {
	var e rowEncoder
	return e.appendRow(b, p, r)
}

func (e *rowEncoder) appendRow(b []byte, p int64, r *row) []byte {
	b = binary.AppendUvarint(b, uint64(p))
	for _, t := range r.total {
		b = binary.AppendUvarint(b, t)
	}
	if e.keys == nil {
		e.keys = map[string]int{}
	}
	raw := e.raw[:0]
	for d := range numDims {
		ls := r.lists[d]
		for m := range ls {
			if !slices.IsSortedFunc(ls[m].entries, func(a, b entry) int { return cmp.Compare(b.w, a.w) }) {
				// Lists are sorted where they are made; weights as differences
				// need it, whoever made this one.
				ls[m].entries = slices.Clone(ls[m].entries)
				sortEntries(ls[m].entries)
			}
		}
		clear(e.keys)
		tmp := e.dim[:0]
		// The key table: the first list's keys in its order, then the others' new
		// ones.
		n := 0
		for m := range ls {
			for _, en := range ls[m].entries {
				if _, ok := e.keys[en.key]; !ok {
					e.keys[en.key] = n
					n++
				}
			}
		}
		tmp = binary.AppendUvarint(tmp, uint64(n))
		for m := range ls {
			for _, en := range ls[m].entries {
				if e.keys[en.key] >= 0 {
					tmp = append(tmp, en.key...)
					e.keys[en.key] = -1 - e.keys[en.key] // written
				}
			}
		}
		for m := range ls {
			l := &ls[m]
			tmp = binary.AppendUvarint(tmp, l.bound)
			tmp = binary.AppendUvarint(tmp, uint64(len(l.entries)))
			var flags byte
			for _, en := range l.entries {
				if en.err != 0 {
					flags |= flagErr
				}
				if en.miss != 0 {
					flags |= flagMiss
				}
			}
			tmp = append(tmp, flags)
			prev := uint64(0)
			for i, en := range l.entries {
				if m > 0 {
					tmp = binary.AppendUvarint(tmp, uint64(-1-e.keys[en.key]))
				}
				if i == 0 {
					tmp = binary.AppendUvarint(tmp, en.w)
				} else {
					tmp = binary.AppendUvarint(tmp, prev-en.w)
				}
				prev = en.w
				if flags&flagErr != 0 {
					tmp = binary.AppendUvarint(tmp, en.err)
				}
				if flags&flagMiss != 0 {
					tmp = binary.AppendUvarint(tmp, en.miss)
				}
			}
		}
		raw = binary.AppendUvarint(raw, uint64(len(tmp)))
		raw = append(raw, tmp...)
		e.dim = tmp
	}
	e.raw = raw
	if e.plain {
		return append(append(b, rowRaw), raw...)
	}
	// The frame goes straight after the tag; if it is no shorter, the raw bytes
	// take its place.
	at := len(b) + 1
	b = zstdCodec().enc.EncodeAll(raw, append(b, rowZstd))
	if len(b)-at >= len(raw) {
		b = append(append(b[:at-1], rowRaw), raw...)
	}
	return b
}

var errCorrupt = errors.New("corrupt row")

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errCorrupt
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// section returns the next length-prefixed part of r.
func (r *reader) section() []byte {
	return r.bytes(int(min(r.uvarint(), uint64(len(r.b)+1))))
}

// bodies holds buffers for decompressed rows, whose keys are copied out before
// the buffer goes back.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// body returns the dimensions of a row value whose header r has read.
// A compressed body is decoded into *scratch (grown as needed, and kept there),
// and so lives only as long as the caller does not reuse it; one stored as is
// is part of the value read.
func (r *reader) body(scratch *[]byte) []byte {
	tag := r.bytes(1)
	if r.err != nil {
		return nil
	}
	rest := r.b
	r.b = nil
	switch tag[0] {
	case rowRaw:
		return rest
	case rowZstd:
		b, err := zstdCodec().dec.DecodeAll(rest, (*scratch)[:0])
		if err != nil {
			r.err = fmt.Errorf("%w: %w", errCorrupt, err)
			return nil
		}
		*scratch = b
		return b
	}
	r.err = errCorrupt
	return nil
}

// decodeRow decodes a whole row value. Keys are copied out of v, which bbolt owns.
func decodeRow(v []byte) (int64, *row, error) {
	hd := reader{b: v}
	p := int64(hd.uvarint())
	r := &row{}
	for m := range r.total {
		r.total[m] = hd.uvarint()
	}
	buf := bodies.Get().(*[]byte)
	defer bodies.Put(buf)
	body := hd.body(buf)
	rd := reader{b: body, err: hd.err}
	for d := range numDims {
		b := rd.section()
		if rd.err != nil {
			break
		}
		ls, err := decodeDim(Dimension(d), b, -1)
		if err != nil {
			return 0, nil, err
		}
		r.lists[d] = ls
	}
	if rd.err == nil && len(rd.b) != 0 {
		rd.err = errCorrupt
	}
	return p, r, rd.err
}

// decodeRowList decodes a row value's totals and its one list of (d, m).
func decodeRowList(v []byte, d Dimension, m Measure) (int64, [numMeasures]uint64, list, error) {
	hd := reader{b: v}
	p := int64(hd.uvarint())
	var total [numMeasures]uint64
	for i := range total {
		total[i] = hd.uvarint()
	}
	buf := bodies.Get().(*[]byte)
	defer bodies.Put(buf)
	body := hd.body(buf)
	rd := reader{b: body, err: hd.err}
	for range int(d) {
		rd.section()
	}
	b := rd.section()
	if rd.err != nil {
		return 0, total, list{}, rd.err
	}
	ls, err := decodeDim(d, b, int(m))
	return p, total, ls[m], err
}

// decodeDim decodes a dimension's lists: all of them, or only measure only if
// it is not negative (the lists before it are read, not kept).
func decodeDim(d Dimension, b []byte, only int) ([numMeasures]list, error) {
	var out [numMeasures]list
	rd := reader{b: b}
	n := rd.uvarint()
	if n > uint64(len(rd.b)) {
		return out, errCorrupt
	}
	// The keys are copied in one string, and each is a part of it.
	keys := make([]string, n)
	offs := make([]int, n+1)
	all := rd.b
	for i := range keys {
		kl := keyLen(d, rd.b)
		if kl < 0 {
			return out, errCorrupt
		}
		rd.bytes(kl)
		offs[i+1] = offs[i] + kl
	}
	kb := string(all[:offs[n]])
	for i := range keys {
		keys[i] = kb[offs[i]:offs[i+1]]
	}
	for m := range out {
		l := list{bound: rd.uvarint()}
		ne := rd.uvarint()
		flags := rd.bytes(1)
		if rd.err != nil || ne > n || flags[0]&^(flagErr|flagMiss) != 0 {
			return out, errCorrupt
		}
		keep := only < 0 || only == m
		if keep {
			l.entries = make([]entry, 0, ne)
		}
		prev := uint64(0)
		for i := uint64(0); i < ne && rd.err == nil; i++ {
			k := i
			if m > 0 {
				if k = rd.uvarint(); k >= n {
					return out, errCorrupt
				}
			}
			w := rd.uvarint()
			if i > 0 {
				if w > prev {
					return out, errCorrupt
				}
				w = prev - w
			}
			prev = w
			e := entry{key: keys[k], w: w}
			if flags[0]&flagErr != 0 {
				e.err = rd.uvarint()
			}
			if flags[0]&flagMiss != 0 {
				e.miss = rd.uvarint()
			}
			if keep {
				l.entries = append(l.entries, e)
			}
		}
		out[m] = l
		if m == only {
			return out, rd.err
		}
	}
	if rd.err == nil && len(rd.b) != 0 {
		rd.err = errCorrupt
	}
	return out, rd.err
}

func appendMarker(b []byte, p int64, steps uint64) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(b, uint64(p)), steps)
}

func decodeMarker(v []byte) (p int64, steps uint64, err error) {
	rd := reader{b: v}
	p = int64(rd.uvarint())
	steps = rd.uvarint()
	return p, steps, rd.err
}
