package capture

import (
	"testing"
)

// fuzzFilters are the filters FuzzMatchFrame runs every input through.
var fuzzFilters = []Filter{
	synFilter,
	syn6Filter,
	{Proto: ProtoTCP},
	{Proto: ProtoICMPv6},
	{DstPorts: []uint16{53}},
	{Src: pfx("0.0.0.0/0", "::/0"), SrcPorts: []uint16{0}, TCPFlagsMask: 0xff},
	{Dst: pfx("198.51.100.0/24", "2001:db8::/32")},
}

// FuzzMatchFrame feeds arbitrary bytes to MatchFrame and MatchIP: they must not panic,
// a whole frame must match as its IP packet does on its own, and one or two VLAN tags
// in front must change nothing.
func FuzzMatchFrame(f *testing.F) {
	for _, p := range []pkt{
		synA, synA6,
		with(synA, func(p *pkt) { p.vlans = []uint16{100} }),
		with(synA, func(p *pkt) { p.vlans = []uint16{10, 100} }),
		with(synA, func(p *pkt) { p.frag = 8 }),
		with(synA, func(p *pkt) { p.ihl = 60 }),
		with(synA6, func(p *pkt) { p.ext = []uint8{0, 60, 44} }),
		with(synA6, func(p *pkt) { p.ext, p.frag = []uint8{44}, 9 }),
		{src: hostB, dst: hostT, proto: ProtoUDP, sport: 5000, dport: 53},
		{src: hostB6, dst: "ff02::16", proto: ProtoICMPv6, icmpType: 143, ext: []uint8{0}},
	} {
		f.Add(p.frame())
		f.Add(p.ipPacket())
	}
	f.Add(arpFrame())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fl := range fuzzFilters {
			fl.MatchFrame(data)
			ip := fl.MatchIP(data)
			et := []byte{0x08, 0x00}
			if len(data) > 0 && data[0]>>4 == 6 {
				et = []byte{0x86, 0xdd}
			}
			mac := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
			untagged := append(append(append([]byte{}, mac...), et...), data...)
			if got := fl.MatchFrame(untagged); got != ip {
				t.Fatalf("%s: frame %v, packet %v", fl.BPF(), got, ip)
			}
			one := append(append(append(append([]byte{}, mac...), 0x81, 0x00, 0x00, 0x64), et...), data...)
			two := append(append(append(append([]byte{}, mac...), 0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x64), et...), data...)
			if fl.MatchFrame(one) != ip || fl.MatchFrame(two) != ip {
				t.Fatalf("%s: tags change the match of %x", fl.BPF(), data)
			}
		}
	})
}
