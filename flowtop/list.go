package flowtop

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
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

// sortEntries orders entries heaviest first; ties by the smaller uncertainty, then
// by key, so that lists are the same whatever order they were built in.
func sortEntries(es []entry) {
	slices.SortFunc(es, func(a, b entry) int {
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
	})
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
	var sumBound uint64
	n := 0
	for _, l := range ls {
		sumBound += l.bound
		n += len(l.entries)
	}
	if len(ls) == 1 && (keep < 0 || len(ls[0].entries) <= keep) {
		return list{bound: ls[0].bound, entries: slices.Clone(ls[0].entries)}
	}
	type acc struct {
		entry
		listedBound uint64 // sum of the bounds of the lists that listed the key
	}
	m := make(map[string]*acc, n)
	order := make([]*acc, 0, n)
	for _, l := range ls {
		for _, e := range l.entries {
			a := m[e.key]
			if a == nil {
				a = &acc{entry: entry{key: e.key}}
				m[e.key] = a
				order = append(order, a)
			}
			a.w += e.w
			a.err += e.err
			a.miss += e.miss
			a.listedBound += l.bound
		}
	}
	out := make([]entry, len(order))
	for i, a := range order {
		out[i] = a.entry
		out[i].miss += sumBound - a.listedBound
	}
	sortEntries(out)
	bound := sumBound
	if keep >= 0 && len(out) > keep {
		for _, e := range out[keep:] {
			bound = max(bound, e.w+e.miss)
		}
		out = out[:keep:keep]
	}
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
	for d := range numDims {
		for m := range numMeasures {
			for i, r := range rs {
				ls[i] = &r.lists[d][m]
			}
			out.lists[d][m] = mergeLists(ls, keep)
		}
	}
	return out
}

// Row values are
//
//	uvarint p (the row's index: its end / its length)
//	uvarint total bytes, packets, flows
//	numDims × numMeasures lists: uvarint length of the rest, uvarint bound,
//	uvarint entries, then per entry the stored key, uvarint w, err, miss
//
// and the marker of a row (series 0) is uvarint p, uvarint steps recorded in it.
// The length before each list lets a query read one list and skip the others.

func appendRow(b []byte, p int64, r *row) []byte {
	b = binary.AppendUvarint(b, uint64(p))
	for _, t := range r.total {
		b = binary.AppendUvarint(b, t)
	}
	var tmp []byte
	for d := range numDims {
		for m := range numMeasures {
			l := &r.lists[d][m]
			tmp = binary.AppendUvarint(tmp[:0], l.bound)
			tmp = binary.AppendUvarint(tmp, uint64(len(l.entries)))
			for _, e := range l.entries {
				tmp = append(tmp, e.key...)
				tmp = binary.AppendUvarint(tmp, e.w)
				tmp = binary.AppendUvarint(tmp, e.err)
				tmp = binary.AppendUvarint(tmp, e.miss)
			}
			b = binary.AppendUvarint(b, uint64(len(tmp)))
			b = append(b, tmp...)
		}
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

// decodeRow decodes a whole row value. Keys are copied out of v, which bbolt owns.
func decodeRow(v []byte) (int64, *row, error) {
	rd := reader{b: v}
	p := int64(rd.uvarint())
	r := &row{}
	for m := range r.total {
		r.total[m] = rd.uvarint()
	}
	for d := range numDims {
		for m := range numMeasures {
			n := rd.uvarint()
			l, err := decodeList(Dimension(d), rd.bytes(int(min(n, uint64(len(rd.b)+1)))))
			if rd.err == nil && err != nil {
				rd.err = err
			}
			r.lists[d][m] = l
		}
	}
	if rd.err == nil && len(rd.b) != 0 {
		rd.err = errCorrupt
	}
	return p, r, rd.err
}

// decodeRowList decodes a row value's totals and its one list of (d, m).
func decodeRowList(v []byte, d Dimension, m Measure) (int64, [numMeasures]uint64, list, error) {
	rd := reader{b: v}
	p := int64(rd.uvarint())
	var total [numMeasures]uint64
	for i := range total {
		total[i] = rd.uvarint()
	}
	want := int(d)*numMeasures + int(m)
	for i := 0; i < want; i++ {
		rd.bytes(int(min(rd.uvarint(), uint64(len(rd.b)+1))))
	}
	n := rd.uvarint()
	b := rd.bytes(int(min(n, uint64(len(rd.b)+1))))
	if rd.err != nil {
		return 0, total, list{}, rd.err
	}
	l, err := decodeList(d, b)
	return p, total, l, err
}

func decodeList(d Dimension, b []byte) (list, error) {
	if b == nil {
		return list{}, errCorrupt
	}
	rd := reader{b: b}
	l := list{bound: rd.uvarint()}
	n := rd.uvarint()
	if n > uint64(len(rd.b)) {
		return list{}, errCorrupt
	}
	l.entries = make([]entry, 0, n)
	for i := uint64(0); i < n && rd.err == nil; i++ {
		kl := keyLen(d, rd.b)
		if kl < 0 {
			return list{}, errCorrupt
		}
		e := entry{key: string(rd.bytes(kl))}
		e.w, e.err, e.miss = rd.uvarint(), rd.uvarint(), rd.uvarint()
		l.entries = append(l.entries, e)
	}
	if rd.err == nil && len(rd.b) != 0 {
		rd.err = errCorrupt
	}
	return l, rd.err
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
