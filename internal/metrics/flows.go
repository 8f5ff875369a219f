package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FlowExporter is one exporter as the flow collector knows it.
type FlowExporter struct {
	Addr      string // source address
	Device    string // the configured device it belongs to; "" when unknown
	Datagrams uint64
	Records   uint64
	Errors    uint64 // datagrams not decoded
	LastSeen  time.Time
}

// FlowInterface is what flows said crossed one interface in one direction.
type FlowInterface struct {
	Device, Interface string
	Direction         string // "in" or "out"
	Octets, Packets   uint64 // scaled by the sampling rate
}

// FlowSnapshot is the flow collector's state at a scrape.
type FlowSnapshot struct {
	Exporters  []FlowExporter
	Errors     map[string]uint64 // decode errors by reason ("template missing", "malformed", ...)
	Interfaces []FlowInterface
	// SocketDrops is what the kernel dropped on the collector's sockets for want of
	// buffer (Linux); DropsKnown is false where it cannot be read.
	SocketDrops uint64
	DropsKnown  bool
	// Foreign counts the records a sharded poller dropped because their exporter is
	// none of its shard's devices.
	Foreign uint64
}

var (
	flowForeign     = prometheus.NewDesc(namespace+"_flow_records_foreign_total", "Flow records dropped by a sharded poller (--shard) because no device of its shard claims their exporter.", nil, nil)
	exporterLabels  = []string{"exporter", "device"}
	flowDatagrams   = prometheus.NewDesc(namespace+"_flow_datagrams_total", "Flow export datagrams received, by exporter.", exporterLabels, nil)
	flowRecords     = prometheus.NewDesc(namespace+"_flow_records_total", "Flow records decoded, by exporter.", exporterLabels, nil)
	flowBad         = prometheus.NewDesc(namespace+"_flow_datagram_errors_total", "Flow export datagrams that could not be decoded, by exporter.", exporterLabels, nil)
	flowLastSeen    = prometheus.NewDesc(namespace+"_flow_exporter_last_seen_timestamp_seconds", "When the exporter's last datagram arrived, in Unix seconds.", exporterLabels, nil)
	flowUnknown     = prometheus.NewDesc(namespace+"_flow_unknown_exporters", "Exporters heard from that no configured device claims (by host address or flow_exporter); their flows are counted, never merged into a device's.", nil, nil)
	flowErrors      = prometheus.NewDesc(namespace+"_flow_decode_errors_total", "Flow data not decoded, by reason; \"template missing\" counts data sets that arrived before their template.", []string{"reason"}, nil)
	flowDrops       = prometheus.NewDesc(namespace+"_flow_socket_drops_total", "Flow datagrams the kernel dropped on the collector's sockets because their receive buffers were full.", nil, nil)
	flowIfaceLabels = []string{"device", "interface", "direction"}
	flowOctets      = prometheus.NewDesc(namespace+"_flow_interface_octets_total", "Octets the flows of the interface's device say crossed it, scaled by the sampling rate: compare with mrtgo_interface_in_octets_total and mrtgo_interface_out_octets_total.", flowIfaceLabels, nil)
	flowPackets     = prometheus.NewDesc(namespace+"_flow_interface_packets_total", "Packets the flows say crossed the interface, scaled by the sampling rate.", flowIfaceLabels, nil)
)

// flowCollector exports a FlowSnapshot taken at each scrape.
type flowCollector struct{ snapshot func() FlowSnapshot }

func (c flowCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{flowDatagrams, flowRecords, flowBad, flowLastSeen, flowUnknown, flowErrors, flowDrops, flowOctets, flowPackets} {
		ch <- d
	}
}

func (c flowCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.snapshot()
	unknown := 0
	for _, e := range s.Exporters {
		if e.Device == "" {
			unknown++
		}
		ch <- prometheus.MustNewConstMetric(flowDatagrams, prometheus.CounterValue, float64(e.Datagrams), e.Addr, e.Device)
		ch <- prometheus.MustNewConstMetric(flowRecords, prometheus.CounterValue, float64(e.Records), e.Addr, e.Device)
		ch <- prometheus.MustNewConstMetric(flowBad, prometheus.CounterValue, float64(e.Errors), e.Addr, e.Device)
		ch <- prometheus.MustNewConstMetric(flowLastSeen, prometheus.GaugeValue, float64(e.LastSeen.UnixMilli())/1000, e.Addr, e.Device)
	}
	ch <- prometheus.MustNewConstMetric(flowUnknown, prometheus.GaugeValue, float64(unknown))
	ch <- prometheus.MustNewConstMetric(flowForeign, prometheus.CounterValue, float64(s.Foreign))
	if s.DropsKnown {
		ch <- prometheus.MustNewConstMetric(flowDrops, prometheus.CounterValue, float64(s.SocketDrops))
	}
	for reason, n := range s.Errors {
		ch <- prometheus.MustNewConstMetric(flowErrors, prometheus.CounterValue, float64(n), reason)
	}
	for _, f := range s.Interfaces {
		ch <- prometheus.MustNewConstMetric(flowOctets, prometheus.CounterValue, float64(f.Octets), f.Device, f.Interface, f.Direction)
		ch <- prometheus.MustNewConstMetric(flowPackets, prometheus.CounterValue, float64(f.Packets), f.Device, f.Interface, f.Direction)
	}
}

// RegisterFlows exports the flow collector's counts, read from snapshot at each scrape.
func (m *Metrics) RegisterFlows(snapshot func() FlowSnapshot) error {
	return m.reg.Register(flowCollector{snapshot})
}
