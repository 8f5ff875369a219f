package flowquery

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// fakeColumns is a batch in columns made from flows, as a store reading the fields
// read would make it: the records with only those fields set, and a column of each
// integer or address field read. It is hand-written to the Columns contract.
type fakeColumns struct {
	flows []flow.Flow
	addrs []netip.Addr
	cols  map[string][]uint64
}

var _ Columns = (*fakeColumns)(nil)

func (c *fakeColumns) Len() int                     { return len(c.flows) }
func (c *fakeColumns) Flows() []flow.Flow           { return c.flows }
func (c *fakeColumns) Column(field string) []uint64 { return c.cols[field] }
func (c *fakeColumns) Addrs() []netip.Addr          { return c.addrs }

// newFakeColumns keeps the fields named of fs, in columns and in flows whose other
// fields are zero.
func newFakeColumns(fs []*flow.Flow, fields []string) *fakeColumns {
	c := &fakeColumns{cols: map[string][]uint64{}}
	dict := map[netip.Addr]uint64{}
	addr := func(a netip.Addr) uint64 {
		i, ok := dict[a]
		if !ok {
			i = uint64(len(c.addrs))
			dict[a] = i
			c.addrs = append(c.addrs, a)
		}
		return i
	}
	index := make([][]int, len(fields))
	for i, name := range fields {
		sf, _ := reflect.TypeFor[flow.Flow]().FieldByName(name)
		index[i] = sf.Index
	}
	for _, f := range fs {
		var g flow.Flow
		fv, gv := reflect.ValueOf(f).Elem(), reflect.ValueOf(&g).Elem()
		for i, name := range fields {
			x := fv.FieldByIndex(index[i])
			gv.FieldByIndex(index[i]).Set(x)
			var v uint64
			switch x := x.Interface().(type) {
			case netip.Addr:
				v = addr(x)
			case uint64:
				v = x
			case uint32:
				v = uint64(x)
			case uint16:
				v = uint64(x)
			case uint8:
				v = uint64(x)
			default:
				continue // times, strings and kinds are in the flows only
			}
			c.cols[name] = append(c.cols[name], v)
		}
		c.flows = append(c.flows, g)
	}
	return c
}

// AddColumns over batches that hold only the query's Fields gives what Add gives over
// the whole flows, for every group, measure and filter, with and without a time
// range; and so does a batch that lacks a key column (added record by record).
func TestAddColumnsEqualsAdd(t *testing.T) {
	fs := randomFlows(20000, 11)
	r := rand.New(rand.NewPCG(3, 4))
	for _, f := range fs { // some sides of IPv6, some TCP flags, some devices
		if r.IntN(7) == 0 {
			f.Dst = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: 1, 15: byte(r.IntN(9))})
		}
		f.TCPFlags = uint8(r.IntN(64))
		f.Device = []string{"core1", "core2"}[r.IntN(2)]
	}
	batches := map[string][]*fakeColumns{} // by fields
	filters := []string{"", "any", "not dst port 22", "src net 10.0.1.0/24 or proto udp",
		"flags S and not flags AFRPU", "device core2 and bytes > 50k", "dst host 2001:db8::1:3"}
	for _, g := range []Group{GroupSrc, GroupDst, GroupSrcPort, GroupDstPort, GroupProto, GroupConv} {
		for _, filter := range filters {
			for _, ranged := range []bool{false, true} {
				q := Query{Filter: MustParseFilter(filter), Group: g, By: Measure(r.IntN(3)), Top: 10}
				if ranged {
					q.From, q.To = t0, t0.Add(time.Hour)
				}
				name := fmt.Sprintf("%s/%q/ranged=%v", g, filter, ranged)
				want, err := q.Run(slices.Values(fs))
				if err != nil {
					t.Fatal(err)
				}
				fields := q.Fields()
				key := strings.Join(fields, " ")
				if batches[key] == nil {
					for at := 0; at < len(fs); at += 3000 {
						batches[key] = append(batches[key], newFakeColumns(fs[at:min(at+3000, len(fs))], fields))
					}
				}
				for _, keyColumn := range []bool{true, false} {
					a := q.NewAggregator()
					added, matched := 0, 0
					for _, c := range batches[key] {
						if !keyColumn {
							c = &fakeColumns{flows: c.flows, addrs: c.addrs, cols: maps.Clone(c.cols)}
							delete(c.cols, keyField[g])
						}
						added += a.AddColumns(c)
					}
					for _, f := range fs {
						if q.Filter.Match(f) {
							matched++
						}
					}
					got, err := a.Result()
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s key column %v: got\n%+v\nwant\n%+v", name, keyColumn, got, want)
					}
					if added != matched {
						t.Errorf("%s key column %v: AddColumns says %d added, %d match", name, keyColumn, added, matched)
					}
				}
			}
		}
	}
}

// keyField is a column of each group's key.
var keyField = map[Group]string{GroupSrc: "Src", GroupDst: "Dst", GroupSrcPort: "SrcPort",
	GroupDstPort: "DstPort", GroupProto: "Proto", GroupConv: "Dst"}

func TestQueryFields(t *testing.T) {
	for _, tc := range []struct {
		q    Query
		want []string
	}{
		{Query{Group: GroupSrc}, []string{"Start", "End", "Src", "Bytes", "Packets"}},
		{Query{Group: GroupSrc, From: t0, To: t0.Add(time.Hour)}, []string{"Src", "Bytes", "Packets"}},
		{Query{Group: GroupConv, From: t0, To: t0.Add(time.Hour)},
			[]string{"Src", "Dst", "SrcPort", "DstPort", "Proto", "Bytes", "Packets"}},
		{Query{Group: GroupDstPort, From: t0, To: t0.Add(time.Hour),
			Filter: MustParseFilter(`exporter 192.0.2.1 and in if "Gi0/1" and not flags S or src port 53 or device x`)},
			[]string{"Exporter", "SrcPort", "DstPort", "TCPFlags", "Bytes", "Packets", "Device", "In"}},
	} {
		if got := tc.q.Fields(); !slices.Equal(got, tc.want) {
			t.Errorf("%v by %s: fields %v, want %v", tc.q.Filter, tc.q.Group, got, tc.want)
		}
	}
	for filter, want := range map[string][]string{
		"":                     nil,
		"host 10.0.0.1":        {"Src", "Dst"},
		"dst net 10.0.0.0/8":   {"Dst"},
		"port in [1 2]":        {"SrcPort", "DstPort"},
		"out if x or bytes >1": {"Bytes", "Out"},
		"not packets < 3":      {"Packets"},
		"proto tcp":            {"Proto"},
	} {
		if got := MustParseFilter(filter).Fields(); !slices.Equal(got, want) {
			t.Errorf("%q: fields %v, want %v", filter, got, want)
		}
	}
}

// fieldNames names flow.Flow's fields, in their order, and no others.
func TestFieldNames(t *testing.T) {
	var names []string
	for _, f := range reflect.VisibleFields(reflect.TypeFor[flow.Flow]()) {
		if !f.Anonymous {
			names = append(names, f.Name)
		}
	}
	if !slices.Equal(names, fieldNames[:]) {
		t.Errorf("flow.Flow's fields %v, fieldNames %v", names, fieldNames)
	}
}

// A query that reads only its Fields of each flow answers as it does over the whole
// flows: Fields leaves out nothing the filter or the grouping looks at.
func TestFieldsSuffice(t *testing.T) {
	fs := randomFlows(5000, 5)
	for _, filter := range []string{"src net 10.0.1.0/24 and dst port 443", "proto udp or packets > 50",
		"not host 192.0.2.2", "flags S"} {
		for _, g := range []Group{GroupSrc, GroupConv, GroupProto} {
			q := Query{Filter: MustParseFilter(filter), Group: g, By: ByBytes, Top: 5}
			want, err := q.Run(slices.Values(fs))
			if err != nil {
				t.Fatal(err)
			}
			c := newFakeColumns(fs, q.Fields())
			got, err := q.Run(func(yield func(*flow.Flow) bool) {
				for i := range c.flows {
					if !yield(&c.flows[i]) {
						return
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%q by %s over its fields: got\n%+v\nwant\n%+v", filter, g, got, want)
			}
		}
	}
}

// The top rows picked from the table without sorting every key are the first rows of
// the whole sorted list, ties among counts broken by key, and Other is the rest.
func TestTopEqualsSortedPrefix(t *testing.T) {
	fs := randomFlows(30000, 9)
	for _, g := range []Group{GroupSrc, GroupSrcPort, GroupConv} {
		for _, by := range []Measure{ByBytes, ByPackets, ByFlows} {
			all, err := Query{Group: g, By: by}.Run(slices.Values(fs))
			if err != nil {
				t.Fatal(err)
			}
			for _, top := range []int{1, 7, 25} {
				res, err := Query{Group: g, By: by, Top: top}.Run(slices.Values(fs))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(res.Rows, all.Rows[:top]) {
					t.Errorf("%s by %s top %d: %+v, want %+v", g, by, top, res.Rows, all.Rows[:top])
				}
				var other Counts
				for _, row := range all.Rows[top:] {
					other.add(row.Counts)
				}
				if res.Other.Counts != other || res.Other.Keys != len(all.Rows)-top || res.Total != all.Total {
					t.Errorf("%s by %s top %d: other %+v total %+v, want %+v of %d keys, %+v",
						g, by, top, res.Other, res.Total, other, len(all.Rows)-top, all.Total)
				}
			}
		}
	}
}

// The table grows past its first size and keeps every key's counts, and refuses a
// key past the limit without losing the others.
func TestHashTable(t *testing.T) {
	tb := newHashTable(hashAddr, 0, false)
	want := map[addrKey]Counts{}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		k := addrKey{fam: 4}
		k.a[15], k.a[14], k.a[13] = byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(2))
		c := Counts{Flows: 1, Packets: uint64(r.IntN(10)), Bytes: uint64(r.IntN(1000))}
		if !tb.add(&k, &c, 1<<20) {
			t.Fatal("refused below the limit")
		}
		w := want[k]
		w.add(c)
		want[k] = w
	}
	got := map[addrKey]Counts{}
	tb.each(func(s *hslot[addrKey]) { got[s.k] = s.c })
	if tb.len() != len(want) || !reflect.DeepEqual(got, want) {
		t.Errorf("%d keys in the table, %d distinct added; contents differ: %v", tb.len(), len(want), !reflect.DeepEqual(got, want))
	}
	k := addrKey{fam: 6}
	c := Counts{Flows: 1}
	if tb.add(&k, &c, tb.len()) || tb.len() != len(want) {
		t.Errorf("a new key past the limit was taken: %d keys", tb.len())
	}
	for old := range want {
		if !tb.add(&old, &c, tb.len()) {
			t.Fatalf("a known key refused at the limit")
		}
		break
	}
}

// Aggregators of NewAggregators, fed by goroutines at once (through Add and
// AddColumns) and merged, give what one Aggregator gives; and they share the limit
// on keys.
func TestNewAggregators(t *testing.T) {
	fs := randomFlows(40000, 21)
	for _, g := range []Group{GroupSrc, GroupDstPort, GroupConv} {
		q := Query{Filter: MustParseFilter("not proto 17 or dst port 53"), Group: g, By: ByBytes, Top: 10}
		want, err := q.Run(slices.Values(fs))
		if err != nil {
			t.Fatal(err)
		}
		aggs := q.NewAggregators(4)
		done := make(chan struct{})
		for w, a := range aggs {
			go func() {
				defer func() { done <- struct{}{} }()
				part := fs[w*len(fs)/4 : (w+1)*len(fs)/4]
				if w%2 == 0 {
					for _, f := range part {
						a.Add(f)
					}
					return
				}
				for at := 0; at < len(part); at += 1000 {
					a.AddColumns(newFakeColumns(part[at:at+1000], q.Fields()))
				}
			}()
		}
		for range aggs {
			<-done
		}
		for _, a := range aggs[1:] {
			aggs[0].Merge(a)
		}
		got, err := aggs[0].Result()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got\n%+v\nwant\n%+v", g, got.Rows, want.Rows)
		}
		q.MaxKeys = want.Total.Keys - 1
		aggs = q.NewAggregators(2)
		for i, f := range fs {
			aggs[i%2].Add(f)
		}
		aggs[0].Merge(aggs[1])
		if _, err := aggs[0].Result(); !errors.Is(err, ErrTooManyKeys) {
			t.Errorf("%s: %d keys past a limit of %d: %v", g, want.Total.Keys, q.MaxKeys, err)
		}
	}
}
