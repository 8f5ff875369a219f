package flowstore

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/flowquery"
)

// topQuery answers q over the records of [from, to) as mrtgo flows does: a projected
// parallel scan of the fields the query reads, each worker adding the blocks it
// decodes, column by column, through its own Aggregator into the table they share.
func topQuery(s *Store, q flowquery.Query, from, to time.Time) (*flowquery.Result, ScanStats, error) {
	aggs := q.NewAggregators(s.Workers())
	st, err := s.ScanColumns(from, to, q.Fields(), func(w int, b *Block) error {
		aggs[w].AddColumns(b)
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	for _, a := range aggs[1:] {
		aggs[0].Merge(a)
	}
	res, err := aggs[0].Result()
	return res, st, err
}

// storeRange is the time range of every segment of s.
func storeRange(tb testing.TB, s *Store) (from, to time.Time) {
	segs, err := s.Segments(time.Time{}, time.Time{})
	if err != nil || len(segs) == 0 {
		tb.Fatalf("segments: %d, %v", len(segs), err)
	}
	return segs[0].Start, segs[len(segs)-1].End
}

// BenchmarkTopQuery is the question the store is sized for, as mrtgo flows --group src
// --top 10 asks it: the ten sources that sent the most bytes over every record, through
// ScanColumns and flowquery's Aggregators. It reports the wall and CPU time of a query
// (CPU time counts both cores: on an idle 2-core machine the wall time approaches half
// of it) and the CPU time per record.
func BenchmarkTopQuery(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint("records=", n), func(b *testing.B) {
			s := benchStore(b, n)
			from, to := storeRange(b, s)
			q := flowquery.Query{Group: flowquery.GroupSrc, By: flowquery.ByBytes, Top: 10, From: from, To: to}
			b.ResetTimer()
			cpu0 := cpuTime()
			var res *flowquery.Result
			for range b.N {
				var st ScanStats
				var err error
				res, st, err = topQuery(s, q, from, to)
				if err != nil || st.Records != int64(n) || res.Total.Flows != uint64(n) {
					b.Fatalf("query: %d records scanned, %v", st.Records, err)
				}
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "wall-ms/query")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/query")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n)/float64(b.N), "cpu-ns/record")
			b.ReportMetric(float64(res.Total.Keys), "sources")
			if len(res.Rows) != 10 {
				b.Fatalf("top %v", res.Rows)
			}
		})
	}
}

// The benchmark's query gives what the records give, one by one, through Scan.
func TestTopQuery(t *testing.T) {
	s := open(t, t.TempDir(), Options{BlockRecords: 2000})
	syn := make([]flow.Flow, 30000)
	newSynth(13, t0, 10000).next(syn)
	if err := s.Append(syn...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, g := range []flowquery.Group{flowquery.GroupSrc, flowquery.GroupDstPort, flowquery.GroupConv} {
		for _, filter := range []string{"", "proto udp or dst port 443", "device core2"} {
			// A range that cuts blocks, and none.
			for _, r := range [][2]time.Time{{}, {t0.Add(500 * time.Millisecond), t0.Add(2300 * time.Millisecond)}} {
				q := flowquery.Query{Filter: flowquery.MustParseFilter(filter), Group: g, By: flowquery.ByPackets,
					Top: 5, From: r[0], To: r[1]}
				got, _, err := topQuery(s, q, r[0], r[1])
				if err != nil {
					t.Fatal(err)
				}
				want, err := q.RunScan(func(fn func(*flow.Flow) bool) error {
					_, err := s.Scan(r[0], r[1], func(fs []flow.Flow) error {
						for i := range fs {
							fn(&fs[i])
						}
						return nil
					})
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %q %v: got\n%+v\nwant\n%+v", g, filter, r, got, want)
				}
			}
		}
	}
}
