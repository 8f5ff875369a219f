package flowquery

import (
	"crypto/rand"
	"encoding/binary"
	"math/bits"
)

// hashTable holds the counts of each key of one group: open addressing with linear
// probing, the counts inline beside the key, so that adding to a key costs one probe
// of one cache line where a Go map of keys to indexes into a slice of counts cost two
// or three misses. A slot is empty while its Flows is 0: every key is added with at
// least one flow.
//
// The hash is seeded at random per table: flow records carry addresses and ports an
// outsider chooses, and a fixed hash would let them pile keys into one run of slots.
type hashTable[K comparable] struct {
	hash  func(seed *[2]uint64, k *K) uint64
	slots []hslot[K]
	mask  uint64
	n     int
	seed  [2]uint64
}

type hslot[K comparable] struct {
	k K
	c Counts
}

// minSlots is a new table's size; it doubles when three quarters are taken.
const minSlots = 256

func newHashTable[K comparable](hash func(seed *[2]uint64, k *K) uint64) *hashTable[K] {
	t := &hashTable[K]{hash: hash, slots: make([]hslot[K], minSlots), mask: minSlots - 1}
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather)
	t.seed = [2]uint64{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
	return t
}

// add adds c (whose Flows is not 0) to k's counts, and reports false when k is new
// and the table holds max keys already.
func (t *hashTable[K]) add(k *K, c *Counts, max int) bool {
	i := t.hash(&t.seed, k) & t.mask
	for {
		s := &t.slots[i]
		if s.c.Flows == 0 {
			break
		}
		if s.k == *k {
			s.c.Flows += c.Flows
			s.c.Packets += c.Packets
			s.c.Bytes += c.Bytes
			return true
		}
		i = (i + 1) & t.mask
	}
	if t.n >= max {
		return false
	}
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
		return t.add(k, c, max)
	}
	t.slots[i] = hslot[K]{*k, *c}
	t.n++
	return true
}

func (t *hashTable[K]) grow() {
	old := t.slots
	t.slots = make([]hslot[K], 2*len(old))
	t.mask = uint64(len(t.slots) - 1)
	for j := range old {
		s := &old[j]
		if s.c.Flows == 0 {
			continue
		}
		i := t.hash(&t.seed, &s.k) & t.mask
		for t.slots[i].c.Flows != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = *s
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
