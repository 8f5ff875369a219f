package detect

// Labelled scenarios as captures written here, exported by softflowd as IPFIX (the
// way an exporter no one here wrote sees them) into a flow.Collector that feeds a
// Detector. Each scenario's first window is a normal mix, which raises nothing and
// gives the targets their baselines; its second window is the mix with the scenario
// in it; a third window follows with no traffic. The attack must be reported as the
// right kind, source(s) and target within the second and third windows, and nothing
// else may be.
//
// softflowd 1.1.0 reading a capture needs "-c none" (see flow/exporters_test.go: it
// blocks for ever on its control socket otherwise). Its IPFIX records carry the
// capture's flows with start and end times of the export, in whole seconds, so rates
// here are taken over the Detector's minimum span.

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/internal/testneed"
)

// pkt is one packet of a capture, at an offset from its start.
type pkt struct {
	at           time.Duration
	src, dst     string
	sport, dport uint16
	proto        layers.IPProtocol
	flags        uint8 // TCP
	icmpType     uint8
	size         int // IP length
}

const (
	fFIN = 0x01
	fSYN = 0x02
	fRST = 0x04
	fPSH = 0x08
	fACK = 0x10
)

func writePcap(t *testing.T, path string, ps []pkt) {
	t.Helper()
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].at < ps[j].at })
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
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: p.proto, SrcIP: net.ParseIP(p.src).To4(), DstIP: net.ParseIP(p.dst).To4()}
		var l4 gopacket.SerializableLayer
		header := 8
		switch p.proto {
		case layers.IPProtocolTCP:
			tcp := &layers.TCP{SrcPort: layers.TCPPort(p.sport), DstPort: layers.TCPPort(p.dport), Window: 512,
				FIN: p.flags&fFIN != 0, SYN: p.flags&fSYN != 0, RST: p.flags&fRST != 0, PSH: p.flags&fPSH != 0, ACK: p.flags&fACK != 0}
			if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
				t.Fatal(err)
			}
			l4, header = tcp, 20
		case layers.IPProtocolUDP:
			udp := &layers.UDP{SrcPort: layers.UDPPort(p.sport), DstPort: layers.UDPPort(p.dport)}
			if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
				t.Fatal(err)
			}
			l4 = udp
		case layers.IPProtocolICMPv4:
			l4 = &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(p.icmpType, 0), Id: 7, Seq: 1}
		}
		if err := gopacket.SerializeLayers(buf, opts, eth, ip, l4, gopacket.Payload(make([]byte, max(p.size-20-header, 0)))); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC).Add(p.at), CaptureLength: len(b), Length: len(b)}
		if err := w.WritePacket(ci, b); err != nil {
			t.Fatal(err)
		}
	}
}

// handshake is one complete HTTP exchange of a client with a server, both ways.
func handshake(at time.Duration, client string, cport uint16, server string, sport uint16) []pkt {
	ms := time.Millisecond
	c := func(d time.Duration, flags uint8, size int) pkt {
		return pkt{at + d, client, server, cport, sport, layers.IPProtocolTCP, flags, 0, size}
	}
	s := func(d time.Duration, flags uint8, size int) pkt {
		return pkt{at + d, server, client, sport, cport, layers.IPProtocolTCP, flags, 0, size}
	}
	return []pkt{c(0, fSYN, 60), s(ms, fSYN|fACK, 60), c(2*ms, fACK, 52), c(3*ms, fPSH|fACK, 400),
		s(5*ms, fACK, 1452), s(6*ms, fPSH|fACK, 900), c(7*ms, fACK, 52), c(8*ms, fFIN|fACK, 52),
		s(9*ms, fFIN|fACK, 52), c(10*ms, fACK, 52)}
}

func udp(at time.Duration, src string, sport uint16, dst string, dport uint16, size int) pkt {
	return pkt{at, src, dst, sport, dport, layers.IPProtocolUDP, 0, 0, size}
}

func icmp(at time.Duration, src, dst string, typ uint8) pkt {
	return pkt{at, src, dst, 0, 0, layers.IPProtocolICMPv4, 0, typ, 84}
}

func syn(at time.Duration, src string, sport uint16, dst string, dport uint16) pkt {
	return pkt{at, src, dst, sport, dport, layers.IPProtocolTCP, fSYN, 0, 44}
}

// normalMix is a few seconds of an ordinary network: web clients, DNS queries and
// replies, NTP, game traffic to 192.0.2.60, a few pings answered, a connection
// attempt to a host that is down.
func normalMix() []pkt {
	var ps []pkt
	ms := time.Millisecond
	for i := range 40 {
		client := fmt.Sprintf("10.0.0.%d", 1+i%20)
		server := []string{"192.0.2.80", "192.0.2.81", "198.51.100.7"}[i%3]
		ps = append(ps, handshake(time.Duration(i)*50*ms, client, uint16(40000+i), server, []uint16{80, 443, 443}[i%3])...)
	}
	for i := range 60 {
		client := fmt.Sprintf("10.0.0.%d", 1+i%20)
		at := time.Duration(i) * 30 * ms
		ps = append(ps, udp(at, client, uint16(50000+i), "192.0.2.53", 53, 70), udp(at+ms, "192.0.2.53", 53, client, uint16(50000+i), 180))
	}
	for i := range 5 {
		ps = append(ps, udp(time.Duration(i)*400*ms, "10.0.0.3", 123, fmt.Sprintf("192.0.2.%d", 123+i), 123, 76),
			udp(time.Duration(i)*400*ms+ms, fmt.Sprintf("192.0.2.%d", 123+i), 123, "10.0.0.3", 123, 76))
	}
	for i := range 10 {
		for j := range 20 {
			ps = append(ps, udp(time.Duration(j)*100*ms, fmt.Sprintf("10.0.1.%d", 1+i), 27005, "192.0.2.60", 27015, 120),
				udp(time.Duration(j)*100*ms+ms, "192.0.2.60", 27015, fmt.Sprintf("10.0.1.%d", 1+i), 27005, 400))
		}
	}
	for i := range 3 {
		for j := range 4 {
			at := time.Duration(j)*time.Second + time.Duration(i)*ms
			ps = append(ps, icmp(at, "10.0.0.9", fmt.Sprintf("192.0.2.%d", 1+i), 8), icmp(at+ms, fmt.Sprintf("192.0.2.%d", 1+i), "10.0.0.9", 0))
		}
	}
	for j := range 3 {
		ps = append(ps, syn(time.Duration(j)*time.Second, "10.0.0.4", 41000, "192.0.2.99", 22))
	}
	return ps
}

type scenario struct {
	name   string
	attack func() []pkt
	kind   Kind   // "" for none
	source string // the attacker, or the prefix of the attackers
	target string
}

func scenarios() []scenario {
	ms := time.Millisecond
	return []scenario{
		{"normal mix", func() []pkt { return nil }, "", "", ""},
		{"vertical scan", func() []pkt {
			var ps []pkt
			for i := range 1000 {
				at := time.Duration(i) * ms
				ps = append(ps, syn(at, "203.0.113.66", 45000, "192.0.2.10", uint16(1+i)),
					pkt{at + ms/2, "192.0.2.10", "203.0.113.66", uint16(1 + i), 45000, layers.IPProtocolTCP, fRST | fACK, 0, 40})
			}
			return ps
		}, VerticalScan, "203.0.113.66", "192.0.2.10"},
		{"icmp sweep", func() []pkt {
			var ps []pkt
			for i := range 254 {
				at := time.Duration(i) * 2 * ms
				ps = append(ps, icmp(at, "203.0.113.67", fmt.Sprintf("192.0.2.%d", 1+i), 8))
				if i%10 == 0 {
					ps = append(ps, icmp(at+ms, fmt.Sprintf("192.0.2.%d", 1+i), "203.0.113.67", 0))
				}
			}
			return ps
		}, ICMPSweep, "203.0.113.67", ""},
		{"syn flood", func() []pkt {
			// 3,000 SYN/s for 5 s from one source to 192.0.2.80:80.
			var ps []pkt
			for i := range 15000 {
				ps = append(ps, syn(time.Duration(i)*time.Second/3000, "203.0.113.68", uint16(1024+i), "192.0.2.80", 80))
			}
			return ps
		}, SYNFlood, "203.0.113.68", "192.0.2.80"},
		{"ddos udp", func() []pkt {
			// 200 sources, 15,000 pps in all for 10 s, to the game server.
			var ps []pkt
			for i := range 150000 {
				src := fmt.Sprintf("198.18.%d.%d", (i%200)/100, 1+(i%200)%100)
				ps = append(ps, udp(time.Duration(i)*time.Second/15000, src, uint16(20000+i%200), "192.0.2.60", 27015, 60))
			}
			return ps
		}, DDoSUDP, "198.18.0.0/23", "192.0.2.60"},
		{"ddos syn", func() []pkt {
			// 200 sources, 50 SYNs each from new ports, over 5 s.
			var ps []pkt
			for i := range 10000 {
				src := fmt.Sprintf("198.18.%d.%d", (i%200)/100, 1+(i%200)%100)
				ps = append(ps, syn(time.Duration(i)*time.Second/2000, src, uint16(1024+i/200), "192.0.2.81", 443))
			}
			return ps
		}, DDoSSYN, "198.18.0.0/23", "192.0.2.81"},
		{"flash crowd", func() []pkt {
			// 200 clients, three complete exchanges each with the web server, in 2 s.
			var ps []pkt
			for i := range 600 {
				client := fmt.Sprintf("198.18.%d.%d", (i%200)/100, 1+(i%200)%100)
				ps = append(ps, handshake(time.Duration(i)*3*ms, client, uint16(30000+i), "192.0.2.80", 80)...)
			}
			return ps
		}, "", "", ""},
	}
}

// replay exports the capture with softflowd as IPFIX into a Collector feeding d, and
// returns once every record is in: softflowd has ended and no record came for a while.
func replay(t *testing.T, softflowd string, ps []pkt, d *Detector) int {
	t.Helper()
	dir := t.TempDir()
	capture := filepath.Join(dir, "capture.pcap")
	writePcap(t, capture, ps)
	var mu sync.Mutex
	records := 0
	col, err := flow.Listen([]string{"127.0.0.1:0"}, func(r flow.Record) {
		d.Add(&flow.Flow{Record: r, Device: "edge1", In: "ge-0/0/0"})
		mu.Lock()
		records++
		mu.Unlock()
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- col.Run(ctx) }()
	defer func() { stop(); <-ran }()
	run, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(run, softflowd, "-r", capture, "-n", col.Addrs()[0].String(), "-v", "10", "-d",
		"-c", "none", "-p", filepath.Join(dir, "softflowd.pid"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softflowd: %v\n%s", err, b)
	}
	last, since := -1, time.Now()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := records
		mu.Unlock()
		if n != last {
			last, since = n, time.Now()
		} else if n > 0 && time.Since(since) > 300*time.Millisecond {
			return n
		}
	}
	t.Fatalf("records still arriving, or none (%d)", last)
	return 0
}

func TestScenariosThroughSoftflowd(t *testing.T) {
	sfd := testneed.Program(t, "softflowd", "apt-get install softflowd")
	base := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			d := newDetector(t, Config{})
			n := replay(t, sfd, normalMix(), d)
			if es := d.Step(base.Add(5 * time.Minute)); len(es) != 0 {
				t.Errorf("normal mix (%d records): %v", n, es)
			}
			attack := sc.attack()
			n = replay(t, sfd, append(normalMix(), attack...), d)
			es := d.Step(base.Add(10 * time.Minute))
			es = append(es, d.Step(base.Add(15*time.Minute))...)
			t.Logf("%d packets, %d records: %d events", len(attack)+len(normalMix()), n, len(es))
			for _, e := range es {
				t.Logf("%v", e)
			}
			if sc.kind == "" {
				if len(es) != 0 {
					t.Errorf("events %v, want none", es)
				}
				return
			}
			if len(es) != 1 {
				t.Fatalf("%d events, want one %s", len(es), sc.kind)
			}
			e := es[0]
			if e.Kind != sc.kind {
				t.Errorf("kind %s, want %s", e.Kind, sc.kind)
			}
			if sc.target != "" && !slices.Equal(e.Targets, []netip.Addr{netip.MustParseAddr(sc.target)}) {
				t.Errorf("targets %v, want %s", e.Targets, sc.target)
			}
			if p, err := netip.ParsePrefix(sc.source); err == nil {
				for _, s := range e.Sources {
					if !p.Contains(s) {
						t.Errorf("source %v is not an attacker", s)
					}
				}
				if len(e.Sources) == 0 || e.SourceCount < 180 || e.SourceCount > 220 {
					t.Errorf("%d sources (%v), want about 200", e.SourceCount, e.Sources)
				}
			} else if !slices.Equal(e.Sources, []netip.Addr{netip.MustParseAddr(sc.source)}) {
				t.Errorf("sources %v, want %s", e.Sources, sc.source)
			}
			if e.PPS <= 0 || e.BPS <= 0 || e.FlowsPerSec <= 0 || e.Packets == 0 || e.Flows == 0 {
				t.Errorf("rates %v pps %v bps %v flows/s, %d packets %d flows", e.PPS, e.BPS, e.FlowsPerSec, e.Packets, e.Flows)
			}
			if e.Device != "edge1" || e.Interface != "ge-0/0/0" || e.Start.IsZero() || e.End.Before(e.Start) {
				t.Errorf("where/when: %q %q %v %v", e.Device, e.Interface, e.Start, e.End)
			}
		})
	}
}
