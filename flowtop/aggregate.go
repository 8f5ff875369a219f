package flowtop

import (
	"net/netip"

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

// sketches is the current step of one series: exact totals, and a table per
// dimension (see table). Protocols, one of 256, are counted exactly in an array.
type sketches struct {
	total   counts
	src     table[addr16]
	dst     table[addr16]
	sport   table[uint16]
	dport   table[uint16]
	proto   [256]counts
	conv    table[pair16]
	service table[uint32]
}

func newSketches(capacity int) *sketches {
	return &sketches{
		src: newTable[addr16](capacity), dst: newTable[addr16](capacity),
		sport: newTable[uint16](capacity), dport: newTable[uint16](capacity),
		conv: newTable[pair16](capacity), service: newTable[uint32](capacity),
	}
}

// reset empties s for another step, keeping its memory.
func (s *sketches) reset() {
	s.total = counts{}
	s.src.reset()
	s.dst.reset()
	s.sport.reset()
	s.dport.reset()
	s.proto = [256]counts{}
	s.conv.reset()
	s.service.reset()
}

// protoLists returns the exact lists of the protocols.
func (s *sketches) protoLists(keep int) [numMeasures]list {
	var out [numMeasures]list
	for m := range out {
		var es []entry
		for p := range s.proto {
			if w := s.proto[p][m]; w > 0 {
				es = append(es, entry{key: string([]byte{byte(p)}), w: w})
			}
		}
		out[m] = cut(es, keep, 0)
	}
	return out
}

// cut sorts es and keeps keep of them. Every key not listed weighs at most the
// heaviest one left out, or floor, the most a key without a counter may weigh.
func cut(es []entry, keep int, floor uint64) list {
	sortEntries(es)
	l := list{bound: floor}
	if len(es) > keep {
		l.bound = max(floor, es[keep].w)
		es = es[:keep:keep]
	}
	l.entries = es
	return l
}

// flowKeys is a record's key in every dimension, and its hash, worked out once
// for both of its interfaces.
type flowKeys struct {
	src, dst        addr16
	conv            pair16
	service         uint32
	sport, dport    uint16
	proto           uint8
	hsrc, hdst      uint32
	hsport, hdport  uint32
	hconv, hservice uint32
	w               counts
}

func keysOf(h hasher, f *flow.Flow, k *flowKeys) {
	src, dst := f.Src.Unmap(), f.Dst.Unmap()
	k.src, k.dst = src.As16(), dst.As16()
	k.sport, k.dport, k.proto = f.SrcPort, f.DstPort, f.Proto
	k.service = service(f.Proto, f.SrcPort, f.DstPort)
	k.w = counts{f.Bytes, f.Packets, 1}
	a, b := &k.src, &k.dst
	if dst.Less(src) {
		a, b = b, a
	}
	copy(k.conv[:16], a[:])
	copy(k.conv[16:], b[:])
	k.hsrc, k.hdst = h.addr(&k.src), h.addr(&k.dst)
	k.hsport, k.hdport = h.small(uint64(k.sport)), h.small(uint64(k.dport))
	k.hconv, k.hservice = h.pair(&k.conv), h.small(uint64(k.service))
}

func (s *sketches) add(k *flowKeys) {
	for m, w := range k.w {
		s.total[m] += w
	}
	s.src.add(k.src, k.hsrc, &k.w)
	s.dst.add(k.dst, k.hdst, &k.w)
	s.sport.add(k.sport, k.hsport, &k.w)
	s.dport.add(k.dport, k.hdport, &k.w)
	p := &s.proto[k.proto]
	p[0] += k.w[0]
	p[1] += k.w[1]
	p[2] += k.w[2]
	s.conv.add(k.conv, k.hconv, &k.w)
	s.service.add(k.service, k.hservice, &k.w)
}

// row turns the step's counts into a row of lists of at most keep entries.
func (s *sketches) row(keep int) *row {
	r := &row{total: s.total}
	r.lists[SrcAddr] = s.src.lists(keep, appendAddr16)
	r.lists[DstAddr] = s.dst.lists(keep, appendAddr16)
	r.lists[SrcPort] = s.sport.lists(keep, appendU16)
	r.lists[DstPort] = s.dport.lists(keep, appendU16)
	r.lists[Proto] = s.protoLists(keep)
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
