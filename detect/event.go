package detect

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Kind is what an event reports.
type Kind string

// Kinds of events.
const (
	VerticalScan    Kind = "vertical-scan"    // one source, many ports of one host
	HorizontalSweep Kind = "horizontal-sweep" // one source, one TCP port of many hosts
	ICMPSweep       Kind = "icmp-sweep"       // one source, ICMP requests to many hosts
	SYNFlood        Kind = "syn-flood"        // one source, SYNs to one host
	DDoSSYN         Kind = "ddos-syn"         // many sources, SYNs to one host
	DDoSUDP         Kind = "ddos-udp"         // many sources, UDP to one host
	DDoSICMP        Kind = "ddos-icmp"        // many sources, ICMP to one host
	DDoSReflection  Kind = "ddos-reflection"  // many amplifiers' replies to one host
)

// Severity grades an event by how far its main measure crossed its threshold.
type Severity int

// Severities: at the threshold, four times it, sixteen times it.
const (
	Warning Severity = iota + 1
	Major
	Critical
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Major:
		return "major"
	case Critical:
		return "critical"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

func severity(value, threshold float64) Severity {
	switch r := value / threshold; {
	case r >= 16:
		return Critical
	case r >= 4:
		return Major
	}
	return Warning
}

// Evidence is one measure of an event against the threshold it crossed. The first of
// an event's evidence is the measure its severity comes from.
type Evidence struct {
	Measure   string // "distinct ports", "SYN pps", "sources", "pps / baseline"...
	Value     float64
	Threshold float64
}

// Event is one detection: what, who, against whom, when, and why.
type Event struct {
	Kind     Kind
	Severity Severity
	// Start and End are the earliest start and latest end of the flows counted.
	Start, End time.Time
	// Device and Interface are where the most recent of those flows was seen: the
	// exporting device and its input interface, as flow.Flow names them.
	Device, Interface string
	// Network is the Config network whose settings applied; invalid for the defaults.
	Network netip.Prefix
	// Sources are the source (scans, SYN flood) or the heaviest sources (DDoS, at
	// most eight, heaviest first); SourceCount is the distinct sources, estimated
	// beyond eight.
	Sources     []netip.Addr
	SourceCount int
	// Targets are the target host, or for a sweep up to eight of its hosts;
	// TargetCount is the distinct targets, estimated beyond eight.
	Targets     []netip.Addr
	TargetCount int
	Proto       uint8
	// Ports are the ports concerned: a sweep's port, up to eight of a scan's ports, a
	// flood's heaviest destination ports, a reflection's source ports. PortCount is
	// the distinct ports of a scan.
	Ports     []uint16
	PortCount int
	// Rates over the span of the evidence (see the package documentation).
	PPS, BPS, FlowsPerSec float64
	Packets, Bytes, Flows uint64
	Evidence              []Evidence
}

func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s -> %s", e.Severity, e.Kind, addrs(e.Sources, e.SourceCount), addrs(e.Targets, e.TargetCount))
	if len(e.Ports) > 0 {
		fmt.Fprintf(&b, " ports %v", e.Ports)
	}
	fmt.Fprintf(&b, " %.0f pps %.0f bps %.1f flows/s", e.PPS, e.BPS, e.FlowsPerSec)
	for _, ev := range e.Evidence {
		fmt.Fprintf(&b, "; %s %.4g >= %.4g", ev.Measure, ev.Value, ev.Threshold)
	}
	if e.Device != "" {
		fmt.Fprintf(&b, " on %s %s", e.Device, e.Interface)
	}
	return b.String()
}

func addrs(a []netip.Addr, n int) string {
	if len(a) == 1 && n <= 1 {
		return a[0].String()
	}
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.String()
	}
	return fmt.Sprintf("%d [%s]", n, strings.Join(s, " "))
}
