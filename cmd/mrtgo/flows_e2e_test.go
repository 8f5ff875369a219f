package main

// The flows path end to end, against exporters and a reference collector that no one
// here wrote: a capture with known top talkers goes through softflowd (and pmacctd's
// nfprobe) as NetFlow v5, v9 and IPFIX to nfcapd, which writes its files and repeats
// every datagram to "mrtgo run". Then "mrtgo flows --format csv" must give, for every
// group and measure, nfdump's -s statistics over nfcapd's files: the same keys in the
// same order, the same flows, packets and bytes, the same totals; and "mrtgo flows
// --raw json" one line per nfdump record, with the same counts.

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/internal/testneed"
)

// conversation is the packets of one direction of one flow in the test capture.
type conversation struct {
	src, dst         string
	srcPort, dstPort uint16
	proto            layers.IPProtocol
	packets, size    int // size is the IP length of each packet
}

// flowConversations are the capture's flows: a few heavy ones, two that share a
// source, and a tail of small ones with ties among them, TCP and UDP, so that every
// grouping has several keys and a known order.
func flowConversations() []conversation {
	cs := []conversation{
		{"10.0.0.1", "192.0.2.10", 40000, 443, layers.IPProtocolTCP, 60, 1400},
		{"10.0.0.1", "192.0.2.20", 40001, 53, layers.IPProtocolUDP, 12, 90},
		{"10.0.0.2", "192.0.2.20", 5353, 53, layers.IPProtocolUDP, 40, 180},
		{"192.0.2.10", "10.0.0.1", 443, 40000, layers.IPProtocolTCP, 30, 52},
		{"10.0.0.3", "192.0.2.30", 41000, 80, layers.IPProtocolTCP, 25, 900},
	}
	for i := range 16 {
		cs = append(cs, conversation{fmt.Sprintf("10.0.1.%d", i+1), "192.0.2.99", uint16(50000 + i), 123,
			layers.IPProtocolUDP, 1 + i%4, 76 + 10*(i%5)})
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
			b := capturePacket(t, c)
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(b), Length: len(b)}, b); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// capturePacket is one Ethernet frame of c, its IP packet c.size bytes long.
func capturePacket(t *testing.T, c conversation) []byte {
	t.Helper()
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

// udpSocket reports whether a UDP socket is bound to port of 127.0.0.1 and, if so,
// whether datagrams wait unread in it, as /proc/net/udp says. ok is false where
// there is no /proc.
func udpSocket(port int) (bound, unread, ok bool) {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return false, false, false
	}
	local := fmt.Sprintf("0100007F:%04X", port)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[1] == local {
			bound = true
			unread = unread || !strings.HasSuffix(f[4], ":00000000") // tx_queue:rx_queue
		}
	}
	return bound, unread, true
}

// waitUDP returns once the UDP socket on port of 127.0.0.1 is bound (and, with
// drained, holds no datagram unread); where there is no /proc, after a moment.
func waitUDP(t *testing.T, port int, drained bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		bound, unread, ok := udpSocket(port)
		if !ok {
			time.Sleep(time.Second)
			return
		}
		if bound && !(drained && unread) {
			return
		}
	}
	t.Fatalf("127.0.0.1:%d: not bound, or datagrams left unread (drained %v)", port, drained)
}

// nfcapdRepeating runs nfcapd, writing its files into files and repeating every
// datagram to 127.0.0.1:repeatTo, calls export with its port, and stops it once it
// has read and repeated everything.
func nfcapdRepeating(t *testing.T, nfcapd, files string, repeatTo int, export func(port int), extra ...string) {
	t.Helper()
	port := closedUDPPort(t)
	cmd := exec.Command(nfcapd, append([]string{"-b", "127.0.0.1", "-p", strconv.Itoa(port), "-w", files, "-B", "16000000",
		"-R", fmt.Sprintf("127.0.0.1/%d", repeatTo), "-P", filepath.Join(t.TempDir(), "nfcapd.pid")}, extra...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Logf("nfcapd said:\n%s", out.String())
		}
	}()
	waitUDP(t, port, false)
	export(port)
	// nfcapd repeats each datagram as it reads it: once its socket is empty, all of
	// them are on their way to mrtgo. A SIGTERM while datagrams wait unread would lose
	// them; one within a moment of the last datagram now and then writes no file.
	waitUDP(t, port, true)
	time.Sleep(time.Second)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	stopped = true
	if err != nil {
		t.Fatalf("nfcapd: %v\n%s", err, out.String())
	}
}

// softflowdExport runs softflowd over capture, exporting as version to port.
// "-c none": softflowd 1.1.0 reading a capture with a control socket may block in
// accept(2) for ever (see flow/exporters_test.go).
func softflowdExport(t *testing.T, softflowd, capture, version string, port int, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := exec.CommandContext(ctx, softflowd, append([]string{"-r", capture, "-n", fmt.Sprintf("127.0.0.1:%d", port), "-v", version,
		"-d", "-c", "none", "-p", filepath.Join(t.TempDir(), "softflowd.pid")}, extra...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("softflowd: %v\n%s", err, b)
	}
}

// pmacctdExport runs pmacctd over capture, exporting with its nfprobe plugin as
// version to port.
func pmacctdExport(t *testing.T, pmacctd, capture, version string, port int) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "pmacctd.conf")
	text := fmt.Sprintf("daemonize: false\npcap_savefile: %s\nplugins: nfprobe\nnfprobe_receiver: 127.0.0.1:%d\nnfprobe_version: %s\n",
		capture, port, version)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(ctx, pmacctd, "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("pmacctd: %v\n%s", err, b)
	}
}

// nfCounts are the counts of a row, ours or nfdump's.
type nfCounts struct{ flows, packets, bytes uint64 }

func (c nfCounts) get(by string) uint64 {
	switch by {
	case "flows":
		return c.flows
	case "packets":
		return c.packets
	}
	return c.bytes
}

// statRow is a row of a statistic: the key as mrtgo's CSV writes it (key columns
// joined by commas), its counts and its share of the measure's total in per cent.
type statRow struct {
	key   string
	c     nfCounts
	share float64 // NaN where nfdump gives none
}

// protoNumber is a protocol as nfdump prints it ("TCP", "UDP", or a number) as mrtgo's
// CSV writes it: a number.
func protoNumber(t *testing.T, s string) string {
	t.Helper()
	if _, err := strconv.ParseUint(s, 10, 8); err == nil {
		return s
	}
	n, ok := map[string]int{"ICMP": 1, "TCP": 6, "UDP": 17}[strings.ToUpper(s)]
	if !ok {
		t.Fatalf("nfdump protocol %q", s)
	}
	return strconv.Itoa(n)
}

func parseCount(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("count %q: %v", s, err)
	}
	return n
}

// nfdumpStat reads nfdump's -s STAT/BY -n 0 -o csv: a header line, a row per key,
// a blank line, "Summary", the summary's header and its values.
func nfdumpStat(t *testing.T, out, group, by string) ([]statRow, nfCounts) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	head := strings.Split(lines[0], ",")
	col := func(names ...string) int {
		for _, n := range names {
			if i := slices.Index(head, n); i >= 0 {
				return i
			}
		}
		t.Fatalf("nfdump csv header %q has none of %v", lines[0], names)
		return -1
	}
	val, fl, pkt, byt := col("val"), col("fl"), col("pkt", "ipkt"), col("byt", "ibyt")
	pct := map[string]int{"flows": col("flP"), "packets": col("pktP", "ipktP"), "bytes": col("bytP", "ibytP")}[by]
	var rows []statRow
	i := 1
	for ; i < len(lines) && lines[i] != ""; i++ {
		f := strings.Split(lines[i], ",")
		if len(f) != len(head) {
			t.Fatalf("nfdump csv line %q", lines[i])
		}
		share, err := strconv.ParseFloat(f[pct], 64)
		if err != nil {
			t.Fatalf("nfdump csv line %q: %v", lines[i], err)
		}
		key := f[val]
		if group == "proto" {
			key = protoNumber(t, key)
		}
		rows = append(rows, statRow{key: key, c: nfCounts{parseCount(t, f[fl]), parseCount(t, f[pkt]), parseCount(t, f[byt])}, share: share})
	}
	if i+3 >= len(lines)+1 || lines[i+1] != "Summary" || !strings.HasPrefix(lines[i+2], "flows,bytes,packets") {
		t.Fatalf("nfdump csv without its summary:\n%s", out)
	}
	s := strings.Split(lines[i+3], ",")
	return rows, nfCounts{flows: parseCount(t, s[0]), bytes: parseCount(t, s[1]), packets: parseCount(t, s[2])}
}

// nfdumpConv reads nfdump's -A srcip,dstip,proto,srcport,dstport lines printed as
// fmt:%sa,%da,%pr,%sp,%dp,%fl,%pkt,%byt.
func nfdumpConv(t *testing.T, out string) []statRow {
	t.Helper()
	var rows []statRow
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(strings.ReplaceAll(line, " ", ""), ",")
		if len(f) != 8 {
			t.Fatalf("nfdump line %q", line)
		}
		rows = append(rows, statRow{key: strings.Join([]string{f[0], f[1], protoNumber(t, f[2]), f[3], f[4]}, ","),
			c: nfCounts{parseCount(t, f[5]), parseCount(t, f[6]), parseCount(t, f[7])}, share: math.NaN()})
	}
	return rows
}

// mrtgoStat reads "mrtgo flows --format csv": its rows, and its other and total rows.
func mrtgoStat(t *testing.T, out string) (rows []statRow, other, total nfCounts, otherKeys, totalKeys int) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) < 3 {
		t.Fatalf("mrtgo flows csv (%v):\n%s", err, out)
	}
	head := recs[0]
	col := func(name string) int {
		i := slices.Index(head, name)
		if i < 0 {
			t.Fatalf("mrtgo flows csv header %v has no %q", head, name)
		}
		return i
	}
	keys, fl, pkt, byt, share := col("keys"), col("flows"), col("packets"), col("bytes"), col("share")
	for _, r := range recs[1:] {
		c := nfCounts{parseCount(t, r[fl]), parseCount(t, r[pkt]), parseCount(t, r[byt])}
		n, err := strconv.Atoi(r[keys])
		if err != nil {
			t.Fatalf("keys %q", r[keys])
		}
		switch r[0] {
		case "other":
			other, otherKeys = c, n
		case "total":
			total, totalKeys = c, n
		default:
			if n != 1 {
				t.Errorf("row %s counts %d keys, want 1", r[0], n)
			}
			sh, err := strconv.ParseFloat(r[share], 64)
			if err != nil {
				t.Fatalf("share %q", r[share])
			}
			rows = append(rows, statRow{key: strings.Join(r[1:keys], ","), c: c, share: sh})
		}
	}
	return rows, other, total, otherKeys, totalKeys
}

// compareStat holds mrtgo's rows against nfdump's, heaviest first: the same keys with
// the same counts, the same measure at every rank (nfdump breaks ties its own way),
// the same share to nfdump's decimal, and the total.
func compareStat(t *testing.T, by, out string, theirs []statRow, total nfCounts) {
	t.Helper()
	ours, other, ourTotal, otherKeys, totalKeys := mrtgoStat(t, out)
	if len(ours) != len(theirs) {
		t.Errorf("%d rows, nfdump %d", len(ours), len(theirs))
	}
	if ourTotal != total || totalKeys != len(theirs) {
		t.Errorf("total %+v of %d keys, nfdump %+v of %d", ourTotal, totalKeys, total, len(theirs))
	}
	if other != (nfCounts{}) || otherKeys != 0 {
		t.Errorf("other %+v of %d keys, want none with --top 0", other, otherKeys)
	}
	byKey := map[string]statRow{}
	for _, r := range theirs {
		byKey[r.key] = r
	}
	for i, r := range ours {
		if i < len(theirs) && r.c.get(by) != theirs[i].c.get(by) {
			t.Errorf("row %d: %s %d, nfdump's row %d has %d", i+1, by, r.c.get(by), i+1, theirs[i].c.get(by))
		}
		th, ok := byKey[r.key]
		if !ok {
			t.Errorf("row %d: key %s not in nfdump's", i+1, r.key)
			continue
		}
		if r.c != th.c {
			t.Errorf("%s: %+v, nfdump %+v", r.key, r.c, th.c)
		}
		if !math.IsNaN(th.share) && math.Abs(r.share-th.share) > 0.05+1e-9 {
			t.Errorf("%s: share %.3f%%, nfdump %.1f%%", r.key, r.share, th.share)
		}
	}
	if t.Failed() {
		t.Logf("mrtgo flows:\n%s", out)
	}
}

// metricValue is the value of the sample name (with its labels, as written) in a
// Prometheus text exposition; ok is false when there is none.
func metricValue(body, name string) (v float64, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if rest, found := strings.CutPrefix(sc.Text(), name+" "); found {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// rawRecord is a record of "mrtgo flows --raw json" or of nfdump, as text:
// addresses, ports, protocol, packets and bytes.
func rawRecord(src, dst string, sp, dp, proto string, packets, bytes uint64) string {
	return fmt.Sprintf("%s:%s>%s:%s/%s %d packets %d bytes", src, sp, dst, dp, proto, packets, bytes)
}

func TestFlowsMatchNfdump(t *testing.T) {
	nfcapd := testneed.Program(t, "nfcapd", "apt-get install nfdump")
	nfdump := testneed.Program(t, "nfdump", "apt-get install nfdump")
	cs := flowConversations()
	capture := filepath.Join(t.TempDir(), "known.pcap")
	writeCapture(t, capture, cs)
	var captured uint64
	for _, c := range cs {
		captured += uint64(c.packets * c.size)
	}

	for _, tt := range []struct {
		exporter, version string
		sampling          int // 1 in N packets; 0 unsampled
	}{
		{"softflowd", "5", 0}, {"softflowd", "9", 0}, {"softflowd", "10", 0},
		{"pmacctd", "5", 0}, {"pmacctd", "9", 0}, {"pmacctd", "10", 0},
		// Sampled: softflowd announces its rate (v9 samplingInterval, IPFIX
		// samplingPacketInterval and Space), mrtgo scales by it; nfcapd, told the
		// rate with -s, scales the same records alike.
		{"softflowd", "9", 10}, {"softflowd", "10", 10},
	} {
		name := tt.exporter + "/v" + tt.version
		if tt.sampling > 0 {
			name += fmt.Sprintf("/sampled-1-in-%d", tt.sampling)
		}
		t.Run(name, func(t *testing.T) {
			// Each export has its own daemon, nfcapd and ports; they mostly wait
			// (pmacctd takes some five seconds to end), so they run together.
			t.Parallel()
			exporter := testneed.Program(t, tt.exporter, map[string]string{"softflowd": "apt-get install softflowd",
				"pmacctd": "apt-get install pmacct"}[tt.exporter])
			dir := t.TempDir()
			flowPort := closedUDPPort(t)
			cfgPath := filepath.Join(dir, "targets.toml")
			// No device: the records come from nfcapd at 127.0.0.1, an exporter no
			// device claims, and are stored raw as they are.
			cfg := fmt.Sprintf("step = \"1m\"\ntimezone = \"UTC\"\n\n[flows]\nlisten = [\"127.0.0.1:%d\"]\n", flowPort)
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			h := startDaemon(t, cfgPath)
			h.waitFor("flow socket", func() bool {
				bound, _, ok := udpSocket(flowPort)
				return bound || !ok
			})

			files := filepath.Join(dir, "nfcapd")
			if err := os.Mkdir(files, 0o755); err != nil {
				t.Fatal(err)
			}
			var nfcapdArgs, softflowdArgs []string
			if tt.sampling > 0 {
				nfcapdArgs = []string{"-s", strconv.Itoa(tt.sampling)}
				softflowdArgs = []string{"-s", strconv.Itoa(tt.sampling)}
			}
			nfcapdRepeating(t, nfcapd, files, flowPort, func(port int) {
				if tt.exporter == "softflowd" {
					softflowdExport(t, exporter, capture, tt.version, port, softflowdArgs...)
				} else {
					pmacctdExport(t, exporter, capture, tt.version, port)
				}
			}, nfcapdArgs...)

			// A datagram from another address follows the repeated ones through the
			// daemon's one socket: once it is counted, every record before it has been
			// handed over, and stopping the daemon stores them.
			sentinel := netip.MustParseAddr("127.0.0.2")
			conn, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(sentinel, 0)),
				net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(flowPort))))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Write([]byte{0}); err != nil {
				t.Fatal(err)
			}
			conn.Close()
			var metrics string
			h.waitFor("sentinel datagram", func() bool {
				metrics = h.scrape()
				return strings.Contains(metrics, `exporter="127.0.0.2"`)
			})
			h.stop()

			nf := func(t *testing.T, args ...string) string {
				t.Helper()
				out, err := exec.Command(nfdump, append([]string{"-R", files}, args...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("nfdump %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return string(out)
			}
			flows := func(t *testing.T, args ...string) string {
				t.Helper()
				code, out, errs := runCmd(t, append([]string{"flows", "-c", cfgPath, "--last", "1h"}, args...)...)
				if code != exitOK {
					t.Fatalf("mrtgo flows %s: exit %d: %s", strings.Join(args, " "), code, errs)
				}
				return out
			}

			// nfdump's records: one a conversation, all the capture's bytes; else
			// nothing below would tell a working path from an empty one.
			theirs := map[string]int{}
			var n int
			var bytes uint64
			for _, line := range strings.Split(strings.TrimSpace(nf(t, "-q", "-N", "-o", "fmt:%sa,%da,%sp,%dp,%pr,%pkt,%byt")), "\n") {
				f := strings.Split(strings.ReplaceAll(line, " ", ""), ",")
				if len(f) != 7 {
					t.Fatalf("nfdump line %q", line)
				}
				theirs[rawRecord(f[0], f[1], f[2], f[3], protoNumber(t, f[4]), parseCount(t, f[5]), parseCount(t, f[6]))]++
				n++
				bytes += parseCount(t, f[6])
			}
			switch {
			case tt.sampling == 0 && (n != len(cs) || bytes != captured):
				t.Fatalf("nfdump read %d records of %d bytes; the capture holds %d conversations of %d bytes", n, bytes, len(cs), captured)
			case tt.sampling > 0 && (n == 0 || bytes == 0):
				t.Fatalf("nfdump read %d records of %d bytes of a sampled export", n, bytes)
			}
			// The daemon decoded as many, and the kernel dropped none.
			if v, ok := metricValue(metrics, `mrtgo_flow_records_total{device="",exporter="127.0.0.1"}`); !ok || v != float64(n) {
				t.Errorf("the daemon decoded %v records (found %v), nfdump read %d", v, ok, n)
			}
			if v, ok := metricValue(metrics, "mrtgo_flow_socket_drops_total"); ok && v != 0 {
				t.Errorf("the kernel dropped %v datagrams on the daemon's socket", v)
			}

			t.Run("raw", func(t *testing.T) {
				want := map[string]flow.Kind{"5": flow.NetFlowV5, "9": flow.NetFlowV9, "10": flow.IPFIX}[tt.version].String()
				ours := map[string]int{}
				var bytes uint64
				out := flows(t, "--raw", "json")
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					var r struct {
						Kind, Exporter, Device string
						SamplingRate           uint64 `json:"sampling_rate"`
						Src, Dst               string
						SrcPort                uint16 `json:"src_port"`
						DstPort                uint16 `json:"dst_port"`
						Proto                  uint8
						Packets, Bytes         uint64
					}
					if err := json.Unmarshal([]byte(line), &r); err != nil {
						t.Fatalf("line %q: %v", line, err)
					}
					if r.Kind != want || r.Exporter != "127.0.0.1" || r.Device != "" || r.SamplingRate != uint64(max(tt.sampling, 1)) {
						t.Errorf("record %s: want %s from 127.0.0.1 at 1 in %d, with no device", line, want, max(tt.sampling, 1))
					}
					ours[rawRecord(r.Src, r.Dst, strconv.Itoa(int(r.SrcPort)), strconv.Itoa(int(r.DstPort)),
						strconv.Itoa(int(r.Proto)), r.Packets, r.Bytes)]++
					bytes += r.Bytes
				}
				for _, k := range slices.Sorted(maps.Keys(theirs)) {
					if ours[k] != theirs[k] {
						t.Errorf("%s: %d records, nfdump %d", k, ours[k], theirs[k])
					}
				}
				for _, k := range slices.Sorted(maps.Keys(ours)) {
					if _, ok := theirs[k]; !ok {
						t.Errorf("%s: %d records, nfdump none", k, ours[k])
					}
				}
				if tt.sampling == 0 && bytes != captured {
					t.Errorf("%d bytes in the records, the capture holds %d", bytes, captured)
				}
			})

			stats := map[string]string{"src": "srcip", "dst": "dstip", "srcport": "srcport", "dstport": "dstport", "proto": "proto"}
			for _, group := range []string{"src", "dst", "srcport", "dstport", "proto", "conv"} {
				for _, by := range []string{"bytes", "packets", "flows"} {
					t.Run(group+"/"+by, func(t *testing.T) {
						out := flows(t, "--group", group, "--by", by, "--top", "0", "--format", "csv")
						if group != "conv" {
							rows, total := nfdumpStat(t, nf(t, "-s", stats[group]+"/"+by, "-n", "0", "-o", "csv"), group, by)
							compareStat(t, by, out, rows, total)
							return
						}
						rows := nfdumpConv(t, nf(t, "-q", "-A", "srcip,dstip,proto,srcport,dstport", "-O", by, "-n", "0",
							"-o", "fmt:%sa,%da,%pr,%sp,%dp,%fl,%pkt,%byt"))
						var total nfCounts
						for _, r := range rows {
							total.flows += r.c.flows
							total.packets += r.c.packets
							total.bytes += r.c.bytes
						}
						compareStat(t, by, out, rows, total)
					})
				}
			}
		})
	}
}
