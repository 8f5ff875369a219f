package detect

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// benchMix returns n records of a mix over about a million addresses: mostly
// established TCP, then UDP (DNS, NTP, QUIC, and replies), some ICMP, and probes%
// unanswered SYNs (a border router sees the Internet's background scanning), with
// sources and destinations drawn from a large space so that the tables run at their
// bounds and evict.
func benchMix(n, probes int) []flow.Flow {
	rng := rand.New(rand.NewPCG(1, 2))
	addr := func() netip.Addr {
		i := rng.IntN(1 << 20)
		return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	}
	out := make([]flow.Flow, n)
	for i := range out {
		r := flow.Record{Received: t0, Start: t0, End: t0.Add(time.Duration(rng.IntN(60)) * time.Second), Kind: flow.IPFIX,
			SamplingRate: 1, Src: addr(), Dst: addr(), SrcPort: uint16(1024 + rng.IntN(60000)), Packets: uint64(1 + rng.IntN(50))}
		r.Bytes = r.Packets * uint64(40+rng.IntN(1400))
		switch p := rng.IntN(100); {
		case p < 65-probes:
			r.Proto, r.TCPFlags, r.DstPort = 6, 0x1b, []uint16{443, 80, 22, 993}[rng.IntN(4)]
		case p < 90-probes:
			r.Proto, r.DstPort = 17, []uint16{53, 123, 443, 5353}[rng.IntN(4)]
			if rng.IntN(2) == 0 {
				r.SrcPort, r.DstPort = r.DstPort, r.SrcPort // the reply
			}
		case p < 95:
			r.Proto, r.DstPort, r.SrcPort = 1, 8<<8, 0
		default:
			r.Proto, r.TCPFlags, r.DstPort, r.Packets = 6, flagSYN, uint16(rng.IntN(1024)), 1
		}
		out[i] = flow.Flow{Record: r, Device: "core1", In: "ge-0/0/1"}
	}
	return out
}

// BenchmarkDetectAdd is the cost of detection per record on the collector's path,
// with 2 % of the records unanswered SYNs, and with 10 %.
func BenchmarkDetectAdd(b *testing.B) {
	for _, probes := range []int{2, 10} {
		b.Run(fmt.Sprintf("probes=%d%%", probes), func(b *testing.B) { benchAdd(b, probes) })
	}
}

func benchAdd(b *testing.B, probes int) {
	fs := benchMix(1<<18, probes)
	d := newDetector(b, Config{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Add(&fs[i])
		i++
		if i == len(fs) {
			i = 0
			d.Step(t0.Add(5 * time.Minute))
		}
	}
	st := d.Stats()
	b.ReportMetric(float64(st.EvictedPairs+st.EvictedSweeps+st.EvictedTargets)/float64(b.N), "evictions/op")
}

// BenchmarkDetectStep is the cost of one step over tables at their bounds.
func BenchmarkDetectStep(b *testing.B) {
	fs := benchMix(1<<17, 2)
	d := newDetector(b, Config{})
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i := range fs {
			d.Add(&fs[i])
		}
		b.StartTimer()
		d.Step(t0.Add(5 * time.Minute))
	}
}
