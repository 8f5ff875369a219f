package flowquery

import (
	"net/netip"

	"github.com/mrtgo/mrtgo/flow"
)

// fieldSet is a set of the fields of flow.Flow, a bit each in the order of
// fieldNames.
type fieldSet uint32

const (
	fieldReceived fieldSet = 1 << iota
	fieldStart
	fieldEnd
	fieldKind
	fieldExporter
	fieldDomain
	fieldSamplingRate
	fieldInIf
	fieldOutIf
	fieldSrc
	fieldDst
	fieldSrcPort
	fieldDstPort
	fieldProto
	fieldTCPFlags
	fieldBytes
	fieldPackets
	fieldDevice
	fieldIn
	fieldOut
)

// fieldNames are the names of flow.Flow's fields (its Record's first), in the order
// they are declared and of the bits of fieldSet.
var fieldNames = [...]string{"Received", "Start", "End", "Kind", "Exporter", "Domain", "SamplingRate",
	"InIf", "OutIf", "Src", "Dst", "SrcPort", "DstPort", "Proto", "TCPFlags", "Bytes", "Packets",
	"Device", "In", "Out"}

// sides adds the source field, the destination field or both, as d says.
func (s *fieldSet) sides(d dir, srcField, dstField fieldSet) {
	switch d {
	case src:
		*s |= srcField
	case dst:
		*s |= dstField
	default:
		*s |= srcField | dstField
	}
}

func (s fieldSet) names() []string {
	var names []string
	for i, name := range fieldNames {
		if s&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return names
}

// Fields returns the names of the fields of flow.Flow the query reads, in the order
// they are declared: those of its filter, of its group, Packets and Bytes, and Start
// and End when From or To is zero (the rates are then over the flows' own times). A
// store that reads column by column needs no others to answer the query.
func (q Query) Fields() []string {
	var s fieldSet
	if q.Filter != nil && q.Filter.root != nil {
		q.Filter.root.fields(&s)
	}
	switch q.Group {
	case GroupSrc:
		s |= fieldSrc
	case GroupDst:
		s |= fieldDst
	case GroupSrcPort:
		s |= fieldSrcPort
	case GroupDstPort:
		s |= fieldDstPort
	case GroupProto:
		s |= fieldProto
	case GroupConv:
		s |= fieldSrc | fieldDst | fieldSrcPort | fieldDstPort | fieldProto
	}
	s |= fieldPackets | fieldBytes
	if q.From.IsZero() || q.To.IsZero() {
		s |= fieldStart | fieldEnd
	}
	return s.names()
}

// Columns is a batch of flows read column by column, as a store's scan hands them
// over (flowstore's Block is one). It lets an Aggregator add up a batch a column at
// a time, by the dictionary index of each address rather than by the address,
// instead of record by record.
type Columns interface {
	// Len is the number of records.
	Len() int
	// Flows returns the records, with at least the fields that were read set.
	Flows() []flow.Flow
	// Column returns the values of the field of flow.Flow named field, one per
	// record, or nil when the field was not read or is not held as integers. The
	// values of Exporter, Src and Dst are indexes into Addrs; the others are the
	// fields' values, within their types' range.
	Column(field string) []uint64
	// Addrs is the dictionary of the address columns.
	Addrs() []netip.Addr
}

// AddColumns counts the records of c that pass the query's filter, and returns how
// many did: the same as Add over every record of c.Flows(), in less time. It asks c
// for the records only where the filter, or the rates' time range (From or To
// zero), needs them; the rest it reads from c's columns of the query's Fields. When
// c lacks one of those columns it adds the records one by one.
func (a *Aggregator) AddColumns(c Columns) int {
	n := c.Len()
	if n == 0 || a.table == nil {
		return 0
	}
	packets, bytes := c.Column("Packets"), c.Column("Bytes")
	if len(packets) != n || len(bytes) != n || !a.table.hasColumns(c, n) {
		fs := c.Flows()
		added := 0
		for i := range fs {
			if a.Add(&fs[i]) {
				added++
			}
		}
		return added
	}
	var fs []flow.Flow
	var sel []int32 // the records that pass, when some do not
	if !a.q.Filter.matchesAll() {
		fs = c.Flows()
		sel = a.sel[:0]
		for i := range fs {
			if a.q.Filter.match(&fs[i]) {
				sel = append(sel, int32(i))
			}
		}
		a.sel = sel
		if len(sel) == 0 {
			return 0
		}
		if len(sel) == n {
			sel = nil
		}
	}
	if a.q.From.IsZero() || a.q.To.IsZero() {
		if fs == nil {
			fs = c.Flows()
		}
		if sel == nil {
			for i := range fs {
				a.times(&fs[i])
			}
		} else {
			for _, i := range sel {
				a.times(&fs[i])
			}
		}
	}
	if !a.table.addColumns(a, c, sel, packets, bytes) {
		a.tooMany = true
	}
	if sel != nil {
		return len(sel)
	}
	return n
}

// tally adds up the records sel of a batch (every one of the len(idx) when sel is
// nil) by their value in idx, which is below size, into a.dense, and lists in
// a.touched each value met. flush takes them from there.
func (a *Aggregator) tally(idx []uint64, size int, sel []int32, packets, bytes []uint64) {
	if cap(a.dense) < size {
		a.dense = make([]Counts, size)
	}
	d := a.dense[:size]
	touched := a.touched[:0]
	if sel == nil {
		packets, bytes = packets[:len(idx)], bytes[:len(idx)]
		for i, k := range idx {
			c := &d[k]
			if c.Flows == 0 {
				touched = append(touched, uint32(k))
			}
			c.Flows++
			c.Packets += packets[i]
			c.Bytes += bytes[i]
		}
	} else {
		for _, i := range sel {
			k := idx[i]
			c := &d[k]
			if c.Flows == 0 {
				touched = append(touched, uint32(k))
			}
			c.Flows++
			c.Packets += packets[i]
			c.Bytes += bytes[i]
		}
	}
	a.touched = touched
}

// flush adds the counts tally left to the table, each under key(value), and to the
// total, and clears them for the next batch.
func flush[K comparable](a *Aggregator, t *keyTable[K], key func(uint32) K) bool {
	keys, cs := t.keys[:0], t.counts[:0]
	for _, v := range a.touched {
		c := &a.dense[v]
		keys = append(keys, key(v))
		cs = append(cs, *c)
		a.total.add(*c)
		*c = Counts{}
	}
	t.keys, t.counts = keys, cs
	return t.t.addMany(keys, cs, a.max, &t.b)
}

// addrTable is a table by source or destination address, which adds a batch up by
// dictionary index first: a batch's records name far fewer distinct addresses than
// they are, and the dense array of the dictionary stays in the cache where the
// table of every address does not.
type addrTable struct {
	*keyTable[addrKey]
	field string // the column: Src or Dst
}

func (t *addrTable) sibling() table { return &addrTable{t.keyTable.sibling(), t.field} }

func (t *addrTable) hasColumns(c Columns, n int) bool { return len(c.Column(t.field)) == n }

func (t *addrTable) addColumns(a *Aggregator, c Columns, sel []int32, packets, bytes []uint64) bool {
	addrs := c.Addrs()
	a.tally(c.Column(t.field), len(addrs), sel, packets, bytes)
	return flush(a, t.keyTable, func(v uint32) addrKey {
		b, fam := pack(addrs[v])
		return addrKey{b, fam}
	})
}

// smallTable is a table by port or protocol, added up by value first.
type smallTable[K uint8 | uint16] struct {
	*keyTable[K]
	field string
}

func (t *smallTable[K]) sibling() table { return &smallTable[K]{t.keyTable.sibling(), t.field} }

func (t *smallTable[K]) hasColumns(c Columns, n int) bool { return len(c.Column(t.field)) == n }

func (t *smallTable[K]) addColumns(a *Aggregator, c Columns, sel []int32, packets, bytes []uint64) bool {
	var k K
	size := 1 << 16
	if _, ok := any(k).(uint8); ok {
		size = 1 << 8
	}
	a.tally(c.Column(t.field), size, sel, packets, bytes)
	return flush(a, t.keyTable, func(v uint32) K { return K(v) })
}

// convTable is the table of conversations, added record by record: few repeat
// within a batch. The batch's addresses are packed once each.
type convTable struct {
	*keyTable[convKey]
}

var convColumns = [...]string{"Src", "Dst", "SrcPort", "DstPort", "Proto"}

func (t *convTable) sibling() table { return &convTable{t.keyTable.sibling()} }

func (t *convTable) hasColumns(c Columns, n int) bool {
	for _, f := range convColumns {
		if len(c.Column(f)) != n {
			return false
		}
	}
	return true
}

func (t *convTable) addColumns(a *Aggregator, c Columns, sel []int32, packets, bytes []uint64) bool {
	addrs := c.Addrs()
	if cap(a.packed) < len(addrs) {
		a.packed = make([]addrKey, len(addrs))
	}
	packed := a.packed[:len(addrs)]
	for i, ad := range addrs {
		packed[i].a, packed[i].fam = pack(ad)
	}
	srcs, dsts := c.Column("Src"), c.Column("Dst")
	sps, dps, protos := c.Column("SrcPort"), c.Column("DstPort"), c.Column("Proto")
	keys, cs := t.keys[:0], t.counts[:0]
	one := func(i int) {
		s, d := &packed[srcs[i]], &packed[dsts[i]]
		keys = append(keys, convKey{src: s.a, dst: d.a, srcPort: uint16(sps[i]), dstPort: uint16(dps[i]),
			proto: uint8(protos[i]), fams: s.fam | d.fam<<4})
		cnt := Counts{Flows: 1, Packets: packets[i], Bytes: bytes[i]}
		cs = append(cs, cnt)
		a.total.add(cnt)
	}
	if sel == nil {
		for i := range srcs {
			one(i)
		}
	} else {
		for _, i := range sel {
			one(int(i))
		}
	}
	t.keys, t.counts = keys, cs
	return t.t.addMany(keys, cs, a.max, &t.b)
}
