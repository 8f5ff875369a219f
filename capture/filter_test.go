package capture

import (
	"net/netip"
	"strings"
	"testing"
)

const (
	hostA  = "192.0.2.1"
	hostB  = "192.0.2.2"
	hostT  = "198.51.100.7"
	hostU  = "198.51.100.8"
	hostA6 = "2001:db8::1"
	hostB6 = "2001:db8:1::2"
	hostT6 = "2001:db8::100"
)

var (
	synFilter  = Filter{Src: pfx(hostA), Dst: pfx(hostT), Proto: ProtoTCP, TCPFlags: FlagSYN, TCPFlagsMask: FlagSYN | FlagACK}
	syn6Filter = Filter{Src: pfx(hostA6), Dst: pfx(hostT6), Proto: ProtoTCP, TCPFlags: FlagSYN, TCPFlagsMask: FlagSYN | FlagACK}
	synA       = pkt{src: hostA, dst: hostT, proto: ProtoTCP, sport: 40000, dport: 22, flags: FlagSYN}
	synA6      = pkt{src: hostA6, dst: hostT6, proto: ProtoTCP, sport: 40000, dport: 22, flags: FlagSYN}
)

func with(p pkt, f func(*pkt)) pkt { f(&p); return p }

func TestMatchFrame(t *testing.T) {
	dns := Filter{Dst: pfx("198.51.100.0/24"), Proto: ProtoUDP, DstPorts: []uint16{53, 123}}
	anyPort := Filter{DstPorts: []uint16{53}}
	srcPort := Filter{SrcPorts: []uint16{53}}
	icmp := Filter{Dst: pfx(hostT), Proto: ProtoICMP}
	icmp6 := Filter{Proto: ProtoICMPv6}
	tcp := Filter{Proto: ProtoTCP}
	flagsOnly := Filter{TCPFlags: FlagSYN, TCPFlagsMask: FlagSYN | FlagACK}
	net6 := Filter{Src: pfx("2001:db8::/32")}
	twoFamilies := Filter{Src: pfx(hostA, hostA6), Proto: ProtoTCP}

	full := synA.frame()
	ihl := 14 + 20
	for _, tt := range []struct {
		name  string
		f     Filter
		frame []byte
		want  bool
	}{
		{"syn", synFilter, full, true},
		{"syn-ack", synFilter, with(synA, func(p *pkt) { p.flags = FlagSYN | FlagACK }).frame(), false},
		{"rst", synFilter, with(synA, func(p *pkt) { p.flags = FlagRST }).frame(), false},
		{"syn with ece and cwr", synFilter, with(synA, func(p *pkt) { p.flags = FlagSYN | FlagECE | FlagCWR }).frame(), true},
		{"other source", synFilter, with(synA, func(p *pkt) { p.src = hostB }).frame(), false},
		{"other destination", synFilter, with(synA, func(p *pkt) { p.dst = hostU }).frame(), false},
		{"reply", synFilter, with(synA, func(p *pkt) { p.src, p.dst = hostT, hostA }).frame(), false},
		{"udp", synFilter, with(synA, func(p *pkt) { p.proto = ProtoUDP }).frame(), false},
		{"ip options", synFilter, with(synA, func(p *pkt) { p.ihl = 24 }).frame(), true},
		{"802.1Q", synFilter, with(synA, func(p *pkt) { p.vlans = []uint16{100} }).frame(), true},
		{"QinQ 88a8", synFilter, with(synA, func(p *pkt) { p.vlans = []uint16{10, 100} }).frame(), true},
		{"QinQ 9100", synFilter, with(synA, func(p *pkt) { p.vlans, p.tpid = []uint16{10, 100}, tpidQinQOld }).frame(), true},
		{"three tags", synFilter, with(synA, func(p *pkt) { p.vlans = []uint16{1, 2, 3} }).frame(), false},
		{"no flags byte", synFilter, full[:ihl+13], false},
		{"flags byte only", synFilter, full[:ihl+14], true},
		{"cut in ip header", synFilter, full[:ihl-1], false},
		{"cut in ethernet header", synFilter, full[:13], false},
		{"cut in vlan tag", synFilter, with(synA, func(p *pkt) { p.vlans = []uint16{100} }).frame()[:17], false},
		{"empty", synFilter, nil, false},
		{"ihl below 5", synFilter, func() []byte { f := synA.frame(); f[14] = 0x44; return f }(), false},
		{"ihl past the end", synFilter, func() []byte { f := synA.frame()[:ihl+14]; f[14] = 0x4f; return f }(), false},
		{"ipv4 type, version 6", synFilter, func() []byte { f := synA.frame(); f[14] = 0x65; return f }(), false},
		{"ipv6 type, version 4", syn6Filter, func() []byte { f := synA6.frame(); f[14] = 0x45; return f }(), false},
		{"arp", synFilter, arpFrame(), false},
		{"later fragment, flags", synFilter, with(synA, func(p *pkt) { p.frag = 8 }).frame(), false},
		{"later fragment, protocol", tcp, with(synA, func(p *pkt) { p.frag = 8 }).frame(), true},
		{"zero filter, arp", Filter{}, arpFrame(), true},
		{"zero filter, empty", Filter{}, nil, true},

		{"v6 syn", syn6Filter, synA6.frame(), true},
		{"v6 syn-ack", syn6Filter, with(synA6, func(p *pkt) { p.flags = FlagSYN | FlagACK }).frame(), false},
		{"v6 other source", syn6Filter, with(synA6, func(p *pkt) { p.src = hostB6 }).frame(), false},
		{"v6 802.1Q", syn6Filter, with(synA6, func(p *pkt) { p.vlans = []uint16{7} }).frame(), true},
		{"v6 hop-by-hop", syn6Filter, with(synA6, func(p *pkt) { p.ext = []uint8{0} }).frame(), true},
		{"v6 dstopts, first fragment", syn6Filter, with(synA6, func(p *pkt) { p.ext = []uint8{60, 44} }).frame(), true},
		{"v6 later fragment, flags", syn6Filter, with(synA6, func(p *pkt) { p.ext, p.frag = []uint8{44}, 100 }).frame(), false},
		{"v6 later fragment, protocol", tcp, with(synA6, func(p *pkt) { p.ext, p.frag = []uint8{44}, 100 }).frame(), true},
		{"v6 chain cut", tcp, with(synA6, func(p *pkt) { p.ext = []uint8{0, 60} }).frame()[:14+40+9], false},
		{"v6 chain too long", tcp, with(synA6, func(p *pkt) { p.ext = []uint8{60, 60, 60, 60, 60, 60, 60, 60, 60} }).frame(), false},
		{"v6 no flags byte", syn6Filter, synA6.frame()[:14+40+13], false},
		{"v6 cut in header", net6, synA6.frame()[:14+39], false},
		{"v6 prefix", net6, synA6.frame(), true},
		{"v6 prefix, other", net6, with(synA6, func(p *pkt) { p.src = "2001:db9::1" }).frame(), false},
		{"v6 prefix, v4 packet", net6, full, false},
		{"v4 filter, v6 packet", synFilter, synA6.frame(), false},
		{"two families, v4", twoFamilies, full, true},
		{"two families, v6", twoFamilies, synA6.frame(), true},

		{"udp port", dns, pkt{src: hostB, dst: hostT, proto: ProtoUDP, sport: 5000, dport: 123}.frame(), true},
		{"udp other port", dns, pkt{src: hostB, dst: hostT, proto: ProtoUDP, sport: 5000, dport: 80}.frame(), false},
		{"tcp to a udp port", dns, pkt{src: hostB, dst: hostT, proto: ProtoTCP, sport: 5000, dport: 53}.frame(), false},
		{"udp port outside prefix", dns, pkt{src: hostB, dst: "203.0.113.1", proto: ProtoUDP, sport: 5000, dport: 53}.frame(), false},
		{"any proto port, tcp", anyPort, pkt{src: hostB, dst: hostT, proto: ProtoTCP, sport: 5000, dport: 53}.frame(), true},
		{"any proto port, udp v6", anyPort, pkt{src: hostB6, dst: hostT6, proto: ProtoUDP, sport: 5000, dport: 53}.frame(), true},
		{"any proto port, icmp", anyPort, pkt{src: hostB, dst: hostT, proto: ProtoICMP, icmpType: 8}.frame(), false},
		{"any proto port, sctp", anyPort, pkt{src: hostB, dst: hostT, proto: 132, payload: 12}.frame(), false},
		{"source port, 2 bytes", srcPort, pkt{src: hostT, dst: hostB, proto: ProtoUDP, sport: 53, dport: 5000}.frame()[:ihl+2], true},
		{"destination port, 3 bytes", anyPort, pkt{src: hostB, dst: hostT, proto: ProtoUDP, sport: 5000, dport: 53}.frame()[:ihl+3], false},
		{"icmp", icmp, pkt{src: hostB, dst: hostT, proto: ProtoICMP, icmpType: 8}.frame(), true},
		{"icmp, later fragment", icmp, pkt{src: hostB, dst: hostT, proto: ProtoICMP, frag: 100, payload: 16}.frame(), true},
		{"icmpv6", icmp6, pkt{src: hostB6, dst: hostT6, proto: ProtoICMPv6, icmpType: 128}.frame(), true},
		{"icmpv6 behind hop-by-hop", icmp6, pkt{src: hostB6, dst: "ff02::16", proto: ProtoICMPv6, icmpType: 143, ext: []uint8{0}}.frame(), true},
		{"flags, any protocol", flagsOnly, synA.frame(), true},
		{"flags, udp", flagsOnly, with(synA, func(p *pkt) { p.proto = ProtoUDP }).frame(), false},
	} {
		if got := tt.f.MatchFrame(tt.frame); got != tt.want {
			t.Errorf("%s: MatchFrame = %v, want %v (filter %s)", tt.name, got, tt.want, tt.f.BPF())
		}
		// The same packet without its link header, where there is one to take off.
		if len(tt.frame) >= 14 && !strings.Contains(tt.name, "tag") && !strings.Contains(tt.name, "802.1Q") &&
			!strings.Contains(tt.name, "QinQ") && !strings.Contains(tt.name, "type, version") && tt.name != "arp" {
			if got := tt.f.MatchIP(tt.frame[14:]); got != tt.want {
				t.Errorf("%s: MatchIP = %v, want %v", tt.name, got, tt.want)
			}
		}
	}
}

func TestMatchIPGarbage(t *testing.T) {
	for _, p := range [][]byte{nil, {0x45}, {0x60, 0, 0}, {0x00, 1, 2, 3}, make([]byte, 60), {0xff, 0xff}} {
		if synFilter.MatchIP(p) || syn6Filter.MatchIP(p) || (Filter{Proto: 6}).MatchIP(p) {
			t.Errorf("MatchIP(%x) matched", p)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		f    Filter
		want string // in the error; empty: valid
	}{
		{Filter{}, ""},
		{synFilter, ""},
		{Filter{Src: pfx(hostA, hostA6), Dst: pfx(hostT6)}, ""},
		{Filter{DstPorts: []uint16{53}}, ""},
		{Filter{Src: []netip.Prefix{{}}}, "invalid source prefix"},
		{Filter{Dst: []netip.Prefix{{}}}, "invalid destination prefix"},
		{Filter{Src: pfx(hostA), Dst: pfx(hostT6)}, "different address families"},
		{Filter{Proto: ProtoICMP, DstPorts: []uint16{1}}, "ports with protocol 1"},
		{Filter{Proto: ProtoUDP, TCPFlagsMask: FlagSYN}, "TCP flags with protocol 17"},
		{Filter{Proto: ProtoTCP, TCPFlags: FlagSYN}, "outside their mask"},
	} {
		err := tt.f.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.f, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want one saying %q", tt.f, err, tt.want)
		}
	}
}

// TestBPFText pins the expressions' form; TestBPFAgreesWithTcpdump checks what they
// select.
func TestBPFText(t *testing.T) {
	vlan := func(e string) string { return e + " or (vlan and (" + e + " or (vlan and " + e + ")))" }
	for _, tt := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, ""},
		{synFilter, vlan("ip and ip src host 192.0.2.1 and ip dst host 198.51.100.7 and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn")},
		{syn6Filter, vlan("ip6 and ip6 src host 2001:db8::1 and ip6 dst host 2001:db8::100 and ip6[6] == 6 and ip6[53] & (tcp-syn|tcp-ack) == tcp-syn")},
		{Filter{Src: pfx("10.1.2.3/8", hostB), Proto: ProtoICMP},
			vlan("ip and (ip src net 10.0.0.0/8 or ip src host 192.0.2.2) and ip proto 1")},
		{Filter{Dst: pfx(hostT), Proto: ProtoUDP, SrcPorts: []uint16{53, 123}},
			vlan("ip and ip dst host 198.51.100.7 and (udp src port 53 or udp src port 123)")},
		{Filter{Proto: ProtoICMPv6},
			vlan("((ip and ip proto 58) or (ip6 and ip6 protochain 58))")},
		{Filter{Dst: pfx("0.0.0.0/0"), DstPorts: []uint16{80}},
			vlan("ip and ((tcp dst port 80) or (udp dst port 80))")},
		{Filter{TCPFlags: FlagSYN | FlagFIN, TCPFlagsMask: 0xff},
			vlan("((ip and tcp[tcpflags] == (tcp-fin|tcp-syn)) or (ip6 and ip6[6] == 6 and ip6[53] == (tcp-fin|tcp-syn)))")},
	} {
		if got := tt.f.BPF(); got != tt.want {
			t.Errorf("%+v:\n got %s\nwant %s", tt.f, got, tt.want)
		}
	}
}

func TestFilterString(t *testing.T) {
	for _, tt := range []struct {
		f    Filter
		want string
	}{
		{Filter{}, "any"},
		{synFilter, "src 192.0.2.1/32 dst 198.51.100.7/32 proto 6 flags 0x02/0x12"},
		{Filter{Dst: pfx("2001:db8::/32"), Proto: ProtoUDP, SrcPorts: []uint16{53, 123}, DstPorts: []uint16{1}},
			"dst 2001:db8::/32 proto 17 sport 53,123 dport 1"},
	} {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
