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

// sketches is the current step of one series: exact totals and a Space-Saving
// sketch per dimension and measure, each made on first use.
type sketches struct {
	total   [numMeasures]uint64
	src     [numMeasures]*flow.TopK[netip.Addr]
	dst     [numMeasures]*flow.TopK[netip.Addr]
	sport   [numMeasures]*flow.TopK[uint16]
	dport   [numMeasures]*flow.TopK[uint16]
	proto   [numMeasures]*flow.TopK[uint8]
	conv    [numMeasures]*flow.TopK[pair]
	service [numMeasures]*flow.TopK[uint32]
}

func newSketches(capacity int) *sketches {
	s := &sketches{}
	for m := range numMeasures {
		s.src[m] = flow.NewTopK[netip.Addr](capacity)
		s.dst[m] = flow.NewTopK[netip.Addr](capacity)
		s.sport[m] = flow.NewTopK[uint16](capacity)
		s.dport[m] = flow.NewTopK[uint16](capacity)
		// A protocol is one of 256 and a service one of a few thousand: their
		// sketches stay small (and exact) however large the capacity.
		s.proto[m] = flow.NewTopK[uint8](min(capacity, 256))
		s.conv[m] = flow.NewTopK[pair](capacity)
		s.service[m] = flow.NewTopK[uint32](capacity)
	}
	return s
}

// flowKeys is a record's key in every dimension, worked out once for both of its
// interfaces.
type flowKeys struct {
	src, dst     netip.Addr
	sport, dport uint16
	proto        uint8
	conv         pair
	service      uint32
	w            [numMeasures]uint64
}

func keysOf(f *flow.Flow) flowKeys {
	src, dst := f.Src.Unmap().WithZone(""), f.Dst.Unmap().WithZone("")
	return flowKeys{
		src: src, dst: dst, sport: f.SrcPort, dport: f.DstPort, proto: f.Proto,
		conv:    makePair(src, dst),
		service: service(f.Proto, f.SrcPort, f.DstPort),
		w:       [numMeasures]uint64{f.Bytes, f.Packets, 1},
	}
}

func (s *sketches) add(k *flowKeys) {
	for m, w := range k.w {
		s.total[m] += w
		s.src[m].Add(k.src, w)
		s.dst[m].Add(k.dst, w)
		s.sport[m].Add(k.sport, w)
		s.dport[m].Add(k.dport, w)
		s.proto[m].Add(k.proto, w)
		s.conv[m].Add(k.conv, w)
		s.service[m].Add(k.service, w)
	}
}

// row turns the step's sketches into a row of lists of at most keep entries.
func (s *sketches) row(keep int) *row {
	r := &row{total: s.total}
	for m := range numMeasures {
		r.lists[SrcAddr][m] = extract(s.src[m], keep, appendAddr)
		r.lists[DstAddr][m] = extract(s.dst[m], keep, appendAddr)
		r.lists[SrcPort][m] = extract(s.sport[m], keep, appendU16)
		r.lists[DstPort][m] = extract(s.dport[m], keep, appendU16)
		r.lists[Proto][m] = extract(s.proto[m], keep, func(b []byte, p uint8) []byte { return append(b, p) })
		r.lists[Conversation][m] = extract(s.conv[m], keep, appendPair)
		r.lists[Service][m] = extract(s.service[m], keep, appendService)
	}
	return r
}

// extract lists the keep heaviest keys of t. Every key not listed weighs at most
// the heaviest one left out: a key still in the sketch is overestimated there,
// and one evicted (or never kept) weighs at most the sketch's lightest counter,
// which only happens once the sketch holds more keys than keep.
func extract[K comparable](t *flow.TopK[K], keep int, enc func([]byte, K) []byte) list {
	top := t.Top(keep + 1)
	es := make([]entry, len(top))
	var buf []byte
	for i, e := range top {
		buf = enc(buf[:0], e.Key)
		es[i] = entry{key: string(buf), w: e.Weight, err: e.Err}
	}
	sortEntries(es)
	l := list{}
	if len(es) > keep {
		l.bound = es[keep].w
		es = es[:keep:keep]
	}
	l.entries = es
	return l
}
