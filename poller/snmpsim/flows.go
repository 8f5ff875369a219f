package snmpsim

import (
	"cmp"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"time"
)

// The flow model splits what each interface's counters say crossed it into flows, as
// a router's flow cache would report them: every octet of an interval belongs to
// exactly one flow, so the flows' bytes per interface and direction sum to the
// counter deltas and a collector's totals equal the SNMP octets (ratio 1).
//
// Each interface has a fixed population of conversations, seeded by the interface:
// an inside host (10.D.0.0/16, D from the device's seed, or 2001:db8:0:D::/64), an
// outside one (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8:8000::/33),
// a service, a client port, which side is the server, and a size. Both hosts are
// drawn Zipf-like (rank k with probability about 1/(k+1.5)), so a few inside hosts
// and a few outside ones take much of the traffic and a long tail shares the rest;
// sizes are log-normal (elephants and mice). An interval draws its flows from the
// population, weighted by size and seeded by the interval, and shares the interval's
// octets among them in proportion to their sizes: the conversations not drawn are
// merged into those drawn. The same interval always gives the same flows.
//
// Which way a direction's octets go follows the interface's role: on an interface
// toward the outside (its alias starts with "transit", "peering", "internet" or
// "uplink") traffic in comes from outside hosts, elsewhere from inside ones. A flow
// names the interface as its input (in) or output (out) and leaves the other side 0,
// so that counting flows per interface counts each octet once.

// DefaultMaxFlows bounds the flows of one interface in one interval, both directions
// together, when Flows is given no bound.
const DefaultMaxFlows = 128

// Flow is one flow of simulated traffic over an interval.
type Flow struct {
	Src, Dst         netip.Addr // both IPv4 or both IPv6
	SrcPort, DstPort uint16
	Proto            uint8 // 6 TCP, 17 UDP
	TCPFlags         uint8 // the OR of the flow's TCP flags in the interval; 0 for UDP
	Bytes, Packets   uint64
	// InIf is the ifIndex of the interface the flow came in on, OutIf the one it left
	// by; the model sets one of them, and the other is 0.
	InIf, OutIf int
	Start, End  time.Time // within the interval
}

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

// service is a kind of traffic: its protocol and server port, how often it makes a
// conversation and how many octets one carries, and the mean packet size each way.
type service struct {
	proto    uint8
	port     uint16
	share    float64 // of conversations
	size     float64 // relative octets of one conversation
	toClient float64 // octets server to client, relative to client to server (1)
	// pktServer and pktClient are the mean packet sizes of what the server and the
	// client send, in octets.
	pktServer, pktClient float64
	inside               float64 // chance that the server is the inside host
	v6                   float64 // chance of IPv6 where the outside host has an IPv6 address
}

// services are weighted like the traffic of an access or transit link: HTTPS and QUIC
// carry most octets, DNS and NTP many small conversations.
var services = []service{
	{proto: 6, port: 443, share: 0.40, size: 1.0, toClient: 12, pktServer: 1380, pktClient: 90, inside: 0.10, v6: 1},
	{proto: 17, port: 443, share: 0.12, size: 1.2, toClient: 10, pktServer: 1250, pktClient: 120, inside: 0.05, v6: 1},
	{proto: 6, port: 80, share: 0.10, size: 0.6, toClient: 8, pktServer: 1300, pktClient: 180, inside: 0.10, v6: 0.6},
	{proto: 17, port: 53, share: 0.20, size: 0.002, toClient: 2.5, pktServer: 160, pktClient: 72, inside: 0.20, v6: 0.5},
	{proto: 6, port: 22, share: 0.04, size: 0.3, toClient: 1.5, pktServer: 800, pktClient: 200, inside: 0.50, v6: 0.5},
	{proto: 17, port: 123, share: 0.10, size: 0.0005, toClient: 1, pktServer: 76, pktClient: 76, inside: 0.10, v6: 0.3},
	{proto: 6, port: 25, share: 0.04, size: 0.08, toClient: 0.1, pktServer: 120, pktClient: 1200, inside: 0.70, v6: 0.3},
}

const (
	population  = 384  // conversations per interface
	insideHosts = 600  // hosts per device
	outsideV4   = 762  // the three IPv4 documentation /24s, less their .0 and .255
	outsideV6   = 190  // every fifth outside rank
	outsideAll  = 952  // outsideV4 + outsideV6
	minFlowSize = 64   // octets: no flow carries less when the interval has enough
	flowsScale  = 4096 // a direction has 4 + √(octets/flowsScale) flows, at most half the bound
)

// conversation is one member of an interface's population.
type conversation struct {
	inside, outside netip.Addr
	svc             *service
	clientPort      uint16
	serverInside    bool
	weight          float64 // relative octets
	key             uint64
}

// outsideFacing reports whether an interface's alias says it leads outside.
func outsideFacing(alias string) bool {
	for _, p := range []string{"transit", "peering", "internet", "uplink"} {
		if len(alias) >= len(p) && alias[:len(p)] == p {
			return true
		}
	}
	return false
}

// zipfRank draws a rank in [0, n) from u in [0, 1), rank k with probability
// ln((k+2)/(k+1)) / ln(n+1), about 1/((k+1.5) ln(n+1)).
func zipfRank(u float64, n int) int {
	return min(int(math.Exp(u*math.Log(float64(n+1))))-1, n-1)
}

// insideAddr is the inside host of rank r on the device whose network byte is d.
func insideAddr(d byte, r int, v6 bool) netip.Addr {
	if v6 {
		var a [16]byte
		copy(a[:], []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, d})
		a[14], a[15] = byte((r+10)>>8), byte(r+10)
		return netip.AddrFrom16(a)
	}
	return netip.AddrFrom4([4]byte{10, d, byte(r / 200), byte(r%200 + 10)})
}

// outsideAddr is the outside host of rank r: every fifth rank is an IPv6 host, the
// others IPv4 hosts spread over the documentation ranges so that the heaviest are not
// neighbours.
func outsideAddr(r int) (netip.Addr, bool) {
	if r%5 == 4 {
		h := mix(uint64(r) ^ 0x6a09e667f3bcc908)
		var a [16]byte
		copy(a[:], []byte{0x20, 0x01, 0x0d, 0xb8, 0x80 | byte(h>>56)&0x7f, byte(h >> 48)})
		a[15] = byte(h>>8) | 1
		a[14] = byte(h)
		return netip.AddrFrom16(a), true
	}
	k := (r - r/5) * 95 % outsideV4 // 95 is prime to 762: a permutation
	nets := [3][3]byte{{192, 0, 2}, {198, 51, 100}, {203, 0, 113}}
	n := nets[k/254]
	return netip.AddrFrom4([4]byte{n[0], n[1], n[2], byte(k%254 + 1)}), false
}

// conversations builds the population of an interface whose traffic key is ifKey,
// on the device whose inside network byte is d.
func conversations(ifKey uint64, d byte) []conversation {
	key := mix(ifKey ^ 0x3c6ef372fe94f82b)
	shift := int(mix(key^0x11) % insideHosts) // each interface has its own heavy inside hosts
	out := make([]conversation, population)
	for i := range out {
		h := mix(key ^ uint64(i)*0x9e3779b97f4a7c15)
		u := func(salt uint64) float64 { return unitFloat(mix(h ^ salt)) }
		c := &out[i]
		c.key = h
		pick := u(1)
		c.svc = &services[len(services)-1]
		for j := range services {
			if pick < services[j].share {
				c.svc = &services[j]
				break
			}
			pick -= services[j].share
		}
		var outside6 bool
		c.outside, outside6 = outsideAddr(zipfRank(u(2), outsideAll))
		v6 := outside6 && u(3) < c.svc.v6
		if outside6 && !v6 {
			c.outside, _ = outsideAddr(zipfRank(u(4), outsideAll)/5*5 + int(mix(h^5)%4))
		}
		c.inside = insideAddr(d, (zipfRank(u(6), insideHosts)+shift)%insideHosts, v6)
		c.serverInside = u(7) < c.svc.inside
		c.clientPort = uint16(32768 + mix(h^8)%28232) // Linux's ephemeral range
		// Log-normal sizes, σ 1.5: a few elephants among many mice.
		g := math.Sqrt(-2*math.Log(1-u(9))) * math.Cos(2*math.Pi*u(10))
		c.weight = c.svc.size * math.Exp(1.5*g)
	}
	return out
}

// Flows returns the flows that crossed the agent's interfaces in [from, to): for each
// interface and direction, flows whose bytes sum exactly to the traffic of the
// interval, that is to Counters(ifIndex, to) minus Counters(ifIndex, from) when no
// reboot, counter clear or re-creation of the interface falls in the interval (across
// one, the traffic the model carried). maxFlows bounds the flows of one interface
// (both directions together; 0 or less means DefaultMaxFlows). Interfaces are taken in
// configuration order, each one's inbound flows first; down interfaces and dead
// twins carry none. The same interval gives the same flows; this serves a live export
// and a back-fill of flow history alike.
func (a *Agent) Flows(from, to time.Time, maxFlows int) []Flow {
	if !to.After(from) {
		return nil
	}
	if maxFlows <= 0 {
		maxFlows = DefaultMaxFlows
	}
	perDir := (maxFlows + 1) / 2
	type job struct {
		key     uint64
		outward bool
		ifIndex int
		in, out uint64
	}
	a.mu.RLock()
	n := len(a.dev.Interfaces)
	jobs := make([]job, 0, n)
	for pos := range n {
		in, out := a.intervalOctets(pos, from, to)
		if in > 0 || out > 0 {
			f := &a.ifs[pos]
			jobs = append(jobs, job{f.in.key, outsideFacing(f.cfg.Alias), a.indexes[pos], in, out})
		}
	}
	a.mu.RUnlock()
	var flows []Flow
	d := byte(a.dev.Seed) // the inside network, 10.d.0.0/16
	for _, j := range jobs {
		pop := conversations(j.key, d)
		outward := j.outward
		flows = appendFlows(flows, pop, j.in, perDir, from, to, outward, j.ifIndex, 0)
		flows = appendFlows(flows, pop, j.out, perDir, from, to, !outward, 0, j.ifIndex)
	}
	return flows
}

// intervalOctets is what the interface at pos carried in [from, to). Callers hold mu.
func (a *Agent) intervalOctets(pos int, from, to time.Time) (in, out uint64) {
	if _, dead := a.frozen[pos]; dead || !a.ifs[pos].cfg.Up {
		return 0, 0
	}
	start := a.boot
	if c, ok := a.cleared[pos]; ok {
		start = c
	}
	if !from.Before(start) {
		in0, out0 := a.octets(pos, from)
		in1, out1 := a.octets(pos, to)
		return sub(in1, in0), sub(out1, out0)
	}
	// A reset inside the interval: the counters do not say what crossed it, the
	// model does.
	m0, m1 := a.ifs[pos].marks(at(from, a.offset)), a.ifs[pos].marks(at(to, a.offset))
	return octetsBetween(m0[0], m1[0]), octetsBetween(m0[1], m1[1])
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// appendFlows appends the flows of one direction of an interface: total octets over
// [from, to), coming from outside hosts when fromOutside, with the given ifIndexes.
func appendFlows(flows []Flow, pop []conversation, total uint64, maxFlows int, from, to time.Time,
	fromOutside bool, inIf, outIf int) []Flow {
	if total == 0 {
		return flows
	}
	n := min(4+int(math.Sqrt(float64(total/flowsScale))), maxFlows, len(pop))
	if uint64(n)*minFlowSize > total {
		n = max(1, int(total/minFlowSize))
	}
	seed := mix(uint64(from.UnixNano()) ^ mix(uint64(to.UnixNano())) ^ uint64(inIf)<<32 ^ uint64(outIf))
	// Efraimidis and Spirakis: the n largest u^(1/w) are a weighted sample without
	// replacement; ln u / w orders the same way. Drawn by the fourth root of their
	// octets, small conversations (DNS, NTP) show up about as often as their number
	// says, as in a router's flow cache, not as rarely as their octets would.
	type drawn struct {
		c      *conversation
		rank   float64
		weight float64 // this direction's, with the interval's jitter
	}
	all := make([]drawn, len(pop))
	for i := range pop {
		c := &pop[i]
		w := c.weight * c.directionShare(fromOutside)
		h := mix(c.key ^ seed)
		w *= 0.3 + 1.4*unitFloat(mix(h^0xa5)) // an interval is busier for some than others
		all[i] = drawn{c: c, rank: math.Log(1-unitFloat(h)) / math.Sqrt(math.Sqrt(w)), weight: w}
	}
	slices.SortFunc(all, func(x, y drawn) int { return cmp.Compare(y.rank, x.rank) })
	sel := all[:n]
	slices.SortFunc(sel, func(x, y drawn) int { return cmp.Compare(y.weight, x.weight) })

	// Exact shares: each flow gets minFlowSize (when there is enough), then the rest
	// in proportion to integer weights, in 128-bit arithmetic, and the remainder of
	// the divisions an octet each to the heaviest.
	base := uint64(0)
	if total >= uint64(n)*minFlowSize {
		base = minFlowSize
	}
	rest := total - base*uint64(n)
	q := make([]uint64, n)
	var sum uint64
	for i, d := range sel {
		q[i] = uint64(d.weight/sel[0].weight*(1<<32)) + 1
		sum += q[i]
	}
	bytes := make([]uint64, n)
	given := uint64(0)
	for i := range sel {
		hi, lo := bits.Mul64(rest, q[i])
		share, _ := bits.Div64(hi, lo, sum)
		bytes[i] = base + share
		given += share
	}
	for i := uint64(0); i < rest-given; i++ {
		bytes[i%uint64(n)]++
	}

	span := to.Sub(from)
	for i, d := range sel {
		c := d.c
		h := mix(c.key ^ seed ^ 0x5f)
		fl := Flow{Proto: c.svc.proto, Bytes: bytes[i], InIf: inIf, OutIf: outIf}
		serverSends := fromOutside != c.serverInside
		if fromOutside {
			fl.Src, fl.Dst = c.outside, c.inside
		} else {
			fl.Src, fl.Dst = c.inside, c.outside
		}
		pkt := c.svc.pktClient
		if serverSends {
			fl.SrcPort, fl.DstPort = c.svc.port, c.clientPort
			pkt = c.svc.pktServer
		} else {
			fl.SrcPort, fl.DstPort = c.clientPort, c.svc.port
		}
		fl.Packets = max(1, uint64(math.Round(float64(fl.Bytes)/pkt)))
		// Some flows were running before the interval, some go on after it.
		fl.Start, fl.End = from, to.Add(-time.Millisecond)
		began := unitFloat(mix(h^1)) < 0.6
		ended := unitFloat(mix(h^2)) < 0.4
		if began {
			fl.Start = from.Add(time.Duration(unitFloat(mix(h^3)) * 0.9 * float64(span)))
		}
		if ended {
			fl.End = fl.Start.Add(time.Duration(unitFloat(mix(h^4)) * float64(to.Sub(fl.Start))))
		}
		if fl.End.Before(fl.Start) {
			fl.End = fl.Start
		}
		if c.svc.proto == 6 {
			fl.TCPFlags = tcpACK
			if fl.Bytes > fl.Packets*60 {
				fl.TCPFlags |= tcpPSH
			}
			if began {
				fl.TCPFlags |= tcpSYN
			}
			if ended {
				fl.TCPFlags |= tcpFIN
			}
		}
		flows = append(flows, fl)
	}
	return flows
}

// directionShare is the part of a conversation's octets that goes from the outside
// host to the inside one (fromOutside) or the other way.
func (c *conversation) directionShare(fromOutside bool) float64 {
	toClient := c.svc.toClient / (1 + c.svc.toClient)
	if fromOutside != c.serverInside { // the server sends
		return toClient
	}
	return 1 - toClient
}
