package flowtop

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Dimension is what a top list ranks: addresses, ports, protocols, conversations or
// services.
type Dimension uint8

// Dimensions. Every step keeps a list of each for every (device, interface,
// direction).
const (
	// SrcAddr ranks source addresses.
	SrcAddr Dimension = iota
	// DstAddr ranks destination addresses.
	DstAddr
	// SrcPort ranks source ports, whatever the protocol (0 for protocols without
	// ports).
	SrcPort
	// DstPort ranks destination ports, whatever the protocol.
	DstPort
	// Proto ranks IP protocols.
	Proto
	// Conversation ranks pairs of hosts, without direction: traffic from A to B and
	// from B to A count for the same pair (Wireshark's "conversations"). Ports are
	// left out on purpose: a 5-tuple splits one exchange into as many keys as it
	// has ephemeral ports, hiding heavy pairs; the Service and port lists say what
	// they spoke.
	Conversation
	// Service ranks well-known services: the protocol (TCP, UDP, SCTP or DCCP)
	// with the lower of the flow's two ports that is a system port (1-1023), as
	// tcp/443; every other flow is the one service "other".
	Service

	numDims = 7
)

var dimNames = [numDims]string{"srcaddr", "dstaddr", "srcport", "dstport", "proto", "conversation", "service"}

// String returns the dimension's name, as ParseDimension reads it.
func (d Dimension) String() string {
	if int(d) < numDims {
		return dimNames[d]
	}
	return fmt.Sprintf("Dimension(%d)", int(d))
}

// Dimensions returns every dimension, in order.
func Dimensions() []Dimension {
	ds := make([]Dimension, numDims)
	for i := range ds {
		ds[i] = Dimension(i)
	}
	return ds
}

// ParseDimension returns the dimension named s: srcaddr, dstaddr, srcport,
// dstport, proto, conversation or service.
func ParseDimension(s string) (Dimension, error) {
	for i, n := range dimNames {
		if n == s {
			return Dimension(i), nil
		}
	}
	return 0, fmt.Errorf("dimension %q: want one of %s", s, strings.Join(dimNames[:], ", "))
}

// Measure is the weight a list ranks by.
type Measure uint8

// Measures. Bytes and packets are sampling-corrected, as the records carry them;
// flows counts records.
const (
	Bytes Measure = iota
	Packets
	Flows

	numMeasures = 3
)

var measureNames = [numMeasures]string{"bytes", "packets", "flows"}

// String returns the measure's name, as ParseMeasure reads it.
func (m Measure) String() string {
	if int(m) < numMeasures {
		return measureNames[m]
	}
	return fmt.Sprintf("Measure(%d)", int(m))
}

// ParseMeasure returns the measure named s: bytes, packets or flows.
func ParseMeasure(s string) (Measure, error) {
	for i, n := range measureNames {
		if n == s {
			return Measure(i), nil
		}
	}
	return 0, fmt.Errorf("measure %q: want bytes, packets or flows", s)
}

// Direction is the side of an interface traffic crossed: a flow whose input
// interface is X counts for X In, one whose output interface is Y for Y Out.
type Direction uint8

// Directions. Both is a query's union of In and Out; lists are kept per direction.
const (
	In   Direction = 1
	Out  Direction = 2
	Both           = In | Out
)

// String returns "in", "out" or "both".
func (d Direction) String() string {
	switch d {
	case In:
		return "in"
	case Out:
		return "out"
	case Both:
		return "both"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// ParseDirection returns the direction named s: in, out or both.
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "in":
		return In, nil
	case "out":
		return Out, nil
	case "both":
		return Both, nil
	}
	return 0, fmt.Errorf("direction %q: want in, out or both", s)
}

// Key is one ranked item of a dimension. Which fields are set depends on Dim:
// Addr for SrcAddr and DstAddr; Port for SrcPort and DstPort; Proto for Proto;
// Addr and Peer (Addr the lower) for Conversation; Proto and Port for Service,
// both zero for the service "other".
type Key struct {
	Dim        Dimension
	Addr, Peer netip.Addr
	Port       uint16
	Proto      uint8
}

// String formats the key for a label: "192.0.2.1", "443", "tcp",
// "192.0.2.1 <-> 198.51.100.7", "tcp/443" or "other".
func (k Key) String() string {
	switch k.Dim {
	case SrcAddr, DstAddr:
		return k.Addr.String()
	case SrcPort, DstPort:
		return strconv.Itoa(int(k.Port))
	case Proto:
		return ProtoName(k.Proto)
	case Conversation:
		return k.Addr.String() + " <-> " + k.Peer.String()
	case Service:
		if k.Proto == 0 && k.Port == 0 {
			return "other"
		}
		return ProtoName(k.Proto) + "/" + strconv.Itoa(int(k.Port))
	}
	return "?"
}

var protoNames = map[uint8]string{
	1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 33: "dccp", 41: "ipv6",
	47: "gre", 50: "esp", 51: "ah", 58: "ipv6-icmp", 89: "ospf", 103: "pim",
	112: "vrrp", 132: "sctp",
}

// ProtoName returns the usual name of IP protocol p ("tcp"), or its number.
func ProtoName(p uint8) string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	return strconv.Itoa(int(p))
}

// service returns the service key of a flow: proto<<16 | port, or 0 for "other".
func service(proto uint8, sport, dport uint16) uint32 {
	switch proto {
	case 6, 17, 33, 132:
	default:
		return 0
	}
	p := uint16(0)
	for _, x := range [2]uint16{sport, dport} {
		if x >= 1 && x <= 1023 && (p == 0 || x < p) {
			p = x
		}
	}
	if p == 0 {
		return 0
	}
	return uint32(proto)<<16 | uint32(p)
}

// Stored keys are bytes, so that merging lists is the same for every dimension:
// an address is its length (0, 4 or 16) and bytes, a port two bytes, a protocol
// one, a service three (protocol, port).

func appendAddr(b []byte, a netip.Addr) []byte {
	switch {
	case a.Is4():
		v := a.As4()
		return append(append(b, 4), v[:]...)
	case a.Is6():
		v := a.As16()
		return append(append(b, 16), v[:]...)
	}
	return append(b, 0)
}

func appendU16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }

func appendService(b []byte, s uint32) []byte {
	return append(b, byte(s>>16), byte(s>>8), byte(s))
}

// keyLen returns the length of the stored key of dimension d at the start of b, or
// -1 when b is too short.
func keyLen(d Dimension, b []byte) int {
	addr := func(off int) int {
		if len(b) <= off {
			return -1
		}
		n := off + 1 + int(b[off])
		if b[off] != 0 && b[off] != 4 && b[off] != 16 || n > len(b) {
			return -1
		}
		return n
	}
	var n int
	switch d {
	case SrcAddr, DstAddr:
		n = addr(0)
	case SrcPort, DstPort:
		n = 2
	case Proto:
		n = 1
	case Conversation:
		if n = addr(0); n >= 0 {
			if m := addr(n); m >= 0 {
				n = m
			} else {
				n = -1
			}
		}
	case Service:
		n = 3
	default:
		return -1
	}
	if n > len(b) {
		return -1
	}
	return n
}

func decodeAddr(b []byte) (netip.Addr, []byte) {
	n := int(b[0])
	a, _ := netip.AddrFromSlice(b[1 : 1+n])
	return a, b[1+n:]
}

// decodeKey turns a stored key of dimension d (checked by keyLen) into a Key.
func decodeKey(d Dimension, s string) Key {
	b := []byte(s)
	k := Key{Dim: d}
	switch d {
	case SrcAddr, DstAddr:
		k.Addr, _ = decodeAddr(b)
	case SrcPort, DstPort:
		k.Port = binary.BigEndian.Uint16(b)
	case Proto:
		k.Proto = b[0]
	case Conversation:
		k.Addr, b = decodeAddr(b)
		k.Peer, _ = decodeAddr(b)
	case Service:
		k.Proto, k.Port = b[0], binary.BigEndian.Uint16(b[1:])
	}
	return k
}

// encodeKey is decodeKey's inverse, for tests and queries by key.
func encodeKey(k Key) string {
	var b []byte
	switch k.Dim {
	case SrcAddr, DstAddr:
		b = appendAddr(b, k.Addr)
	case SrcPort, DstPort:
		b = appendU16(b, k.Port)
	case Proto:
		b = append(b, k.Proto)
	case Conversation:
		b = appendAddr(appendAddr(b, k.Addr), k.Peer)
	case Service:
		b = appendService(b, uint32(k.Proto)<<16|uint32(k.Port))
	}
	return string(b)
}
