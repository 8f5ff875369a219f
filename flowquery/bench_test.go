package flowquery

import (
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// synthetic returns n flows from distinct sources (10.x.y.z, cycling), to a few
// hundred destinations and ports.
func synthetic(n, sources int) []*flow.Flow {
	fs := make([]flow.Flow, n)
	out := make([]*flow.Flow, n)
	for i := range fs {
		s := uint32(i % sources)
		f := &fs[i]
		f.Src = netip.AddrFrom4([4]byte{10, byte(s >> 16), byte(s >> 8), byte(s)})
		f.Dst = netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 251)})
		f.SrcPort, f.DstPort = uint16(1024+i%50000), []uint16{443, 80, 53, 22}[i%4]
		f.Proto = []uint8{6, 6, 17, 6}[i%4]
		f.TCPFlags = 0x18
		f.Packets, f.Bytes = uint64(1+i%20), uint64(64+i%1500)
		f.Start = t0.Add(time.Duration(i) * time.Millisecond)
		f.End = f.Start.Add(time.Second)
		f.Device, f.In, f.Out = "core1", "Gi0/1", "Gi0/2"
		out[i] = f
	}
	return out
}

// BenchmarkFilter: a typical filter over a mix of flows that pass and fail it.
func BenchmarkFilter(b *testing.B) {
	f := MustParseFilter("src net 10.0.0.0/8 and dst port 443 and proto tcp")
	fs := synthetic(4096, 1000)
	b.ResetTimer()
	n, matched := 0, 0
	for b.Loop() {
		for _, fl := range fs {
			if f.Match(fl) {
				matched++
			}
		}
		n += len(fs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
	b.ReportMetric(0, "ns/op")
	if matched == 0 {
		b.Fatal("nothing matched")
	}
}

// BenchmarkGroup: 1,000,000 flows from 100,000 sources, top 10 by bytes per source,
// in one aggregator and in per-worker aggregators merged.
func BenchmarkGroup(b *testing.B) {
	const n, sources = 1_000_000, 100_000
	fs := synthetic(n, sources)
	for _, workers := range []int{1, 2} {
		b.Run("workers="+string(rune('0'+workers)), func(b *testing.B) {
			q := Query{Group: GroupSrc, By: ByBytes, Top: 10}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for b.Loop() {
				var res *Result
				var err error
				if workers == 1 {
					res, err = q.Run(slices.Values(fs))
				} else {
					aggs := make([]*Aggregator, workers)
					done := make(chan struct{})
					for w := range aggs {
						aggs[w] = q.NewAggregator()
						go func() {
							for _, f := range fs[w*n/workers : (w+1)*n/workers] {
								aggs[w].Add(f)
							}
							done <- struct{}{}
						}()
					}
					for range aggs {
						<-done
					}
					for _, a := range aggs[1:] {
						aggs[0].Merge(a)
					}
					res, err = aggs[0].Result()
				}
				if err != nil || res.Total.Keys != sources || res.Total.Flows != n {
					b.Fatalf("%+v %v", res.Total, err)
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/sources, "allocB/key")
		})
	}
}

// BenchmarkGroupConv: 1,000,000 flows of about as many conversations, the largest keys
// and the most of them: records/s, and the heap an aggregator holds per key.
func BenchmarkGroupConv(b *testing.B) {
	const n = 1_000_000
	fs := synthetic(n, 100_000)
	q := Query{Group: GroupConv, By: ByBytes, Top: 10}
	for b.Loop() {
		res, err := q.Run(slices.Values(fs))
		if err != nil || res.Total.Flows != n {
			b.Fatalf("%+v %v", res.Total, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.StopTimer()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a := q.NewAggregator()
	for _, f := range fs {
		a.Add(f)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	keys := a.table.len()
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(keys), "heapB/key")
	b.ReportMetric(float64(keys), "keys")
	runtime.KeepAlive(a)
	runtime.KeepAlive(fs) // part of both measures
}
