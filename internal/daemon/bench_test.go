package daemon

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/detect"
	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
	"github.com/mrtgo/mrtgo/rrd"
)

// benchFlowRecords is IPFIX data records of a varied mix (addresses, ports, protocols,
// ifIndexes), as a busy border router exports them.
type benchFlowRecords struct {
	seq   uint32
	state uint64
}

// ipfixFields are the template of benchFlowRecords: source and destination IPv4
// address, source and destination port, protocol, TCP flags, ingress and egress
// ifIndex, octets, packets, flow start and end in milliseconds.
var ipfixFields = [][2]uint16{{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {10, 4}, {14, 4}, {1, 8}, {2, 8}, {152, 8}, {153, 8}}

const ipfixRecordLen = 4 + 4 + 2 + 2 + 1 + 1 + 4 + 4 + 8 + 8 + 8 + 8

// message returns one IPFIX message of n records (with the template when template is
// set), exported now.
func (g *benchFlowRecords) message(n int, template bool, now time.Time, ifaces int) []byte {
	b := make([]byte, 16, 16+8+4*len(ipfixFields)+4+n*ipfixRecordLen)
	binary.BigEndian.PutUint16(b, 10)
	binary.BigEndian.PutUint32(b[4:], uint32(now.Unix()))
	binary.BigEndian.PutUint32(b[8:], g.seq)
	binary.BigEndian.PutUint32(b[12:], 1)
	g.seq += uint32(n)
	if template {
		b = binary.BigEndian.AppendUint16(b, 2)
		b = binary.BigEndian.AppendUint16(b, uint16(8+4*len(ipfixFields)))
		b = binary.BigEndian.AppendUint16(b, 256)
		b = binary.BigEndian.AppendUint16(b, uint16(len(ipfixFields)))
		for _, f := range ipfixFields {
			b = binary.BigEndian.AppendUint16(b, f[0])
			b = binary.BigEndian.AppendUint16(b, f[1])
		}
	}
	b = binary.BigEndian.AppendUint16(b, 256)
	b = binary.BigEndian.AppendUint16(b, uint16(4+n*ipfixRecordLen))
	ms := uint64(now.UnixMilli())
	for range n {
		g.state = g.state*6364136223846793005 + 1442695040888963407
		r := g.state >> 16
		// A skewed mix: a quarter of the records from 256 heavy sources.
		src := uint32(10<<24 | (r&0xffff)<<4)
		if r&3 == 0 {
			src = 10<<24 | uint32(r&0xff)
		}
		dst := uint32(203<<24 | 113<<8 | uint32(r>>20)&0xff)
		ports := []uint16{443, 80, 53, 22, 123, 8080}
		b = binary.BigEndian.AppendUint32(b, src)
		b = binary.BigEndian.AppendUint32(b, dst)
		b = binary.BigEndian.AppendUint16(b, uint16(32768+r>>28&0x7fff))
		b = binary.BigEndian.AppendUint16(b, ports[r>>24%6])
		b = append(b, []byte{6, 17}[r>>30&1], 0x1b)
		b = binary.BigEndian.AppendUint32(b, uint32(1+r>>32%uint64(ifaces)))
		b = binary.BigEndian.AppendUint32(b, uint32(1+r>>40%uint64(ifaces)))
		b = binary.BigEndian.AppendUint64(b, 64+r>>44%150000)
		b = binary.BigEndian.AppendUint64(b, 1+r>>50%100)
		b = binary.BigEndian.AppendUint64(b, ms-1000)
		b = binary.BigEndian.AppendUint64(b, ms)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// BenchmarkFlowIngest runs "mrtgo run" polling 10,000 simulated interfaces (ten
// devices of 1,000) every few seconds while ten exporters send it 50,000 flow records a
// second over loopback, for MRTGO_FLOW_BENCH_SECONDS (60 unless set). It reports the
// records received per second, the kernel's socket drops (the goal is none), the
// daemon's heap after the second step and the most it reached after (flat is the goal:
// the top talkers of a step are held in memory, about 100 KB an interface direction
// with flows at this spread) and the process's CPU
// time per record (polling, pages and the senders included).
func BenchmarkFlowIngest(b *testing.B) {
	seconds := 60
	if s, err := strconv.Atoi(os.Getenv("MRTGO_FLOW_BENCH_SECONDS")); err == nil && s > 0 {
		seconds = s
	}
	const (
		devices  = 10
		ifaces   = 1000
		rate     = 50000 // records per second
		perMsg   = 28    // records per datagram: 1,380 bytes
		interval = 5 * time.Second
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agents, err := snmpsim.StartNetwork(ctx, "127.0.0.1:0", snmpsim.Network(devices, ifaces, 11), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		for _, a := range agents {
			a.Close()
		}
	}()
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	listen := probe.LocalAddr().String()
	probe.Close()
	var src strings.Builder
	// A 20-second step: three steps of top talkers in a minute, so that memory is seen
	// across their commits.
	fmt.Fprintf(&src, "step = \"20s\"\ndata = \"mrtgo.db\"\nsite = \"site\"\n\n[flows]\nlisten = [%q]\n", listen)
	for i, a := range agents {
		fmt.Fprintf(&src, "\n[[device]]\nname = \"dev%d\"\nhost = \"127.0.0.1\"\nport = %d\nflow_exporter = \"127.0.1.%d\"\ninterfaces = [\"*\"]\n",
			i, a.Port(), i+1)
	}
	dir := b.TempDir()
	file := filepath.Join(dir, "targets.toml")
	if err := os.WriteFile(file, []byte(src.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		b.Fatal(err)
	}
	db, err := rrd.Open(cfg.Data, nil)
	if err != nil {
		b.Fatal(err)
	}
	w, err := NewWriter(db, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := New(cfg, w, Options{Interval: interval, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- d.Run(ctx) }()

	conns := make([]*net.UDPConn, devices)
	for i := range conns {
		from := netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf("127.0.1.%d", i+1)), 0)
		c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(from), net.UDPAddrFromAddrPort(netip.MustParseAddrPort(listen)))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	gens := make([]benchFlowRecords, devices)
	for i := range gens {
		gens[i].state = uint64(i + 1)
	}
	records := func() uint64 { return d.flows.col.Decoder().Stats().Records }
	drops0, dropsKnown := d.flows.col.KernelDrops()
	var heaps []float64
	var ru0, ru1 syscall.Rusage

	b.ResetTimer()
	for range b.N {
		// The datagrams of each 10 ms tick go out together, spread over the exporters.
		const tick = 10 * time.Millisecond
		per := (rate*int(tick/time.Millisecond)/1000 + perMsg - 1) / perMsg
		start := time.Now()
		sent := uint64(0)
		next := start
		msgs := 0
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		for i := 0; time.Since(start) < time.Duration(seconds)*time.Second; i++ {
			for range per {
				e := msgs % devices
				m := gens[e].message(perMsg, msgs < 2*devices || msgs%(devices*100) < devices, time.Now(), ifaces)
				if _, err := conns[e].Write(m); err != nil {
					b.Fatal(err)
				}
				msgs++
				sent += perMsg
			}
			// The heap after each step's commit: flat is the goal.
			if i > 0 && i%int(20*time.Second/tick) == int(5*time.Second/tick) {
				var m runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m)
				heaps = append(heaps, float64(m.HeapInuse)/(1<<20))
			}
			next = next.Add(tick)
			time.Sleep(time.Until(next))
		}
		sending := time.Since(start)
		deadline := time.Now().Add(10 * time.Second)
		for records() < sent && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		got := records()
		drops, _ := d.flows.col.KernelDrops()
		b.ReportMetric(float64(got)/sending.Seconds(), "records/s")
		b.ReportMetric(float64(sent-got), "lost")
		if dropsKnown {
			b.ReportMetric(float64(drops-drops0), "socket-drops")
		}
		// The heap 5 s after the first step that saw a whole step of flows, and its
		// largest later.
		b.Logf("heap after each step, MB: %.0f", heaps)
		if len(heaps) >= 2 {
			b.ReportMetric(heaps[1], "heap-MB-after-step-2")
			b.ReportMetric(slices.Max(heaps[1:]), "heap-MB-max-later")
		}
		cpu := time.Duration(syscall.TimevalToNsec(ru1.Utime) + syscall.TimevalToNsec(ru1.Stime) -
			syscall.TimevalToNsec(ru0.Utime) - syscall.TimevalToNsec(ru0.Stime))
		// The whole process: the daemon's polling and pages, and the senders.
		b.ReportMetric(float64(cpu.Microseconds())/float64(got), "µs-CPU-all/record")
		b.ReportMetric(float64(seconds), "seconds")
	}
	b.StopTimer()
	cancel()
	if err := <-ran; err != nil {
		b.Errorf("Run: %v", err)
	}
}

// BenchmarkDecodeAndStore is a flow record's whole path through the daemon on one
// core, without the network: decoding its IPFIX datagram, placing it on its device and
// interfaces, the raw segments and the top talkers (one step boundary every 100,000
// records). It reports records per second; the goal is 200,000.
func BenchmarkDecodeAndStore(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "detect=off"
		if on {
			name = "detect=on"
		}
		b.Run(name, func(b *testing.B) { benchDecodeAndStore(b, on) })
	}
}

// benchDecodeAndStore is BenchmarkDecodeAndStore, with the flow detector examining
// every record when detect is set (and reporting at every step's end).
func benchDecodeAndStore(b *testing.B, detectOn bool) {
	const ifaces = 100
	src := "step = \"5m\"\ndata = \"mrtgo.db\"\nsite = \"site\"\n\n[flows]\nlisten = [\"127.0.0.1:2055\"]\n\n" +
		"[[device]]\nname = \"r1\"\nhost = \"127.0.0.1\"\ninterfaces = [\"*\"]\n"
	dir := b.TempDir()
	file := filepath.Join(dir, "targets.toml")
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		b.Fatal(err)
	}
	raw, top, err := OpenFlowStores(cfg, false)
	if err != nil {
		b.Fatal(err)
	}
	f := &flows{log: slog.New(slog.DiscardHandler), raw: raw, top: top, step: cfg.Step,
		names: map[string]map[int]string{}, counts: map[ifDir]*ifCount{}, unknowns: map[netip.Addr]bool{}}
	f.configure(cfg)
	reports := 0
	if detectOn {
		det, err := detect.New(detect.Config{Window: cfg.Step})
		if err != nil {
			b.Fatal(err)
		}
		f.det = det
		f.report = func(_ time.Time, evs []detect.Event) { reports += len(evs) }
	}
	names := map[int]string{}
	for i := 1; i <= ifaces; i++ {
		names[i] = fmt.Sprintf("ge-0/0/%d", i)
	}
	f.names["r1"] = names
	dec := flow.NewDecoder()
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	var gen benchFlowRecords
	const perMsg = 28
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	msgs := make([][]byte, 512)
	for i := range msgs {
		msgs[i] = gen.message(perMsg, i == 0, at, ifaces)
	}
	next := nextBoundary(at, cfg.Step)
	received := at
	f.now = func() time.Time { return received }
	b.ResetTimer()
	n := 0
	for i := 0; n < b.N; i++ {
		if err := dec.Decode(msgs[i%len(msgs)], from, received, f.record); err != nil {
			b.Fatal(err)
		}
		n += perMsg
		if i%64 == 63 {
			if next, err = f.store(next); err != nil {
				b.Fatal(err)
			}
		}
		if n%100_000 < perMsg { // a step's worth: the clock passes a boundary
			received = received.Add(cfg.Step)
		}
	}
	if _, err := f.store(time.Time{}); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	if detectOn {
		b.ReportMetric(float64(reports), "events")
	}
	raw.Close()
	top.Close()
}
