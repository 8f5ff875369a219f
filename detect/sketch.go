package detect

import (
	"math"
	"math/bits"
	"net/netip"
	"slices"
)

// mix is splitmix64's finalizer: a cheap hash with every input bit reaching every
// output bit, which HyperLogLog needs.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func hashAddr(a netip.Addr) uint64 {
	b := a.As16()
	hi := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	lo := uint64(b[8])<<56 | uint64(b[9])<<48 | uint64(b[10])<<40 | uint64(b[11])<<32 |
		uint64(b[12])<<24 | uint64(b[13])<<16 | uint64(b[14])<<8 | uint64(b[15])
	return mix(mix(hi) ^ lo)
}

const (
	exactMax = 64 // distinct values counted exactly before the sketch: above every default threshold
	sampleN  = 8  // values an event shows
	hllP     = 8
	hllM     = 1 << hllP
)

// distinct counts distinct values by 32-bit keys taken from their hashes: exactly up
// to exactMax (256 bytes at most), then with a HyperLogLog of hllM one-byte registers
// (standard error 1.04/sqrt(hllM), 6.5 %) that replaces the exact keys.
type distinct struct {
	exact []uint32
	hll   *hll
}

// hll is a HyperLogLog's registers.
type hll [hllM]uint8

// add adds a value by its hash; it reports whether the value was new and among the
// first sampleN, for a caller that keeps those as a sample.
func (d *distinct) add(h uint64) bool {
	k := uint32(h >> 32)
	if d.hll != nil {
		d.hll.add(mix(uint64(k)))
		return false
	}
	if slices.Contains(d.exact, k) {
		return false
	}
	if len(d.exact) < exactMax {
		if d.exact == nil {
			d.exact = make([]uint32, 0, sampleN)
		}
		d.exact = append(d.exact, k)
		return len(d.exact) <= sampleN
	}
	d.hll = new(hll)
	for _, x := range d.exact {
		d.hll.add(mix(uint64(x)))
	}
	d.hll.add(mix(uint64(k)))
	d.exact = nil
	return false
}

// count is the number of distinct values, estimated once beyond exactMax.
func (d *distinct) count() int {
	if d.hll == nil {
		return len(d.exact)
	}
	return int(math.Round(d.hll.estimate()))
}

func (r *hll) add(h uint64) {
	i := h >> (64 - hllP)
	rank := uint8(bits.LeadingZeros64(h<<hllP|1<<(hllP-1))) + 1
	if rank > r[i] {
		r[i] = rank
	}
}

// estimate is HyperLogLog's, with linear counting where it is the better estimator
// (up to 2.5 m, by Flajolet et al.).
func (r *hll) estimate() float64 {
	sum, zeros := 0.0, 0
	for _, v := range r {
		sum += 1 / float64(uint64(1)<<v)
		if v == 0 {
			zeros++
		}
	}
	m := float64(hllM)
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		return m * math.Log(m/float64(zeros))
	}
	return e
}

// top keeps the heaviest keys by the space-saving algorithm (Metwally et al.): a new
// key replaces the lightest and inherits its weight, so every key heavier than
// total/topN is in it.
type top[K comparable] struct {
	n int
	k [topN]K
	w [topN]float64
}

// topAddrs and topPorts are the heaviest sources (or targets) and ports.
type (
	topAddrs = top[netip.Addr]
	topPorts = top[uint16]
)

const topN = 8

func (t *top[K]) add(k K, w float64) {
	low := 0
	for i := range t.n {
		if t.k[i] == k {
			t.w[i] += w
			return
		}
		if t.w[i] < t.w[low] {
			low = i
		}
	}
	if t.n < topN {
		t.k[t.n], t.w[t.n] = k, w
		t.n++
		return
	}
	t.k[low] = k
	t.w[low] += w
}

// sorted returns the keys heaviest first.
func (t *top[K]) sorted() []K {
	idx := make([]int, t.n)
	for i := range idx {
		idx[i] = i
	}
	sortBy(idx, func(i int) float64 { return t.w[i] })
	out := make([]K, t.n)
	for i, j := range idx {
		out[i] = t.k[j]
	}
	return out
}

// sortBy sorts indexes by weight, heaviest first (insertion sort: at most topN).
func sortBy(idx []int, w func(int) float64) {
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && w(idx[j]) > w(idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}

// bounded is a map of at most max entries. When a new key would pass the bound, the
// lightest half of the entries goes: found with a histogram of weights by binary
// order of magnitude, so that shedding costs time linear in the entries, a small
// constant per insertion.
type bounded[K comparable, V any] struct {
	m       map[K]*V
	max     int
	weight  func(*V) float64
	evicted uint64
}

func newBounded[K comparable, V any](max int, weight func(*V) float64) *bounded[K, V] {
	return &bounded[K, V]{m: make(map[K]*V), max: max, weight: weight}
}

// get returns k's entry, making it (and room for it) if needed.
func (b *bounded[K, V]) get(k K) *V {
	if v := b.m[k]; v != nil {
		return v
	}
	if len(b.m) >= b.max {
		b.shed(len(b.m) - b.max/2 + 1)
	}
	v := new(V)
	b.m[k] = v
	return v
}

// shed evicts at least n of the lightest entries.
func (b *bounded[K, V]) shed(n int) {
	var hist [64]int
	bucket := func(w float64) int {
		if w <= 0 {
			return 0
		}
		_, e := math.Frexp(w)
		return min(max(e+32, 1), 63) // weights of 2^-31 to 2^31 apart; beyond, together
	}
	for _, v := range b.m {
		hist[bucket(b.weight(v))]++
	}
	cut, below := 0, 0
	for cut < 63 && below+hist[cut] < n {
		below += hist[cut]
		cut++
	}
	// Every entry in buckets below cut goes, and from bucket cut as many as needed.
	more := n - below
	for k, v := range b.m {
		switch bk := bucket(b.weight(v)); {
		case bk < cut:
			delete(b.m, k)
			b.evicted++
		case bk == cut && more > 0:
			delete(b.m, k)
			b.evicted++
			more--
		}
	}
}

const (
	cmBits  = 16
	cmWidth = 1 << cmBits
)

// countMin estimates packets and bytes per key with two rows of cmWidth counters (a
// count-min sketch: never an underestimate). It lets a key earn a table entry only
// once it carries enough to matter, so that the many light keys cost two array
// increments and no allocation.
type countMin struct {
	packets, bytes [2][cmWidth]float32
}

// packetsOf is h's estimated packets.
func (c *countMin) packetsOf(h uint64) float64 {
	i, j := h&(cmWidth-1), (h>>cmBits)&(cmWidth-1)
	return float64(min(c.packets[0][i], c.packets[1][j]))
}

// add adds to h's counts and returns the estimates, this record included.
func (c *countMin) add(h uint64, packets, bytes float64) (float64, float64) {
	i, j := h&(cmWidth-1), (h>>cmBits)&(cmWidth-1)
	c.packets[0][i] += float32(packets)
	c.packets[1][j] += float32(packets)
	c.bytes[0][i] += float32(bytes)
	c.bytes[1][j] += float32(bytes)
	return float64(min(c.packets[0][i], c.packets[1][j])), float64(min(c.bytes[0][i], c.bytes[1][j]))
}
