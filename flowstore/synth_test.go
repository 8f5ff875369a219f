package flowstore

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// synth makes records like a collector's: datagrams of a few dozen records from a few
// exporters, sharing their Received time; a Zipf-like skew of inside and outside
// addresses (some IPv6), common server ports against ephemeral ones, heavy-tailed
// sizes, flow times to the millisecond as NetFlow v9 gives them.
type synth struct {
	rng       *rand.Rand
	inside    *rand.Zipf
	outside   *rand.Zipf
	pkts      *rand.Zipf
	at        time.Time
	perSecond int
	left      int // records left in the current datagram
	exporter  int
}

var (
	synthExporters = []struct {
		addr     netip.Addr
		device   string
		sampling uint64
	}{
		{netip.MustParseAddr("192.0.2.1"), "core1", 1},
		{netip.MustParseAddr("192.0.2.2"), "core2", 1},
		{netip.MustParseAddr("192.0.2.3"), "edge1", 1000},
		{netip.MustParseAddr("2001:db8::1"), "edge2", 1},
	}
	ifNames = func() (names [49]string) {
		for i := range names {
			names[i] = fmt.Sprintf("ge-0/0/%d", i)
		}
		return names
	}()
	serverPorts = []uint16{443, 443, 443, 443, 80, 80, 53, 53, 123, 22, 25, 993, 3389, 8080, 8443, 5060}
)

func newSynth(seed uint64, start time.Time, perSecond int) *synth {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &synth{rng: rng, at: start, perSecond: perSecond,
		inside:  rand.NewZipf(rng, 1.2, 4, 1<<16-1),
		outside: rand.NewZipf(rng, 1.1, 8, 1<<20-1),
		pkts:    rand.NewZipf(rng, 1.3, 2, 1<<20)}
}

func (g *synth) addr(inside bool) netip.Addr {
	if inside {
		n := g.inside.Uint64()
		return netip.AddrFrom4([4]byte{10, byte(n >> 8), byte(n), 1 + byte(n%200)})
	}
	n := g.outside.Uint64()
	if n%10 == 7 {
		var b [16]byte
		copy(b[:], []byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(n >> 16)})
		b[14], b[15] = byte(n>>8), byte(n)
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte{byte(23 + n%170), byte(n >> 12), byte(n >> 4), byte(n<<4) | 1})
}

// next fills fs with the next records.
func (g *synth) next(fs []flow.Flow) {
	for i := range fs {
		if g.left == 0 {
			g.left = 20 + g.rng.IntN(10)
			g.exporter = g.rng.IntN(len(synthExporters))
			g.at = g.at.Add(time.Duration(float64(g.left) * float64(time.Second) / float64(g.perSecond) * (0.5 + g.rng.Float64())))
		}
		g.left--
		ex := synthExporters[g.exporter]
		out := g.rng.IntN(2) == 0 // outbound: inside address is the source
		inAddr, outAddr := g.addr(true), g.addr(false)
		if ex.addr.Is6() {
			inAddr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(inAddr.As4()[2]), inAddr.As4()[3]})
			outAddr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, 0, outAddr.AsSlice()[2], outAddr.AsSlice()[3]})
		}
		server := serverPorts[g.rng.IntN(len(serverPorts))]
		client := uint16(32768 + g.rng.IntN(28232))
		proto := uint8(6)
		switch p := g.rng.IntN(100); {
		case p >= 98:
			proto, server, client = 1, 0, 0
		case p >= 80 || server == 53 || server == 123:
			proto = 17
		}
		var flags uint8
		if proto == 6 {
			flags = 0x18 | uint8(g.rng.IntN(2))*0x02 | uint8(g.rng.IntN(2))*0x01
		}
		packets := 1 + g.pkts.Uint64()
		size := 40 + uint64(g.rng.IntN(1460))
		if packets > 10 {
			size = 1200 + uint64(g.rng.IntN(300))
		}
		dur := time.Duration(g.rng.IntN(60000)) * time.Millisecond
		if packets == 1 {
			dur = 0
		}
		end := g.at.Truncate(time.Second).Add(-time.Duration(g.rng.IntN(30000)) * time.Millisecond)
		inIf, outIf := uint32(1+g.rng.IntN(8)), uint32(9+g.rng.IntN(40))
		f := flow.Flow{Record: flow.Record{
			Received: g.at, Start: end.Add(-dur), End: end, Kind: flow.NetFlowV9,
			Exporter: ex.addr, Domain: uint32(g.exporter), SamplingRate: ex.sampling,
			InIf: inIf, OutIf: outIf, Src: inAddr, Dst: outAddr, SrcPort: client, DstPort: server,
			Proto: proto, TCPFlags: flags, Bytes: packets * size * ex.sampling, Packets: packets * ex.sampling},
			Device: ex.device, In: ifNames[inIf], Out: ifNames[outIf]}
		if !out {
			f.Src, f.Dst, f.SrcPort, f.DstPort = f.Dst, f.Src, f.DstPort, f.SrcPort
			f.InIf, f.OutIf, f.In, f.Out = f.OutIf, f.InIf, f.Out, f.In
		}
		fs[i] = f
	}
}
