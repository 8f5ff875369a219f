package capture

import (
	"encoding/binary"
	"net/netip"
)

// pkt describes a test packet, built by hand byte by byte (see ipPacket and frame),
// independently of gopacket's layers, which the BPF test builds its packets with.
type pkt struct {
	src, dst     string // addresses; both of one family
	proto        uint8
	sport, dport uint16
	flags        uint8    // TCP
	icmpType     uint8    // ICMP and ICMPv6
	frag         uint16   // IPv4 fragment offset in 8-byte units, or an IPv6 fragment header's
	ext          []uint8  // IPv6 extension headers, in order (0, 43, 44, 60)
	vlans        []uint16 // 802.1Q tags, outermost first
	tpid         uint16   // of the outer tag when there are two; 0 is 0x88a8
	payload      int
	ihl          int // IPv4 header length in bytes; 0 is 20
}

func (p pkt) ipPacket() []byte {
	src, dst := netip.MustParseAddr(p.src), netip.MustParseAddr(p.dst)
	var l4 []byte
	switch p.proto {
	case ProtoTCP:
		l4 = make([]byte, 20+p.payload)
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
		binary.BigEndian.PutUint32(l4[4:], 1000)
		l4[12] = 5 << 4
		l4[13] = p.flags
		binary.BigEndian.PutUint16(l4[14:], 65535)
	case ProtoUDP:
		l4 = make([]byte, 8+p.payload)
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
		binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
	case ProtoICMP, ProtoICMPv6:
		l4 = make([]byte, 8+p.payload)
		l4[0] = p.icmpType
	default:
		l4 = make([]byte, p.payload)
	}
	if src.Is4() {
		ihl := p.ihl
		if ihl == 0 {
			ihl = 20
		}
		h := make([]byte, ihl)
		h[0] = 0x40 | byte(ihl/4)
		binary.BigEndian.PutUint16(h[2:], uint16(ihl+len(l4)))
		binary.BigEndian.PutUint16(h[4:], 0x1234)
		binary.BigEndian.PutUint16(h[6:], p.frag&0x1fff)
		h[8] = 64
		h[9] = p.proto
		a, b := src.As4(), dst.As4()
		copy(h[12:], a[:])
		copy(h[16:], b[:])
		if p.frag != 0 {
			l4 = l4[8:] // a later fragment carries no transport header
		}
		return append(h, l4...)
	}
	var exts []byte
	for i, t := range p.ext {
		next := p.proto
		if i+1 < len(p.ext) {
			next = p.ext[i+1]
		}
		e := make([]byte, 8)
		e[0] = next
		if t == 44 {
			binary.BigEndian.PutUint16(e[2:], p.frag<<3)
		}
		exts = append(exts, e...)
	}
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(exts)+len(l4)))
	h[6] = p.proto
	if len(p.ext) > 0 {
		h[6] = p.ext[0]
	}
	h[7] = 64
	a, b := src.As16(), dst.As16()
	copy(h[8:], a[:])
	copy(h[24:], b[:])
	return append(append(h, exts...), l4...)
}

func (p pkt) frame() []byte {
	f := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	for i, v := range p.vlans {
		tpid := uint16(tpid8021Q)
		if i == 0 && len(p.vlans) > 1 {
			tpid = p.tpid
			if tpid == 0 {
				tpid = tpid8021AD
			}
		}
		f = binary.BigEndian.AppendUint16(f, tpid)
		f = binary.BigEndian.AppendUint16(f, v)
	}
	et := uint16(etherIPv4)
	if netip.MustParseAddr(p.src).Is6() {
		et = etherIPv6
	}
	f = binary.BigEndian.AppendUint16(f, et)
	return append(f, p.ipPacket()...)
}

func pfx(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range s {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p)
		} else {
			out = append(out, netip.PrefixFrom(netip.MustParseAddr(v), netip.MustParseAddr(v).BitLen()))
		}
	}
	return out
}

// arpFrame is an ARP request, a frame that is not IP.
func arpFrame() []byte {
	f := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06}
	arp := []byte{0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 100}
	return append(f, arp...)
}
