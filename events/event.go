package events

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/capture"
	"github.com/mrtgo/mrtgo/detect"
)

// Kinds of events beyond the detector's (detect.VerticalScan ... detect.DDoSReflection,
// whose names they keep).
const (
	// Threshold is an interface crossing one of its [thresholds] limits.
	Threshold = "threshold"
	// Anomaly is an interface direction whose rate left its Holt-Winters confidence
	// band often enough to be a FAILURE (RRDtool's aberrant behaviour).
	Anomaly = "anomaly"
)

// Kinds lists every kind, as the pages and "mrtgo events --kind" name them.
var Kinds = []string{
	string(detect.VerticalScan), string(detect.HorizontalSweep), string(detect.ICMPSweep), string(detect.SYNFlood),
	string(detect.DDoSSYN), string(detect.DDoSUDP), string(detect.DDoSICMP), string(detect.DDoSReflection),
	Threshold, Anomaly,
}

// Severities, from least to most.
const (
	Info     = "info"
	Warning  = "warning"
	Major    = "major"
	Critical = "critical"
)

// SeverityRank orders severities: 0 for an unknown one.
func SeverityRank(s string) int {
	switch s {
	case Info:
		return 1
	case Warning:
		return 2
	case Major:
		return 3
	case Critical:
		return 4
	}
	return 0
}

// States of an event.
const (
	Active = "active" // still going on: its End is the latest evidence so far
	Ended  = "ended"
)

// Evidence is one measure of an event against the threshold it crossed.
type Evidence struct {
	Measure   string  `json:"measure"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
}

// Event is one thing found: an attack or a scan in the flows, an interface over a
// threshold, a rate out of its usual daily shape. Every source of events fills the
// fields that mean something for it and leaves the others zero.
type Event struct {
	// ID numbers events in the order the log first stored them; 0 until then.
	ID       uint64 `json:"id"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	State    string `json:"state"`
	// Start is when it began (the first evidence); End the latest evidence, or when it
	// ended.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Device and Interface are where it was seen (for flows, the exporting device and
	// the input interface of the latest flow); Direction is "in" or "out" for
	// thresholds and anomalies.
	Device    string `json:"device,omitempty"`
	Interface string `json:"interface,omitempty"`
	Direction string `json:"direction,omitempty"`
	// Sources and Targets are addresses, the heaviest first (at most eight each);
	// SourceCount and TargetCount the distinct ones, estimated beyond eight.
	Sources     []netip.Addr `json:"sources,omitempty"`
	SourceCount int          `json:"source_count,omitempty"`
	Targets     []netip.Addr `json:"targets,omitempty"`
	TargetCount int          `json:"target_count,omitempty"`
	Proto       uint8        `json:"proto,omitempty"`
	Ports       []uint16     `json:"ports,omitempty"`
	PortCount   int          `json:"port_count,omitempty"`
	// Rates at their highest while the event lasted, and what was counted.
	PPS     float64 `json:"pps,omitempty"`
	BPS     float64 `json:"bps,omitempty"`
	Packets uint64  `json:"packets,omitempty"`
	Bytes   uint64  `json:"bytes,omitempty"`
	Flows   uint64  `json:"flows,omitempty"`
	// Value and Threshold are the main measure and the level it crossed (bits/s for
	// thresholds and anomalies; the first evidence's for the detector's events).
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	// Bound is "max" or "min" for thresholds.
	Bound    string     `json:"bound,omitempty"`
	Evidence []Evidence `json:"evidence,omitempty"`
	// BPF is a pcap-filter expression for the event's packets ("" where packets do not
	// say: thresholds, anomalies); Capture is the pcap file of them, a name in the
	// capture directory, when one was taken.
	BPF     string `json:"bpf,omitempty"`
	Capture string `json:"capture,omitempty"`
}

// Key is what makes a later report the same event: its kind and who against whom.
// A scan is its source and host; a sweep its source and port; a flood its source and
// target, or for a DDoS its target; a threshold or an anomaly its interface,
// direction (and bound).
func (e Event) Key() string {
	var b strings.Builder
	b.WriteString(e.Kind)
	add := func(s string) { b.WriteByte('|'); b.WriteString(s) }
	first := func(a []netip.Addr) string {
		if len(a) == 0 {
			return ""
		}
		return a[0].String()
	}
	switch detect.Kind(e.Kind) {
	case detect.VerticalScan, detect.SYNFlood:
		add(first(e.Sources))
		add(first(e.Targets))
	case detect.HorizontalSweep:
		add(first(e.Sources))
		if len(e.Ports) > 0 {
			add(strconv.Itoa(int(e.Ports[0])))
		}
	case detect.ICMPSweep:
		add(first(e.Sources))
	case detect.DDoSSYN, detect.DDoSUDP, detect.DDoSICMP, detect.DDoSReflection:
		add(first(e.Targets))
	default:
		add(e.Device)
		add(e.Interface)
		add(e.Direction)
		add(e.Bound)
	}
	return b.String()
}

// Summary is the event in one line.
func (e Event) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Severity, e.Kind)
	switch e.Kind {
	case Threshold:
		fmt.Fprintf(&b, " %s %s %s %s: %s against %s", e.Device, e.Interface, e.Direction, e.Bound,
			Bits(e.Value), Bits(e.Threshold))
		return b.String()
	case Anomaly:
		fmt.Fprintf(&b, " %s %s %s: %s outside its usual band", e.Device, e.Interface, e.Direction, Bits(e.Value))
		return b.String()
	}
	fmt.Fprintf(&b, " %s -> %s", addrList(e.Sources, e.SourceCount), addrList(e.Targets, e.TargetCount))
	if len(e.Ports) > 0 {
		ps := make([]string, len(e.Ports))
		for i, p := range e.Ports {
			ps[i] = strconv.Itoa(int(p))
		}
		more := ""
		if e.PortCount > len(e.Ports) {
			more = fmt.Sprintf(" (%d in all)", e.PortCount)
		}
		fmt.Fprintf(&b, " port %s%s", strings.Join(ps, ","), more)
	}
	if e.PPS > 0 {
		fmt.Fprintf(&b, ", %.0f pkt/s", e.PPS)
	}
	if e.BPS > 0 {
		fmt.Fprintf(&b, ", %s", Bits(e.BPS))
	}
	if e.Device != "" {
		fmt.Fprintf(&b, ", seen on %s", e.Device)
		if e.Interface != "" {
			fmt.Fprintf(&b, " %s", e.Interface)
		}
	}
	return b.String()
}

// Bits formats a rate in bits/s with SI prefixes, as the graphs do.
func Bits(v float64) string {
	for _, u := range []struct {
		div  float64
		unit string
	}{{1e12, "Tb/s"}, {1e9, "Gb/s"}, {1e6, "Mb/s"}, {1e3, "kb/s"}} {
		if v >= u.div {
			return strconv.FormatFloat(v/u.div, 'f', 1, 64) + " " + u.unit
		}
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " b/s"
}

func addrList(a []netip.Addr, n int) string {
	switch {
	case len(a) == 0:
		return "?"
	case len(a) == 1 && n <= 1:
		return a[0].String()
	}
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.String()
	}
	if n > len(a) {
		return fmt.Sprintf("%d hosts (%s, ...)", n, strings.Join(s, ", "))
	}
	return strings.Join(s, ", ")
}

// FromDetect makes an active event of one the detector reported.
func FromDetect(d detect.Event) Event {
	e := Event{
		Kind: string(d.Kind), Severity: d.Severity.String(), State: Active,
		Start: d.Start.UTC(), End: d.End.UTC(), Device: d.Device, Interface: d.Interface,
		Sources: d.Sources, SourceCount: d.SourceCount, Targets: d.Targets, TargetCount: d.TargetCount,
		Proto: d.Proto, Ports: d.Ports, PortCount: d.PortCount,
		PPS: d.PPS, BPS: d.BPS, Packets: d.Packets, Bytes: d.Bytes, Flows: d.Flows,
	}
	for _, ev := range d.Evidence {
		e.Evidence = append(e.Evidence, Evidence{Measure: ev.Measure, Value: ev.Value, Threshold: ev.Threshold})
	}
	if len(e.Evidence) > 0 {
		e.Value, e.Threshold = e.Evidence[0].Value, e.Evidence[0].Threshold
	}
	return e
}

// merge folds a later report of the same event into e: the evidence spans both, the
// rates and counts are the highest seen, the severity the gravest, and the sources,
// targets and ports the later report's where it names more.
func (e *Event) merge(l Event) {
	if l.Start.Before(e.Start) {
		e.Start = l.Start
	}
	if l.End.After(e.End) {
		e.End = l.End
	}
	if SeverityRank(l.Severity) > SeverityRank(e.Severity) {
		e.Severity = l.Severity
	}
	e.PPS, e.BPS = max(e.PPS, l.PPS), max(e.BPS, l.BPS)
	e.Packets += l.Packets
	e.Bytes += l.Bytes
	e.Flows += l.Flows
	if l.Value > e.Value || l.Kind == Threshold || l.Kind == Anomaly {
		e.Value, e.Threshold, e.Evidence = l.Value, l.Threshold, l.Evidence
	}
	if l.SourceCount > e.SourceCount {
		e.Sources, e.SourceCount = l.Sources, l.SourceCount
	}
	if l.TargetCount > e.TargetCount {
		e.Targets, e.TargetCount = l.Targets, l.TargetCount
	}
	if l.PortCount > e.PortCount || len(l.Ports) > len(e.Ports) {
		e.Ports, e.PortCount = l.Ports, l.PortCount
	}
	if l.Device != "" {
		e.Device, e.Interface = l.Device, l.Interface
	}
}

// Filter selects the event's packets, as its sources did them: a scan's probes from
// its source to its host, a sweep's to its port (or its ICMP), a SYN flood's SYNs
// without ACK from its source to its target, a DDoS's packets of its kind to its
// target (a reflection's from the amplifiers' ports). ok is false for kinds whose
// packets the event does not name (thresholds, anomalies).
func (e Event) Filter() (f capture.Filter, ok bool) {
	host := func(a []netip.Addr) []netip.Prefix {
		if len(a) == 0 {
			return nil
		}
		return []netip.Prefix{netip.PrefixFrom(a[0], a[0].BitLen())}
	}
	icmp := uint8(capture.ProtoICMP)
	if len(e.Targets) > 0 && e.Targets[0].Is6() || len(e.Sources) > 0 && e.Sources[0].Is6() {
		icmp = capture.ProtoICMPv6
	}
	synOnly := func(f *capture.Filter) {
		f.Proto, f.TCPFlags, f.TCPFlagsMask = capture.ProtoTCP, capture.FlagSYN, capture.FlagSYN|capture.FlagACK
	}
	switch detect.Kind(e.Kind) {
	case detect.VerticalScan:
		f.Src, f.Dst = host(e.Sources), host(e.Targets)
		if e.Proto != 0 {
			f.Proto = e.Proto
		}
	case detect.HorizontalSweep:
		f.Src, f.Proto = host(e.Sources), capture.ProtoTCP
		if len(e.Ports) > 0 {
			f.DstPorts = e.Ports[:1]
		}
	case detect.ICMPSweep:
		f.Src, f.Proto = host(e.Sources), icmp
	case detect.SYNFlood:
		f.Src, f.Dst = host(e.Sources), host(e.Targets)
		synOnly(&f)
	case detect.DDoSSYN:
		f.Dst = host(e.Targets)
		synOnly(&f)
	case detect.DDoSUDP:
		f.Dst, f.Proto = host(e.Targets), capture.ProtoUDP
	case detect.DDoSICMP:
		f.Dst, f.Proto = host(e.Targets), icmp
	case detect.DDoSReflection:
		f.Dst, f.Proto, f.SrcPorts = host(e.Targets), capture.ProtoUDP, e.Ports
	default:
		return capture.Filter{}, false
	}
	if f.IsZero() || f.Validate() != nil {
		return capture.Filter{}, false
	}
	return f, true
}
