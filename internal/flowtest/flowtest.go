// Package flowtest builds what flow tests feed exporters: captures of labelled
// traffic (a normal mix, scans, sweeps, floods, a flash crowd), written as pcap files
// that softflowd or pmacctd read as if they came off a wire, and runs softflowd over
// them.
package flowtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Packet is one packet of a capture, at an offset from its start.
type Packet struct {
	At               time.Duration
	Src, Dst         string
	SrcPort, DstPort uint16
	Proto            layers.IPProtocol
	Flags            uint8 // TCP
	ICMPType         uint8
	Size             int // IP length
}

// TCP flags of a Packet.
const (
	FIN     = 0x01
	SYNFlag = 0x02
	RST     = 0x04
	PSH     = 0x08
	ACK     = 0x10
)

// WritePcap writes the packets, in time order, as an Ethernet capture at path.
func WritePcap(t testing.TB, path string, ps []Packet) {
	t.Helper()
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].At < ps[j].At })
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	for _, p := range ps {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: p.Proto, SrcIP: net.ParseIP(p.Src).To4(), DstIP: net.ParseIP(p.Dst).To4()}
		var l4 gopacket.SerializableLayer
		header := 8
		switch p.Proto {
		case layers.IPProtocolTCP:
			tcp := &layers.TCP{SrcPort: layers.TCPPort(p.SrcPort), DstPort: layers.TCPPort(p.DstPort), Window: 512,
				FIN: p.Flags&FIN != 0, SYN: p.Flags&SYNFlag != 0, RST: p.Flags&RST != 0, PSH: p.Flags&PSH != 0, ACK: p.Flags&ACK != 0}
			if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
				t.Fatal(err)
			}
			l4, header = tcp, 20
		case layers.IPProtocolUDP:
			udp := &layers.UDP{SrcPort: layers.UDPPort(p.SrcPort), DstPort: layers.UDPPort(p.DstPort)}
			if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
				t.Fatal(err)
			}
			l4 = udp
		case layers.IPProtocolICMPv4:
			l4 = &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(p.ICMPType, 0), Id: 7, Seq: 1}
		}
		if err := gopacket.SerializeLayers(buf, opts, eth, ip, l4, gopacket.Payload(make([]byte, max(p.Size-20-header, 0)))); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: Start.Add(p.At), CaptureLength: len(b), Length: len(b)}
		if err := w.WritePacket(ci, b); err != nil {
			t.Fatal(err)
		}
	}
}

// Handshake is one complete HTTP exchange of a client with a server, both ways.
func Handshake(at time.Duration, client string, cport uint16, server string, sport uint16) []Packet {
	ms := time.Millisecond
	c := func(d time.Duration, flags uint8, size int) Packet {
		return Packet{at + d, client, server, cport, sport, layers.IPProtocolTCP, flags, 0, size}
	}
	s := func(d time.Duration, flags uint8, size int) Packet {
		return Packet{at + d, server, client, sport, cport, layers.IPProtocolTCP, flags, 0, size}
	}
	return []Packet{c(0, SYNFlag, 60), s(ms, SYNFlag|ACK, 60), c(2*ms, ACK, 52), c(3*ms, PSH|ACK, 400),
		s(5*ms, ACK, 1452), s(6*ms, PSH|ACK, 900), c(7*ms, ACK, 52), c(8*ms, FIN|ACK, 52),
		s(9*ms, FIN|ACK, 52), c(10*ms, ACK, 52)}
}

// UDP is one UDP packet.
func UDP(at time.Duration, src string, sport uint16, dst string, dport uint16, size int) Packet {
	return Packet{at, src, dst, sport, dport, layers.IPProtocolUDP, 0, 0, size}
}

// ICMP is one ICMP packet of typ (8 an echo request, 0 its reply).
func ICMP(at time.Duration, src, dst string, typ uint8) Packet {
	return Packet{at, src, dst, 0, 0, layers.IPProtocolICMPv4, 0, typ, 84}
}

// SYN is one TCP SYN.
func SYN(at time.Duration, src string, sport uint16, dst string, dport uint16) Packet {
	return Packet{at, src, dst, sport, dport, layers.IPProtocolTCP, SYNFlag, 0, 44}
}

// NormalMix is a few seconds of an ordinary network: web clients, DNS queries and
// replies, NTP, game traffic to 192.0.2.60, a few pings answered, a connection
// attempt to a host that is down.
func NormalMix() []Packet {
	var ps []Packet
	ms := time.Millisecond
	for i := range 40 {
		client := fmt.Sprintf("10.0.0.%d", 1+i%20)
		server := []string{"192.0.2.80", "192.0.2.81", "198.51.100.7"}[i%3]
		ps = append(ps, Handshake(time.Duration(i)*50*ms, client, uint16(40000+i), server, []uint16{80, 443, 443}[i%3])...)
	}
	for i := range 60 {
		client := fmt.Sprintf("10.0.0.%d", 1+i%20)
		at := time.Duration(i) * 30 * ms
		ps = append(ps, UDP(at, client, uint16(50000+i), "192.0.2.53", 53, 70), UDP(at+ms, "192.0.2.53", 53, client, uint16(50000+i), 180))
	}
	for i := range 5 {
		ps = append(ps, UDP(time.Duration(i)*400*ms, "10.0.0.3", 123, fmt.Sprintf("192.0.2.%d", 123+i), 123, 76),
			UDP(time.Duration(i)*400*ms+ms, fmt.Sprintf("192.0.2.%d", 123+i), 123, "10.0.0.3", 123, 76))
	}
	for i := range 10 {
		for j := range 20 {
			ps = append(ps, UDP(time.Duration(j)*100*ms, fmt.Sprintf("10.0.1.%d", 1+i), 27005, "192.0.2.60", 27015, 120),
				UDP(time.Duration(j)*100*ms+ms, "192.0.2.60", 27015, fmt.Sprintf("10.0.1.%d", 1+i), 27005, 400))
		}
	}
	for i := range 3 {
		for j := range 4 {
			at := time.Duration(j)*time.Second + time.Duration(i)*ms
			ps = append(ps, ICMP(at, "10.0.0.9", fmt.Sprintf("192.0.2.%d", 1+i), 8), ICMP(at+ms, fmt.Sprintf("192.0.2.%d", 1+i), "10.0.0.9", 0))
		}
	}
	for j := range 3 {
		ps = append(ps, SYN(time.Duration(j)*time.Second, "10.0.0.4", 41000, "192.0.2.99", 22))
	}
	return ps
}

// Scenario is labelled traffic: an attack (or none) and what a detector should say.
type Scenario struct {
	Name   string
	Attack func() []Packet
	Kind   string // the detector's kind; "" for none
	Source string // the attacker, or the prefix of the attackers
	Target string
}

// Scenarios are a normal mix, a vertical scan, an ICMP sweep, a SYN flood, UDP and SYN
// floods from 200 sources, and a flash crowd, each as the packets to add to NormalMix.
func Scenarios() []Scenario {
	ms := time.Millisecond
	return []Scenario{
		{"normal mix", func() []Packet { return nil }, "", "", ""},
		{"vertical scan", func() []Packet {
			var ps []Packet
			for i := range 1000 {
				at := time.Duration(i) * ms
				ps = append(ps, SYN(at, "203.0.113.66", 45000, "192.0.2.10", uint16(1+i)),
					Packet{at + ms/2, "192.0.2.10", "203.0.113.66", uint16(1 + i), 45000, layers.IPProtocolTCP, RST | ACK, 0, 40})
			}
			return ps
		}, "vertical-scan", "203.0.113.66", "192.0.2.10"},
		{"icmp sweep", func() []Packet {
			var ps []Packet
			for i := range 254 {
				at := time.Duration(i) * 2 * ms
				ps = append(ps, ICMP(at, "203.0.113.67", fmt.Sprintf("192.0.2.%d", 1+i), 8))
				if i%10 == 0 {
					ps = append(ps, ICMP(at+ms, fmt.Sprintf("192.0.2.%d", 1+i), "203.0.113.67", 0))
				}
			}
			return ps
		}, "icmp-sweep", "203.0.113.67", ""},
		{"syn flood", func() []Packet {
			// 3,000 SYN/s for 5 s from one source to 192.0.2.80:80.
			var ps []Packet
			for i := range 15000 {
				ps = append(ps, SYN(time.Duration(i)*time.Second/3000, "203.0.113.68", uint16(1024+i), "192.0.2.80", 80))
			}
			return ps
		}, "syn-flood", "203.0.113.68", "192.0.2.80"},
		{"ddos udp", func() []Packet {
			// 200 sources, 15,000 pps in all for 10 s, to the game server.
			var ps []Packet
			for i := range 150000 {
				src := fmt.Sprintf("198.18.%d.%d", (i%200)/100, 1+(i%200)%100)
				ps = append(ps, UDP(time.Duration(i)*time.Second/15000, src, uint16(20000+i%200), "192.0.2.60", 27015, 60))
			}
			return ps
		}, "ddos-udp", "198.18.0.0/23", "192.0.2.60"},
		{"ddos syn", func() []Packet {
			// 200 sources, 50 SYNs each from new ports, over 5 s.
			var ps []Packet
			for i := range 10000 {
				src := fmt.Sprintf("198.18.%d.%d", (i%200)/100, 1+(i%200)%100)
				ps = append(ps, SYN(time.Duration(i)*time.Second/2000, src, uint16(1024+i/200), "192.0.2.81", 443))
			}
			return ps
		}, "ddos-syn", "198.18.0.0/23", "192.0.2.81"},
		{"flash crowd", func() []Packet {
			// 200 clients, three complete exchanges each with the web server, in 2 s.
			var ps []Packet
			for i := range 600 {
				client := fmt.Sprintf("198.18.%d.%d", (i%200)/100, 1+(i%200)%100)
				ps = append(ps, Handshake(time.Duration(i)*3*ms, client, uint16(30000+i), "192.0.2.80", 80)...)
			}
			return ps
		}, "", "", ""},
	}
}

// Start is the capture's first timestamp.
var Start = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// Softflowd exports the capture at path with softflowd as IPFIX to collector
// ("127.0.0.1:2055") and returns when it has read it all and flushed its flows.
// softflowd 1.1.0 reading a file needs "-c none": it blocks for ever on its control
// socket otherwise.
func Softflowd(t testing.TB, softflowd, capture, collector string) {
	t.Helper()
	run, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	cmd := exec.CommandContext(run, softflowd, "-r", capture, "-n", collector, "-v", "10", "-d",
		"-c", "none", "-p", filepath.Join(dir, "softflowd.pid"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softflowd: %v\n%s", err, b)
	}
}
