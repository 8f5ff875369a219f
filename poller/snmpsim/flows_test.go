package snmpsim

import (
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"
)

// checkFlows checks the flows of one agent over [from, to): per interface and
// direction their bytes sum to want (ifIndex to in and out octets), each names one
// interface, on its side, and keeps within the interval and the bound.
func checkFlows(t *testing.T, a *Agent, flows []Flow, from, to time.Time, maxFlows int, want map[int][2]uint64) {
	t.Helper()
	got := map[int][2]uint64{}
	count := map[int]int{}
	for _, f := range flows {
		if (f.InIf == 0) == (f.OutIf == 0) {
			t.Fatalf("flow %+v names both sides or neither", f)
		}
		if f.InIf != 0 {
			c := got[f.InIf]
			c[0] += f.Bytes
			got[f.InIf] = c
			count[f.InIf]++
		} else {
			c := got[f.OutIf]
			c[1] += f.Bytes
			got[f.OutIf] = c
			count[f.OutIf]++
		}
		if f.Src.Is4() != f.Dst.Is4() || !f.Src.IsValid() || !f.Dst.IsValid() {
			t.Fatalf("flow %+v mixes address families", f)
		}
		if f.Bytes == 0 || f.Packets == 0 || f.Packets > f.Bytes {
			t.Fatalf("flow %+v: %d bytes in %d packets", f, f.Bytes, f.Packets)
		}
		if f.Start.Before(from) || f.End.Before(f.Start) || !f.End.Before(to) {
			t.Fatalf("flow %+v outside [%v, %v)", f, from, to)
		}
		if (f.Proto == 6) != (f.TCPFlags&tcpACK != 0) {
			t.Fatalf("flow %+v: protocol %d with TCP flags %#x", f, f.Proto, f.TCPFlags)
		}
	}
	for idx, w := range want {
		if got[idx] != w {
			t.Errorf("%s ifIndex %d over %v: flows carry in/out %v octets, counters moved %v", a.Name(), idx, to.Sub(from), got[idx], w)
		}
		if count[idx] > maxFlows {
			t.Errorf("%s ifIndex %d: %d flows, bound %d", a.Name(), idx, count[idx], maxFlows)
		}
	}
	for idx := range got {
		if _, ok := want[idx]; !ok {
			t.Errorf("flows on ifIndex %d, which %s does not have", idx, a.Name())
		}
	}
}

// deltas is what the agent's counters moved by over [from, to), by ifIndex.
func deltas(a *Agent, from, to time.Time) map[int][2]uint64 {
	want := map[int][2]uint64{}
	for _, idx := range a.Indexes() {
		i0, o0 := a.Counters(idx, from)
		i1, o1 := a.Counters(idx, to)
		want[idx] = [2]uint64{i1 - i0, o1 - o0}
	}
	return want
}

// The flows of an interval carry, per interface and direction, exactly what the
// counters moved by, for intervals from a second to a day, with any bound.
func TestFlowsMatchCounters(t *testing.T) {
	for _, dev := range DemoNetwork() {
		a := offline(t, dev)
		for _, c := range []struct {
			from     time.Time
			span     time.Duration
			maxFlows int
		}{
			{t0.Add(-time.Second), time.Second, 0},
			{t0.Add(-5 * time.Second), 5 * time.Second, 0},
			{t0.Add(-5*time.Minute + 1234*time.Microsecond), 5 * time.Minute, 200},
			{t0.Add(-24 * time.Hour), 24 * time.Hour, 50},
			{t0.Add(-90 * 24 * time.Hour), 5 * time.Minute, 2},
		} {
			to := c.from.Add(c.span)
			max := c.maxFlows
			if max == 0 {
				max = DefaultMaxFlows
			}
			flows := a.Flows(c.from, to, c.maxFlows)
			if len(flows) == 0 {
				t.Fatalf("%s: no flows over %v", dev.Name, c.span)
			}
			checkFlows(t, a, flows, c.from, to, max, deltas(a, c.from, to))
		}
	}
}

// The same interval gives the same flows; another interval of the same length others.
func TestFlowsDeterministic(t *testing.T) {
	dev := DemoNetwork()[0]
	a, b := offline(t, dev), offline(t, dev)
	from, to := t0.Add(-5*time.Minute), t0
	x, y := a.Flows(from, to, 0), b.Flows(from, to, 0)
	if !reflect.DeepEqual(x, y) {
		t.Error("two agents of one device gave different flows for one interval")
	}
	z := a.Flows(from.Add(-5*time.Minute), from, 0)
	if reflect.DeepEqual(x, z) {
		t.Error("two intervals gave the same flows")
	}
	if a.Flows(to, from, 0) != nil || a.Flows(to, to, 0) != nil {
		t.Error("an empty interval has flows")
	}
}

// Across a counter clear and after a reboot, flows still carry the model's traffic,
// and once the counters run again, exactly their deltas; down interfaces carry none.
func TestFlowsAcrossReset(t *testing.T) {
	dev := DemoNetwork()[2]
	clock := NewManualClock(t0)
	a := newAgent(dev, &Options{Now: clock.Now, BootTime: t0.AddDate(0, 0, -3)})
	idx, _ := a.IfIndex("Gi1/0/3")
	if err := a.ClearCounters(idx); err != nil {
		t.Fatal(err)
	}
	from, to := t0.Add(-time.Minute), t0.Add(time.Minute)
	var in, out uint64
	for _, f := range a.Flows(from, to, 0) {
		if f.InIf == idx {
			in += f.Bytes
		}
		if f.OutIf == idx {
			out += f.Bytes
		}
	}
	// Dead reckoning from the counters of the minute after the clear: the rate
	// hardly changes in two minutes.
	ci, co := a.Counters(idx, to)
	if in < ci*19/10 || in > ci*21/10 || out < co*19/10 || out > co*21/10 {
		t.Errorf("over a clear, flows carry %d/%d octets; the minute after it %d/%d", in, out, ci, co)
	}
	clock.Set(t0.Add(time.Hour))
	a.Reboot()
	from, to = t0.Add(time.Hour+time.Second), t0.Add(time.Hour+time.Minute)
	checkFlows(t, a, a.Flows(from, to, 0), from, to, DefaultMaxFlows, deltas(a, from, to))
	down, _ := a.IfIndex("Gi1/0/11")
	for _, f := range a.Flows(from, to, 0) {
		if f.InIf == down || f.OutIf == down {
			t.Fatalf("down interface carries %+v", f)
		}
	}
}

// Over a day, the traffic looks like a real link's: HTTPS the most octets, DNS and NTP
// many small flows, a few inside hosts heavy, a long tail of outside addresses, all
// in the documentation and private ranges; on an uplink inbound octets come from
// outside, on a customer port they go out to it.
func TestFlowsMix(t *testing.T) {
	a := offline(t, DemoNetwork()[0])  // core1
	uplink, _ := a.IfIndex("xe-0/0/1") // transit
	cust, _ := a.IfIndex("ge-0/0/2")   // customer
	bySvc := map[[2]uint16]uint64{}
	flowsBySvc := map[[2]uint16]int{}
	inside := map[netip.Addr]uint64{}
	outside := map[netip.Addr]uint64{}
	var total uint64
	ranges := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8:8000::/33")}
	insideRanges := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("2001:db8:0:1::/64")}
	in := func(a netip.Addr, ps []netip.Prefix) bool {
		return slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	v6 := 0
	for t1 := t0.Add(-24 * time.Hour); t1.Before(t0); t1 = t1.Add(30 * time.Minute) {
		for _, f := range a.Flows(t1, t1.Add(30*time.Minute), 0) {
			if f.InIf != uplink && f.OutIf != cust {
				continue
			}
			// Inbound on the transit and outbound to the customer come from outside.
			if !in(f.Src, ranges) || !in(f.Dst, insideRanges) {
				t.Fatalf("flow %+v: want outside source, inside destination", f)
			}
			port := min(f.SrcPort, f.DstPort) // the server's
			bySvc[[2]uint16{uint16(f.Proto), port}] += f.Bytes
			flowsBySvc[[2]uint16{uint16(f.Proto), port}]++
			inside[f.Dst] += f.Bytes
			outside[f.Src] += f.Bytes
			total += f.Bytes
			if f.Src.Is6() {
				v6++
			}
		}
	}
	https := bySvc[[2]uint16{6, 443}]
	for svc, b := range bySvc {
		if svc != [2]uint16{6, 443} && b >= https {
			t.Errorf("%v carries %d octets, HTTPS only %d", svc, b, https)
		}
	}
	for _, svc := range [][2]uint16{{17, 443}, {6, 80}, {17, 53}, {6, 22}, {17, 123}, {6, 25}} {
		if flowsBySvc[svc] == 0 {
			t.Errorf("no flows of %v in a day", svc)
		}
	}
	if flowsBySvc[[2]uint16{17, 53}] < flowsBySvc[[2]uint16{6, 22}] {
		t.Errorf("DNS has %d flows, SSH %d", flowsBySvc[[2]uint16{17, 53}], flowsBySvc[[2]uint16{6, 22}])
	}
	if v6 == 0 {
		t.Error("no IPv6 flows")
	}
	top := func(m map[netip.Addr]uint64, k int) float64 {
		var v []uint64
		for _, b := range m {
			v = append(v, b)
		}
		slices.Sort(v)
		slices.Reverse(v)
		var s uint64
		for _, b := range v[:min(k, len(v))] {
			s += b
		}
		return float64(s) / float64(total)
	}
	if s := top(inside, 5); s < 0.3 || len(inside) < 100 {
		t.Errorf("top 5 inside hosts of %d carry %.0f%%, want a few heavy ones in a long tail", len(inside), 100*s)
	}
	if s := top(outside, 10); s < 0.2 || s > 0.9 || len(outside) < 200 {
		t.Errorf("top 10 outside hosts of %d carry %.0f%%, want a heavy head and a long tail", len(outside), 100*s)
	}
	t.Logf("inside hosts %d (top 5: %.0f%%), outside %d (top 10: %.0f%%), services %v", len(inside), 100*top(inside, 5),
		len(outside), 100*top(outside, 10), flowsBySvc)
}

// BenchmarkFlows is the cost of one 5-second interval's flows of the demo network's
// busiest device (12 interfaces); flows/op says how many.
func BenchmarkFlows(b *testing.B) {
	dev := DemoNetwork()[0]
	if err := dev.validate(); err != nil {
		b.Fatal(err)
	}
	a := newAgent(dev, &Options{Now: func() time.Time { return t0 }, BootTime: t0.AddDate(-1, 0, 0)})
	n := 0
	for i := 0; b.Loop(); i++ {
		from := t0.Add(time.Duration(i) * 5 * time.Second)
		n += len(a.Flows(from, from.Add(5*time.Second), 0))
	}
	b.ReportMetric(float64(n)/float64(b.N), "flows/op")
}
