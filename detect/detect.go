package detect

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// TCP flags.
const (
	flagSYN = 0x02
	flagACK = 0x10
)

// AnsweredShare is the share of the UDP packets a destination receives that it must
// send back, as UDP, for them to be a conversation and not a flood.
const AnsweredShare = 1.0 / 32

// DDoS kinds, as indexes.
const (
	kindSYN = iota
	kindUDP
	kindReflection
	kindICMP
	nKinds
)

var ddosKinds = [nKinds]Kind{DDoSSYN, DDoSUDP, DDoSReflection, DDoSICMP}

// sentKey is mixed into an address's hash for its sent UDP in the sketch, apart from
// the kinds it receives.
const sentKey = nKinds

// span is the earliest start and latest end of some flows, in Unix nanoseconds.
type span struct{ first, last int64 }

func (s *span) add(start, end int64) {
	if s.first == 0 || start < s.first {
		s.first = start
	}
	if end > s.last {
		s.last = end
	}
}

// where is where a key's most recent flow was seen.
type where struct{ device, iface string }

type pairKey struct{ src, dst netip.Addr }

// pair is what one source did to one host: its probes' ports (over the scan window)
// and its SYNs (over the step).
type pair struct {
	ports    distinct
	sample   []uint16 // the first sampleN distinct ports
	probes   float64  // flows
	packets  float64  // of the probes
	bytes    float64
	scan     span
	reported bool // as a vertical scan, in this scan window

	syn, synBytes, synFlows float64
	synSpan                 span
	synPorts                topPorts
	where
}

type sweepKey struct {
	src   netip.Addr
	proto uint8
	port  uint16
}

// sweep is what one source did on one port (or by ICMP) to many hosts, over the scan
// window.
type sweep struct {
	hosts                  distinct
	sample                 []netip.Addr // the first sampleN distinct hosts
	probes, packets, bytes float64
	scan                   span
	reported               bool
	where
}

// target is what came to one destination, by DDoS kind.
type target struct {
	k      [nKinds]*kindAgg
	base   [nKinds]float64 // baseline packets/s
	seen   [nKinds]float64 // windows the baseline has learned from, up to 1/alpha
	window float64         // packets of all kinds this step
	// sentUDP is the UDP packets the destination itself sent this step: its
	// answers, which make the UDP it receives a conversation rather than a flood.
	sentUDP float64
	where
}

type kindAgg struct {
	packets, bytes, flows float64
	sources               distinct
	top                   topAddrs
	ports                 topPorts // destination ports; source ports for reflection
	span                  span
}

// learn moves a kind's baseline towards a window's rate: an EWMA whose first windows
// weigh 1/n (the mean so far), so that a young baseline is not biased towards zero.
func (t *target) learn(kind int, pps, alpha float64) {
	if t.seen[kind] < 1/alpha {
		t.seen[kind]++
	}
	t.base[kind] += (pps - t.base[kind]) / t.seen[kind]
}

// Stats counts a Detector's work.
type Stats struct {
	Records uint64 // records added
	Allowed uint64 // records not examined: their source is allow-listed
	// Pairs, Sweeps and Targets are the tables' entries now; Evicted the entries
	// evicted from each so far to keep within the bounds.
	Pairs, Sweeps, Targets                      int
	EvictedPairs, EvictedSweeps, EvictedTargets uint64
}

// Detector turns flow records into events. Add and Step are safe for concurrent use.
type Detector struct {
	cfg       Config
	reflect   [65536 / 64]uint64 // ReflectionPorts as a bit set
	allowNets []Network          // the Networks with allow-lists

	// promote is, by kind, the packets and bytes a destination must carry in a step
	// before it is tracked: a sixteenth of the least any threshold needs.
	promote [nKinds][2]float64

	mu        sync.Mutex
	light     *countMin // the destinations' kinds this step, tracked or not
	pairs     *bounded[pairKey, pair]
	sweeps    *bounded[sweepKey, sweep]
	targets   *bounded[netip.Addr, target]
	lastEnd   time.Time
	scanStart time.Time
	records   uint64
	allowed   uint64
}

// New returns a Detector with the configuration's zero fields set to their defaults,
// or an error that says which setting is wrong.
func New(cfg Config) (*Detector, error) {
	cfg.Networks = slices.Clone(cfg.Networks)
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &Detector{cfg: cfg}
	for _, p := range cfg.ReflectionPorts {
		d.reflect[p/64] |= 1 << (p % 64)
	}
	for _, n := range cfg.Networks {
		if len(n.Allow) > 0 {
			d.allowNets = append(d.allowNets, n)
		}
	}
	d.light = new(countMin)
	least := cfg.Thresholds
	for _, n := range cfg.Networks {
		t := n.Thresholds
		least.DDoSSYNPPS = min(least.DDoSSYNPPS, t.DDoSSYNPPS)
		least.DDoSUDPPPS = min(least.DDoSUDPPPS, t.DDoSUDPPPS)
		least.DDoSReflectionPPS = min(least.DDoSReflectionPPS, t.DDoSReflectionPPS)
		least.DDoSICMPPPS = min(least.DDoSICMPPPS, t.DDoSICMPPPS)
		least.DDoSBPS = min(least.DDoSBPS, t.DDoSBPS)
	}
	sec := cfg.MinSpan.Seconds() / 16
	bytes := least.DDoSBPS / 8 * sec
	d.promote = [nKinds][2]float64{{least.DDoSSYNPPS * sec, math.Inf(1)}, {least.DDoSUDPPPS * sec, bytes},
		{least.DDoSReflectionPPS * sec, bytes}, {least.DDoSICMPPPS * sec, bytes}}
	d.pairs = newBounded[pairKey](cfg.MaxPairs, func(p *pair) float64 { return p.probes + p.syn })
	d.sweeps = newBounded[sweepKey](cfg.MaxSweeps, func(s *sweep) float64 { return s.probes })
	d.targets = newBounded[netip.Addr](cfg.MaxTargets, func(t *target) float64 {
		w := t.window
		for _, b := range t.base {
			w += b
		}
		return w
	})
	return d, nil
}

func (d *Detector) reflection(port uint16) bool { return d.reflect[port/64]&(1<<(port%64)) != 0 }

// allow reports whether traffic from src to dst is allow-listed.
func (d *Detector) allow(src, dst netip.Addr) bool {
	for _, p := range d.cfg.Allow {
		if p.Contains(src) {
			return true
		}
	}
	for _, n := range d.allowNets {
		if n.Prefix.Contains(dst) {
			for _, p := range n.Allow {
				if p.Contains(src) {
					return true
				}
			}
		}
	}
	return false
}

// icmpRequest reports whether an ICMP flow's type, as the destination port carries it
// (type*256+code), is a request a sweep sends, or unknown (0: not exported, or an echo
// reply).
func icmpRequest(proto uint8, dstPort uint16) bool {
	if dstPort == 0 {
		return true
	}
	t := dstPort >> 8
	if proto == 58 {
		return t == 128 // echo request
	}
	return t == 8 || t == 13 || t == 15 || t == 17 // echo, timestamp, information, address mask
}

// Add examines one flow record. It is called for every record the collector decodes.
func (d *Detector) Add(f *flow.Flow) {
	r := &f.Record
	if r.Packets == 0 || !r.Src.IsValid() || !r.Dst.IsValid() {
		return
	}
	// What the record is to each detector; most records are none of it.
	var probe, sweepProbe, syn bool
	kind := -1
	var sweepPort uint16
	switch r.Proto {
	case 6:
		if r.TCPFlags == 0 || r.TCPFlags&flagACK != 0 {
			return // no flags exported, or answered: established traffic
		}
		probe, sweepProbe, sweepPort = true, true, r.DstPort
		if r.TCPFlags&flagSYN != 0 {
			syn, kind = true, kindSYN
		}
	case 17:
		kind = kindUDP
		refl := d.reflection(r.SrcPort)
		if refl {
			kind = kindReflection
		}
		probe = r.Kind != flow.SFlow5 && r.Packets <= r.SamplingRate && !refl && !(r.SrcPort < 1024 && r.DstPort >= 1024)
	case 1, 58:
		kind = kindICMP
		sweepProbe = icmpRequest(r.Proto, r.DstPort)
	default:
		return
	}
	if (d.cfg.Allow != nil || d.allowNets != nil) && d.allow(r.Src, r.Dst) {
		d.mu.Lock()
		d.records++
		d.allowed++
		d.mu.Unlock()
		return
	}
	packets, bytes, flows := float64(r.Packets), float64(r.Bytes), 1.0
	start, end := r.Start.UnixNano(), r.End.UnixNano()
	if r.Start.IsZero() || r.End.IsZero() {
		start, end = r.Received.UnixNano(), r.Received.UnixNano()
	}
	if dur := end - start; dur > int64(d.cfg.Window) {
		// Only the window's share of a long flow.
		share := float64(d.cfg.Window) / float64(dur)
		packets, bytes, flows = packets*share, bytes*share, share
	}
	w := where{f.Device, f.In}

	d.mu.Lock()
	defer d.mu.Unlock()
	d.records++
	if probe || syn {
		p := d.pairs.get(pairKey{r.Src, r.Dst})
		p.where = w
		if probe {
			p.probes += flows
			p.packets += packets
			p.bytes += bytes
			p.scan.add(start, end)
			port := uint32(r.Proto)<<16 | uint32(r.DstPort)
			if p.ports.add(mix(uint64(port))) {
				p.sample = append(p.sample, r.DstPort)
			}
		}
		if syn {
			p.syn += packets
			p.synBytes += bytes
			p.synFlows += flows
			p.synSpan.add(start, end)
			p.synPorts.add(r.DstPort, packets)
		}
	}
	if sweepProbe {
		s := d.sweeps.get(sweepKey{r.Src, r.Proto, sweepPort})
		s.where = w
		s.probes += flows
		s.packets += packets
		s.bytes += bytes
		s.scan.add(start, end)
		if s.hosts.add(hashAddr(r.Dst)) {
			s.sample = append(s.sample, r.Dst)
		}
	}
	if kind < 0 {
		return
	}
	if r.Proto == 17 {
		// What each address sends as UDP, for the destinations that answer: counted
		// exactly once it is a tracked destination, and by the sketch before, so
		// that answers sent before the requests made it one are not missed.
		d.light.add(mix(hashAddr(r.Src)^sentKey), packets, 0)
		if t := d.targets.m[r.Src]; t != nil {
			t.sentUDP += packets
		}
	}
	estP, estB := d.light.add(mix(hashAddr(r.Dst)^uint64(kind)), packets, bytes)
	if estP < d.promote[kind][0] && estB < d.promote[kind][1] {
		return
	}
	t, known := d.targets.m[r.Dst]
	if !known {
		t = d.targets.get(r.Dst)
		t.sentUDP = d.light.packetsOf(mix(hashAddr(r.Dst) ^ sentKey))
	}
	t.where = w
	a := t.k[kind]
	if a == nil {
		// Tracked from now on this step, with what it carried before: the sketch's
		// estimate, this record included (flows are not estimated: at least this one).
		a = new(kindAgg)
		t.k[kind] = a
		packets, bytes = estP, estB
	}
	t.window += packets
	a.packets += packets
	a.bytes += bytes
	a.flows += flows
	a.span.add(start, end)
	a.sources.add(hashAddr(r.Src))
	a.top.add(r.Src, packets)
	if kind == kindReflection {
		a.ports.add(r.SrcPort, packets)
	} else if kind != kindICMP {
		a.ports.add(r.DstPort, packets)
	}
}

// settings returns the thresholds for a target and the network they come from.
func (d *Detector) settings(a netip.Addr) (Thresholds, netip.Prefix) {
	best := -1
	for i, n := range d.cfg.Networks {
		if n.Prefix.Contains(a) && (best < 0 || n.Prefix.Bits() > d.cfg.Networks[best].Prefix.Bits()) {
			best = i
		}
	}
	if best < 0 {
		return d.cfg.Thresholds, netip.Prefix{}
	}
	return d.cfg.Networks[best].Thresholds, d.cfg.Networks[best].Prefix
}

// seconds is the span a rate is taken over: the evidence's own, held between MinSpan
// and the step.
func (d *Detector) seconds(s span, step time.Duration) float64 {
	dur := time.Duration(s.last - s.first)
	dur = max(min(dur, step), d.cfg.MinSpan)
	return dur.Seconds()
}

func times(s span) (time.Time, time.Time) {
	return time.Unix(0, s.first).UTC(), time.Unix(0, s.last).UTC()
}

// Step ends the window that ends at end and returns its events, in a stable order.
// The daemon calls it once per poll step.
func (d *Detector) Step(end time.Time) []Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	step := d.cfg.Window
	if !d.lastEnd.IsZero() && end.After(d.lastEnd) {
		step = end.Sub(d.lastEnd)
	}
	step = max(step, d.cfg.MinSpan)
	d.lastEnd = end
	if d.scanStart.IsZero() {
		d.scanStart = end.Add(-step)
	}
	var events []Event
	for k, p := range d.pairs.m {
		th, net := d.settings(k.dst)
		ports := p.ports.count()
		if !p.reported && p.probes > 0 && ports >= th.ScanPorts {
			p.reported = true
			e := Event{Kind: VerticalScan, Severity: severity(float64(ports), float64(th.ScanPorts)),
				Device: p.device, Interface: p.iface, Network: net,
				Sources: []netip.Addr{k.src}, SourceCount: 1, Targets: []netip.Addr{k.dst}, TargetCount: 1,
				Ports: slices.Clone(p.sample), PortCount: ports,
				Packets: uint64(p.packets + 0.5), Bytes: uint64(p.bytes + 0.5), Flows: uint64(p.probes + 0.5),
				Evidence: []Evidence{{"distinct ports", float64(ports), float64(th.ScanPorts)}}}
			e.Start, e.End = times(p.scan)
			sec := d.seconds(p.scan, end.Sub(d.scanStart))
			e.PPS, e.BPS, e.FlowsPerSec = p.packets/sec, 8*p.bytes/sec, p.probes/sec
			events = append(events, e)
		}
		if p.syn > 0 && ports < th.ScanPorts {
			sec := d.seconds(p.synSpan, step)
			if pps := p.syn / sec; pps >= th.SYNFloodPPS {
				e := Event{Kind: SYNFlood, Severity: severity(pps, th.SYNFloodPPS),
					Device: p.device, Interface: p.iface, Network: net, Proto: 6,
					Sources: []netip.Addr{k.src}, SourceCount: 1, Targets: []netip.Addr{k.dst}, TargetCount: 1,
					Ports: p.synPorts.sorted(), PPS: pps, BPS: 8 * p.synBytes / sec, FlowsPerSec: p.synFlows / sec,
					Packets: uint64(p.syn + 0.5), Bytes: uint64(p.synBytes + 0.5), Flows: uint64(p.synFlows + 0.5),
					Evidence: []Evidence{{"SYN pps", pps, th.SYNFloodPPS}}}
				e.Start, e.End = times(p.synSpan)
				events = append(events, e)
			}
		}
		p.syn, p.synBytes, p.synFlows, p.synSpan, p.synPorts = 0, 0, 0, span{}, topPorts{}
		if p.probes == 0 {
			delete(d.pairs.m, k)
		}
	}
	for k, s := range d.sweeps.m {
		if s.reported {
			continue
		}
		th, net := d.settings(s.sample[0])
		hosts := s.hosts.count()
		if hosts < th.SweepHosts {
			continue
		}
		s.reported = true
		e := Event{Kind: HorizontalSweep, Severity: severity(float64(hosts), float64(th.SweepHosts)),
			Device: s.device, Interface: s.iface, Network: net, Proto: k.proto,
			Sources: []netip.Addr{k.src}, SourceCount: 1, Targets: slices.Clone(s.sample), TargetCount: hosts,
			Packets: uint64(s.packets + 0.5), Bytes: uint64(s.bytes + 0.5), Flows: uint64(s.probes + 0.5),
			Evidence: []Evidence{{"distinct hosts", float64(hosts), float64(th.SweepHosts)}}}
		if k.proto == 6 {
			e.Ports = []uint16{k.port}
		} else {
			e.Kind = ICMPSweep
		}
		e.Start, e.End = times(s.scan)
		sec := d.seconds(s.scan, end.Sub(d.scanStart))
		e.PPS, e.BPS, e.FlowsPerSec = s.packets/sec, 8*s.bytes/sec, s.probes/sec
		events = append(events, e)
	}
	alpha, factor := d.cfg.BaselineAlpha, d.cfg.BaselineFactor
	for dst, t := range d.targets.m {
		th, net := d.settings(dst)
		live := false
		for kind, a := range t.k {
			if a == nil {
				t.learn(kind, 0, alpha)
				live = live || t.base[kind] > 1e-3
				continue
			}
			live = true
			sec := d.seconds(a.span, step)
			pps, bps := a.packets/sec, 8*a.bytes/sec
			ppsMax := [nKinds]float64{th.DDoSSYNPPS, th.DDoSUDPPPS, th.DDoSReflectionPPS, th.DDoSICMPPPS}[kind]
			sources := a.sources.count()
			base := t.base[kind]
			var main Evidence
			switch {
			case pps >= ppsMax:
				main = Evidence{"pps", pps, ppsMax}
			case kind != kindSYN && bps >= th.DDoSBPS:
				main = Evidence{"bps", bps, th.DDoSBPS}
			}
			// UDP the destination answers is a conversation (a QUIC or DNS server
			// under load, a resolver taking the replies to its own queries), as
			// established TCP is.
			answered := (kind == kindUDP || kind == kindReflection) && t.sentUDP >= AnsweredShare*a.packets
			if main.Threshold > 0 && sources >= th.DDoSSources && pps >= factor*base && !answered {
				e := Event{Kind: ddosKinds[kind], Severity: severity(main.Value, main.Threshold),
					Device: t.device, Interface: t.iface, Network: net,
					Sources: a.top.sorted(), SourceCount: sources, Targets: []netip.Addr{dst}, TargetCount: 1,
					Proto: [nKinds]uint8{6, 17, 17, 1}[kind], Ports: a.ports.sorted(),
					PPS: pps, BPS: bps, FlowsPerSec: a.flows / sec,
					Packets: uint64(a.packets + 0.5), Bytes: uint64(a.bytes + 0.5), Flows: uint64(a.flows + 0.5),
					Evidence: []Evidence{main, {"sources", float64(sources), float64(th.DDoSSources)}}}
				if dst.Is6() && kind == kindICMP {
					e.Proto = 58
				}
				if base > 0 {
					e.Evidence = append(e.Evidence, Evidence{"pps / baseline pps", pps / base, factor})
				}
				e.Start, e.End = times(a.span)
				events = append(events, e)
			} else {
				t.learn(kind, pps, alpha)
			}
			t.k[kind] = nil
		}
		t.window, t.sentUDP = 0, 0
		if !live {
			delete(d.targets.m, dst)
		}
	}
	clear(d.light.packets[0][:])
	clear(d.light.packets[1][:])
	clear(d.light.bytes[0][:])
	clear(d.light.bytes[1][:])
	if end.Sub(d.scanStart) >= d.cfg.ScanWindow {
		clear(d.pairs.m)
		clear(d.sweeps.m)
		d.scanStart = end
	}
	slices.SortFunc(events, func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), a.Targets[0].Compare(b.Targets[0]), a.Sources[0].Compare(b.Sources[0]))
	})
	return events
}

// Stats returns what the Detector has done and holds.
func (d *Detector) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Stats{Records: d.records, Allowed: d.allowed,
		Pairs: len(d.pairs.m), Sweeps: len(d.sweeps.m), Targets: len(d.targets.m),
		EvictedPairs: d.pairs.evicted, EvictedSweeps: d.sweeps.evicted, EvictedTargets: d.targets.evicted}
}
