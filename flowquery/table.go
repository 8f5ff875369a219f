package flowquery

import (
	"crypto/rand"
	"encoding/binary"
	"math/bits"
	"sync"
	"sync/atomic"
)

// hashTable holds the counts of each key of one group: open addressing with linear
// probing, the counts inline beside the key, so that adding to a key costs one probe
// of one cache line where a Go map of keys to indexes into a slice of counts cost two
// or three misses. A slot is empty while its Flows is 0: every key is added with at
// least one flow.
//
// A table that several goroutines add to at once (NewAggregators) is divided into
// shards by the top bits of the hash, each with its lock; a goroutine adds a batch's
// keys shard by shard. One table instead of one per goroutine holds each key once,
// takes half the memory of two, and leaves nothing to merge at the end.
//
// The hash is seeded at random per table: flow records carry addresses and ports an
// outsider chooses, and a fixed hash would let them pile keys into one run of slots.
type hashTable[K comparable] struct {
	hash   func(seed *[2]uint64, k *K) uint64
	seed   [2]uint64
	shards []shard[K]
	bits   uint // len(shards) is 1 << bits
	locked bool
	n      atomic.Int64 // keys in every shard
}

// shard is a part of a table, itself an open-addressing table of the keys whose hash
// starts with its number.
type shard[K comparable] struct {
	mu    sync.Mutex // when the table is locked
	slots []hslot[K]
	shift uint // a key's first slot is the top bits of its hash after the shard's
	mask  uint64
	n     int
	_     [40]byte // a cache line of its own for the lock
}

type hslot[K comparable] struct {
	k K
	c Counts
}

// minSlots is a new table's size, shared among its shards; a shard doubles when
// three quarters of its slots are taken.
const minSlots = 256

// sharedBits is log2 of the shards of a table several goroutines add to.
const sharedBits = 6

// newHashTable returns a table of 1<<bits shards, locked when several goroutines
// are to add to it.
func newHashTable[K comparable](hash func(seed *[2]uint64, k *K) uint64, bits uint, locked bool) *hashTable[K] {
	t := &hashTable[K]{hash: hash, shards: make([]shard[K], 1<<bits), bits: bits, locked: locked}
	for i := range t.shards {
		t.shards[i].resize(max(minSlots>>bits, 16))
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather)
	t.seed = [2]uint64{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
	return t
}

func (s *shard[K]) resize(size int) {
	s.slots = make([]hslot[K], size)
	s.mask = uint64(size - 1)
	s.shift = uint(64 - bits.TrailingZeros(uint(size)))
}

func (t *hashTable[K]) len() int { return int(t.n.Load()) }

// each calls fn with every key's slot, shard by shard; no goroutine may be adding.
func (t *hashTable[K]) each(fn func(s *hslot[K])) {
	for i := range t.shards {
		slots := t.shards[i].slots
		for j := range slots {
			if slots[j].c.Flows != 0 {
				fn(&slots[j])
			}
		}
	}
}

// add adds c (whose Flows is not 0) to k's counts, and reports false when k is new
// and the table holds max keys already.
func (t *hashTable[K]) add(k *K, c *Counts, max int) bool {
	h := t.hash(&t.seed, k)
	s := &t.shards[h>>(64-t.bits)&(1<<t.bits-1)]
	h <<= t.bits
	if t.locked {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		t.grow(s)
	}
	return t.addAt(s, h>>s.shift, k, c, max)
}

// addAt is add from slot i of s, k's first slot, with room for one more key.
func (t *hashTable[K]) addAt(s *shard[K], i uint64, k *K, c *Counts, max int) bool {
	for {
		sl := &s.slots[i]
		if sl.c.Flows == 0 {
			break
		}
		if sl.k == *k {
			sl.c.Flows += c.Flows
			sl.c.Packets += c.Packets
			sl.c.Bytes += c.Bytes
			return true
		}
		i = (i + 1) & s.mask
	}
	if t.n.Add(1) > int64(max) { // taken before the slot, so that goroutines stop at max
		t.n.Add(-1)
		return false
	}
	s.slots[i] = hslot[K]{*k, *c}
	s.n++
	return true
}

// batch is what addMany works in, one per goroutine.
type batch struct {
	hashes []uint64
	order  []int32 // the keys, by shard
	start  []int32 // where each shard's keys start in order
	fill   []int32
	sink   uint64 // what addMany's early loads read, kept so that they are made
}

// addMany adds cs[j] to the counts of keys[j], and reports false when a new key was
// refused as add does. It may be called by several goroutines at once, each with its
// own b. Shard by shard, it finds every key's first slot before it adds any,
// loading each slot's line on the way: a table of many keys is far larger than the
// caches, and these loads, independent of one another, go to memory together where
// the adds one after the other would wait for one line at a time.
func (t *hashTable[K]) addMany(keys []K, cs []Counts, max int, b *batch) bool {
	nsh := len(t.shards)
	b.hashes = b.hashes[:0]
	if cap(b.start) < nsh+1 {
		b.start = make([]int32, nsh+1)
	}
	b.start = b.start[:nsh+1]
	clear(b.start)
	for j := range keys {
		h := t.hash(&t.seed, &keys[j])
		b.hashes = append(b.hashes, h)
		b.start[h>>(64-t.bits)&uint64(nsh-1)+1]++
	}
	for i := 1; i <= nsh; i++ {
		b.start[i] += b.start[i-1]
	}
	if cap(b.order) < len(keys) {
		b.order = make([]int32, len(keys))
	}
	order := b.order[:len(keys)]
	fill := append(b.fill[:0], b.start[:nsh]...)
	b.fill = fill
	if nsh == 1 {
		for j := range order {
			order[j] = int32(j)
		}
	} else {
		for j, h := range b.hashes {
			sh := h >> (64 - t.bits)
			order[fill[sh]] = int32(j)
			fill[sh]++
		}
	}
	ok := true
	for si := range t.shards {
		js := order[b.start[si]:b.start[si+1]]
		if len(js) == 0 {
			continue
		}
		s := &t.shards[si]
		if t.locked {
			s.mu.Lock()
		}
		for 4*(s.n+len(js)) > 3*len(s.slots) && len(s.slots) < 2*max+minSlots {
			t.grow(s)
		}
		var sink uint64
		for _, j := range js {
			sink += s.slots[(b.hashes[j]<<t.bits)>>s.shift].c.Flows
		}
		b.sink += sink
		for _, j := range js {
			if 4*(s.n+1) > 3*len(s.slots) { // past the growth above, at the limit
				t.grow(s)
			}
			ok = t.addAt(s, (b.hashes[j]<<t.bits)>>s.shift, &keys[j], &cs[j], max) && ok
		}
		if t.locked {
			s.mu.Unlock()
		}
	}
	return ok
}

// grow doubles a shard. A key's first slot is the top bits of its hash, so the keys
// of slot i go near slot 2i: the old slots are read and the new written in order,
// not at random.
func (t *hashTable[K]) grow(s *shard[K]) {
	old := s.slots
	s.resize(2 * len(old))
	for j := range old {
		o := &old[j]
		if o.c.Flows == 0 {
			continue
		}
		i := (t.hash(&t.seed, &o.k) << t.bits) >> s.shift
		for s.slots[i].c.Flows != 0 {
			i = (i + 1) & s.mask
		}
		s.slots[i] = *o
	}
}

// mix is the folded product of a and b: wyhash's mixing step.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

const mixPrime = 0x9e3779b97f4a7c15

func hashAddr(seed *[2]uint64, k *addrKey) uint64 {
	lo := binary.LittleEndian.Uint64(k.a[:8])
	hi := binary.LittleEndian.Uint64(k.a[8:])
	return mix(mix(lo^seed[0], hi^seed[1])^uint64(k.fam), mixPrime)
}

func hashConv(seed *[2]uint64, k *convKey) uint64 {
	h := mix(binary.LittleEndian.Uint64(k.src[:8])^seed[0], binary.LittleEndian.Uint64(k.src[8:])^seed[1])
	h = mix(h^binary.LittleEndian.Uint64(k.dst[:8]), binary.LittleEndian.Uint64(k.dst[8:])^seed[1])
	rest := uint64(k.srcPort) | uint64(k.dstPort)<<16 | uint64(k.proto)<<32 | uint64(k.fams)<<40
	return mix(h^rest, mixPrime)
}

func hashSmall[K uint8 | uint16](seed *[2]uint64, k *K) uint64 {
	return mix(uint64(*k)^seed[0], mixPrime)
}
