package snmpsim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/mrtgo/mrtgo/internal/ipfixexport"
)

// ExportOptions tunes a FlowExporter. A nil *ExportOptions means all defaults.
type ExportOptions struct {
	// MaxFlows bounds the flows of one interface in one interval (see Agent.Flows);
	// 0 means DefaultMaxFlows.
	MaxFlows int
	// Domain is the IPFIX observation domain; 0 means 1.
	Domain uint32
	// IPFIX tunes the messages (size, template refresh); nil means its defaults.
	IPFIX *ipfixexport.Options
	// Extra, when set, adds flows of its own to each interval's: traffic beside the
	// model's, such as the attacks the demo stages (not in the counters).
	Extra func(from, to time.Time) []Flow
}

// FlowExporter sends an agent's flows (Agent.Flows) as IPFIX over UDP from the agent's
// own loopback address, as the device's exporting process would, so that a collector
// tells the simulated devices apart by source address. It is not safe for concurrent
// use.
type FlowExporter struct {
	agent *Agent
	x     *ipfixexport.Exporter
	max   int
	extra func(from, to time.Time) []Flow
	recs  []ipfixexport.Record
}

// NewFlowExporter opens a UDP socket on the agent's address (another port) for
// sending the agent's flows to the collector, which must be on loopback.
func NewFlowExporter(a *Agent, collector netip.AddrPort, o *ExportOptions) (*FlowExporter, error) {
	var opts ExportOptions
	if o != nil {
		opts = *o
	}
	if opts.Domain == 0 {
		opts.Domain = 1
	}
	if !collector.Addr().IsLoopback() {
		return nil, fmt.Errorf("flow exporter %s: collector %s is not loopback", a.Name(), collector)
	}
	src := netip.AddrPortFrom(a.Addr().AddrPort().Addr().Unmap(), 0)
	x, err := ipfixexport.Dial(src, collector, opts.Domain, opts.IPFIX)
	if err != nil {
		return nil, fmt.Errorf("flow exporter %s: %w", a.Name(), err)
	}
	return &FlowExporter{agent: a, x: x, max: opts.MaxFlows, extra: opts.Extra}, nil
}

// Addr is the exporter's source address and port.
func (e *FlowExporter) Addr() netip.AddrPort { return e.x.LocalAddr() }

// Export sends the flows of [from, to), exported at to, and returns how many flows
// and datagrams it sent.
func (e *FlowExporter) Export(from, to time.Time) (flows, datagrams int, err error) {
	fs := e.agent.Flows(from, to, e.max)
	if e.extra != nil {
		fs = append(fs, e.extra(from, to)...)
	}
	e.recs = e.recs[:0]
	for _, f := range fs {
		e.recs = append(e.recs, ipfixexport.Record{
			Src: f.Src, Dst: f.Dst, SrcPort: f.SrcPort, DstPort: f.DstPort,
			Proto: f.Proto, TCPFlags: f.TCPFlags, Bytes: f.Bytes, Packets: f.Packets,
			InIf: uint32(f.InIf), OutIf: uint32(f.OutIf), Start: f.Start, End: f.End,
		})
	}
	n, err := e.x.Export(to, e.recs)
	if err != nil {
		return len(fs), n, fmt.Errorf("flow exporter %s: %w", e.agent.Name(), err)
	}
	return len(fs), n, nil
}

// Close closes the exporter's socket.
func (e *FlowExporter) Close() error { return e.x.Close() }
