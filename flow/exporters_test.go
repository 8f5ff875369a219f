package flow

// Real exporters that no one here wrote: pmacct's pmacctd reads a capture with known
// conversations and exports them with its nfprobe plugin as NetFlow v5, v9 and IPFIX
// to nfcapd (nfdump's collector), and with its sfprobe plugin as sFlow v5 to sfcapd,
// each repeating every datagram to a Collector. What the Decoder makes of the
// datagrams must equal, flow by flow, what nfdump reads from the collector's files,
// and what the capture holds: exactly when unsampled, within sampling error when
// sampled.
// softflowd exports the same capture as NetFlow v5, v9 and IPFIX.
//
// softflowd 1.1.0 reading a capture (-r) blocks for ever in accept(2) on its control
// socket before it reads a packet, whenever it has a control socket (-c PATH, or the
// default /var/run/softflowd.ctl when -r does not clear it): in capture mode its main
// loop skips the poll(2) that fills its pollfd array but still tests that array's
// control-socket entry, so stack garbage decides; the environment (a Go test's or a
// shell's) only moves the garbage. strace shows accept() right after the start-up
// lines, no read of packets. "-c none" removes the control socket, and with it the
// hang: softflowd ends after the capture every time.

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
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
// Ethernet capture; then the trailer's packets, if any.
func writeCapture(t *testing.T, path string, cs []conversation, trailer ...conversation) {
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
	for _, part := range [][]conversation{cs, trailer} {
		left := make([]int, len(part))
		for i, c := range part {
			left[i] = c.packets
		}
		for more := true; more; {
			more = false
			for i, c := range part {
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

// counts are a flow's totals; flags is the OR of its TCP flags.
type counts struct {
	bytes, packets uint64
	flags          uint8
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

// collected is what one export through an nfdump collector gave.
type collected struct {
	records []Record           // the Collector's, from the repeated datagrams
	ours    map[flowKey]counts // the records summed by flow
	theirs  map[flowKey]counts // nfdump's reading of the collector's files, summed by flow
	ifs     map[flowKey][2]uint32
	col     *Collector // stopped; for its Exporters and its Decoder's Stats
	nfdump  string     // nfdump's output, for messages
}

// collect runs collector (nfcapd or sfcapd, with args) repeating every datagram it
// receives to a Collector, calls export with the collector's port and a way to read
// the Collector's totals of a flow so far, stops the collector, and reads its files
// with nfdump.
func collect(t *testing.T, collector, nfdump string, args []string, export func(port int, sofar func(flowKey) counts)) *collected {
	t.Helper()
	dir := t.TempDir()
	c := &collected{ours: map[flowKey]counts{}, theirs: map[flowKey]counts{}, ifs: map[flowKey][2]uint32{}}
	var mu sync.Mutex
	col, err := Listen([]string{"127.0.0.1:0"}, func(r Record) {
		mu.Lock()
		defer mu.Unlock()
		c.records = append(c.records, r)
		k := flowKey{r.Src, r.Dst, r.SrcPort, r.DstPort, r.Proto}
		n := c.ours[k]
		n.bytes += r.Bytes
		n.packets += r.Packets
		n.flags |= r.TCPFlags
		c.ours[k] = n
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.col = col
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- col.Run(ctx) }()
	defer func() { stop(); <-ran }()

	port := freeUDPPort(t)
	files := filepath.Join(dir, "files") // nfdump reads every file there
	if err := os.Mkdir(files, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(collector, append([]string{"-b", "127.0.0.1", "-p", strconv.Itoa(port), "-w", files,
		"-B", "16000000", "-R", fmt.Sprintf("127.0.0.1/%d", col.Addrs()[0].Port()),
		"-P", filepath.Join(dir, "collector.pid")}, args...)...)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	waitBound(t, port)
	export(port, func(k flowKey) counts {
		mu.Lock()
		defer mu.Unlock()
		return c.ours[k]
	})
	// The collector repeats each datagram as it reads it: once its socket is empty and
	// it has ended, all it repeated is in the Collector's socket. (A SIGTERM while
	// datagrams wait unread loses them: softflowd ends a moment after its last.)
	waitRead(t, port)
	// nfcapd stopped within a moment of softflowd's last datagram now and then (1 run
	// in ~20) writes no flow at all although it read them: give it a second.
	time.Sleep(time.Second)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	stopped = true
	drain(t, col)

	b, err := exec.Command(nfdump, "-R", files, "-q", "-N", "-o", "fmt:%sa,%da,%sp,%dp,%pr,%pkt,%byt,%flg,%in,%out").CombinedOutput()
	if err != nil {
		t.Fatalf("nfdump: %v\n%s\n%s said:\n%s", err, b, collector, out)
	}
	c.nfdump = string(b)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(strings.ReplaceAll(line, " ", ""), ",")
		if len(f) != 10 {
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
		in, _ := strconv.ParseUint(f[8], 10, 32)
		outIf, _ := strconv.ParseUint(f[9], 10, 32)
		n := c.theirs[k]
		n.packets += pk
		n.bytes += by
		n.flags |= nfdumpFlags(f[7])
		c.theirs[k] = n
		c.ifs[k] = [2]uint32{uint32(in), uint32(outIf)}
	}
	mu.Lock()
	defer mu.Unlock()
	return c
}

// nfdumpFlags reads nfdump's TCP flags ("...AP..."): one letter a flag, CWR first.
func nfdumpFlags(s string) uint8 {
	var f uint8
	for i := 0; i < len(s) && i < 8; i++ {
		if s[i] != '.' {
			f |= 0x80 >> i
		}
	}
	return f
}

// waitBound returns once something listens on the UDP port of 127.0.0.1, as
// /proc/net/udp says; where there is no /proc, after a moment.
func waitBound(t *testing.T, port int) {
	t.Helper()
	want := fmt.Sprintf("0100007F:%04X ", port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile("/proc/net/udp")
		if err != nil {
			time.Sleep(300 * time.Millisecond)
			return
		}
		if strings.Contains(string(b), want) {
			return
		}
	}
	t.Fatalf("nothing listens on 127.0.0.1:%d", port)
}

// waitRead returns once the UDP socket on port of 127.0.0.1 holds no datagram unread,
// as /proc/net/udp says (its rx_queue); where there is no /proc, after a moment.
func waitRead(t *testing.T, port int) {
	t.Helper()
	local := fmt.Sprintf("0100007F:%04X", port)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile("/proc/net/udp")
		if err != nil {
			time.Sleep(time.Second)
			return
		}
		empty := true
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) > 4 && f[1] == local && !strings.HasSuffix(f[4], ":00000000") {
				empty = false
			}
		}
		if empty {
			return
		}
	}
	t.Fatalf("datagrams left unread on 127.0.0.1:%d", port)
}

// sentinel sends the datagram that drain waits for; it comes from its own address.
var sentinel = netip.MustParseAddr("127.0.0.2")

// drain returns once the Collector has handled every datagram sent to it before: a
// datagram from another loopback address goes through the same socket after them.
func drain(t *testing.T, col *Collector) {
	t.Helper()
	conn, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(sentinel, 0)),
		net.UDPAddrFromAddrPort(col.Addrs()[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, e := range col.Exporters() {
			if e.Addr == sentinel {
				return
			}
		}
	}
	t.Fatal("the Collector did not receive the sentinel datagram")
}

// exporter is what the Collector knows of the exporter at 127.0.0.1 (the collector
// repeats from there), with the sentinel's datagram checked and left out.
func (c *collected) exporter(t *testing.T) Exporter {
	t.Helper()
	var ex Exporter
	for _, e := range c.col.Exporters() {
		switch e.Addr {
		case sentinel:
			if e.Datagrams != 1 || e.Errors != 1 {
				t.Errorf("sentinel exporter %+v", e)
			}
		case netip.MustParseAddr("127.0.0.1"):
			ex = e
		default:
			t.Errorf("unexpected exporter %+v", e)
		}
	}
	return ex
}

// agree checks that the Decoder and nfdump read the same flows with the same totals.
func (c *collected) agree(t *testing.T) {
	t.Helper()
	for k, n := range c.theirs {
		if c.ours[k] != n {
			t.Errorf("flow %v: decoded %+v, nfdump %+v", k, c.ours[k], n)
		}
	}
	for k := range c.ours {
		if _, ok := c.theirs[k]; !ok {
			t.Errorf("decoded flow %v that nfdump does not have", k)
		}
	}
	if st := c.col.Decoder().Stats(); len(st.Errors) != 1 || st.Errors["short"] != 1 || st.Records != uint64(len(c.records)) {
		t.Errorf("stats %+v, want %d records and only the sentinel's error", st, len(c.records))
	}
	if ex := c.exporter(t); ex.Records != uint64(len(c.records)) || ex.Errors != 0 || ex.Datagrams == 0 || ex.LastSeen.IsZero() {
		t.Errorf("exporter %+v, want %d records", ex, len(c.records))
	}
}

func (k flowKey) String() string {
	return fmt.Sprintf("%v:%d>%v:%d/%d", k.src, k.srcPort, k.dst, k.dstPort, k.proto)
}

func (cv conversation) key() flowKey {
	return flowKey{netip.MustParseAddr(cv.src), netip.MustParseAddr(cv.dst), cv.srcPort, cv.dstPort, uint8(cv.proto)}
}

// pmacctd runs pmacctd over capture with one plugin and the configuration lines given.
func pmacctd(t *testing.T, pmacctd, capture, plugin string, port int, lines ...string) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "pmacctd.conf")
	// The core hands packets to the plugin through a pipe, and drops what the pipe
	// cannot hold while the plugin waits for a CPU (on a loaded machine, most of a
	// capture): a pipe and buffers large enough for the test captures.
	text := fmt.Sprintf("daemonize: false\npcap_savefile: %s\nplugins: %s\n%s_receiver: 127.0.0.1:%d\n"+
		"plugin_pipe_size: 67108864\nplugin_buffer_size: 65536\n%s\n",
		capture, plugin, plugin, port, strings.Join(lines, "\n"))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(ctx, pmacctd, "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("pmacctd: %v\n%s", err, b)
	}
}

// sfprobe runs pmacctd's sfprobe plugin over a capture that ends with sflowTrailer.
// pmacctd alone ends with its capture, and a plugin still behind its core then loses
// the samples it had not sent: on a loaded machine, dozens of the capture's last
// packets (13 of a test conversation's, besides the trailer's 32, in one run). So the
// core waits at the end of the capture (pcap_savefile_wait) until a trailer sample
// has arrived, i.e. every sample before it, and is stopped then.
func sfprobe(t *testing.T, pmacctd, capture string, port int, sofar func(flowKey) counts, lines ...string) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "pmacctd.conf")
	text := fmt.Sprintf("daemonize: false\npcap_savefile: %s\npcap_savefile_wait: true\nplugins: sfprobe\nsfprobe_receiver: 127.0.0.1:%d\n"+
		"plugin_pipe_size: 67108864\nplugin_buffer_size: 65536\n%s\n", capture, port, strings.Join(lines, "\n"))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out := &strings.Builder{}
	cmd := exec.Command(pmacctd, "-f", conf)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	end := sflowTrailer(1).key()
	for deadline := time.Now().Add(60 * time.Second); sofar(end).packets == 0; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("pmacctd ended before the capture's last samples arrived: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			t.Fatalf("no sample of the capture's end arrived in 60 s; pmacctd said:\n%s", out)
		}
	}
	// SIGKILL to the core and its plugin together: a SIGINT to the core alone makes
	// the plugin send much of the capture's samples a second time.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

func TestExportersAgreeWithNfdump(t *testing.T) {
	pm := testneed.Program(t, "pmacctd", "apt-get install pmacct")
	nfcapd := testneed.Program(t, "nfcapd", "apt-get install nfdump")
	nfdump := testneed.Program(t, "nfdump", "apt-get install nfdump")
	cs := testConversations()
	capture := filepath.Join(t.TempDir(), "known.pcap")
	writeCapture(t, capture, cs)

	sfd := testneed.Program(t, "softflowd", "apt-get install softflowd")
	for _, run := range []struct{ exporter, version string }{
		{"pmacctd", "5"}, {"pmacctd", "9"}, {"pmacctd", "10"}, {"softflowd", "5"}, {"softflowd", "9"}, {"softflowd", "10"},
	} {
		version := run.version
		t.Run(run.exporter+"/v"+version, func(t *testing.T) {
			c := collect(t, nfcapd, nfdump, nil, func(port int, _ func(flowKey) counts) {
				if run.exporter == "softflowd" {
					softflowd(t, sfd, capture, port, version)
				} else {
					pmacctd(t, pm, capture, "nfprobe", port, "nfprobe_version: "+version)
				}
			})
			c.agree(t)
			if len(c.theirs) != len(cs) {
				t.Errorf("nfdump read %d flows, want %d:\n%s", len(c.theirs), len(cs), c.nfdump)
			}
			// And both agree with the capture itself.
			for _, cv := range cs {
				if got, want := c.ours[cv.key()], (counts{uint64(cv.packets * cv.size), uint64(cv.packets), 0}); got.bytes != want.bytes || got.packets != want.packets {
					t.Errorf("flow %v: decoded %+v, the capture holds %+v", cv.key(), got, want)
				}
			}
			want := map[string]Kind{"5": NetFlowV5, "9": NetFlowV9, "10": IPFIX}[version]
			for _, r := range c.records {
				if r.Kind != want || r.SamplingRate != 1 {
					t.Fatalf("record %+v, want kind %v unsampled", r, want)
				}
			}
			if len(c.records) != len(cs) {
				t.Errorf("%d records, want one a conversation (%d)", len(c.records), len(cs))
			}
		})
	}
}

// softflowd runs softflowd over capture, exporting as version with extra arguments.
func softflowd(t *testing.T, softflowd, capture string, port int, version string, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"-r", capture, "-n", fmt.Sprintf("127.0.0.1:%d", port), "-v", version, "-d",
		"-c", "none", "-p", filepath.Join(t.TempDir(), "softflowd.pid")}, extra...)
	cmd := exec.CommandContext(ctx, softflowd, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softflowd: %v\n%s", err, b)
	}
}

// sflowFrameOverhead is what an sFlow frame length adds to an IP packet's: the
// Ethernet header and the FCS.
const sflowFrameOverhead = 14 + 4

// pmacctd's sfprobe exports the capture as sFlow v5, one raw header sample a packet;
// sfcapd and the Decoder read the same samples. Each flow's totals are exact; the
// interfaces pmacctd sends (0x3FFFFFFF, "the device itself", as nfdump shows it) are 0.
func TestSFlowAgreesWithSfcapd(t *testing.T) {
	pm := testneed.Program(t, "pmacctd", "apt-get install pmacct")
	sfcapd := testneed.Program(t, "sfcapd", "apt-get install nfdump-sflow")
	nfdump := testneed.Program(t, "nfdump", "apt-get install nfdump")
	cs := testConversations()
	capture := filepath.Join(t.TempDir(), "known.pcap")
	writeCapture(t, capture, cs, sflowTrailer(1))

	c := collect(t, sfcapd, nfdump, nil, func(port int, sofar func(flowKey) counts) {
		sfprobe(t, pm, capture, port, sofar)
	})
	c.agree(t)
	for _, cv := range cs {
		want := counts{uint64(cv.packets * (cv.size + sflowFrameOverhead)), uint64(cv.packets), 0}
		if cv.proto == layers.IPProtocolTCP {
			want.flags = 0x18 // the capture's ACK|PSH
		}
		if got := c.ours[cv.key()]; got != want {
			t.Errorf("flow %v: decoded %+v, the capture holds %+v", cv.key(), got, want)
		}
		if ifs := c.ifs[cv.key()]; ifs != [2]uint32{0x3fffffff, 0x3fffffff} {
			t.Errorf("flow %v: nfdump reads interfaces %v, want pmacctd's 0x3FFFFFFF", cv.key(), ifs)
		}
	}
	if got, tail := c.ours[sflowTrailer(1).key()], sflowTrailer(1); got.packets > uint64(tail.packets) {
		t.Errorf("trailer: %+v of %d packets", got, tail.packets)
	}
	for _, r := range c.records {
		if r.Kind != SFlow5 || r.SamplingRate != 1 || r.Packets != 1 || r.InIf != 0 || r.OutIf != 0 {
			t.Fatalf("record %+v, want one unsampled sFlow packet on no interface", r)
		}
	}
}

// sflowTrailer ends a capture for pmacctd's sfprobe. Its samples mark the end: once
// one has arrived, every sample of the conversations before it has too. A run may
// lose some of the trailer's own, and no test conversation's.
func sflowTrailer(rate int) conversation {
	return conversation{"10.0.9.9", "192.0.2.99", 60000, 9, layers.IPProtocolUDP, 32 * rate, 64}
}

// sampledConversations are testConversations, a hundred times as long: enough packets
// that 1-in-10 sampling estimates them within a few per cent.
func sampledConversations() []conversation {
	cs := testConversations()
	for i := range cs {
		cs[i].packets *= 100
	}
	return cs
}

// withinSampling checks estimated totals against the capture's. Each packet is taken
// with probability 1/rate (pmacctd's sampling is random), so an estimate rate×k of n
// packets has the variance of a scaled binomial: (rate-1)·n for packets and
// (rate-1)·Σsize² for bytes. The bound is five standard deviations, for the totals and
// for every conversation of at least 1,000 packets; it fails a correct decoder about
// once in 1.7 million runs, and a decoder that forgets the rate always.
func withinSampling(t *testing.T, rate int, cs []conversation, overhead int, ours map[flowKey]counts) {
	t.Helper()
	check := func(what string, n, bytes, sumSq float64, got counts) {
		sdp, sdb := math.Sqrt(float64(rate-1)*n), math.Sqrt(float64(rate-1)*sumSq)
		if d := math.Abs(float64(got.packets) - n); d > 5*sdp {
			t.Errorf("%s: %d packets estimated, the capture holds %.0f (%.1f standard deviations of %.0f)", what, got.packets, n, d/sdp, sdp)
		}
		if d := math.Abs(float64(got.bytes) - bytes); d > 5*sdb {
			t.Errorf("%s: %d bytes estimated, the capture holds %.0f (%.1f standard deviations of %.0f)", what, got.bytes, bytes, d/sdb, sdb)
		}
		t.Logf("%s: %d packets and %d bytes estimated, %.0f and %.0f true (%+.1f%%, %+.1f%%)", what, got.packets, got.bytes, n, bytes,
			100*(float64(got.packets)-n)/n, 100*(float64(got.bytes)-bytes)/bytes)
	}
	var total counts
	var n, bytes, sumSq float64
	for _, cv := range cs {
		got := ours[cv.key()]
		total.packets += got.packets
		total.bytes += got.bytes
		size := float64(cv.size + overhead)
		n += float64(cv.packets)
		bytes += float64(cv.packets) * size
		sumSq += float64(cv.packets) * size * size
		if cv.packets >= 1000 {
			check(fmt.Sprintf("flow %v", cv.key()), float64(cv.packets), float64(cv.packets)*size, float64(cv.packets)*size*size, got)
		}
	}
	check("all flows", n, bytes, sumSq, total)
}

// With 1-in-10 sampling, every sFlow sample says so, both sides scale each sample by
// it, and the estimates hold the capture's totals within sampling error.
func TestSFlowSampled(t *testing.T) {
	pm := testneed.Program(t, "pmacctd", "apt-get install pmacct")
	sfcapd := testneed.Program(t, "sfcapd", "apt-get install nfdump-sflow")
	nfdump := testneed.Program(t, "nfdump", "apt-get install nfdump")
	const rate = 10
	cs := sampledConversations()
	capture := filepath.Join(t.TempDir(), "sampled.pcap")
	writeCapture(t, capture, cs, sflowTrailer(rate))

	c := collect(t, sfcapd, nfdump, nil, func(port int, sofar func(flowKey) counts) {
		sfprobe(t, pm, capture, port, sofar, fmt.Sprintf("sampling_rate: %d", rate))
	})
	c.agree(t)
	for _, r := range c.records {
		if r.Kind != SFlow5 || r.SamplingRate != rate || r.Packets != rate || r.Bytes%rate != 0 {
			t.Fatalf("record %+v, want one sFlow sample scaled by %d", r, rate)
		}
	}
	withinSampling(t, rate, cs, sflowFrameOverhead, c.ours)
}

// pmacctd's nfprobe with sampling_rate announces it in NetFlow v9 and IPFIX options
// data (samplerRandomInterval, element 50, of sampler 1, which every data record
// names in element 48); softflowd -s in NetFlow v9 as samplingInterval (34), in IPFIX
// as samplingPacketInterval 1 and samplingPacketSpace 9 (305, 306). The Decoder
// learns the rate and scales every record.
//
// nfdump 1.7.1 does not apply that announcement: its files say "Unsampled" and hold
// the exported counts. Given the rate with nfcapd -s 10 (the rate of exporters that
// announce none), it multiplies packets and bytes when it collects ("Sampled"), and
// then the two must agree flow by flow. (nfcapd -s -10, meant to override announced
// rates, multiplies IPFIX records by 4294967286: the rate taken unsigned.)
func TestSampledNetFlowAgreesWithNfdump(t *testing.T) {
	pm := testneed.Program(t, "pmacctd", "apt-get install pmacct")
	nfcapd := testneed.Program(t, "nfcapd", "apt-get install nfdump")
	nfdump := testneed.Program(t, "nfdump", "apt-get install nfdump")
	const rate = 10
	cs := sampledConversations()
	capture := filepath.Join(t.TempDir(), "sampled.pcap")
	writeCapture(t, capture, cs)

	sfd := testneed.Program(t, "softflowd", "apt-get install softflowd")
	for _, run := range []struct{ exporter, version string }{
		{"pmacctd", "9"}, {"pmacctd", "10"}, {"softflowd", "9"}, {"softflowd", "10"},
	} {
		version := run.version
		t.Run(run.exporter+"/v"+version, func(t *testing.T) {
			c := collect(t, nfcapd, nfdump, []string{"-s", strconv.Itoa(rate)}, func(port int, _ func(flowKey) counts) {
				if run.exporter == "softflowd" {
					softflowd(t, sfd, capture, port, version, "-s", strconv.Itoa(rate))
				} else {
					pmacctd(t, pm, capture, "nfprobe", port, "nfprobe_version: "+version, fmt.Sprintf("sampling_rate: %d", rate))
				}
			})
			c.agree(t)
			for _, r := range c.records {
				if r.SamplingRate != rate || r.Packets%rate != 0 || r.Bytes%rate != 0 {
					t.Fatalf("record %+v, want it scaled by %d", r, rate)
				}
			}
			if run.exporter == "pmacctd" {
				withinSampling(t, rate, cs, 0, c.ours)
				return
			}
			// softflowd takes every tenth packet: the packets it counts, scaled, are the
			// capture's to within one sample. Which packets those are follows the
			// capture's round-robin order, so bytes and single conversations are biased
			// (the heavy conversation's packets fall on the tenth more often): no
			// binomial bound holds for them.
			var packets, truth uint64
			for _, r := range c.records {
				packets += r.Packets
			}
			for _, cv := range cs {
				truth += uint64(cv.packets)
			}
			if packets+rate < truth || packets > truth+rate {
				t.Errorf("%d packets estimated, the capture holds %d: want it within one sample (%d)", packets, truth, rate)
			}
		})
	}
}
