package flow

// Real exporters that no one here wrote: pmacct's pmacctd reads a capture with known
// conversations and exports them with its nfprobe plugin as NetFlow v5, v9 and IPFIX
// to nfcapd (nfdump's collector), which repeats every datagram to the Decoder. What
// the Decoder makes of the datagrams must equal, flow by flow, what nfdump reads from
// nfcapd's files, and what the capture holds.
//
// softflowd -r would do as well, but softflowd 1.1.0 reading a capture hangs at its
// end in most runs started from a Go test (and in about one in ten from a shell),
// exporting nothing; pmacctd ends every time.

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

// conversation is packets of one direction of one flow in the test capture.
type conversation struct {
	src, dst         string
	srcPort, dstPort uint16
	proto            layers.IPProtocol
	packets, size    int // size is the IP length of each packet
}

// testConversations are the capture's flows: a few heavy ones and a tail of small
// ones, TCP and UDP, so that top talkers are known.
func testConversations() []conversation {
	cs := []conversation{
		{"10.0.0.1", "192.0.2.10", 40000, 443, layers.IPProtocolTCP, 60, 1400},
		{"10.0.0.2", "192.0.2.20", 5353, 53, layers.IPProtocolUDP, 40, 180},
		{"192.0.2.10", "10.0.0.1", 443, 40000, layers.IPProtocolTCP, 30, 52},
		{"10.0.0.3", "192.0.2.30", 41000, 80, layers.IPProtocolTCP, 25, 900},
	}
	for i := range 20 {
		cs = append(cs, conversation{fmt.Sprintf("10.0.1.%d", i+1), "192.0.2.99", uint16(50000 + i), 123,
			layers.IPProtocolUDP, 1 + i%4, 76 + 10*i})
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
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: c.proto, SrcIP: net.ParseIP(c.src).To4(), DstIP: net.ParseIP(c.dst).To4()}
	var l4 gopacket.SerializableLayer
	header := 20
	switch c.proto {
	case layers.IPProtocolTCP:
		tcp := &layers.TCP{SrcPort: layers.TCPPort(c.srcPort), DstPort: layers.TCPPort(c.dstPort), ACK: true, PSH: true, Window: 512}
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

// flowKey is what both sides report of a flow.
type flowKey struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
	proto            uint8
}

type counts struct{ bytes, packets uint64 }

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func TestExportersAgreeWithNfdump(t *testing.T) {
	pmacctd := testneed.Program(t, "pmacctd", "apt-get install pmacct")
	nfcapd := testneed.Program(t, "nfcapd", "apt-get install nfdump")
	nfdump := testneed.Program(t, "nfdump", "apt-get install nfdump")
	cs := testConversations()
	capture := filepath.Join(t.TempDir(), "known.pcap")
	writeCapture(t, capture, cs)

	for _, version := range []string{"5", "9", "10"} {
		t.Run("v"+version, func(t *testing.T) {
			exportOnce(t, pmacctd, nfcapd, nfdump, capture, version, cs)
		})
	}
}

// exportOnce has pmacctd export the capture as version through nfcapd to a Decoder
// and compares what the Decoder and nfdump read.
func exportOnce(t *testing.T, pmacctd, nfcapd, nfdump, capture, version string, cs []conversation) {
	t.Helper()
	{
		{
			dir := t.TempDir()
			// The Decoder's socket, to which nfcapd repeats what it receives.
			// The Collector, to which nfcapd repeats what it receives.
			var mu sync.Mutex
			ours := map[flowKey]counts{}
			var kinds []Kind
			col, err := Listen([]string{"127.0.0.1:0"}, func(r Record) {
				mu.Lock()
				defer mu.Unlock()
				k := flowKey{r.Src, r.Dst, r.SrcPort, r.DstPort, r.Proto}
				c := ours[k]
				c.bytes += r.Bytes
				c.packets += r.Packets
				ours[k] = c
				if !slices.Contains(kinds, r.Kind) {
					kinds = append(kinds, r.Kind)
				}
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(context.Background())
			ran := make(chan error, 1)
			go func() { ran <- col.Run(ctx) }()
			defer func() { stop(); <-ran }()
			dec, ourPort := col.Decoder(), col.Addrs()[0].Port()

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
				n := len(ours)
				mu.Unlock()
				if n >= len(cs) || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			_ = collector.Process.Signal(syscall.SIGTERM)
			_ = collector.Wait()
			stopped = true

			b, err := exec.Command(nfdump, "-R", files, "-q", "-N", "-o", "fmt:%sa,%da,%sp,%dp,%pr,%pkt,%byt").CombinedOutput()
			if err != nil {
				t.Fatalf("nfdump: %v\n%s\nnfcapd said:\n%s", err, b, out)
			}
			theirs := map[flowKey]counts{}
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				f := strings.Split(strings.ReplaceAll(line, " ", ""), ",")
				if len(f) != 7 {
					t.Fatalf("nfdump line %q", line)
				}
				var k flowKey
				k.src, _ = netip.ParseAddr(f[0])
				k.dst, _ = netip.ParseAddr(f[1])
				sp, _ := strconv.Atoi(f[2])
				dp, _ := strconv.Atoi(f[3])
				k.srcPort, k.dstPort = uint16(sp), uint16(dp)
				if p, err := strconv.Atoi(f[4]); err == nil {
					k.proto = uint8(p)
				} else {
					k.proto = map[string]uint8{"TCP": 6, "UDP": 17}[f[4]]
				}
				pk, _ := strconv.ParseUint(f[5], 10, 64)
				by, _ := strconv.ParseUint(f[6], 10, 64)
				c := theirs[k]
				c.packets += pk
				c.bytes += by
				theirs[k] = c
			}
			mu.Lock()
			defer mu.Unlock()
			if len(theirs) != len(cs) {
				t.Errorf("nfdump read %d flows, want %d:\n%s", len(theirs), len(cs), b)
			}
			for k, c := range theirs {
				if ours[k] != c {
					t.Errorf("flow %v: decoded %+v, nfdump %+v", k, ours[k], c)
				}
			}
			for k := range ours {
				if _, ok := theirs[k]; !ok {
					t.Errorf("decoded flow %v that nfdump does not have", k)
				}
			}
			// And both agree with the capture itself.
			for _, c := range cs {
				k := flowKey{netip.MustParseAddr(c.src), netip.MustParseAddr(c.dst), c.srcPort, c.dstPort, uint8(c.proto)}
				if want := (counts{uint64(c.packets * c.size), uint64(c.packets)}); ours[k] != want {
					t.Errorf("flow %v: decoded %+v, the capture holds %+v", k, ours[k], want)
				}
			}
			want := map[string]Kind{"5": NetFlowV5, "9": NetFlowV9, "10": IPFIX}[version]
			if !slices.Equal(kinds, []Kind{want}) {
				t.Errorf("records of kinds %v, want %v", kinds, want)
			}
			if st := dec.Stats(); len(st.Errors) != 0 || st.Records != uint64(len(cs)) {
				t.Errorf("stats %+v, want %d records and no errors", st, len(cs))
			}
			// nfcapd repeats from its own socket on 127.0.0.1: one exporter.
			if ex := col.Exporters(); len(ex) != 1 || ex[0].Addr.String() != "127.0.0.1" || ex[0].Records != uint64(len(cs)) ||
				ex[0].Errors != 0 || ex[0].Datagrams == 0 || ex[0].LastSeen.IsZero() {
				t.Errorf("exporters %+v", ex)
			}
		}
	}
}
