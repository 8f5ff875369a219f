package flowtop

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// counts is a weight in every measure: bytes, packets, flows.
type counts = [numMeasures]uint64

// table counts one dimension of one series in a step: one entry per key holding
// all three measures, found with one hash lookup, so that a record costs one probe
// per dimension however many measures there are.
//
// Each measure is its own weighted Space-Saving summary of m counters (Metwally,
// Agrawal and El Abbadi, 2005), evicting lazily: an entry holds a counter in
// measure j while w[j] > 0, and the table lets up to limit entries gather before
// it reduces each measure that holds more than m counters to its m heaviest. The
// weight of the heaviest counter a reduction drops becomes the measure's floor: no
// key without a counter weighed more. A key that gets a counter inherits the floor
// as its weight and as its possible error, as Space-Saving's newcomer inherits the
// lightest counter's.
//
// That is Space-Saving with evictions batched, or equally the mergeable
// Misra-Gries summary with floor = the sum of its decrements (Agarwal et al.,
// "Mergeable summaries", 2012): each reduction takes the (m+1)-th heaviest
// counter's excess over the floor from at least m+1 counters, so with N_j the
// measure's total the floor never exceeds N_j/(m+1). Hence, per measure as with
// three separate sketches of m counters:
//
//   - a key's true weight is in [w−err, w], and err ≤ floor ≤ N_j/(m+1);
//   - a key without a counter weighed at most the floor;
//   - any m+1 counters sum to at most N_j, so listed weights never exceed the total;
//   - until a reduction, every weight is exact; none happens before 2m distinct keys.
//
// Memory is at most limit entries: after a reduction at most 3m entries keep a
// counter (m per measure), and limit is that plus 2m, so each reduction, O(limit),
// is paid for by at least 2m new keys.
type table[K comparable] struct {
	m     int
	limit int
	slots []int32 // linear probing; cell index + 1, 0 when empty; at most half full
	cells []cell[K]
	floor counts
	tmp   []uint64 // reduction scratch
}

type cell[K comparable] struct {
	key  K
	hash uint32
	w    counts
	err  counts
}

func newTable[K comparable](m int) table[K] {
	return table[K]{m: m, limit: 2 * m}
}

// reset empties t for the next step, keeping its memory.
func (t *table[K]) reset() {
	clear(t.slots)
	t.cells = t.cells[:0]
	t.floor = counts{}
	t.limit = 2 * t.m
}

// add adds w to key k of hash h.
func (t *table[K]) add(k K, h uint32, w *counts) {
	if len(t.slots) == 0 {
		t.slots = make([]int32, 16)
	}
	mask := uint32(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			t.insert(k, h, w, i)
			return
		}
		c := &t.cells[s-1]
		if c.hash == h && c.key == k {
			for j := range c.w {
				if c.w[j] == 0 { // no counter in this measure: a newcomer there
					c.w[j], c.err[j] = t.floor[j], t.floor[j]
				}
				c.w[j] += w[j]
			}
			return
		}
	}
}

// insert adds a key not in the table; i is the empty slot its probe ended on.
func (t *table[K]) insert(k K, h uint32, w *counts, i uint32) {
	if len(t.cells) >= t.limit {
		t.reduce()
		i = t.freeSlot(h)
	} else if 2*(len(t.cells)+1) > len(t.slots) {
		t.rehash(2 * len(t.slots))
		i = t.freeSlot(h)
	}
	c := cell[K]{key: k, hash: h, err: t.floor}
	for j := range c.w {
		c.w[j] = t.floor[j] + w[j]
	}
	t.cells = append(t.cells, c)
	t.slots[i] = int32(len(t.cells))
}

// freeSlot returns the first empty slot of h's probe.
func (t *table[K]) freeSlot(h uint32) uint32 {
	mask := uint32(len(t.slots) - 1)
	i := h & mask
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	return i
}

// rehash rebuilds the slots, n of them (a power of two), from the cells' hashes.
func (t *table[K]) rehash(n int) {
	if n > len(t.slots) {
		t.slots = make([]int32, n)
	} else {
		clear(t.slots)
	}
	mask := uint32(n - 1)
	for ci := range t.cells {
		i := t.cells[ci].hash & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = int32(ci + 1)
	}
}

// reduce cuts every measure holding more than m counters to its m heaviest, and
// drops the entries left with no counter.
func (t *table[K]) reduce() {
	for j := range t.floor {
		t.tmp = t.tmp[:0]
		for i := range t.cells {
			if w := t.cells[i].w[j]; w > 0 {
				t.tmp = append(t.tmp, w)
			}
		}
		if len(t.tmp) <= t.m {
			continue
		}
		f := nthLargest(t.tmp, t.m)
		t.floor[j] = max(t.floor[j], f)
		for i := range t.cells {
			if c := &t.cells[i]; c.w[j] <= f {
				c.w[j], c.err[j] = 0, 0
			}
		}
	}
	n := 0
	for i := range t.cells {
		if t.cells[i].w != (counts{}) {
			t.cells[n] = t.cells[i]
			n++
		}
	}
	t.cells = t.cells[:n] // cells hold no pointers: the tail needs no clearing
	t.limit = n + 2*t.m
	size := len(t.slots)
	for size < 2*t.limit {
		size *= 2
	}
	t.rehash(size)
}

// lists returns the table's list of each measure, of at most keep entries.
func (t *table[K]) lists(keep int, enc func([]byte, K) []byte) [numMeasures]list {
	var out [numMeasures]list
	var buf []byte
	cs := make([]cand, 0, len(t.cells))
	for m := range out {
		cs = cs[:0]
		for i := range t.cells {
			if w := t.cells[i].w[m]; w > 0 {
				cs = append(cs, cand{w, int32(i)})
			}
		}
		cs = heaviest(cs, keep+1)
		// The keys are encoded into one string, and each is a part of it.
		buf = buf[:0]
		ends := make([]int, len(cs))
		for n, c := range cs {
			buf = enc(buf, t.cells[c.i].key)
			ends[n] = len(buf)
		}
		keys := string(buf)
		es := make([]entry, len(cs))
		for n, c := range cs {
			start := 0
			if n > 0 {
				start = ends[n-1]
			}
			es[n] = entry{key: keys[start:ends[n]], w: c.w, err: t.cells[c.i].err[m]}
		}
		out[m] = cut(es, keep, t.floor[m])
	}
	return out
}

// cand is a cell with a counter in the measure being listed.
type cand struct {
	w uint64
	i int32
}

// heaviest returns the n heaviest of cs, in no particular order: selectFirst,
// written out for candidates, since with a comparison function a list's
// selection costs twice as much.
func heaviest(cs []cand, n int) []cand {
	lo, hi := 0, len(cs)
	if n >= hi {
		return cs
	}
	for round := 0; hi-lo > 1; round++ {
		if round > 64 {
			slices.SortFunc(cs[lo:hi], func(a, b cand) int { return cmp.Compare(b.w, a.w) })
			break
		}
		p := cs[lo+(hi-lo)/2].w
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch w := cs[i].w; {
			case w > p:
				cs[lt], cs[i] = cs[i], cs[lt]
				lt++
				i++
			case w < p:
				gt--
				cs[gt], cs[i] = cs[i], cs[gt]
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
			return cs[:n]
		}
	}
	return cs[:n]
}

// nthLargest returns the weight that n others are at least as heavy as: the
// (n+1)-th largest of vs, which it reorders; len(vs) > n.
func nthLargest(vs []uint64, n int) uint64 {
	selectFirst(vs, n, func(a, b *uint64) int { return cmp.Compare(*b, *a) })
	return slices.Max(vs[n:])
}

// hasher hashes keys for the tables, with a secret per store, so that addresses
// chosen to collide (a spoofed flood) cannot be chosen without it. A key is hashed
// once per record, and the hash serves every series the record counts for.
type hasher struct{ k0, k1, k2 uint64 }

func newHasher() hasher {
	return hasher{rand.Uint64() | 1, rand.Uint64() | 1, rand.Uint64() | 1}
}

func (h hasher) mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a^h.k0, b^h.k1)
	return hi ^ lo
}

func (h hasher) fold(x uint64) uint32 { return uint32(x ^ x>>32) }

func (h hasher) small(v uint64) uint32 { return h.fold(h.mum(v, h.k2)) }

func (h hasher) addr(a *addr16) uint32 {
	return h.fold(h.mum(binary.LittleEndian.Uint64(a[:8]), binary.LittleEndian.Uint64(a[8:])^h.k2))
}

func (h hasher) pair(p *pair16) uint32 {
	x := h.mum(binary.LittleEndian.Uint64(p[:8]), binary.LittleEndian.Uint64(p[8:16]))
	y := h.mum(binary.LittleEndian.Uint64(p[16:24])^x, binary.LittleEndian.Uint64(p[24:])^h.k2)
	return h.fold(y)
}
