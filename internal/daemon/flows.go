package daemon

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/internal/metrics"
	"github.com/mrtgo/mrtgo/poller"
)

// flows is the daemon's flow collector: each record goes to the device whose exporter
// address sent it and to the interfaces its ifIndexes name, by the names the poller
// resolved for that device; what crossed each interface is counted for /metrics,
// beside the SNMP octets of the same interface. Records of an exporter no device
// claims are counted against that exporter, never merged into a device's.
type flows struct {
	col *flow.Collector
	log *slog.Logger

	mu       sync.Mutex
	devices  map[netip.Addr]string     // exporter address to device name
	sampling map[string]uint64         // device to its configured sampling rate
	names    map[string]map[int]string // device to ifIndex to interface name
	counts   map[ifDir]*ifCount
	unknowns map[netip.Addr]bool // exporters already logged as unknown
}

type ifDir struct{ device, iface, direction string }

type ifCount struct{ octets, packets uint64 }

// newFlows listens on cfg's [flows] addresses; nil when there are none.
func newFlows(cfg *config.Config, log *slog.Logger) (*flows, error) {
	if len(cfg.Flows.Listen) == 0 {
		return nil, nil
	}
	f := &flows{log: log, names: map[string]map[int]string{}, counts: map[ifDir]*ifCount{}, unknowns: map[netip.Addr]bool{}}
	f.configure(cfg)
	col, err := flow.Listen(cfg.Flows.Listen, f.record, log)
	if err != nil {
		return nil, err
	}
	f.col = col
	log.Info("collecting flows", "listen", cfg.Flows.Listen)
	return f, nil
}

// configure takes the exporters of cfg's devices.
func (f *flows) configure(cfg *config.Config) {
	devices := map[netip.Addr]string{}
	sampling := map[string]uint64{}
	for _, d := range cfg.Devices {
		if d.FlowExporter.IsValid() {
			devices[d.FlowExporter] = d.Name
		}
		if d.FlowSampling > 0 {
			sampling[d.Name] = d.FlowSampling
		}
	}
	f.mu.Lock()
	f.devices = devices
	f.sampling = sampling
	f.unknowns = map[netip.Addr]bool{}
	f.mu.Unlock()
}

// learn takes the interface names of a cycle's results.
func (f *flows) learn(rs []poller.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rs {
		if len(r.Samples) == 0 {
			continue // a device that did not answer keeps what it had
		}
		m := make(map[int]string, len(r.Samples))
		for _, s := range r.Samples {
			m[s.Index] = s.Interface
		}
		f.names[r.Device] = m
	}
}

// record is the collector's sink.
func (f *flows) record(r flow.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	dev, ok := f.devices[r.Exporter]
	if !ok {
		if !f.unknowns[r.Exporter] {
			f.unknowns[r.Exporter] = true
			f.log.Warn("flows from an exporter no device claims; set flow_exporter on its device", "exporter", r.Exporter)
		}
		return
	}
	if n := f.sampling[dev]; n > 0 && n != r.SamplingRate {
		resample(&r, n)
	}
	for _, side := range []struct {
		index     uint32
		direction string
	}{{r.InIf, "in"}, {r.OutIf, "out"}} {
		if side.index == 0 {
			continue
		}
		name, ok := f.names[dev][int(side.index)]
		if !ok {
			// An interface the poller does not poll: named by its ifIndex, so that
			// the traffic is seen and the series stay few (one per ifIndex).
			name = "ifIndex " + strconv.FormatUint(uint64(side.index), 10)
		}
		k := ifDir{dev, name, side.direction}
		c := f.counts[k]
		if c == nil {
			c = &ifCount{}
			f.counts[k] = c
		}
		c.octets += r.Bytes
		c.packets += r.Packets
	}
}

// snapshot is what /metrics shows.
func (f *flows) snapshot() metrics.FlowSnapshot {
	var s metrics.FlowSnapshot
	exporters := f.col.Exporters()
	st := f.col.Decoder().Stats()
	s.SocketDrops, s.DropsKnown = f.col.KernelDrops()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range exporters {
		s.Exporters = append(s.Exporters, metrics.FlowExporter{Addr: e.Addr.String(), Device: f.devices[e.Addr],
			Datagrams: e.Datagrams, Records: e.Records, Errors: e.Errors, LastSeen: e.LastSeen})
	}
	s.Errors = st.Errors
	for k, c := range f.counts {
		s.Interfaces = append(s.Interfaces, metrics.FlowInterface{Device: k.device, Interface: k.iface, Direction: k.direction,
			Octets: c.octets, Packets: c.packets})
	}
	slices.SortFunc(s.Interfaces, func(a, b metrics.FlowInterface) int {
		return strings.Compare(a.Device+"\x00"+a.Interface+"\x00"+a.Direction, b.Device+"\x00"+b.Interface+"\x00"+b.Direction)
	})
	return s
}

// String names the collector's sockets, for logs.
func (f *flows) String() string { return fmt.Sprint(f.col.Addrs()) }

// resample applies a device's configured sampling rate in place of the one its record
// was scaled by.
func resample(r *flow.Record, n uint64) {
	old := max(r.SamplingRate, 1)
	r.Bytes = r.Bytes / old * n
	r.Packets = r.Packets / old * n
	r.SamplingRate = n
}
