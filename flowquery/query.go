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
// zero: about 100 MB of memory (roughly 100 bytes a key, measured for conv keys,
// whose hash map entries are the largest).
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

// gkey is a Key packed for hashing: no pointers and no padding, so that the map hashes
// its bytes in one go. Family bits say which addresses are IPv4 (one byte each, so
// that an unset address differs from ::).
type gkey struct {
	src, dst         [16]byte
	srcPort, dstPort uint16
	proto            uint8
	srcFam, dstFam   uint8 // 0 unset, 4 or 6
	_                uint8
}

func family(a netip.Addr) uint8 {
	switch {
	case a.Is4():
		return 4
	case a.Is6():
		return 6
	}
	return 0
}

func unpack(fam uint8, b [16]byte) netip.Addr {
	switch fam {
	case 4:
		return netip.AddrFrom16(b).Unmap()
	case 6:
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

func (k gkey) key() Key {
	return Key{Src: unpack(k.srcFam, k.src), Dst: unpack(k.dstFam, k.dst),
		SrcPort: k.srcPort, DstPort: k.dstPort, Proto: k.proto}
}

// Aggregator adds up the flows of one worker for a Query. An Aggregator is not safe
// for concurrent use: give each goroutine its own, from the same Query, and Merge
// them at the end.
type Aggregator struct {
	q       Query
	max     int
	index   map[gkey]int32 // into counts
	counts  []Counts
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
	return &Aggregator{q: q, max: m, index: map[gkey]int32{}}
}

// keyOf packs the group's fields of f.
func (a *Aggregator) keyOf(f *flow.Flow) gkey {
	var k gkey
	switch a.q.Group {
	case GroupSrc:
		k.src, k.srcFam = f.Src.As16(), family(f.Src)
	case GroupDst:
		k.dst, k.dstFam = f.Dst.As16(), family(f.Dst)
	case GroupSrcPort:
		k.srcPort = f.SrcPort
	case GroupDstPort:
		k.dstPort = f.DstPort
	case GroupProto:
		k.proto = f.Proto
	case GroupConv:
		k.src, k.srcFam = f.Src.As16(), family(f.Src)
		k.dst, k.dstFam = f.Dst.As16(), family(f.Dst)
		k.srcPort, k.dstPort, k.proto = f.SrcPort, f.DstPort, f.Proto
	}
	return k
}

// Add counts f if it passes the query's filter, and reports whether it did.
func (a *Aggregator) Add(f *flow.Flow) bool {
	if !a.q.Filter.Match(f) {
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
	a.addKey(a.keyOf(f), c)
	return true
}

func (a *Aggregator) addKey(k gkey, c Counts) {
	if i, ok := a.index[k]; ok {
		a.counts[i].add(c)
		return
	}
	if len(a.counts) >= a.max {
		a.tooMany = true // totals stay exact; the top list is refused
		return
	}
	a.index[k] = int32(len(a.counts))
	a.counts = append(a.counts, c)
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
	for k, i := range b.index {
		a.addKey(k, b.counts[i])
	}
}

// Result ranks the keys and returns the answer, or an error wrapping ErrTooManyKeys.
func (a *Aggregator) Result() (*Result, error) {
	q := a.q
	if q.Group < GroupSrc || q.Group > GroupConv {
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
	type entry struct {
		k gkey
		i int32
	}
	order := make([]entry, 0, len(a.index))
	for k, i := range a.index {
		order = append(order, entry{k, i})
	}
	by := q.By
	slices.SortFunc(order, func(ei, ej entry) int {
		ci, cj := a.counts[ei.i], a.counts[ej.i]
		if c := cmp.Compare(cj.get(by), ci.get(by)); c != 0 {
			return c
		}
		for _, m := range []Measure{ByFlows, ByPackets, ByBytes} {
			if c := cmp.Compare(cj.get(m), ci.get(m)); c != 0 {
				return c
			}
		}
		return compareKeys(ei.k.key(), ej.k.key())
	})
	n := len(order)
	if q.Top > 0 {
		n = min(n, q.Top)
	}
	r.Rows = make([]Row, n)
	for i, o := range order[:n] {
		r.Rows[i] = r.row(o.k.key(), a.counts[o.i], 1, a.total)
	}
	var other Counts
	for _, o := range order[n:] {
		other.add(a.counts[o.i])
	}
	r.Other = r.row(Key{}, other, len(order)-n, a.total)
	r.Total = r.row(Key{}, a.total, len(order), a.total)
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
