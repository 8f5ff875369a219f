package flowquery

// Real exporters no one here wrote, as in package flow's exporter test (whose helpers
// are copied here, adapted): pmacctd reads a capture with known top talkers and
// exports it with its nfprobe plugin to nfcapd, which writes nfdump files and repeats
// every datagram to a flow.Collector. The records the Collector decodes and the files
// nfdump reads are the same flows, so a query here and nfdump's answer over its files
// must agree.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/mrtgo/mrtgo/flow"
)

// conversation is packets of one direction of one flow in the test capture.
type conversation struct {
	src, dst         string
	srcPort, dstPort uint16
	proto            layers.IPProtocol
	packets, size    int    // size is the IP length of each packet
	flags            string // TCP flags of every packet: "AP" when empty
}

// testConversations are the capture's flows: heavy ones, a host talking to several
// peers and ports (so that grouping by source differs from grouping by flow), SYNs
// without answer, and a tail of small UDP flows; byte counts straddle 1,000 and 1,024
// so that a "1k" in a filter tells 1,000 from 1,024.
func testConversations() []conversation {
	tcp, udp := layers.IPProtocolTCP, layers.IPProtocolUDP
	cs := []conversation{
		{"10.0.0.1", "192.0.2.10", 40000, 443, tcp, 60, 1400, ""},
		{"10.0.0.1", "192.0.2.11", 40001, 443, tcp, 20, 1000, ""},
		{"10.0.0.1", "198.51.100.7", 40002, 8443, tcp, 5, 600, ""},
		{"10.0.0.2", "192.0.2.20", 5353, 53, udp, 40, 180, ""},
		{"192.0.2.10", "10.0.0.1", 443, 40000, tcp, 30, 52, ""},
		{"10.0.0.3", "192.0.2.30", 41000, 80, tcp, 25, 900, ""},
		{"10.0.0.3", "192.0.2.30", 41001, 80, tcp, 2, 505, ""},  // 1,010 bytes
		{"172.16.5.5", "10.0.0.9", 33000, 22, tcp, 1, 1020, ""}, // 1,020 bytes
		{"172.16.5.5", "10.0.0.9", 33001, 23, tcp, 1, 40, "S"},
		{"172.16.5.5", "10.0.0.9", 33002, 25, tcp, 1, 40, "S"},
		{"172.16.5.5", "10.0.0.10", 33003, 22, tcp, 1, 40, "S"},
		{"10.0.0.9", "172.16.5.5", 22, 33000, tcp, 2, 40, "RA"},
		{"10.0.0.4", "192.0.2.10", 1023, 443, tcp, 3, 1024, "SAF"},
	}
	for i := range 20 {
		cs = append(cs, conversation{fmt.Sprintf("10.0.1.%d", i+1), "192.0.2.99", uint16(50000 + i), 123,
			udp, 1 + i%4, 76 + 10*i, ""})
	}
	return cs
}

// writeCapture writes the conversations, interleaved, a millisecond apart, as an
// Ethernet capture.
func writeCapture(t *testing.T, path string, cs []conversation) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	left := make([]int, len(cs))
	for i, c := range cs {
		left[i] = c.packets
	}
	for more := true; more; {
		more = false
		for i, c := range cs {
			if left[i] == 0 {
				continue
			}
			left[i]--
			more = true
			at = at.Add(time.Millisecond)
			b := packet(t, c)
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(b), Length: len(b)}, b); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func packet(t *testing.T, c conversation) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: c.proto, SrcIP: net.ParseIP(c.src).To4(), DstIP: net.ParseIP(c.dst).To4()}
	var l4 gopacket.SerializableLayer
	header := 20
	switch c.proto {
	case layers.IPProtocolTCP:
		tcp := &layers.TCP{SrcPort: layers.TCPPort(c.srcPort), DstPort: layers.TCPPort(c.dstPort), Window: 512}
		flags := c.flags
		if flags == "" {
			flags = "AP"
		}
		tcp.SYN, tcp.ACK, tcp.PSH = strings.Contains(flags, "S"), strings.Contains(flags, "A"), strings.Contains(flags, "P")
		tcp.FIN, tcp.RST, tcp.URG = strings.Contains(flags, "F"), strings.Contains(flags, "R"), strings.Contains(flags, "U")
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		l4 = tcp
	default:
		udp := &layers.UDP{SrcPort: layers.UDPPort(c.srcPort), DstPort: layers.UDPPort(c.dstPort)}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		l4, header = udp, 8
	}
	payload := gopacket.Payload(make([]byte, c.size-20-header))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, l4, payload); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// export has pmacctd export the capture as NetFlow version ("5", "9" or "10" for
// IPFIX) to nfcapd, writing into dir/nfcapd, and returns the records a flow.Collector
// decoded from what nfcapd repeated, once all want flows have arrived, and the
// directory of nfcapd's files, closed.
func export(t *testing.T, pmacctd, nfcapd, capture, version, dir string, want int) ([]*flow.Flow, string) {
	t.Helper()
	var mu sync.Mutex
	var got []*flow.Flow
	col, err := flow.Listen([]string{"127.0.0.1:0"}, func(r flow.Record) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, &flow.Flow{Record: r, Device: "edge1", In: "Gi0/1", Out: "Gi0/2"})
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- col.Run(ctx) }()
	defer func() { stop(); <-ran }()
	ourPort := col.Addrs()[0].Port()

	capPort := freeUDPPort(t)
	files := filepath.Join(dir, "nfcapd") // nfdump reads every file there
	if err := os.Mkdir(files, 0o755); err != nil {
		t.Fatal(err)
	}
	collector := exec.Command(nfcapd, "-b", "127.0.0.1", "-p", strconv.Itoa(capPort), "-w", files,
		"-R", fmt.Sprintf("127.0.0.1/%d", ourPort), "-P", filepath.Join(dir, "nfcapd.pid"))
	out := &strings.Builder{}
	collector.Stdout, collector.Stderr = out, out
	if err := collector.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = collector.Process.Kill()
			_ = collector.Wait()
		}
	}()
	time.Sleep(300 * time.Millisecond) // nfcapd binds its socket

	conf := filepath.Join(dir, "pmacctd.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("daemonize: false\npcap_savefile: %s\nplugins: nfprobe\n"+
		"nfprobe_receiver: 127.0.0.1:%d\nnfprobe_version: %s\n", capture, capPort, version)), 0o600); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(pctx, pmacctd, "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("pmacctd: %v\n%s", err, b)
	}
	// Every conversation reaches the Collector (one flow each), then nfcapd is
	// stopped, which closes its file.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = collector.Process.Signal(syscall.SIGTERM)
	_ = collector.Wait()
	stopped = true
	mu.Lock()
	defer mu.Unlock()
	if len(got) != want {
		t.Fatalf("decoded %d flows, want %d; nfcapd said:\n%s", len(got), want, out)
	}
	if st := col.Decoder().Stats(); len(st.Errors) != 0 {
		t.Fatalf("decoder errors %v", st.Errors)
	}
	return got, files
}
