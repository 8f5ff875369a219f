package detect

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// rec is a flow of a test stream: at is its offset from t0, lasting dur.
type rec struct {
	src, dst         string
	srcPort, dstPort uint16
	proto, flags     uint8
	packets, bytes   uint64
	at, dur          time.Duration
}

func (r rec) flow() *flow.Flow {
	return &flow.Flow{Record: flow.Record{Received: t0.Add(r.at + r.dur), Start: t0.Add(r.at), End: t0.Add(r.at + r.dur),
		Kind: flow.IPFIX, SamplingRate: 1, Src: netip.MustParseAddr(r.src), Dst: netip.MustParseAddr(r.dst),
		SrcPort: r.srcPort, DstPort: r.dstPort, Proto: r.proto, TCPFlags: r.flags, Bytes: r.bytes, Packets: r.packets},
		Device: "core1", In: "ge-0/0/1"}
}

func newDetector(t testing.TB, cfg Config) *Detector {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func feed(d *Detector, rs []rec) {
	for _, r := range rs {
		d.Add(r.flow())
	}
}

// host is the i-th address of a /16 starting at base ("10.1.0.0").
func host(base string, i int) string {
	a := netip.MustParseAddr(base).As4()
	a[2] += byte(i >> 8)
	a[3] += byte(i)
	return netip.AddrFrom4(a).String()
}

func kinds(es []Event) []Kind {
	var out []Kind
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

// synScan: src probes n ports of dst with SYNs, 10 ms apart.
func synScan(src, dst string, n int) []rec {
	var rs []rec
	for i := range n {
		rs = append(rs, rec{src, dst, 40000, uint16(1 + i), 6, flagSYN, 1, 44, time.Duration(i) * 10 * time.Millisecond, 0})
	}
	return rs
}

// handshakes: n clients each complete a short HTTP exchange with server, both ways.
func handshakes(server string, n int) []rec {
	var rs []rec
	for i := range n {
		c := host("198.51.0.0", i)
		at := time.Duration(i) * 5 * time.Millisecond
		rs = append(rs, rec{c, server, uint16(50000 + i), 80, 6, 0x1b, 6, 900, at, 200 * time.Millisecond},
			rec{server, c, 80, uint16(50000 + i), 6, 0x1b, 5, 4000, at, 200 * time.Millisecond})
	}
	return rs
}

// Each threshold is crossed at its value and not one below it.
func TestThresholds(t *testing.T) {
	for _, c := range []struct {
		name string
		kind Kind
		at   func(n int) []rec // the evidence at level n
		n    int               // the default threshold
	}{
		{"vertical scan ports", VerticalScan, func(n int) []rec { return synScan("10.9.0.1", "192.0.2.1", n) }, 15},
		{"tcp sweep hosts", HorizontalSweep, func(n int) []rec {
			var rs []rec
			for i := range n {
				rs = append(rs, rec{"10.9.0.1", host("192.0.2.0", i+1), 40000, 22, 6, flagSYN, 1, 44, 0, 0})
			}
			return rs
		}, 25},
		{"icmp sweep hosts", ICMPSweep, func(n int) []rec {
			var rs []rec
			for i := range n {
				rs = append(rs, rec{"10.9.0.1", host("192.0.2.0", i+1), 0, 8 << 8, 1, 0, 1, 84, 0, 0})
			}
			return rs
		}, 25},
		{"syn flood pps", SYNFlood, func(n int) []rec {
			// n SYN/s for the 10 s minimum span: 10n SYNs, 10 flows of n a second apart.
			var rs []rec
			for i := range 10 {
				rs = append(rs, rec{"10.9.0.1", "192.0.2.1", uint16(1024 + i), 80, 6, flagSYN, uint64(n), uint64(n * 40), time.Duration(i) * time.Second, 0})
			}
			return rs
		}, 256},
		{"ddos udp sources", DDoSUDP, func(n int) []rec {
			// 20,000 pps for 10 s from n sources.
			var rs []rec
			for i := range n {
				rs = append(rs, rec{host("203.0.113.0", i), "192.0.2.1", uint16(1024 + i), 9999, 17, 0, uint64(200000 / n), uint64(200000 / n * 100), 0, 10 * time.Second})
			}
			return rs
		}, 32},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, n := range []int{c.n - 1, c.n} {
				d := newDetector(t, Config{})
				feed(d, c.at(n))
				es := d.Step(t0.Add(5 * time.Minute))
				got := slices.Contains(kinds(es), c.kind)
				if got != (n >= c.n) {
					t.Errorf("at %d (threshold %d): events %v", n, c.n, es)
				}
			}
		})
	}
}

func TestVerticalScan(t *testing.T) {
	d := newDetector(t, Config{})
	feed(d, synScan("10.9.0.1", "192.0.2.1", 1000))
	feed(d, handshakes("192.0.2.80", 50))
	es := d.Step(t0.Add(5 * time.Minute))
	if len(es) != 1 {
		t.Fatalf("events %v, want one vertical scan", es)
	}
	e := es[0]
	if e.Kind != VerticalScan || e.Sources[0] != netip.MustParseAddr("10.9.0.1") || e.Targets[0] != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("event %v", e)
	}
	if math.Abs(float64(e.PortCount)-1000) > 4*65 || len(e.Ports) != sampleN || e.Severity != Critical {
		t.Errorf("ports %d (%v), severity %v: want ~1000 estimated, 8 shown, critical", e.PortCount, e.Ports, e.Severity)
	}
	if e.Device != "core1" || e.Interface != "ge-0/0/1" || !e.Start.Equal(t0) || !e.End.Equal(t0.Add(9990*time.Millisecond)) {
		t.Errorf("where/when %q %q %v %v", e.Device, e.Interface, e.Start, e.End)
	}
	// Reported once per scan window: the next step, within it, says nothing more.
	d2 := newDetector(t, Config{Window: time.Minute})
	feed(d2, synScan("10.9.0.1", "192.0.2.1", 20))
	if es := d2.Step(t0.Add(time.Minute)); len(es) != 1 {
		t.Fatalf("first step %v", es)
	}
	feed(d2, synScan("10.9.0.1", "192.0.2.1", 30))
	if es := d2.Step(t0.Add(2 * time.Minute)); len(es) != 0 {
		t.Errorf("second step of the same scan window: %v", es)
	}
}

// A slow scan spread over steps within one scan window is found when its total
// crosses; ports probed before the scan window ended do not count after it.
func TestScanWindowAccumulates(t *testing.T) {
	d := newDetector(t, Config{Window: time.Minute})
	ports := 0
	for step := 1; step <= 5; step++ {
		for range 4 {
			ports++
			d.Add(rec{"10.9.0.1", "192.0.2.1", 40000, uint16(ports), 6, flagSYN, 1, 44, time.Duration(step) * time.Minute, 0}.flow())
		}
		es := d.Step(t0.Add(time.Duration(step) * time.Minute))
		if want := ports >= 15 && ports-4 < 15; (len(es) == 1) != want {
			t.Errorf("step %d, %d ports: %v", step, ports, es)
		}
	}
	// A new scan window: 14 ports is not enough again.
	feed(d, synScan("10.9.0.1", "192.0.2.1", 14))
	if es := d.Step(t0.Add(6 * time.Minute)); len(es) != 0 {
		t.Errorf("new scan window: %v", es)
	}
}

// Answered traffic is not a probe: a client using many ports of one server (FTP data,
// RPC) and a DNS server's single-packet replies to one client's many ports.
func TestAnsweredIsNoProbe(t *testing.T) {
	d := newDetector(t, Config{})
	var rs []rec
	for i := range 200 {
		rs = append(rs, rec{"10.0.0.5", "192.0.2.21", 40000, uint16(30000 + i), 6, 0x1b, 8, 2000, 0, time.Second},
			rec{"192.0.2.53", "10.0.0.5", 53, uint16(30000 + i), 17, 0, 1, 120, 0, 0},
			rec{"10.0.0.5", "192.0.2.53", uint16(30000 + i), 53, 17, 0, 1, 60, 0, 0},
			rec{"10.0.0.6", "192.0.2.99", 40000, uint16(i), 6, 0, 1, 40, 0, 0}) // no flags exported
	}
	feed(d, rs)
	if es := d.Step(t0.Add(5 * time.Minute)); len(es) != 0 {
		t.Errorf("events %v", es)
	}
	if st := d.Stats(); st.Pairs != 0 || st.Sweeps != 0 {
		t.Errorf("stats %+v: answered traffic kept as probes", st)
	}
}

func TestUDPScanAndReplies(t *testing.T) {
	d := newDetector(t, Config{})
	var rs []rec
	for i := range 100 {
		rs = append(rs, rec{"10.9.0.2", "192.0.2.1", 40000, uint16(1 + i), 17, 0, 1, 28, 0, 0})
	}
	feed(d, rs)
	es := d.Step(t0.Add(5 * time.Minute))
	if len(es) != 1 || es[0].Kind != VerticalScan || es[0].Sources[0] != netip.MustParseAddr("10.9.0.2") {
		t.Errorf("UDP scan: %v", es)
	}
}

func TestSYNFlood(t *testing.T) {
	d := newDetector(t, Config{})
	// 3,000 SYN/s for 5 s from one source to 192.0.2.1:80, plus a flash crowd.
	var rs []rec
	for i := range 15000 {
		rs = append(rs, rec{"10.9.0.3", "192.0.2.1", uint16(1024 + i%60000), 80, 6, flagSYN, 1, 40, time.Duration(i) * time.Second / 3000, 0})
	}
	feed(d, rs)
	feed(d, handshakes("192.0.2.1", 200))
	es := d.Step(t0.Add(5 * time.Minute))
	if len(es) != 1 {
		t.Fatalf("events %v, want one SYN flood", es)
	}
	e := es[0]
	if e.Kind != SYNFlood || e.Sources[0] != netip.MustParseAddr("10.9.0.3") || e.Targets[0] != netip.MustParseAddr("192.0.2.1") ||
		!slices.Equal(e.Ports, []uint16{80}) || e.Packets != 15000 {
		t.Errorf("event %v", e)
	}
	// 15,000 SYNs over their 5 s span, held to the 10 s minimum: 1,500 SYN/s.
	if e.PPS != 1500 || e.Severity != Major || e.Evidence[0].Threshold != 256 {
		t.Errorf("pps %v severity %v evidence %v", e.PPS, e.Severity, e.Evidence)
	}
}

// ddos: n sources send perSource packets each to dst over 10 s, from srcPort, or
// from ports 1024 and up where srcPort is 0.
func ddos(n int, dst string, proto uint8, srcPort, dstPort uint16, flags uint8, perSource uint64, size uint64) []rec {
	var rs []rec
	for i := range n {
		sp := srcPort
		if sp == 0 && proto != 1 {
			sp = uint16(1024 + i)
		}
		rs = append(rs, rec{host("203.0.113.0", i), dst, sp, dstPort, proto, flags, perSource, perSource * size, 0, 10 * time.Second})
	}
	return rs
}

func TestDDoSKinds(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		rs   []rec
		port uint16
	}{
		{DDoSSYN, ddos(200, "192.0.2.1", 6, 0, 443, flagSYN, 20, 40), 443},
		{DDoSUDP, ddos(200, "192.0.2.1", 17, 0, 27015, 0, 1000, 100), 27015},
		{DDoSReflection, ddos(200, "192.0.2.1", 17, 123, 40000, 0, 100, 468), 123},
		{DDoSReflection, ddos(200, "192.0.2.1", 17, 11211, 40000, 0, 100, 1400), 11211},
		{DDoSICMP, ddos(200, "192.0.2.1", 1, 0, 8<<8, 0, 100, 84), 0},
	} {
		t.Run(fmt.Sprintf("%s/%d", c.kind, c.port), func(t *testing.T) {
			d := newDetector(t, Config{})
			feed(d, c.rs)
			es := d.Step(t0.Add(5 * time.Minute))
			if len(es) != 1 || es[0].Kind != c.kind {
				t.Fatalf("events %v, want %s", es, c.kind)
			}
			e := es[0]
			if e.Targets[0] != netip.MustParseAddr("192.0.2.1") || len(e.Sources) != topN || math.Abs(float64(e.SourceCount)-200) > 4*0.065*200 {
				t.Errorf("event %v", e)
			}
			for _, s := range e.Sources {
				if !netip.MustParsePrefix("203.0.113.0/24").Contains(s) {
					t.Errorf("source %v not an attacker", s)
				}
			}
			if c.port != 0 && (len(e.Ports) == 0 || e.Ports[0] != c.port) {
				t.Errorf("ports %v, want %d first", e.Ports, c.port)
			}
		})
	}
}

// Many sources, completed handshakes, thousands of packets a second: not an attack.
func TestFlashCrowd(t *testing.T) {
	d := newDetector(t, Config{})
	for range 20 {
		feed(d, handshakes("192.0.2.80", 200))
	}
	if es := d.Step(t0.Add(5 * time.Minute)); len(es) != 0 {
		t.Errorf("events %v", es)
	}
}

// UDP a destination answers is a conversation: a QUIC server's clients (its answers
// sent before or after their requests), a resolver's replies to its own queries. The
// same traffic unanswered, or answered less than one packet in AnsweredShare, is a
// flood.
func TestAnsweredUDP(t *testing.T) {
	// answers returns the destination's answers to each source: per packets received.
	answers := func(rs []rec, per float64) []rec {
		var out []rec
		for _, r := range rs {
			out = append(out, rec{r.dst, r.src, r.dstPort, r.srcPort, 17, 0, uint64(float64(r.packets) * per), uint64(float64(r.bytes) * per), r.at, r.dur})
		}
		return out
	}
	quic := ddos(200, "192.0.2.1", 17, 0, 443, 0, 1000, 1200)
	resolver := ddos(200, "192.0.2.1", 17, 53, 40000, 0, 100, 468) // replies from port 53
	for _, c := range []struct {
		name  string
		rs    []rec
		flood bool
	}{
		{"quic, answers after", append(slices.Clone(quic), answers(quic, 0.5)...), false},
		{"quic, answers first", append(answers(quic, 0.5), quic...), false},
		{"quic, one answer in 64", append(slices.Clone(quic), answers(quic, 1.0/64)...), true},
		{"quic, unanswered", quic, true},
		{"resolver, queries first", append(answers(resolver, 1), resolver...), false},
		{"reflection, nothing asked", resolver, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDetector(t, Config{})
			feed(d, c.rs)
			es := d.Step(t0.Add(5 * time.Minute))
			if got := len(es) > 0; got != c.flood {
				t.Errorf("events %v, want a flood: %v", es, c.flood)
			}
		})
	}
}

// A destination whose traffic grew to above the threshold is flagged only well above
// its own baseline; one whose first window crosses the threshold, at once.
func TestBaseline(t *testing.T) {
	cfg := Config{Window: time.Minute, Thresholds: Thresholds{DDoSUDPPPS: 1000}}
	d := newDetector(t, cfg)
	step := func(i int, pps uint64) []Event {
		// 100 sources over 10 s: pps/10 packets each.
		rs := ddos(100, "192.0.2.53", 17, 0, 5000, 0, pps/10, 100)
		for j := range rs {
			rs[j].at = time.Duration(i) * time.Minute
		}
		feed(d, rs)
		return d.Step(t0.Add(time.Duration(i+1) * time.Minute))
	}
	i := 0
	for _, pps := range []uint64{500, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000} {
		if es := step(i, pps); len(es) != 0 {
			t.Errorf("window %d, grown to %d pps: %v", i, pps, es)
		}
		i++
	}
	if es := step(i, 5000); len(es) != 0 {
		t.Errorf("2.5 times the baseline: %v", es)
	}
	es := step(i+1, 8000)
	if len(es) != 1 || es[0].Kind != DDoSUDP {
		t.Fatalf("4 times the baseline: %v", es)
	}
	if ev := es[0].Evidence; len(ev) != 3 || ev[2].Measure != "pps / baseline pps" || ev[2].Value < 3 || ev[2].Value > 4.5 {
		t.Errorf("evidence %v", ev)
	}
	// A fresh destination at 2,000 pps is news.
	if es := newStep(t, cfg, ddos(100, "192.0.2.54", 17, 0, 5000, 0, 200, 100)); len(es) != 1 {
		t.Errorf("fresh destination: %v", es)
	}
}

func newStep(t *testing.T, cfg Config, rs []rec) []Event {
	d := newDetector(t, cfg)
	feed(d, rs)
	return d.Step(t0.Add(cfg.Window))
}

func TestAllowLists(t *testing.T) {
	scan := synScan("10.9.0.1", "192.0.2.1", 100)
	for _, c := range []struct {
		name string
		cfg  Config
		want int
	}{
		{"none", Config{}, 1},
		{"global", Config{Allow: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/24")}}, 0},
		{"the target's network", Config{Networks: []Network{{Prefix: netip.MustParsePrefix("192.0.2.0/24"),
			Allow: []netip.Prefix{netip.MustParsePrefix("10.9.0.1/32")}}}}, 0},
		{"another network", Config{Networks: []Network{{Prefix: netip.MustParsePrefix("198.51.100.0/24"),
			Allow: []netip.Prefix{netip.MustParsePrefix("10.9.0.1/32")}}}}, 1},
		{"another source", Config{Networks: []Network{{Prefix: netip.MustParsePrefix("192.0.2.0/24"),
			Allow: []netip.Prefix{netip.MustParsePrefix("10.9.0.2/32")}}}}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDetector(t, c.cfg)
			feed(d, scan)
			if es := d.Step(t0.Add(5 * time.Minute)); len(es) != c.want {
				t.Errorf("events %v, want %d", es, c.want)
			}
			if st := d.Stats(); st.Records != uint64(len(scan)) || st.Allowed != uint64(len(scan)*(1-c.want)) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// A network's thresholds apply to its hosts, the most specific network first; its
// zero fields are the Config's.
func TestNetworkThresholds(t *testing.T) {
	cfg := Config{Thresholds: Thresholds{ScanPorts: 50}, Networks: []Network{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Thresholds: Thresholds{ScanPorts: 200}},
		{Prefix: netip.MustParsePrefix("192.0.2.0/28"), Thresholds: Thresholds{ScanPorts: 10}},
	}}
	d := newDetector(t, cfg)
	feed(d, synScan("10.9.0.1", "192.0.2.1", 20))   // /28: 10
	feed(d, synScan("10.9.0.1", "192.0.2.100", 60)) // /24: 200
	feed(d, synScan("10.9.0.1", "198.51.100.1", 60))
	es := d.Step(t0.Add(5 * time.Minute))
	var got []string
	for _, e := range es {
		got = append(got, e.Targets[0].String()+" "+e.Network.String())
	}
	if want := []string{"192.0.2.1 192.0.2.0/28", "198.51.100.1 invalid Prefix"}; !slices.Equal(got, want) {
		t.Errorf("events for %v, want %v", got, want)
	}
	if th := d.cfg.Networks[0].Thresholds; th.SweepHosts != 25 || th.SYNFloodPPS != 256 {
		t.Errorf("network thresholds %+v: want the defaults inherited", th)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{BaselineAlpha: 2},
		{BaselineFactor: 0.5},
		{MinSpan: time.Hour},
		{MaxPairs: 2},
		{Thresholds: Thresholds{SYNFloodPPS: -1}},
		{Networks: []Network{{}}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

// A long flow (a 30-minute active timeout) counts only the window's share.
func TestLongFlowShare(t *testing.T) {
	d := newDetector(t, Config{})
	// 200 sources each 1,000,000 packets over 30 minutes: 555 pps each, 111,000 pps
	// in all; the 5-minute window's share is a sixth.
	rs := ddos(200, "192.0.2.1", 17, 0, 9999, 0, 1000000, 100)
	for i := range rs {
		rs[i].dur = 30 * time.Minute
	}
	feed(d, rs)
	es := d.Step(t0.Add(5 * time.Minute))
	if len(es) != 1 {
		t.Fatalf("events %v", es)
	}
	if want := 200 * 1e6 / 6 / 300; math.Abs(es[0].PPS-want) > 1 {
		t.Errorf("pps %v, want %v", es[0].PPS, want)
	}
}

// Whatever the cardinality, the tables stay within their bounds, and the heavy keys
// survive a flood of one-off ones.
func TestMemoryBounds(t *testing.T) {
	cfg := Config{MaxPairs: 1000, MaxSweeps: 1000, MaxTargets: 1000}
	d := newDetector(t, cfg)
	scan := synScan("10.9.0.1", "192.0.2.1", 500)
	feed(d, scan[:250])
	for i := range 50000 {
		a := netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)})
		b := netip.AddrFrom4([4]byte{101, byte(i >> 16), byte(i >> 8), byte(i)})
		d.Add(&flow.Flow{Record: flow.Record{Start: t0, End: t0, Src: a, Dst: b, SrcPort: 1024, DstPort: uint16(i), Proto: 6, TCPFlags: flagSYN, Packets: 1, Bytes: 40, SamplingRate: 1}})
		// Heavy enough to be tracked: 7,000 packets of UDP (the threshold needs 100,000
		// in the 10 s minimum span, a sixteenth of it is tracked).
		d.Add(&flow.Flow{Record: flow.Record{Start: t0, End: t0, Src: a, Dst: b, SrcPort: 1024, DstPort: 53, Proto: 17, Packets: 7000, Bytes: 7000 * 40, SamplingRate: 1}})
		if i%1000 == 0 {
			feed(d, scan[250+i/1000:251+i/1000])
			st := d.Stats()
			if st.Pairs > 1000 || st.Sweeps > 1000 || st.Targets > 1000 {
				t.Fatalf("after %d: %+v", i, st)
			}
		}
	}
	st := d.Stats()
	if st.EvictedPairs < 45000 || st.EvictedSweeps < 45000 || st.EvictedTargets < 45000 {
		t.Errorf("stats %+v: want the one-off keys evicted", st)
	}
	es := d.Step(t0.Add(5 * time.Minute))
	found := false
	for _, e := range es {
		if e.Kind == VerticalScan && e.Sources[0] == netip.MustParseAddr("10.9.0.1") {
			found = true
			if e.PortCount < 250 {
				t.Errorf("scan kept %d of its 300 ports", e.PortCount)
			}
		}
	}
	if !found {
		t.Errorf("the heavy scanner was evicted: %v", kinds(es))
	}
}

func TestDistinct(t *testing.T) {
	for _, n := range []int{0, 1, 8, 9, 15, 25, 100, 1000, 10000, 100000} {
		var d distinct
		for i := range n {
			d.add(mix(uint64(i)))
			d.add(mix(uint64(i))) // twice: counted once
		}
		got := d.count()
		if n <= exactMax && got != n {
			t.Errorf("%d values: counted %d, want exact", n, got)
		}
		if tol := 4 * 0.065 * float64(n); math.Abs(float64(got-n)) > max(tol, 1) {
			t.Errorf("%d values: estimated %d, beyond four standard errors", n, got)
		}
	}
}

func TestTopAddrs(t *testing.T) {
	var top topAddrs
	heavy := netip.MustParseAddr("203.0.113.7")
	for i := range 10000 {
		top.add(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), 1)
		if i%10 == 0 {
			top.add(heavy, 10)
		}
	}
	if s := top.sorted(); s[0] != heavy {
		t.Errorf("top %v, want %v first", s, heavy)
	}
}
