package flowstore

// The store's bytes per record beside nfdump's: a capture of many conversations goes
// through pmacct's pmacctd (its nfprobe plugin, NetFlow v9) to nfdump's nfcapd, which
// writes its file and repeats every datagram to a flow.Collector, whose records are
// appended to a Store. nfcapd's file is then rewritten by nfdump -J in each of its
// compressions, so that every variant holds the very records nfcapd wrote.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	"github.com/mrtgo/mrtgo/internal/testneed"
)

// conversation is the packets of one direction of one flow in the capture.
type conversation struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
	proto            layers.IPProtocol
	packets, size    int // size is the IP length of each packet
}

// manyConversations are n conversations with Zipf-like inside and outside hosts,
// common server ports, and heavy-tailed lengths; half go out, half come back.
func manyConversations(n int) []conversation {
	rng := rand.New(rand.NewPCG(40, 41))
	inside := rand.NewZipf(rng, 1.2, 2, 4999)
	outside := rand.NewZipf(rng, 1.1, 4, 49999)
	pkts := rand.NewZipf(rng, 1.5, 1, 200)
	cs := make([]conversation, n)
	for i := range cs {
		in, out := inside.Uint64(), outside.Uint64()
		c := conversation{
			src:     netip.AddrFrom4([4]byte{10, 1, byte(in >> 8), byte(in)}),
			dst:     netip.AddrFrom4([4]byte{byte(23 + out%170), byte(out >> 8), byte(out), 7}),
			srcPort: uint16(32768 + rng.IntN(28232)), dstPort: serverPorts[rng.IntN(len(serverPorts))],
			proto: layers.IPProtocolTCP, packets: 1 + int(pkts.Uint64()), size: 60 + rng.IntN(1440),
		}
		if c.dstPort == 53 || c.dstPort == 123 || rng.IntN(5) == 0 {
			c.proto = layers.IPProtocolUDP
		}
		if i%2 == 1 {
			c.src, c.dst, c.srcPort, c.dstPort = c.dst, c.src, c.dstPort, c.srcPort
		}
		cs[i] = c
	}
	return cs
}

// writeCapture writes the conversations, interleaved, 20 µs apart, as an Ethernet
// capture.
func writeCapture(t testing.TB, path string, cs []conversation) {
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
	buf := gopacket.NewSerializeBuffer()
	for more := true; more; {
		more = false
		for i, c := range cs {
			if left[i] == 0 {
				continue
			}
			left[i]--
			more = true
			at = at.Add(20 * time.Microsecond)
			b := packet(t, buf, c)
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(b), Length: len(b)}, b); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func packet(t testing.TB, buf gopacket.SerializeBuffer, c conversation) []byte {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: c.proto, SrcIP: c.src.AsSlice(), DstIP: c.dst.AsSlice()}
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
	payload := gopacket.Payload(make([]byte, max(c.size-20-header, 0)))
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, l4, payload); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func freeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sizeResult is one store's size for the same export.
type sizeResult struct {
	name    string
	records int64
	bytes   int64
}

func (r sizeResult) perRecord() float64 { return float64(r.bytes) / float64(r.records) }

// nfdumpSizes exports a capture of n conversations as described at the top of the
// file and returns the Store's size and each nfdump compression's.
func nfdumpSizes(t testing.TB, n int) []sizeResult {
	pmacctd := testneed.Program(t, "pmacctd", "apt-get install pmacct")
	nfcapd := testneed.Program(t, "nfcapd", "apt-get install nfdump")
	nfdump := testneed.Program(t, "nfdump", "apt-get install nfdump")
	dir := t.TempDir()
	capture := filepath.Join(dir, "many.pcap")
	writeCapture(t, capture, manyConversations(n))

	var mu sync.Mutex
	var recs []flow.Record
	col, err := flow.Listen([]string{"127.0.0.1:0"}, func(r flow.Record) {
		mu.Lock()
		recs = append(recs, r)
		mu.Unlock()
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- col.Run(ctx) }()
	defer func() { stop(); <-ran }()

	capPort := freeUDPPort(t)
	files := filepath.Join(dir, "nfcapd")
	if err := os.Mkdir(files, 0o755); err != nil {
		t.Fatal(err)
	}
	collector := exec.Command(nfcapd, "-b", "127.0.0.1", "-p", strconv.Itoa(capPort), "-w", files, "-y", "-B", "16000000",
		"-R", fmt.Sprintf("127.0.0.1/%d", col.Addrs()[0].Port()), "-P", filepath.Join(dir, "nfcapd.pid"))
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
		"nfprobe_receiver: 127.0.0.1:%d\nnfprobe_version: 9\nnfprobe_maxflows: 100000\n", capture, capPort)), 0o600); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(pctx, pmacctd, "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("pmacctd: %v\n%s", err, b)
	}
	// Records stop coming; then nfcapd is stopped, which closes its file.
	for last := -1; ; {
		time.Sleep(time.Second)
		mu.Lock()
		now := len(recs)
		mu.Unlock()
		if now == last {
			break
		}
		last = now
	}
	_ = collector.Process.Signal(syscall.SIGTERM)
	_ = collector.Wait()
	stopped = true

	written, _ := filepath.Glob(filepath.Join(files, "nfcapd.2*"))
	if len(written) == 0 {
		t.Fatalf("nfcapd wrote no file\n%s", out)
	}
	if len(written) > 1 { // the export crossed nfcapd's 5-minute rotation: one file of them all
		merged := filepath.Join(dir, "nfcapd.merged")
		if b, err := exec.Command(nfdump, "-R", files, "-w", merged).CombinedOutput(); err != nil {
			t.Fatalf("nfdump -R %s -w: %v\n%s", files, err, b)
		}
		written = []string{merged}
	}
	var results []sizeResult
	for _, v := range []struct {
		name, level string
	}{{"nfdump uncompressed", "0"}, {"nfdump LZO", "1"}, {"nfdump BZ2", "2"}, {"nfdump LZ4", "3"}} {
		b, err := os.ReadFile(written[0])
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "nfcapd.J"+v.level)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command(nfdump, "-r", path, "-J", v.level).CombinedOutput(); err != nil {
			t.Fatalf("nfdump -J %s: %v\n%s", v.level, err, b)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, sizeResult{v.name, nfdumpFlows(t, nfdump, path), st.Size()})
	}

	// The same datagrams, as decoded, into a Store.
	store := filepath.Join(dir, "store")
	s, err := Open(store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range recs {
		f := flow.Flow{Record: r, Device: "pmacctd"}
		if r.InIf != 0 {
			f.In = fmt.Sprintf("ifIndex %d", r.InIf)
		}
		if r.OutIf != 0 {
			f.Out = fmt.Sprintf("ifIndex %d", r.OutIf)
		}
		if err := s.Append(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	results = append(results, sizeResult{"mrtgo flowstore", int64(len(recs)), dirBytes(t, store)})
	return results
}

var flowsLine = regexp.MustCompile(`(?m)^Flows:\s+(\d+)`)

// nfdumpFlows is the number of flows in an nfdump file, from its statistics.
func nfdumpFlows(t testing.TB, nfdump, path string) int64 {
	t.Helper()
	b, err := exec.Command(nfdump, "-I", "-r", path).CombinedOutput()
	if err != nil {
		t.Fatalf("nfdump -I: %v\n%s", err, b)
	}
	m := flowsLine.FindSubmatch(b)
	if m == nil {
		t.Fatalf("nfdump -I said no flow count:\n%s", b)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

func TestBytesPerRecordBesideNfdump(t *testing.T) {
	if testing.Short() {
		t.Skip("exports a capture of 30,000 conversations")
	}
	const n = 30000
	results := nfdumpSizes(t, n)
	ours := results[len(results)-1]
	for _, r := range results {
		t.Logf("%-20s %7d records %9d bytes %6.2f bytes/record", r.name, r.records, r.bytes, r.perRecord())
		if r.records < n*9/10 {
			t.Errorf("%s: %d records of %d conversations", r.name, r.records, n)
		}
		if (strings.Contains(r.name, "LZ4") || strings.Contains(r.name, "LZO")) && ours.perRecord() >= r.perRecord() {
			t.Errorf("%.2f bytes a record, not fewer than %s's %.2f", ours.perRecord(), r.name, r.perRecord())
		}
	}
}

// BenchmarkBytesPerRecord reports, for "make bench", the bytes a record takes in the
// store beside nfdump's files of the same export (see TestBytesPerRecordBesideNfdump):
// one export of 30,000 conversations, whatever b.N.
func BenchmarkBytesPerRecord(b *testing.B) {
	results := nfdumpSizes(b, 30000)
	for range b.N {
	}
	for _, r := range results {
		name := strings.ToLower(strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(r.name))
		b.ReportMetric(r.perRecord(), name+"-B/record")
	}
}
