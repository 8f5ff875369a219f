package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

// mixFrame is a frame of the BPF test's mix.
type mixFrame struct {
	data []byte
	// ext6: an IPv6 packet with extension headers before its transport header,
	// whose ports and flags pcap-filter cannot reach (see BPF).
	ext6 bool
	desc string
}

// frameMix builds, with gopacket's layers, a mix of frames: TCP with several flag
// sets, UDP and ICMP between hosts of both families, each untagged, with one VLAN tag
// and with two; IPv4 fragments; IPv6 extension headers; ARP. Each frame is unique (its
// IPv4 ID or IPv6 flow label is its index).
func frameMix(tb testing.TB) []mixFrame {
	tb.Helper()
	type hostPair struct{ src, dst string }
	pairs := []hostPair{
		{hostA, hostT}, {hostA, hostU}, {hostB, hostT}, {"10.9.8.7", hostT}, {hostT, hostA},
		{hostA6, hostT6}, {hostB6, hostT6}, {hostA6, "2001:db8::200"}, {hostT6, hostA6},
	}
	type l4 struct {
		proto        uint8
		sport, dport uint16
		flags        uint8
	}
	var l4s []l4
	for _, fl := range []uint8{FlagSYN, FlagSYN | FlagACK, FlagACK, FlagRST | FlagACK, FlagFIN | FlagPSH | FlagURG, FlagSYN | FlagECE | FlagCWR} {
		for _, ports := range [][2]uint16{{40000, 22}, {53, 40001}, {40002, 53}} {
			l4s = append(l4s, l4{ProtoTCP, ports[0], ports[1], fl})
		}
	}
	for _, ports := range [][2]uint16{{53, 5000}, {5000, 53}, {5001, 123}} {
		l4s = append(l4s, l4{proto: ProtoUDP, sport: ports[0], dport: ports[1]})
	}
	l4s = append(l4s, l4{proto: ProtoICMP}, l4{proto: 132}) // ICMP (ICMPv6 over IPv6), SCTP

	var out []mixFrame
	add := func(desc string, ext6 bool, ls ...gopacket.SerializableLayer) {
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			tb.Fatalf("%s: %v", desc, err)
		}
		out = append(out, mixFrame{data: bytes.Clone(buf.Bytes()), ext6: ext6, desc: desc})
	}
	link := func(et layers.EthernetType, tags int) []gopacket.SerializableLayer {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: et}
		switch tags {
		case 1:
			eth.EthernetType = layers.EthernetTypeDot1Q
			return []gopacket.SerializableLayer{eth, &layers.Dot1Q{VLANIdentifier: 100, Type: et}}
		case 2:
			eth.EthernetType = layers.EthernetTypeQinQ
			return []gopacket.SerializableLayer{eth,
				&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 100, Type: et}}
		}
		return []gopacket.SerializableLayer{eth}
	}
	// network returns the IP layer and what sets the transport's checksum.
	network := func(hp hostPair, proto uint8) (gopacket.SerializableLayer, gopacket.NetworkLayer, layers.EthernetType) {
		src, dst := net.ParseIP(hp.src), net.ParseIP(hp.dst)
		if src.To4() != nil {
			ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: uint16(len(out)), Protocol: layers.IPProtocol(proto), SrcIP: src.To4(), DstIP: dst.To4()}
			return ip, ip, layers.EthernetTypeIPv4
		}
		ip := &layers.IPv6{Version: 6, HopLimit: 64, FlowLabel: uint32(len(out)), NextHeader: layers.IPProtocol(proto), SrcIP: src, DstIP: dst}
		return ip, ip, layers.EthernetTypeIPv6
	}
	transport := func(c l4, v6 bool, nl gopacket.NetworkLayer) []gopacket.SerializableLayer {
		switch c.proto {
		case ProtoTCP:
			t := &layers.TCP{SrcPort: layers.TCPPort(c.sport), DstPort: layers.TCPPort(c.dport), Seq: 1, Window: 1024,
				FIN: c.flags&FlagFIN != 0, SYN: c.flags&FlagSYN != 0, RST: c.flags&FlagRST != 0, PSH: c.flags&FlagPSH != 0,
				ACK: c.flags&FlagACK != 0, URG: c.flags&FlagURG != 0, ECE: c.flags&FlagECE != 0, CWR: c.flags&FlagCWR != 0}
			t.SetNetworkLayerForChecksum(nl)
			return []gopacket.SerializableLayer{t}
		case ProtoUDP:
			u := &layers.UDP{SrcPort: layers.UDPPort(c.sport), DstPort: layers.UDPPort(c.dport)}
			u.SetNetworkLayerForChecksum(nl)
			return []gopacket.SerializableLayer{u, gopacket.Payload("query")}
		case ProtoICMP, ProtoICMPv6:
			if v6 {
				i := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
				i.SetNetworkLayerForChecksum(nl)
				return []gopacket.SerializableLayer{i, gopacket.Payload("ping")}
			}
			return []gopacket.SerializableLayer{&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0)}, gopacket.Payload("ping")}
		}
		return []gopacket.SerializableLayer{gopacket.Payload("sctp-ish payload")}
	}

	for tags := range 3 {
		for _, hp := range pairs {
			for _, c := range l4s {
				v6 := strings.Contains(hp.src, ":")
				proto := c.proto
				if v6 && proto == ProtoICMP {
					proto = ProtoICMPv6
				}
				ipl, nl, et := network(hp, proto)
				ls := append(link(et, tags), ipl)
				ls = append(ls, transport(l4{proto, c.sport, c.dport, c.flags}, v6, nl)...)
				add(fmt.Sprintf("%d tags %s > %s proto %d %d > %d flags %#x", tags, hp.src, hp.dst, proto, c.sport, c.dport, c.flags), false, ls...)
			}
		}
	}
	// IPv4 fragments: the first carries the TCP header, the second only data.
	for _, off := range []uint16{0, 185} {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: uint16(len(out)), Protocol: layers.IPProtocolTCP,
			SrcIP: net.ParseIP(hostA).To4(), DstIP: net.ParseIP(hostT).To4(), FragOffset: off}
		var body gopacket.SerializableLayer = gopacket.Payload(bytes.Repeat([]byte{0x12}, 40)) // a SYN's flags bit in the data
		if off == 0 {
			ip.Flags = layers.IPv4MoreFragments
			t := &layers.TCP{SrcPort: 40000, DstPort: 22, SYN: true}
			t.SetNetworkLayerForChecksum(ip)
			body = t
		}
		add(fmt.Sprintf("v4 fragment offset %d", off), false, append(link(layers.EthernetTypeIPv4, 0), ip, body)...)
	}
	// IPv6 extension headers before TCP SYNs and ICMPv6 (MLD's hop-by-hop).
	for _, ext := range []struct {
		chain []uint8
		proto uint8
	}{{[]uint8{0}, ProtoICMPv6}, {[]uint8{60}, ProtoTCP}, {[]uint8{44}, ProtoTCP}, {[]uint8{0, 60}, ProtoTCP}, {[]uint8{44}, ProtoUDP}} {
		ip := &layers.IPv6{Version: 6, HopLimit: 1, FlowLabel: uint32(len(out)), NextHeader: layers.IPProtocol(ext.chain[0]),
			SrcIP: net.ParseIP(hostA6), DstIP: net.ParseIP(hostT6)}
		var hdrs []byte
		for i, t := range ext.chain {
			next := ext.proto
			if i+1 < len(ext.chain) {
				next = ext.chain[i+1]
			}
			h := []byte{next, 0, 0, 0, 0, 0, 0, 0}
			if t != 44 {
				h[2], h[3] = 1, 4 // PadN of 4
			}
			hdrs = append(hdrs, h...)
		}
		ls := append(link(layers.EthernetTypeIPv6, 0), ip, gopacket.Payload(hdrs))
		ls = append(ls, transport(l4{ext.proto, 40000, 53, FlagSYN}, true, ip)...)
		add(fmt.Sprintf("v6 extension headers %v proto %d", ext.chain, ext.proto), true, ls...)
	}
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: []byte{2, 0, 0, 0, 0, 1}, SourceProtAddress: net.ParseIP(hostA).To4(),
		DstHwAddress: make([]byte, 6), DstProtAddress: net.ParseIP(hostT).To4()}
	add("arp", false, append(link(layers.EthernetTypeARP, 0), arp)...)
	return out
}

// writeMix writes frames as a pcap file.
func writeMix(tb testing.TB, path string, frames []mixFrame) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		tb.Fatal(err)
	}
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(fr.data), Length: len(fr.data)}
		if err := w.WritePacket(ci, fr.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// readFrames reads a pcap file's frames.
func readFrames(tb testing.TB, r io.Reader) [][]byte {
	tb.Helper()
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, data)
	}
}

// tcpdumpSelect runs tcpdump over the pcap file in with expr and returns the frames
// it selects.
func tcpdumpSelect(tb testing.TB, tcpdump, in, expr string) [][]byte {
	tb.Helper()
	cmd := exec.Command(tcpdump, "-n", "-r", in, "-w", "-", expr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("tcpdump %q: %v: %s", expr, err, stderr.Bytes())
	}
	return readFrames(tb, bytes.NewReader(out))
}

// TestBPFAgreesWithTcpdump checks, over a mix of frames, that for each filter the
// frames tcpdump selects with the filter's BPF are exactly those MatchFrame
// selects, frame for frame; the only difference allowed is the documented one, IPv6
// ports and flags behind extension headers, and it must go the documented way.
func TestBPFAgreesWithTcpdump(t *testing.T) {
	tcpdump := testneed.Program(t, "tcpdump", "apt-get install tcpdump")
	frames := frameMix(t)
	in := filepath.Join(t.TempDir(), "mix.pcap")
	writeMix(t, in, frames)
	index := make(map[string]int, len(frames))
	for i, f := range frames {
		if _, dup := index[string(f.data)]; dup {
			t.Fatalf("frame %d (%s) is not unique", i, f.desc)
		}
		index[string(f.data)] = i
	}
	filters := []Filter{
		synFilter,
		syn6Filter,
		{Src: pfx("192.0.2.0/24", "10.0.0.0/8"), Dst: pfx(hostT), Proto: ProtoUDP, DstPorts: []uint16{53, 123}},
		{Dst: pfx(hostT, hostT6), Proto: ProtoICMP},
		{Proto: ProtoICMPv6},
		{Proto: 132},
		{DstPorts: []uint16{53}},
		{SrcPorts: []uint16{53}, Proto: ProtoTCP},
		{SrcPorts: []uint16{40000}, DstPorts: []uint16{22, 53}},
		{TCPFlags: FlagSYN | FlagACK, TCPFlagsMask: 0xff},
		{TCPFlags: FlagSYN, TCPFlagsMask: FlagSYN | FlagACK | FlagRST},
		{TCPFlags: FlagECE | FlagCWR, TCPFlagsMask: FlagECE | FlagCWR},
		{Src: pfx("2001:db8::/32")},
		{Src: pfx("2001:db8::/48"), Dst: pfx("2001:db8::100/128")},
		{Dst: pfx("198.51.100.0/24"), Proto: ProtoTCP},
		{Src: pfx(hostA, hostA6), TCPFlags: 0, TCPFlagsMask: FlagACK},
		{Proto: ProtoTCP},
		{Dst: pfx("0.0.0.0/0")},
		{Src: pfx("::/0"), Proto: ProtoUDP},
	}
	for _, f := range filters {
		expr := f.BPF()
		selected := make(map[int]bool)
		for _, data := range tcpdumpSelect(t, tcpdump, in, expr) {
			i, ok := index[string(data)]
			if !ok {
				t.Fatalf("%s: tcpdump wrote a frame not in the mix: %x", expr, data)
			}
			selected[i] = true
		}
		matched := 0
		for i, fr := range frames {
			m := f.MatchFrame(fr.data)
			if m {
				matched++
			}
			b := selected[i]
			switch {
			case m == b:
			case fr.ext6 && m && !b && (f.hasPorts() || f.TCPFlagsMask != 0):
				// Documented: BPF reads IPv6 ports and flags only after the fixed header.
			default:
				t.Errorf("%s\n  frame %d (%s): MatchFrame %v, tcpdump %v", expr, i, fr.desc, m, b)
			}
		}
		if matched == 0 || matched == len(frames) {
			t.Errorf("%s: matches %d of %d frames: not a test", expr, matched, len(frames))
		}
		t.Logf("%4d of %d frames: %.120s", matched, len(frames), expr)
	}
}

// TestBPFDivergence shows the documented difference: a SYN behind an IPv6
// destination options header is selected by MatchFrame, not by the expression.
func TestBPFDivergence(t *testing.T) {
	tcpdump := testneed.Program(t, "tcpdump", "apt-get install tcpdump")
	p := with(synA6, func(p *pkt) { p.ext = []uint8{60} })
	in := filepath.Join(t.TempDir(), "ext.pcap")
	writeMix(t, in, []mixFrame{{data: p.frame()}})
	if !syn6Filter.MatchFrame(p.frame()) {
		t.Fatal("MatchFrame does not see the SYN behind the extension header")
	}
	if got := tcpdumpSelect(t, tcpdump, in, syn6Filter.BPF()); len(got) != 0 {
		t.Errorf("tcpdump selected it too: update BPF's documentation")
	}
	// The protocol alone goes through the chain in both.
	proto := Filter{Src: pfx(hostA6), Proto: ProtoTCP}
	if got := tcpdumpSelect(t, tcpdump, in, proto.BPF()); len(got) != 1 || !proto.MatchFrame(p.frame()) {
		t.Errorf("protocol over extension headers: tcpdump %d frames, MatchFrame %v", len(got), proto.MatchFrame(p.frame()))
	}
}
