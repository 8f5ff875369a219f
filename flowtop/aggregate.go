package flowtop

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/mrtgo/mrtgo/flow"
)

// seriesName identifies a series: one direction of one interface of one device.
type seriesName struct {
	device, iface string
	dir           Direction // In or Out
}

// addr16 is an address as a map key without pointers (netip.Addr holds its zone
// by pointer), so the garbage collector never scans the sketches. IPv4 is kept
// mapped, and unmapped when stored.
type addr16 = [16]byte

// pair16 is a conversation key: the two hosts, the lower first.
type pair16 = [32]byte

// sketches is the current step of one series: exact totals, and for each
// dimension a sketch per measure behind an exact buffer.
type sketches struct {
	total   [numMeasures]uint64
	src     dimSketch[addr16]
	dst     dimSketch[addr16]
	sport   dimSketch[uint16]
	dport   dimSketch[uint16]
	proto   dimSketch[uint8]
	conv    dimSketch[pair16]
	service dimSketch[uint32]
}

func newSketches(capacity int) *sketches {
	s := &sketches{}
	s.src.capacity = capacity
	s.dst.capacity = capacity
	s.sport.capacity = capacity
	s.dport.capacity = capacity
	// A protocol is one of 256: its buffer holds them all, and never spills.
	s.proto.capacity = min(capacity, 256)
	s.conv.capacity = capacity
	s.service.capacity = capacity
	return s
}

// dimSketch counts one dimension of a step. Records first add up exactly in a
// buffer of at most capacity keys; when a new key finds it full, the buffer is
// spilled into one flow.TopK per measure (Space-Saving, capacity keys) and
// cleared. Space-Saving's bound holds for any order and grouping of the stream, so
// spilling sums changes no guarantee; it only saves the sketches' cost (a heap
// update and several map writes per Add) for keys that repeat within a buffer,
// which is most of the traffic, and all of it for protocols, services and
// low-numbered ports. A dimension that never spills is exact.
type dimSketch[K comparable] struct {
	capacity int
	idx      map[K]int32
	keys     []K
	w        [][numMeasures]uint64
	top      [numMeasures]*flow.TopK[K] // made at the first spill
}

func (d *dimSketch[K]) add(k K, w *[numMeasures]uint64) {
	if i, ok := d.idx[k]; ok {
		v := &d.w[i]
		v[0] += w[0]
		v[1] += w[1]
		v[2] += w[2]
		return
	}
	if d.idx == nil {
		d.idx = make(map[K]int32)
	}
	if len(d.keys) == d.capacity {
		d.spill()
	}
	d.idx[k] = int32(len(d.keys))
	d.keys = append(d.keys, k)
	d.w = append(d.w, *w)
}

func (d *dimSketch[K]) spill() {
	if d.top[0] == nil {
		for m := range d.top {
			d.top[m] = flow.NewTopK[K](d.capacity)
		}
	}
	for i, k := range d.keys {
		for m, w := range d.w[i] {
			if w > 0 { // a key that weighed nothing needs no counter
				d.top[m].Add(k, w)
			}
		}
	}
	clear(d.idx)
	d.keys = d.keys[:0]
	d.w = d.w[:0]
}

// lists returns the dimension's list of each measure, of at most keep entries.
func (d *dimSketch[K]) lists(keep int, enc func([]byte, K) []byte) [numMeasures]list {
	var out [numMeasures]list
	var buf []byte
	if d.top[0] == nil {
		// Never spilled: the buffer is the exact count of every key. Only the
		// keep+1 heaviest are encoded and sorted in full.
		idx := make([]int32, 0, len(d.keys))
		for m := range out {
			idx = idx[:0]
			for i := range d.keys {
				if d.w[i][m] > 0 {
					idx = append(idx, int32(i))
				}
			}
			slices.SortFunc(idx, func(a, b int32) int { return cmp.Compare(d.w[b][m], d.w[a][m]) })
			es := make([]entry, 0, min(len(idx), keep+1))
			for _, i := range idx[:min(len(idx), keep+1)] {
				buf = enc(buf[:0], d.keys[i])
				es = append(es, entry{key: string(buf), w: d.w[i][m]})
			}
			out[m] = cut(es, keep)
		}
		return out
	}
	d.spill()
	for m := range out {
		top := d.top[m].Top(keep + 1)
		es := make([]entry, len(top))
		for i, e := range top {
			buf = enc(buf[:0], e.Key)
			es[i] = entry{key: string(buf), w: e.Weight, err: e.Err}
		}
		out[m] = cut(es, keep)
	}
	return out
}

// cut sorts es and keeps keep of them. Every key not listed weighs at most the
// heaviest one left out: a key still counted is overestimated there, and one the
// sketch evicted (or never kept) weighs at most its lightest counter, which only
// happens once it holds more keys than keep.
func cut(es []entry, keep int) list {
	sortEntries(es)
	l := list{}
	if len(es) > keep {
		l.bound = es[keep].w
		es = es[:keep:keep]
	}
	l.entries = es
	return l
}

// flowKeys is a record's key in every dimension, worked out once for both of its
// interfaces.
type flowKeys struct {
	src, dst     addr16
	sport, dport uint16
	proto        uint8
	conv         pair16
	service      uint32
	w            [numMeasures]uint64
}

func keysOf(f *flow.Flow) flowKeys {
	src, dst := f.Src.Unmap(), f.Dst.Unmap()
	k := flowKeys{
		src: src.As16(), dst: dst.As16(), sport: f.SrcPort, dport: f.DstPort, proto: f.Proto,
		service: service(f.Proto, f.SrcPort, f.DstPort),
		w:       [numMeasures]uint64{f.Bytes, f.Packets, 1},
	}
	lo, hi := src, dst
	if hi.Less(lo) {
		lo, hi = hi, lo
	}
	a, b := lo.As16(), hi.As16()
	copy(k.conv[:16], a[:])
	copy(k.conv[16:], b[:])
	return k
}

func (s *sketches) add(k *flowKeys) {
	for m, w := range k.w {
		s.total[m] += w
	}
	s.src.add(k.src, &k.w)
	s.dst.add(k.dst, &k.w)
	s.sport.add(k.sport, &k.w)
	s.dport.add(k.dport, &k.w)
	s.proto.add(k.proto, &k.w)
	s.conv.add(k.conv, &k.w)
	s.service.add(k.service, &k.w)
}

// row turns the step's counts into a row of lists of at most keep entries.
func (s *sketches) row(keep int) *row {
	r := &row{total: s.total}
	r.lists[SrcAddr] = s.src.lists(keep, appendAddr16)
	r.lists[DstAddr] = s.dst.lists(keep, appendAddr16)
	r.lists[SrcPort] = s.sport.lists(keep, appendU16)
	r.lists[DstPort] = s.dport.lists(keep, appendU16)
	r.lists[Proto] = s.proto.lists(keep, func(b []byte, p uint8) []byte { return append(b, p) })
	r.lists[Conversation] = s.conv.lists(keep, appendPair16)
	r.lists[Service] = s.service.lists(keep, appendService)
	return r
}

// addrOf16 turns a key back into an address: IPv4 unmapped, all zeros the zero
// Addr of a record without one (so the IPv6 address :: reads as none).
func addrOf16(a addr16) netip.Addr {
	if a == (addr16{}) {
		return netip.Addr{}
	}
	return netip.AddrFrom16(a).Unmap()
}

func appendAddr16(b []byte, a addr16) []byte { return appendAddr(b, addrOf16(a)) }

func appendPair16(b []byte, p pair16) []byte {
	return appendAddr16(appendAddr16(b, addr16(p[:16])), addr16(p[16:]))
}
