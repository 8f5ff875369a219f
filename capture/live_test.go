//go:build linux

package capture

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mrtgo/mrtgo/internal/testneed"
	"github.com/mrtgo/mrtgo/internal/testnetns"
)

// The live tests' network: two namespaces of the test's own, joined by a veth pair.
// The attacker's side (v0a in "a") has two IPv4 and two IPv6 addresses, A and B; the
// target's side (v0b in "t"), T and U. The captures run on v0b, the target's local
// interface, with the socket opened inside "t".
const (
	liveA, liveB   = "192.0.2.1", "192.0.2.2"
	liveT, liveU   = "192.0.2.100", "192.0.2.101"
	liveA6, liveB6 = "2001:db8::1", "2001:db8::2"
	liveT6, liveU6 = "2001:db8::100", "2001:db8::101"
	openPort       = 8080
)

type testNet struct {
	a, t    *testnetns.NS
	tcpdump string
}

func newTestNet(tb testing.TB) *testNet {
	tb.Helper()
	tcpdump := testneed.Program(tb, "tcpdump", "apt-get install tcpdump")
	n := &testNet{a: testnetns.New(tb, "capa"), t: testnetns.New(tb, "capt"), tcpdump: tcpdump}
	v := n.a.Veths(tb, 1)
	n.a.IP(tb, "link", "set", v[1], "netns", n.t.Name)
	n.t.IP(tb, "link", "set", v[1], "up")
	for _, addr := range []string{liveA + "/24", liveB + "/24"} {
		n.a.IP(tb, "addr", "add", addr, "dev", v[0])
	}
	for _, addr := range []string{liveA6 + "/64", liveB6 + "/64"} {
		n.a.IP(tb, "addr", "add", addr, "dev", v[0], "nodad")
	}
	for _, addr := range []string{liveT + "/24", liveU + "/24"} {
		n.t.IP(tb, "addr", "add", addr, "dev", v[1])
	}
	for _, addr := range []string{liveT6 + "/64", liveU6 + "/64"} {
		n.t.IP(tb, "addr", "add", addr, "dev", v[1], "nodad")
	}
	return n
}

// open opens a capture socket inside the target's namespace: Options.Open.
func (n *testNet) open(iface string) (Source, error) {
	var h Source
	err := n.t.Do(func() error {
		var err error
		h, err = openEthernet(iface)
		return err
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

func (n *testNet) capturer(t *testing.T, o Options) *Capturer {
	t.Helper()
	o.Interface, o.Open = "v0b", n.open
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	c, err := New(o, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// listen accepts TCP connections on the target's openPort, both families, and closes
// them.
func (n *testNet) listen(t *testing.T) {
	t.Helper()
	for _, addr := range []string{liveT, liveT6} {
		var ln net.Listener
		err := n.t.Do(func() error {
			var err error
			ln, err = net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(openPort)))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
}

// dial connects from src to each port of dst inside ns, one after the other: one SYN
// each, answered by a RST (closed) or a SYN-ACK (openPort).
func dial(t *testing.T, ns *testnetns.NS, src, dst string, ports ...int) {
	t.Helper()
	err := ns.Do(func() error {
		for _, p := range ports {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
			c, err := d.Dial("tcp", net.JoinHostPort(dst, strconv.Itoa(p)))
			if err == nil {
				c.Write([]byte("hello"))
				c.Close()
				continue
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("dial %s > %s: %v", src, dst, err)
	}
}

// sendUDP sends count datagrams of size bytes from src to dst:port inside ns, from
// an unconnected socket (a connected one fails a send after an ICMP port unreachable).
func sendUDP(t *testing.T, ns *testnetns.NS, src, dst string, port, count, size int) {
	t.Helper()
	err := ns.Do(func() error {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)})
		if err != nil {
			return err
		}
		defer c.Close()
		payload := make([]byte, size)
		to := &net.UDPAddr{IP: net.ParseIP(dst), Port: port}
		for range count {
			if _, err := c.WriteToUDP(payload, to); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("udp %s > %s: %v", src, dst, err)
	}
}

func ports(from, n int) []int {
	var ps []int
	for i := range n {
		ps = append(ps, from+i)
	}
	return ps
}

// tcpdumpRead runs tcpdump -n -r file (and args) and returns its lines. It fails the
// test when tcpdump fails or warns about the file (a truncated dump file).
func (n *testNet) tcpdumpRead(t *testing.T, file string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(n.tcpdump, append([]string{"-n", "-r", file}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tcpdump -r %s: %v: %s", file, err, stderr.Bytes())
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" && !strings.HasPrefix(line, "reading from file") {
			t.Errorf("tcpdump -r %s: %s", file, line)
		}
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

var synLine = regexp.MustCompile(`^\S+ (IP6?) (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[S\], `)

// checkSYNs checks that every line tcpdump prints of file is a SYN from src to dst,
// and returns the destination ports in order.
func (n *testNet) checkSYNs(t *testing.T, file, src, dst string) []int {
	t.Helper()
	var got []int
	for _, line := range n.tcpdumpRead(t, file) {
		m := synLine.FindStringSubmatch(line)
		if m == nil || m[2] != src || m[4] != dst {
			t.Errorf("%s: a frame other than a SYN %s > %s: %s", filepath.Base(file), src, dst, line)
			continue
		}
		p, _ := strconv.Atoi(m[5])
		got = append(got, p)
	}
	return got
}

// TestLiveAttack captures two SYN scans at once, an IPv4 and an IPv6 one, on the
// target's interface while other traffic passes: the same source to other hosts,
// other sources to the same host, UDP, the replies, a completed connection and the
// target's own connections. Each file must hold exactly the scan's SYNs, every one.
func TestLiveAttack(t *testing.T) {
	n := newTestNet(t)
	n.listen(t)
	// Neighbours resolved and the path checked before the captures start.
	dial(t, n.a, liveA, liveT, openPort)
	dial(t, n.a, liveA6, liveT6, openPort)

	c := n.capturer(t, Options{Duration: time.Hour})
	f4 := Filter{Src: pfx(liveA), Dst: pfx(liveT), Proto: ProtoTCP, TCPFlags: FlagSYN, TCPFlagsMask: FlagSYN | FlagACK}
	f6 := Filter{Src: pfx(liveA6), Dst: pfx(liveT6), Proto: ProtoTCP, TCPFlags: FlagSYN, TCPFlagsMask: FlagSYN | FlagACK}
	file4, err := c.Start("portscan "+liveA+" > "+liveT, f4)
	if err != nil {
		t.Fatal(err)
	}
	file6, err := c.Start("portscan "+liveA6+" > "+liveT6, f6)
	if err != nil {
		t.Fatal(err)
	}

	scan := ports(1000, 40)
	var wg sync.WaitGroup
	for _, traffic := range []func(){
		func() { dial(t, n.a, liveA, liveT, scan...) },              // the scan
		func() { dial(t, n.a, liveA6, liveT6, scan...) },            // the scan over IPv6
		func() { dial(t, n.a, liveA, liveT, openPort) },             // a connection: its SYN is the scan's kind
		func() { dial(t, n.a, liveB, liveT, ports(2000, 10)...) },   // another source
		func() { dial(t, n.a, liveA, liveU, ports(3000, 10)...) },   // another host
		func() { dial(t, n.a, liveB6, liveT6, ports(2000, 10)...) }, // another source, IPv6
		func() { dial(t, n.a, liveA6, liveU6, ports(3000, 10)...) }, // another host, IPv6
		func() { dial(t, n.t, liveT, liveA, ports(4000, 5)...) },    // the target's own SYNs
		func() { sendUDP(t, n.a, liveA, liveT, 1000, 20, 64) },      // UDP from the scanner
		func() { sendUDP(t, n.a, liveA6, liveT6, 1000, 20, 64) },
	} {
		wg.Add(1)
		go func() { defer wg.Done(); traffic() }()
	}
	wg.Wait()
	// Each dial returned once its answer came back, so its SYN is already in the
	// capture socket's queue: Close reads the queue before it ends.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	want4 := append(slices.Clone(scan), openPort)
	for _, cs := range []struct {
		file, src, dst string
		want           []int
	}{{file4, liveA, liveT, want4}, {file6, liveA6, liveT6, scan}} {
		info := wait(t, c, cs.file)
		if info.Reason != EndClosed || info.Err != nil {
			t.Errorf("%s ended %s: %v", cs.file, info.Reason, info.Err)
		}
		path := filepath.Join(c.Dir(), cs.file)
		got := n.checkSYNs(t, path, cs.src, cs.dst)
		slices.Sort(got)
		if !slices.Equal(got, cs.want) {
			t.Errorf("%s: SYNs to ports %v, want %v", cs.file, got, cs.want)
		}
		st := info.Stats
		if st.Written != uint64(len(cs.want)) || st.Matched != st.Written || st.Seen <= st.Matched+100 || st.Dropped != 0 {
			t.Errorf("%s: stats %+v", cs.file, st)
		}
		// The file as pcapgo reads it: every frame selected by the filter.
		_, frames, _ := readPcap(t, path)
		for i, fr := range frames {
			if !info.Filter.MatchFrame(fr) {
				t.Errorf("%s: frame %d not the filter's", cs.file, i)
			}
		}
		t.Logf("%s: %+v", cs.file, st)
	}
	if tot := c.Stats(); tot.Started != 2 || tot.Written != uint64(len(want4)+len(scan)) || tot.Active != 0 {
		t.Errorf("totals %+v", tot)
	}
}

// TestLiveDuration: a capture on an interface where nothing it selects passes ends
// on time, although no frame comes to wake its read.
func TestLiveDuration(t *testing.T) {
	n := newTestNet(t)
	c := n.capturer(t, Options{Duration: 700 * time.Millisecond})
	t0 := time.Now()
	file, err := c.Start("idle", Filter{Src: pfx(liveB), Proto: ProtoUDP})
	if err != nil {
		t.Fatal(err)
	}
	info := wait(t, c, file)
	d := time.Since(t0)
	if info.Reason != EndDuration || info.Err != nil || d < 700*time.Millisecond || d > 5*time.Second {
		t.Errorf("ended %s (%v) after %v", info.Reason, info.Err, d)
	}
	if lines := n.tcpdumpRead(t, filepath.Join(c.Dir(), file)); len(lines) != 0 {
		t.Errorf("frames in an idle capture: %q", lines)
	}
}

// TestLiveMaxBytes: the capture ends when its next frame would pass MaxBytes, long
// before its duration, with the file at most MaxBytes.
func TestLiveMaxBytes(t *testing.T) {
	n := newTestNet(t)
	dial(t, n.a, liveA, liveT, 9) // neighbours resolved
	const size = 100
	frame := int64(14 + 20 + 8 + size)
	max := fileHeaderLen + 5*(recordHeaderLen+frame) + frame/2
	c := n.capturer(t, Options{Duration: time.Hour, MaxBytes: max})
	file, err := c.Start("udp flood", Filter{Src: pfx(liveA), Dst: pfx(liveT), Proto: ProtoUDP, DstPorts: []uint16{9999}})
	if err != nil {
		t.Fatal(err)
	}
	sendUDP(t, n.a, liveA, liveT, 9999, 20, size)
	info := wait(t, c, file)
	path := filepath.Join(c.Dir(), file)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Reason != EndMaxBytes || info.Stats.Written != 5 || fi.Size() != fileHeaderLen+5*(recordHeaderLen+frame) || fi.Size() > max {
		t.Errorf("ended %s with %d frames, %d bytes (max %d)", info.Reason, info.Stats.Written, fi.Size(), max)
	}
	lines := n.tcpdumpRead(t, path)
	for _, l := range lines {
		if !strings.Contains(l, liveA+".") || !strings.Contains(l, " > "+liveT+".9999: UDP, length 100") {
			t.Errorf("not the flood's: %s", l)
		}
	}
	if len(lines) != 5 {
		t.Errorf("%d frames", len(lines))
	}
}

// TestLiveBusyAndClose: MaxActive captures at most, and Close ends those running with
// complete files, under their final names.
func TestLiveBusyAndClose(t *testing.T) {
	n := newTestNet(t)
	n.listen(t)
	dial(t, n.a, liveA, liveT, openPort)
	c := n.capturer(t, Options{Duration: time.Hour, MaxActive: 2})
	syn := Filter{Dst: pfx(liveT), Proto: ProtoTCP, TCPFlags: FlagSYN, TCPFlagsMask: FlagSYN | FlagACK}
	udp := Filter{Dst: pfx(liveT), Proto: ProtoUDP}
	fsyn, err := c.Start("syn", syn)
	if err != nil {
		t.Fatal(err)
	}
	fudp, err := c.Start("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start("third", syn); !errors.Is(err, ErrBusy) {
		t.Fatalf("third capture: %v, want ErrBusy", err)
	}
	dial(t, n.a, liveB, liveT, ports(5000, 7)...)
	sendUDP(t, n.a, liveB, liveT, 9997, 9, 32)
	time.Sleep(100 * time.Millisecond) // ICMP port unreachables and whatever else
	t0 := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	ents, _ := os.ReadDir(c.Dir())
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), partSuffix) {
			t.Errorf("%s left after Close", e.Name())
		}
	}
	if got := n.checkSYNs(t, filepath.Join(c.Dir(), fsyn), liveB, liveT); len(got) != 7 {
		t.Errorf("SYN file: %d frames", len(got))
	}
	lines := n.tcpdumpRead(t, filepath.Join(c.Dir(), fudp))
	for _, l := range lines {
		if !strings.Contains(l, " > "+liveT+".9997: UDP, length 32") {
			t.Errorf("UDP file: %s", l)
		}
	}
	if len(lines) != 9 {
		t.Errorf("UDP file: %d frames", len(lines))
	}
	if st := c.Stats(); st.Busy != 1 || st.Started != 2 || st.Written != 16 {
		t.Errorf("totals %+v", st)
	}
	for _, f := range []string{fsyn, fudp} {
		if info := wait(t, c, f); info.Reason != EndClosed {
			t.Errorf("%s ended %s", f, info.Reason)
		}
	}
}

// TestLiveVLAN: frames tagged 802.1Q (one tag, and two) reach the target's interface,
// whose kernel takes the outer tag off and reports it beside the frame; the capture
// selects them through their tags and writes them with their tags, as they were
// sent. The frames are written by hand to an AF_PACKET socket on the attacker's
// side (the kernel here may lack VLAN devices).
func TestLiveVLAN(t *testing.T) {
	n := newTestNet(t)
	c := n.capturer(t, Options{Duration: time.Hour})
	f := Filter{Dst: pfx("198.51.100.0/24"), Proto: ProtoTCP, TCPFlags: FlagSYN, TCPFlagsMask: FlagSYN | FlagACK}
	file, err := c.Start("vlan", f)
	if err != nil {
		t.Fatal(err)
	}
	// A second socket on the interface, to see how the kernel hands the frames over.
	h, err := n.open("v0b")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w, err := newWaiter(h) // makes it non-blocking
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	var want [][]byte
	var sent [][]byte
	for i := range 6 {
		p := pkt{src: "192.0.2.77", dst: "198.51.100.7", proto: ProtoTCP, sport: 40000, dport: uint16(100 + i), flags: FlagSYN,
			vlans: []uint16{100}}
		if i%2 == 1 {
			p.vlans, p.tpid = []uint16{10, 100}, tpid8021Q
		}
		if i == 5 {
			p.flags |= FlagACK // not selected
		}
		sent = append(sent, p.frame())
		if i != 5 {
			want = append(want, p.frame())
		}
	}
	sent = append(sent, pkt{src: "192.0.2.77", dst: "198.51.100.7", proto: ProtoTCP, sport: 1, dport: 2, flags: FlagSYN, vlans: []uint16{1, 2, 3}}.frame())
	err = n.a.Do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		ifi, err := net.InterfaceByName("v0a")
		if err != nil {
			return err
		}
		for _, fr := range sent {
			if err := unix.Sendto(fd, fr, 0, &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}); err != nil {
				return fmt.Errorf("send: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	c.Close()
	offloaded := 0
	for {
		data, ci, err := h.ReadPacketData()
		if err != nil {
			break
		}
		if _, ok := vlanTCI(ci); ok && bytes.Contains(data, []byte{198, 51, 100, 7}) {
			offloaded++
		}
	}
	if offloaded != len(sent) {
		t.Errorf("%d of the %d frames came with their tag beside them: the test does not test putting it back", offloaded, len(sent))
	}
	path := filepath.Join(c.Dir(), file)
	_, frames, _ := readPcap(t, path)
	if len(frames) != len(want) {
		t.Fatalf("%d frames, want %d", len(frames), len(want))
	}
	for i := range want {
		if !bytes.Equal(frames[i], want[i]) {
			t.Errorf("frame %d:\n got %x\nwant %x", i, frames[i], want[i])
		}
	}
	lines := n.tcpdumpRead(t, path, "-e")
	for _, l := range lines {
		if !strings.Contains(l, "vlan 100") {
			t.Errorf("no tag: %s", l)
		}
	}
	// tcpdump selects them all with the filter's expression too.
	if sel := n.tcpdumpRead(t, path, f.BPF()); len(sel) != len(want) {
		t.Errorf("tcpdump selects %d of the %d frames with %s", len(sel), len(want), f.BPF())
	}
}

// TestLiveInterfaceDown: the interface goes down and up under a running capture,
// whose socket reads ENETDOWN once and then receives again; then it is deleted. The
// capture goes on to its end, and its file holds the frames from before and after
// the flap.
func TestLiveInterfaceDown(t *testing.T) {
	n := newTestNet(t)
	dial(t, n.a, liveA, liveT, 9)
	c := n.capturer(t, Options{Duration: 5 * time.Second})
	t0 := time.Now()
	file, err := c.Start("flap", Filter{Src: pfx(liveA), Proto: ProtoTCP, TCPFlags: FlagSYN, TCPFlagsMask: FlagSYN | FlagACK})
	if err != nil {
		t.Fatal(err)
	}
	dial(t, n.a, liveA, liveT, ports(10, 3)...)
	n.t.IP(t, "link", "set", "v0b", "down")
	n.t.IP(t, "link", "set", "v0b", "up")
	dial(t, n.a, liveA, liveT, ports(20, 2)...)
	n.t.IP(t, "link", "del", "v0b")
	if time.Since(t0) > 4*time.Second {
		t.Logf("the flap took %v: the capture may have ended before its frames", time.Since(t0))
	}
	info := wait(t, c, file)
	if info.Reason != EndDuration || info.Err != nil {
		t.Errorf("ended %s: %v", info.Reason, info.Err)
	}
	if got := n.checkSYNs(t, filepath.Join(c.Dir(), file), liveA, liveT); !slices.Equal(got, []int{10, 11, 12, 20, 21}) {
		t.Errorf("SYNs to %v, want 10, 11, 12, 20, 21", got)
	}
}

// TestLiveCrash: a process killed (SIGKILL) while it captures leaves its file under
// the ".part" name only; the next Capturer on the directory cuts it to whole frames
// and gives it its final name, a file tcpdump reads without complaint.
func TestLiveCrash(t *testing.T) {
	if ns := os.Getenv("MRTGO_CAPTURE_CRASH_NS"); ns != "" {
		crashChild(t, ns, os.Getenv("MRTGO_CAPTURE_CRASH_DIR"))
		return
	}
	n := newTestNet(t)
	dial(t, n.a, liveA, liveT, 9)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLiveCrash$", "-test.v")
	cmd.Env = append(os.Environ(), "MRTGO_CAPTURE_CRASH_NS="+n.t.Name, "MRTGO_CAPTURE_CRASH_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var file string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f, ok := strings.CutPrefix(sc.Text(), "capturing "); ok {
			file = f
			break
		}
	}
	if file == "" {
		cmd.Wait()
		t.Fatalf("child: %s", stderr.Bytes())
	}
	go io.Copy(io.Discard, stdout)
	// A flood for 2.5 s, some 2,000 frames a second: the child flushes each second,
	// and its buffer fills and is written between.
	for t0 := time.Now(); time.Since(t0) < 2500*time.Millisecond; {
		sendUDP(t, n.a, liveA, liveT, 9999, 20, 300)
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	part := filepath.Join(dir, file+partSuffix)
	fi, err := os.Stat(part)
	if err != nil {
		t.Fatalf("after the crash: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, file)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("final name there after a crash: %v", err)
	}
	frames, whole, err := wholeFramesOf(part)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("left %d bytes: %d whole frames in %d, %d bytes torn", fi.Size(), frames, whole, fi.Size()-whole)

	c, err := New(Options{Interface: "v0b", Dir: dir, Open: n.open}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".part still there after New: %v", err)
	}
	lines := n.tcpdumpRead(t, filepath.Join(dir, file))
	if len(lines) != frames || frames == 0 {
		t.Errorf("tcpdump reads %d frames, %d were whole", len(lines), frames)
	}
	for _, l := range lines {
		if !strings.Contains(l, " > "+liveT+".9999: UDP, length 300") {
			t.Errorf("not the flood's: %s", l)
			break
		}
	}
}

func wholeFramesOf(path string) (int, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return wholeFrames(bufio.NewReader(f))
}

// crashChild is TestLiveCrash's child process: it captures the flood until killed.
func crashChild(t *testing.T, ns, dir string) {
	tns := &testnetns.NS{Name: ns}
	open := func(iface string) (Source, error) {
		var h Source
		err := tns.Do(func() error {
			var err error
			h, err = openEthernet(iface)
			return err
		})
		if err != nil {
			return nil, err
		}
		return h, nil
	}
	c, err := New(Options{Interface: "v0b", Dir: dir, Open: open, Duration: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	file, err := c.Start("flood", Filter{Dst: pfx(liveT), Proto: ProtoUDP, DstPorts: []uint16{9999}})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("capturing %s\n", file)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.Wait(ctx, file) // killed before
	t.Fatal("not killed")
}
