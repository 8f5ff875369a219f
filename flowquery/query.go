package flowquery

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// Group is what a query adds flows up by.
type Group uint8

// The groupings. GroupConv is the conversation, one direction of it: nfdump's default
// flow aggregation (-a, the same as -A srcip,dstip,srcport,dstport,proto) and its
// "-s record" statistic over aggregated records, which shows them the same way.
const (
	GroupSrc Group = iota + 1
	GroupDst
	GroupSrcPort
	GroupDstPort
	GroupProto
	GroupConv
)

var groupNames = [...]string{GroupSrc: "src", GroupDst: "dst", GroupSrcPort: "srcport",
	GroupDstPort: "dstport", GroupProto: "proto", GroupConv: "conv"}

// String is the group's name as ParseGroup takes it.
func (g Group) String() string {
	if int(g) < len(groupNames) && groupNames[g] != "" {
		return groupNames[g]
	}
	return fmt.Sprintf("Group(%d)", g)
}

// ParseGroup reads a group name: src, dst, srcport, dstport, proto or conv.
func ParseGroup(s string) (Group, error) {
	for g, name := range groupNames {
		if name != "" && strings.EqualFold(s, name) {
			return Group(g), nil
		}
	}
	return 0, fmt.Errorf("group %q unknown: want src, dst, srcport, dstport, proto or conv", s)
}

// columns are the key columns of the group, in output order.
func (g Group) columns() []string {
	switch g {
	case GroupConv:
		return []string{"src", "dst", "proto", "srcport", "dstport"}
	case 0:
		return nil
	}
	return []string{g.String()}
}

// Measure is what a query ranks keys by.
type Measure uint8

// The measures.
const (
	ByBytes Measure = iota
	ByPackets
	ByFlows
)

var measureNames = [...]string{ByBytes: "bytes", ByPackets: "packets", ByFlows: "flows"}

// String is the measure's name as ParseMeasure takes it.
func (m Measure) String() string {
	if int(m) < len(measureNames) {
		return measureNames[m]
	}
	return fmt.Sprintf("Measure(%d)", m)
}

// ParseMeasure reads a measure name: bytes, packets or flows.
func ParseMeasure(s string) (Measure, error) {
	for m, name := range measureNames {
		if strings.EqualFold(s, name) {
			return Measure(m), nil
		}
	}
	return 0, fmt.Errorf("order %q unknown: want bytes, packets or flows", s)
}

// DefaultMaxKeys is the number of distinct keys a query holds when Query.MaxKeys is
// zero: about 140 MB of memory for conv keys, the largest (BenchmarkGroupConv
// measures 134 bytes a key held), and as much again, briefly, while Result ranks them
// for a query without Top.
const DefaultMaxKeys = 1 << 20

// ErrTooManyKeys is returned (wrapped, with the limit and the group) by a query that
// met more distinct keys than its limit. Totals would still be exact, but the top
// list could not be, so the query gives none: narrow the filter or the time range, or
// raise Query.MaxKeys.
var ErrTooManyKeys = errors.New("too many distinct keys")

// Query is a top-N question over flows: which keys of Group, among the flows that
// pass Filter, carry the most By.
type Query struct {
	Filter *Filter // nil: every flow
	Group  Group
	By     Measure
	Top    int // the rows listed; 0 lists every key

	// From and To are the time range the rates are over, as the store was asked for
	// it. When either is zero, the range is that of the matching flows: the earliest
	// Start to the latest End.
	From, To time.Time

	// MaxKeys bounds the distinct keys held, and so the memory; 0 is DefaultMaxKeys.
	MaxKeys int
}

// Counts are what a key, or all keys, add up to.
type Counts struct {
	Flows, Packets, Bytes uint64
}

func (c *Counts) add(o Counts) {
	c.Flows += o.Flows
	c.Packets += o.Packets
	c.Bytes += o.Bytes
}

func (c Counts) get(m Measure) uint64 {
	switch m {
	case ByPackets:
		return c.Packets
	case ByFlows:
		return c.Flows
	}
	return c.Bytes
}

// Key identifies a row: only the fields of the query's Group are set (all five for
// GroupConv).
type Key struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
}

// Row is a key's line of a Result.
type Row struct {
	Key Key
	Counts
	Keys int // the distinct keys added up in this row: 1, or more for Other and Total
	// Share is the row's part of the total By measure, in percent.
	Share float64
	// BitsPerSec and PacketsPerSec are over the Result's time range; 0 when it is
	// empty.
	BitsPerSec, PacketsPerSec float64
}

// Result is the answer to a Query: the top rows, heaviest first (ties by flows,
// packets, bytes, then key), the remainder of every key not listed, and the total,
// so that Rows and Other add up to Total exactly.
type Result struct {
	Query    Query
	From, To time.Time // the range rates are over
	Rows     []Row
	Other    Row // keys beyond Top, added up; Keys is 0 when there are none
	Total    Row
}

// Seconds is the length of the time range the rates are over.
func (r *Result) Seconds() float64 { return r.To.Sub(r.From).Seconds() }

// Keys are packed for hashing, by group, as small as the group allows and without
// pointers or padding, so that the map hashes and compares their bytes in one go: a
// map of 100,000 sources then fits the processor's caches better than one of Keys.
type (
	// addrKey is an address; fam is 0 when unset, 4 or 6, so that an unset address
	// differs from ::.
	addrKey struct {
		a   [16]byte
		fam uint8
	}
	// convKey is the 5-tuple. Both families share a byte (source in the low
	// nibble): with one byte each the struct would be 39 bytes padded to 40, and
	// padding makes the map hash and compare it field by field.
	convKey struct {
		src, dst         [16]byte
		srcPort, dstPort uint16
		proto            uint8
		fams             uint8
	}
)

func pack(a netip.Addr) ([16]byte, uint8) {
	switch {
	case a.Is4():
		return a.As16(), 4
	case a.Is6():
		return a.As16(), 6
	}
	return [16]byte{}, 0
}

func unpack(b [16]byte, fam uint8) netip.Addr {
	switch fam {
	case 4:
		return netip.AddrFrom16(b).Unmap()
	case 6:
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

func srcKey(f *flow.Flow) addrKey {
	a, fam := pack(f.Src)
	return addrKey{a, fam}
}

func dstKey(f *flow.Flow) addrKey {
	a, fam := pack(f.Dst)
	return addrKey{a, fam}
}

func conv(f *flow.Flow) convKey {
	k := convKey{srcPort: f.SrcPort, dstPort: f.DstPort, proto: f.Proto}
	var sf, df uint8
	k.src, sf = pack(f.Src)
	k.dst, df = pack(f.Dst)
	k.fams = sf | df<<4
	return k
}

// table is the counts by key of one group.
type table interface {
	// add adds c to the key of f, and reports false when the key is new and the
	// table holds max keys already.
	add(f *flow.Flow, c Counts, max int) bool
	// merge adds every key of t, which is of the same group, and reports false as add.
	merge(t table, max int) bool
	len() int
	// rows returns every key with its counts, in no order.
	rows() []Row
	// sibling returns a table of the same group that adds into the same keys.
	sibling() table
	// top returns the n rows first in the order of compareRows (n > 0), in that order.
	top(n int, by Measure) []Row
	// hasColumns reports whether c holds the n values of each column the key is
	// made of.
	hasColumns(c Columns, n int) bool
	// addColumns adds the records sel of c (every record when sel is nil), whose
	// measures are packets and bytes, to the table and to a's total, and reports
	// false as add.
	addColumns(a *Aggregator, c Columns, sel []int32, packets, bytes []uint64) bool
}

// keyTable is a table keyed by K, which keyOf takes from a flow and key unpacks. t
// may be shared with the keyTables of other Aggregators (NewAggregators); the rest is
// this one's.
type keyTable[K comparable] struct {
	keyOf func(*flow.Flow) K
	key   func(K) Key
	t     *hashTable[K]

	// A batch's keys and counts on their way to t.
	keys   []K
	counts []Counts
	b      batch
}

func newTable[K comparable](keyOf func(*flow.Flow) K, key func(K) Key, hash func(*[2]uint64, *K) uint64, shared bool) *keyTable[K] {
	bits := uint(0)
	if shared {
		bits = sharedBits
	}
	return &keyTable[K]{keyOf: keyOf, key: key, t: newHashTable(hash, bits, shared)}
}

// sibling returns a keyTable adding into the same table.
func (t *keyTable[K]) sibling() *keyTable[K] {
	return &keyTable[K]{keyOf: t.keyOf, key: t.key, t: t.t}
}

func (t *keyTable[K]) add(f *flow.Flow, c Counts, max int) bool {
	k := t.keyOf(f)
	return t.t.add(&k, &c, max)
}

// kt returns t, for merge to find the keyTable inside the table of each group.
func (t *keyTable[K]) kt() *keyTable[K] { return t }

func (t *keyTable[K]) merge(o table, max int) bool {
	other := o.(interface{ kt() *keyTable[K] }).kt().t
	if other == t.t {
		return true // they added into one table
	}
	ok := true
	keys, cs := t.keys[:0], t.counts[:0]
	other.each(func(s *hslot[K]) {
		keys, cs = append(keys, s.k), append(cs, s.c)
		if len(keys) == mergeBatch {
			ok = t.t.addMany(keys, cs, max, &t.b) && ok
			keys, cs = keys[:0], cs[:0]
		}
	})
	ok = t.t.addMany(keys, cs, max, &t.b) && ok
	t.keys, t.counts = keys[:0], cs[:0]
	return ok
}

// mergeBatch is how many keys merge hands addMany at once.
const mergeBatch = 4096

func (t *keyTable[K]) len() int { return t.t.len() }

func (t *keyTable[K]) rows() []Row {
	rows := make([]Row, 0, t.t.len())
	t.t.each(func(s *hslot[K]) {
		rows = append(rows, Row{Key: t.key(s.k), Counts: s.c, Keys: 1})
	})
	return rows
}

// top keeps the n best rows seen in order while it walks the table; a key whose
// counts rank below the n-th row's is passed over without unpacking it, which is
// nearly every key of a long tail.
func (t *keyTable[K]) top(n int, by Measure) []Row {
	best := make([]Row, 0, n+1)
	t.t.each(func(s *hslot[K]) {
		if len(best) == n && compareCounts(s.c, best[n-1].Counts, by) > 0 {
			return
		}
		r := Row{Key: t.key(s.k), Counts: s.c, Keys: 1}
		at, _ := slices.BinarySearchFunc(best, r, func(x, y Row) int { return compareRows(x, y, by) })
		best = slices.Insert(best, at, r)
		if len(best) > n {
			best = best[:n]
		}
	})
	return best
}

func newGroupTable(g Group, shared bool) table {
	switch g {
	case GroupSrc:
		return &addrTable{keyTable: newTable(srcKey, func(k addrKey) Key { return Key{Src: unpack(k.a, k.fam)} }, hashAddr, shared), field: "Src"}
	case GroupDst:
		return &addrTable{keyTable: newTable(dstKey, func(k addrKey) Key { return Key{Dst: unpack(k.a, k.fam)} }, hashAddr, shared), field: "Dst"}
	case GroupSrcPort:
		return &smallTable[uint16]{keyTable: newTable(func(f *flow.Flow) uint16 { return f.SrcPort },
			func(p uint16) Key { return Key{SrcPort: p} }, hashSmall[uint16], shared), field: "SrcPort"}
	case GroupDstPort:
		return &smallTable[uint16]{keyTable: newTable(func(f *flow.Flow) uint16 { return f.DstPort },
			func(p uint16) Key { return Key{DstPort: p} }, hashSmall[uint16], shared), field: "DstPort"}
	case GroupProto:
		return &smallTable[uint8]{keyTable: newTable(func(f *flow.Flow) uint8 { return f.Proto },
			func(p uint8) Key { return Key{Proto: p} }, hashSmall[uint8], shared), field: "Proto"}
	case GroupConv:
		return &convTable{newTable(conv, func(k convKey) Key {
			return Key{Src: unpack(k.src, k.fams&0xf), Dst: unpack(k.dst, k.fams>>4),
				SrcPort: k.srcPort, DstPort: k.dstPort, Proto: k.proto}
		}, hashConv, shared)}
	}
	return nil // Result says the group is unknown
}

// Aggregator adds up the flows of one worker for a Query. An Aggregator is not safe
// for concurrent use: give each goroutine its own, from the same Query, and Merge
// them at the end.
type Aggregator struct {
	q       Query
	max     int
	table   table // nil for an unknown group
	total   Counts
	first   time.Time // earliest Start of the flows added
	last    time.Time // latest End
	tooMany bool

	// AddColumns' buffers, kept from batch to batch.
	sel     []int32   // the records that passed the filter
	dense   []Counts  // by dictionary index or value; zero between batches
	touched []uint32  // the indexes of dense in use
	packed  []addrKey // the batch's addresses, packed
}

// NewAggregator returns an empty Aggregator for q.
func (q Query) NewAggregator() *Aggregator {
	m := q.MaxKeys
	if m <= 0 {
		m = DefaultMaxKeys
	}
	return &Aggregator{q: q, max: m, table: newGroupTable(q.Group, false)}
}

// NewAggregators returns n empty Aggregators for q, one for each of n goroutines, that
// add into one table of keys, each behind its own lock: each key is held once
// instead of once per goroutine, and merging them at the end (Merge, as for
// Aggregators of NewAggregator) adds up their totals only. For a query of many keys
// over a store read by several goroutines, that takes less memory and less time.
func (q Query) NewAggregators(n int) []*Aggregator {
	aggs := make([]*Aggregator, n)
	for i := range aggs {
		if i == 0 {
			aggs[0] = q.NewAggregator()
			aggs[0].table = newGroupTable(q.Group, true)
			continue
		}
		a := *aggs[0]
		if a.table != nil {
			a.table = a.table.sibling()
		}
		aggs[i] = &a
	}
	return aggs
}

// Add counts f if it passes the query's filter, and reports whether it did.
func (a *Aggregator) Add(f *flow.Flow) bool {
	if !a.q.Filter.Match(f) || a.table == nil {
		return false
	}
	c := Counts{Flows: 1, Packets: f.Packets, Bytes: f.Bytes}
	a.total.add(c)
	a.times(f)
	if !a.table.add(f, c, a.max) {
		a.tooMany = true // totals stay exact; the top list is refused
	}
	return true
}

// times widens the flows' time range to f's.
func (a *Aggregator) times(f *flow.Flow) {
	if a.first.IsZero() || !f.Start.IsZero() && f.Start.Before(a.first) {
		a.first = f.Start
	}
	if f.End.After(a.last) {
		a.last = f.End
	}
}

// Merge adds what b counted into a. b must come from the same Query and is not to be
// used after.
func (a *Aggregator) Merge(b *Aggregator) {
	if b.q.Group != a.q.Group {
		panic(fmt.Sprintf("flowquery: merging an aggregator by %s into one by %s", b.q.Group, a.q.Group))
	}
	a.total.add(b.total)
	if a.first.IsZero() || !b.first.IsZero() && b.first.Before(a.first) {
		a.first = b.first
	}
	if b.last.After(a.last) {
		a.last = b.last
	}
	a.tooMany = a.tooMany || b.tooMany
	if a.table != nil && !a.table.merge(b.table, a.max) {
		a.tooMany = true
	}
}

// Result ranks the keys and returns the answer, or an error wrapping ErrTooManyKeys.
func (a *Aggregator) Result() (*Result, error) {
	q := a.q
	if a.table == nil {
		return nil, fmt.Errorf("query: group %v unknown", q.Group)
	}
	if q.By > ByFlows {
		return nil, fmt.Errorf("query: order %v unknown", q.By)
	}
	if q.Top < 0 {
		return nil, fmt.Errorf("query: top %d is negative", q.Top)
	}
	if a.tooMany {
		return nil, fmt.Errorf("query by %s: more than %d distinct keys: %w; narrow the filter or the time range, or raise the limit",
			q.Group, a.max, ErrTooManyKeys)
	}
	r := &Result{Query: q, From: q.From, To: q.To}
	if r.From.IsZero() || r.To.IsZero() {
		r.From, r.To = a.first, a.last
	}
	keys := a.table.len()
	var rows []Row
	if q.Top > 0 && q.Top < keys {
		rows = a.table.top(q.Top, q.By)
	} else {
		rows = a.table.rows()
		slices.SortFunc(rows, func(x, y Row) int { return compareRows(x, y, q.By) })
	}
	r.Rows = rows[:len(rows):len(rows)]
	// The keys not listed add up to the total less the rows: every key's counts are
	// in the total, and no key was refused (tooMany above).
	other := a.total
	for i := range r.Rows {
		other.Flows -= r.Rows[i].Flows
		other.Packets -= r.Rows[i].Packets
		other.Bytes -= r.Rows[i].Bytes
		r.Rows[i] = r.row(r.Rows[i].Key, r.Rows[i].Counts, 1, a.total)
	}
	r.Other = r.row(Key{}, other, keys-len(r.Rows), a.total)
	r.Total = r.row(Key{}, a.total, keys, a.total)
	return r, nil
}

// compareCounts orders counts heaviest first by the measure by, then by flows,
// packets and bytes.
func compareCounts(x, y Counts, by Measure) int {
	if c := cmp.Compare(y.get(by), x.get(by)); c != 0 {
		return c
	}
	if c := cmp.Compare(y.Flows, x.Flows); c != 0 {
		return c
	}
	if c := cmp.Compare(y.Packets, x.Packets); c != 0 {
		return c
	}
	return cmp.Compare(y.Bytes, x.Bytes)
}

// compareRows is the order of a Result's rows: compareCounts, then the key.
func compareRows(x, y Row, by Measure) int {
	if c := compareCounts(x.Counts, y.Counts, by); c != 0 {
		return c
	}
	return compareKeys(x.Key, y.Key)
}

func (r *Result) row(k Key, c Counts, keys int, total Counts) Row {
	row := Row{Key: k, Counts: c, Keys: keys}
	if t := total.get(r.Query.By); t > 0 {
		row.Share = 100 * float64(c.get(r.Query.By)) / float64(t)
	}
	if s := r.Seconds(); s > 0 {
		row.BitsPerSec = 8 * float64(c.Bytes) / s
		row.PacketsPerSec = float64(c.Packets) / s
	}
	return row
}

func compareKeys(a, b Key) int {
	if c := a.Src.Compare(b.Src); c != 0 {
		return c
	}
	if c := a.Dst.Compare(b.Dst); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Proto, b.Proto); c != 0 {
		return c
	}
	if c := cmp.Compare(a.SrcPort, b.SrcPort); c != 0 {
		return c
	}
	return cmp.Compare(a.DstPort, b.DstPort)
}

// Run answers q over the flows of seq, in the calling goroutine.
func (q Query) Run(seq iter.Seq[*flow.Flow]) (*Result, error) {
	a := q.NewAggregator()
	for f := range seq {
		a.Add(f)
	}
	return a.Result()
}

// RunScan answers q over the flows a scan function yields (a store's Scan, say: it
// calls fn for each flow until fn returns false, and returns its own error).
func (q Query) RunScan(scan func(fn func(*flow.Flow) bool) error) (*Result, error) {
	a := q.NewAggregator()
	if err := scan(func(f *flow.Flow) bool { a.Add(f); return true }); err != nil {
		return nil, err
	}
	return a.Result()
}
