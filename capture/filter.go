package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// IP protocol numbers a Filter commonly names.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// TCP flag bits, for Filter.TCPFlags and TCPFlagsMask.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
	FlagURG = 0x20
	FlagECE = 0x40
	FlagCWR = 0x80
)

// Ethernet types and VLAN tag protocol identifiers the frame decoder knows.
const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86dd
	tpid8021Q   = 0x8100
	tpid8021AD  = 0x88a8
	tpidQinQOld = 0x9100
)

// maxTags is how many VLAN tags MatchFrame looks through: one (802.1Q) or two (QinQ).
const maxTags = 2

// maxExtHeaders bounds the IPv6 extension headers MatchIP walks to find the transport.
const maxExtHeaders = 8

// Filter selects the packets of one event. Zero fields match anything: the zero Filter
// selects every frame, IP or not.
type Filter struct {
	// Src and Dst: the packet's source must be in one of Src (if any), its destination
	// in one of Dst (if any). A prefix of one family never contains an address of the
	// other (an IPv4-mapped IPv6 prefix matches IPv6 packets only).
	Src, Dst []netip.Prefix
	// Proto is the IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6); 0 any. Over
	// IPv6 it is the protocol after the extension headers.
	Proto uint8
	// SrcPorts and DstPorts are TCP or UDP ports; empty is any. A packet of another
	// protocol, or an IP fragment other than the first, does not match a non-empty list.
	SrcPorts, DstPorts []uint16
	// A TCP packet matches when flags&TCPFlagsMask == TCPFlags (mask 0: any); a packet
	// of another protocol does not match a non-zero mask. SYN without ACK is TCPFlags
	// FlagSYN, TCPFlagsMask FlagSYN|FlagACK.
	TCPFlags, TCPFlagsMask uint8
}

// IsZero reports whether f is the zero Filter, which selects everything.
func (f Filter) IsZero() bool { return f.isZero() }

func (f *Filter) isZero() bool {
	return len(f.Src) == 0 && len(f.Dst) == 0 && f.Proto == 0 &&
		len(f.SrcPorts) == 0 && len(f.DstPorts) == 0 && f.TCPFlagsMask == 0 && f.TCPFlags == 0
}

// Validate reports a filter that cannot be meant: an invalid prefix, sources and
// destinations of different address families, ports with a protocol that has none,
// TCP flags with another protocol, or flags outside their mask. Such a filter matches
// nothing; its BPF is not defined.
func (f Filter) Validate() error {
	var errs []error
	for _, p := range f.Src {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("invalid source prefix %v", p))
		}
	}
	for _, p := range f.Dst {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("invalid destination prefix %v", p))
		}
	}
	if len(f.Src) > 0 && len(f.Dst) > 0 && families(f.Src)&families(f.Dst) == 0 {
		errs = append(errs, errors.New("sources and destinations of different address families"))
	}
	if f.hasPorts() && f.Proto != 0 && f.Proto != ProtoTCP && f.Proto != ProtoUDP {
		errs = append(errs, fmt.Errorf("ports with protocol %d, which has none", f.Proto))
	}
	if f.TCPFlagsMask != 0 && f.Proto != 0 && f.Proto != ProtoTCP {
		errs = append(errs, fmt.Errorf("TCP flags with protocol %d", f.Proto))
	}
	if f.TCPFlags&^f.TCPFlagsMask != 0 {
		errs = append(errs, fmt.Errorf("TCP flags %#02x outside their mask %#02x", f.TCPFlags, f.TCPFlagsMask))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("capture filter: %w", err)
	}
	return nil
}

// String describes f briefly, for logs: "src 192.0.2.1/32 dst 198.51.100.7/32 proto 6
// flags 0x02/0x12", or "any".
func (f Filter) String() string {
	var b strings.Builder
	list := func(name string, n int, item func(int) string) {
		if n == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(name)
		for i := range n {
			if i == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteByte(',')
			}
			b.WriteString(item(i))
		}
	}
	list("src", len(f.Src), func(i int) string { return f.Src[i].String() })
	list("dst", len(f.Dst), func(i int) string { return f.Dst[i].String() })
	if f.Proto != 0 {
		list("proto", 1, func(int) string { return strconv.Itoa(int(f.Proto)) })
	}
	list("sport", len(f.SrcPorts), func(i int) string { return strconv.Itoa(int(f.SrcPorts[i])) })
	list("dport", len(f.DstPorts), func(i int) string { return strconv.Itoa(int(f.DstPorts[i])) })
	if f.TCPFlagsMask != 0 || f.TCPFlags != 0 {
		list("flags", 1, func(int) string { return fmt.Sprintf("%#02x/%#02x", f.TCPFlags, f.TCPFlagsMask) })
	}
	if b.Len() == 0 {
		return "any"
	}
	return b.String()
}

// Address family bits.
const (
	fam4 = 1 << iota
	fam6
)

// families returns the address families of ps as fam4|fam6 bits.
func families(ps []netip.Prefix) int {
	var fs int
	for _, p := range ps {
		switch {
		case !p.IsValid():
		case p.Addr().Is4():
			fs |= fam4
		default:
			fs |= fam6
		}
	}
	return fs
}

func (f *Filter) hasPorts() bool { return len(f.SrcPorts) > 0 || len(f.DstPorts) > 0 }

// needL4 reports whether f reads the transport header or the protocol.
func (f *Filter) needL4() bool { return f.Proto != 0 || f.hasPorts() || f.TCPFlagsMask != 0 }

// MatchFrame reports whether f selects an Ethernet frame, untagged or with one
// 802.1Q or 802.1ad tag, or two (QinQ; tag protocol 0x8100, 0x88a8 or 0x9100). It
// reads the bytes in place and allocates nothing; a frame too short for what f
// examines does not match (unless f is zero).
func (f Filter) MatchFrame(frame []byte) bool { return f.matchFrame(frame, 0) }

// MatchIP reports whether f selects a bare IPv4 or IPv6 packet (no link header).
func (f Filter) MatchIP(packet []byte) bool {
	if f.isZero() {
		return true
	}
	if len(packet) == 0 {
		return false
	}
	return f.matchIP(packet, packet[0]>>4)
}

// matchFrame is MatchFrame of a frame that had tags tags before these, which the
// kernel took off (VLAN offload).
func (f *Filter) matchFrame(frame []byte, tags int) bool {
	if f.isZero() {
		return true
	}
	if len(frame) < 14 {
		return false
	}
	et := binary.BigEndian.Uint16(frame[12:14])
	off := 14
	for ; et == tpid8021Q || et == tpid8021AD || et == tpidQinQOld; tags++ {
		if tags >= maxTags || len(frame) < off+4 {
			return false
		}
		et = binary.BigEndian.Uint16(frame[off+2 : off+4])
		off += 4
	}
	if tags > maxTags {
		return false
	}
	switch et {
	case etherIPv4:
		return f.matchIP(frame[off:], 4)
	case etherIPv6:
		return f.matchIP(frame[off:], 6)
	}
	return false
}

// matchIP matches an IP packet that must be of version v (4 or 6).
func (f *Filter) matchIP(p []byte, v byte) bool {
	var (
		proto byte
		l4    []byte // the transport header on, nil when not there (a later fragment)
	)
	switch v {
	case 4:
		if len(p) < 20 || p[0]>>4 != 4 {
			return false
		}
		ihl := int(p[0]&0x0f) * 4
		if ihl < 20 || ihl > len(p) {
			return false
		}
		if !f.addrs(netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20]))) {
			return false
		}
		if !f.needL4() {
			return true
		}
		proto = p[9]
		if binary.BigEndian.Uint16(p[6:8])&0x1fff == 0 {
			l4 = p[ihl:]
		}
	case 6:
		if len(p) < 40 || p[0]>>4 != 6 {
			return false
		}
		if !f.addrs(netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40]))) {
			return false
		}
		if !f.needL4() {
			return true
		}
		var ok bool
		if proto, l4, ok = transport6(p); !ok {
			return false
		}
	default:
		return false
	}
	if f.Proto != 0 && proto != f.Proto {
		return false
	}
	if !f.hasPorts() && f.TCPFlagsMask == 0 {
		return true
	}
	switch {
	case l4 == nil:
		return false
	case f.TCPFlagsMask != 0 && proto != ProtoTCP:
		return false
	case proto != ProtoTCP && proto != ProtoUDP:
		return false
	}
	if len(f.SrcPorts) > 0 && (len(l4) < 2 || !hasPort(f.SrcPorts, binary.BigEndian.Uint16(l4[0:2]))) {
		return false
	}
	if len(f.DstPorts) > 0 && (len(l4) < 4 || !hasPort(f.DstPorts, binary.BigEndian.Uint16(l4[2:4]))) {
		return false
	}
	if f.TCPFlagsMask != 0 && (len(l4) < 14 || l4[13]&f.TCPFlagsMask != f.TCPFlags) {
		return false
	}
	return true
}

// transport6 walks an IPv6 packet's extension headers (hop-by-hop, routing,
// fragment, destination options, AH) to its upper-layer protocol, as libpcap's
// "protochain" does, and returns that protocol and its header, which is nil after a
// fragment header of a fragment other than the first. ok is false when the chain is
// cut short or longer than maxExtHeaders.
func transport6(p []byte) (proto byte, l4 []byte, ok bool) {
	nh, off, first := p[6], 40, true
	for range maxExtHeaders {
		var n int
		switch nh {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(p) < off+2 {
				return 0, nil, false
			}
			n = (int(p[off+1]) + 1) * 8
		case 44: // fragment; a header cut before its offset leaves the transport unknown
			if len(p) < off+2 {
				return 0, nil, false
			}
			first = first && len(p) >= off+4 && binary.BigEndian.Uint16(p[off+2:off+4])&0xfff8 == 0
			n = 8
		case 51: // authentication header
			if len(p) < off+2 {
				return 0, nil, false
			}
			n = (int(p[off+1]) + 2) * 4
		default:
			if !first || off > len(p) {
				return nh, nil, true
			}
			return nh, p[off:], true
		}
		nh = p[off]
		off += n
	}
	return 0, nil, false
}

// addrs reports whether src is in Src and dst in Dst, trying the shorter list first:
// a flood's filter names many sources and one destination, which most frames miss.
func (f *Filter) addrs(src, dst netip.Addr) bool {
	if len(f.Dst) < len(f.Src) {
		return contains(f.Dst, dst) && contains(f.Src, src)
	}
	return contains(f.Src, src) && contains(f.Dst, dst)
}

// contains reports whether a is in one of ps; an empty ps contains everything.
func contains(ps []netip.Prefix, a netip.Addr) bool {
	if len(ps) == 0 {
		return true
	}
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func hasPort(ports []uint16, p uint16) bool {
	for _, q := range ports {
		if q == p {
			return true
		}
	}
	return false
}
