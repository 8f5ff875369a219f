package snmpsim

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/internal/ipfixexport"
)

// Each device exports from its own address; a collector decoding the datagrams with
// package flow counts, per device, interface and direction, exactly the octets the
// counters moved by, and hears the templates again as the exporter refreshes them.
func TestFlowExportMatchesCounters(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := t0
	clock := NewManualClock(start)
	first := netip.MustParseAddr("127.0.20.1")
	agents, err := StartNetworkOn(ctx, first, DemoNetwork(), &Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(agents)
	col, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer col.Close()
	col.SetReadBuffer(8 << 20)
	to := col.LocalAddr().(*net.UDPAddr).AddrPort()

	byAddr := map[netip.Addr]*Agent{}
	var exps []*FlowExporter
	for i, a := range agents {
		want := first
		for range i {
			want = want.Next()
		}
		if got := a.Addr().AddrPort().Addr(); got != want {
			t.Fatalf("agent %d listens on %v, want %v", i, got, want)
		}
		e, err := NewFlowExporter(a, to, &ExportOptions{IPFIX: &ipfixexport.Options{TemplateEvery: 5}})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if e.Addr().Addr() != want {
			t.Fatalf("%s exports from %v, want %v", a.Name(), e.Addr(), want)
		}
		byAddr[want] = a
		exps = append(exps, e)
	}

	const steps = 4
	const step = 5 * time.Second
	datagrams := 0
	for s := range steps {
		from := start.Add(time.Duration(s) * step)
		for _, e := range exps {
			_, n, err := e.Export(from, from.Add(step))
			if err != nil {
				t.Fatal(err)
			}
			datagrams += n
		}
	}

	dec := flow.NewDecoder()
	type key struct {
		exporter netip.Addr
		ifIndex  int
	}
	got := map[key][2]uint64{}
	templates := map[netip.Addr]int{}
	buf := make([]byte, 65536)
	col.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range datagrams {
		n, from, err := col.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("after %d datagrams: %v", datagrams, err)
		}
		if byAddr[from.Addr()] == nil {
			t.Fatalf("datagram from %v, no device's address", from)
		}
		for off := 16; off+4 <= n; off += int(binary.BigEndian.Uint16(buf[off+2:])) {
			if binary.BigEndian.Uint16(buf[off:]) == 2 {
				templates[from.Addr()]++
			}
		}
		err = dec.Decode(buf[:n], from, clock.Now(), func(r flow.Record) {
			if r.Kind != flow.IPFIX || r.Exporter != from.Addr() {
				t.Errorf("record %+v from %v", r, from)
			}
			if r.InIf != 0 {
				c := got[key{r.Exporter, int(r.InIf)}]
				c[0] += r.Bytes
				got[key{r.Exporter, int(r.InIf)}] = c
			}
			if r.OutIf != 0 {
				c := got[key{r.Exporter, int(r.OutIf)}]
				c[1] += r.Bytes
				got[key{r.Exporter, int(r.OutIf)}] = c
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := dec.Stats(); len(st.Errors) != 0 {
		t.Errorf("decoder errors %v", st.Errors)
	}
	end := start.Add(steps * step)
	checked := 0
	for addr, a := range byAddr {
		for _, idx := range a.Indexes() {
			i0, o0 := a.Counters(idx, start)
			i1, o1 := a.Counters(idx, end)
			want := [2]uint64{i1 - i0, o1 - o0}
			if g := got[key{addr, idx}]; g != want {
				t.Errorf("%s ifIndex %d: flows carry in/out %v octets, counters moved %v", a.Name(), idx, g, want)
			}
			delete(got, key{addr, idx})
			checked++
		}
		if templates[addr] < 2 {
			t.Errorf("%s sent its templates %d times in %d steps", a.Name(), templates[addr], steps)
		}
	}
	for k, v := range got {
		t.Errorf("flows of %v on ifIndex %d (%v octets), which the device does not have", k.exporter, k.ifIndex, v)
	}
	t.Logf("%d interfaces, %d datagrams for %d steps of %v", checked, datagrams, steps, step)
}

func TestStartNetworkOnRejects(t *testing.T) {
	ctx := context.Background()
	for _, a := range []string{"10.0.0.1", "::1", "127.255.255.255"} {
		if agents, err := StartNetworkOn(ctx, netip.MustParseAddr(a), DemoNetwork()[:1], nil); err == nil {
			closeAll(agents)
			t.Errorf("StartNetworkOn(%s) started", a)
		}
	}
	if _, err := NewFlowExporter(&Agent{dev: DeviceConfig{Name: "x"}}, netip.MustParseAddrPort("192.0.2.1:2055"), nil); err == nil {
		t.Error("an exporter to a collector off loopback was made")
	}
}

// BenchmarkFlowExport is one 5-second interval of the demo network's busiest device
// (12 interfaces) modelled, encoded and sent to a loopback socket: flows/op and
// datagrams/op say how much, ns/flow what each flow cost.
func BenchmarkFlowExport(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agents, err := StartNetworkOn(ctx, netip.MustParseAddr("127.0.20.1"), DemoNetwork()[:1], &Options{Now: func() time.Time { return t0 }})
	if err != nil {
		b.Fatal(err)
	}
	defer closeAll(agents)
	col, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer col.Close()
	go func() { // drain, so that the kernel's drops do not shorten the work
		buf := make([]byte, 65536)
		for {
			if _, err := col.Read(buf); err != nil {
				return
			}
		}
	}()
	e, err := NewFlowExporter(agents[0], col.LocalAddr().(*net.UDPAddr).AddrPort(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	flows, datagrams := 0, 0
	for i := 0; b.Loop(); i++ {
		from := t0.Add(time.Duration(i) * 5 * time.Second)
		f, d, err := e.Export(from, from.Add(5*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		flows, datagrams = flows+f, datagrams+d
	}
	b.ReportMetric(float64(flows)/float64(b.N), "flows/op")
	b.ReportMetric(float64(datagrams)/float64(b.N), "datagrams/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(flows), "ns/flow")
}
