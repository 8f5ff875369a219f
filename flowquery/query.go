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
// zero: about 130 MB of memory for conv keys, the largest (BenchmarkGroupConv
// measures 128 bytes a key held), and as much again, briefly, while Result ranks them.
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
}

// keyTable is a table keyed by K, which keyOf takes from a flow and key unpacks.
type keyTable[K comparable] struct {
	keyOf  func(*flow.Flow) K
	key    func(K) Key
	index  map[K]int32 // into counts
	counts []Counts
}

func newTable[K comparable](keyOf func(*flow.Flow) K, key func(K) Key) *keyTable[K] {
	return &keyTable[K]{keyOf: keyOf, key: key, index: map[K]int32{}}
}

func (t *keyTable[K]) add(f *flow.Flow, c Counts, max int) bool { return t.addKey(t.keyOf(f), c, max) }

func (t *keyTable[K]) addKey(k K, c Counts, max int) bool {
	if i, ok := t.index[k]; ok {
		t.counts[i].add(c)
		return true
	}
	if len(t.counts) >= max {
		return false
	}
	t.index[k] = int32(len(t.counts))
	t.counts = append(t.counts, c)
	return true
}

func (t *keyTable[K]) merge(o table, max int) bool {
	ok := true
	for k, i := range o.(*keyTable[K]).index {
		ok = t.addKey(k, o.(*keyTable[K]).counts[i], max) && ok
	}
	return ok
}

func (t *keyTable[K]) len() int { return len(t.counts) }

func (t *keyTable[K]) rows() []Row {
	rows := make([]Row, 0, len(t.index))
	for k, i := range t.index {
		rows = append(rows, Row{Key: t.key(k), Counts: t.counts[i], Keys: 1})
	}
	return rows
}

func newGroupTable(g Group) table {
	switch g {
	case GroupSrc:
		return newTable(srcKey, func(k addrKey) Key { return Key{Src: unpack(k.a, k.fam)} })
	case GroupDst:
		return newTable(dstKey, func(k addrKey) Key { return Key{Dst: unpack(k.a, k.fam)} })
	case GroupSrcPort:
		return newTable(func(f *flow.Flow) uint16 { return f.SrcPort }, func(p uint16) Key { return Key{SrcPort: p} })
	case GroupDstPort:
		return newTable(func(f *flow.Flow) uint16 { return f.DstPort }, func(p uint16) Key { return Key{DstPort: p} })
	case GroupProto:
		return newTable(func(f *flow.Flow) uint8 { return f.Proto }, func(p uint8) Key { return Key{Proto: p} })
	case GroupConv:
		return newTable(conv, func(k convKey) Key {
			return Key{Src: unpack(k.src, k.fams&0xf), Dst: unpack(k.dst, k.fams>>4),
				SrcPort: k.srcPort, DstPort: k.dstPort, Proto: k.proto}
		})
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
}

// NewAggregator returns an empty Aggregator for q.
func (q Query) NewAggregator() *Aggregator {
	m := q.MaxKeys
	if m <= 0 {
		m = DefaultMaxKeys
	}
	return &Aggregator{q: q, max: m, table: newGroupTable(q.Group)}
}

// Add counts f if it passes the query's filter, and reports whether it did.
func (a *Aggregator) Add(f *flow.Flow) bool {
	if !a.q.Filter.Match(f) || a.table == nil {
		return false
	}
	c := Counts{Flows: 1, Packets: f.Packets, Bytes: f.Bytes}
	a.total.add(c)
	if a.first.IsZero() || !f.Start.IsZero() && f.Start.Before(a.first) {
		a.first = f.Start
	}
	if f.End.After(a.last) {
		a.last = f.End
	}
	if !a.table.add(f, c, a.max) {
		a.tooMany = true // totals stay exact; the top list is refused
	}
	return true
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
	rows := a.table.rows()
	by := q.By
	slices.SortFunc(rows, func(x, y Row) int {
		if c := cmp.Compare(y.get(by), x.get(by)); c != 0 {
			return c
		}
		for _, m := range []Measure{ByFlows, ByPackets, ByBytes} {
			if c := cmp.Compare(y.get(m), x.get(m)); c != 0 {
				return c
			}
		}
		return compareKeys(x.Key, y.Key)
	})
	n := len(rows)
	if q.Top > 0 {
		n = min(n, q.Top)
	}
	r.Rows = rows[:n:n]
	for i := range r.Rows {
		r.Rows[i] = r.row(r.Rows[i].Key, r.Rows[i].Counts, 1, a.total)
	}
	var other Counts
	for _, o := range rows[n:] {
		other.add(o.Counts)
	}
	r.Other = r.row(Key{}, other, len(rows)-n, a.total)
	r.Total = r.row(Key{}, a.total, len(rows), a.total)
	return r, nil
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
