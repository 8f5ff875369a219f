package capture

import (
	"net/netip"
	"testing"
)

var benchSink int

// BenchmarkMatchFrame times MatchFrame per frame over the BPF test's mix (TCP, UDP,
// ICMP and SCTP of both families, a third each untagged, with one and with two VLAN
// tags, fragments, IPv6 extension headers, ARP), with the filters a capture of each
// kind of event uses.
func BenchmarkMatchFrame(b *testing.B) {
	frames := frameMix(b)
	var sources []netip.Prefix
	for i := range 29 {
		sources = append(sources, netip.PrefixFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), 32))
	}
	sources = append(sources, pfx(hostA, hostB, "10.9.8.7")...) // the mix's, last
	for _, bm := range []struct {
		name string
		f    Filter
	}{
		{"synflood", synFilter},                            // one source, one host, SYN without ACK
		{"scan", Filter{Src: pfx(hostA), Dst: pfx(hostT)}}, // one source, one host
		{"sweep", Filter{Src: pfx(hostA), Proto: ProtoTCP, DstPorts: []uint16{22}}},
		{"ddos-32-sources", Filter{Src: sources, Dst: pfx(hostT), Proto: ProtoUDP}},
		{"ipv6-syn", syn6Filter},
	} {
		b.Run(bm.name, func(b *testing.B) {
			n := 0
			for i := 0; b.Loop(); i++ {
				if bm.f.MatchFrame(frames[i%len(frames)].data) {
					n++
				}
			}
			b.ReportMetric(float64(n)/float64(b.N), "matched/op")
			benchSink = n
		})
	}
}
