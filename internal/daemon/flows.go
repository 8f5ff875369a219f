package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/detect"
	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/flowstore"
	"github.com/mrtgo/mrtgo/flowtop"
	"github.com/mrtgo/mrtgo/internal/metrics"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/remotewrite"
	"github.com/mrtgo/mrtgo/web"
)

// flows is the daemon's flow collector: each record goes to the device whose exporter
// address sent it and to the interfaces its ifIndexes name, by the names the poller
// resolved for that device; what crossed each interface is counted for /metrics,
// beside the SNMP octets of the same interface, and stored: every record in the raw
// segments, and the records of claimed exporters in the top talkers of their
// interfaces, step by step. Records of an exporter no device claims are counted
// against that exporter and kept raw (with no device), never merged into a device's.
type flows struct {
	col  *flow.Collector
	log  *slog.Logger
	raw  *flowstore.Store
	top  *flowtop.Store
	step time.Duration
	now  func() time.Time
	// det examines every record placed on a device ([detect]); nil without.
	// report takes its events at the end of each step.
	det    *detect.Detector
	report func(end time.Time, evs []detect.Event)

	mu       sync.Mutex
	devices  map[netip.Addr]string     // exporter address to device name
	sampling map[string]uint64         // device to its configured sampling rate
	names    map[string]map[int]string // device to ifIndex to interface name
	counts   map[ifDir]*ifCount
	unknowns map[netip.Addr]bool // exporters already logged as unknown
	pending  []flow.Flow         // received, not yet stored
	// own is set for a sharded poller (--shard): it keeps only the records of its
	// devices' exporters, others' being another poller's; foreign counts the rest.
	own     bool
	foreign uint64
	// remote, when not nil, takes each step's flow aggregates of the interfaces in
	// active (those with records since the last step ended) for [remote_write].
	remote func([]remotewrite.Series)
	active map[ifaceRef]bool
	labels []remotewrite.Label // [remote_write] labels
}

// Where the flow store keeps its two tiers, under [flows] data: the raw segments'
// directory and the top talkers' file.
const (
	RawDir  = "raw"
	TopFile = "top.db"
)

// OpenFlowStores opens the raw segments and the top talkers of cfg's flow store, for
// writing (the daemon) or for reading (queries, the site).
func OpenFlowStores(cfg *config.Config, readOnly bool) (*flowstore.Store, *flowtop.Store, error) {
	if !readOnly {
		if err := os.MkdirAll(cfg.Flows.Data, 0o755); err != nil {
			return nil, nil, fmt.Errorf("flow store: %w", err)
		}
	}
	raw, err := flowstore.Open(filepath.Join(cfg.Flows.Data, RawDir), flowstore.Options{
		MaxAge: cfg.Flows.Keep, MaxBytes: cfg.Flows.MaxSize, ReadOnly: readOnly})
	if err != nil {
		return nil, nil, err
	}
	top, err := flowtop.Open(filepath.Join(cfg.Flows.Data, TopFile), &flowtop.Options{Step: cfg.Step, ReadOnly: readOnly})
	if err != nil {
		raw.Close()
		return nil, nil, err
	}
	return raw, top, nil
}

type ifDir struct{ device, iface, direction string }

type ifCount struct{ octets, packets uint64 }

// newFlows listens on cfg's [flows] addresses; nil when there are none.
func newFlows(cfg *config.Config, log *slog.Logger) (*flows, error) {
	if len(cfg.Flows.Listen) == 0 {
		return nil, nil
	}
	f := &flows{log: log, names: map[string]map[int]string{}, counts: map[ifDir]*ifCount{}, unknowns: map[netip.Addr]bool{},
		step: cfg.Step, now: time.Now}
	f.configure(cfg)
	raw, top, err := OpenFlowStores(cfg, false)
	if err != nil {
		return nil, err
	}
	col, err := flow.Listen(cfg.Flows.Listen, f.record, log)
	if err != nil {
		raw.Close()
		top.Close()
		return nil, err
	}
	f.col, f.raw, f.top = col, raw, top
	log.Info("collecting flows", "listen", cfg.Flows.Listen, "store", cfg.Flows.Data)
	return f, nil
}

// nextBoundary is the first step boundary after t, counted from the Unix epoch as the
// stores align their rows.
func nextBoundary(t time.Time, step time.Duration) time.Time {
	s := int64(step / time.Second)
	return time.Unix((t.Unix()/s+1)*s, 0)
}

// storeEvery is how often received records go to the flow store.
const storeEvery = time.Second

// run collects until ctx is done, storing what arrives every second and ending the
// top talkers' step at every step boundary; at the end it stores what is left and
// closes the stores (the top talkers of the step in progress are lost, as after a
// crash: the raw records keep them).
func (f *flows) run(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- f.col.Run(ctx) }()
	tick := time.NewTicker(storeEvery)
	defer tick.Stop()
	next := nextBoundary(f.now(), f.step)
	var err error
	for err == nil {
		select {
		case <-ctx.Done():
			err = <-done
			f.store(time.Time{})
			return errors.Join(err, f.raw.Close(), f.top.Close())
		case <-tick.C:
		}
		next, err = f.store(next)
	}
	f.col.Close()
	<-done
	return errors.Join(err, f.raw.Close(), f.top.Close())
}

// store writes the records received so far: to the raw segments all of them, to the
// top talkers those received before the step boundary next, then ends that step if
// it is past, and the rest. It returns the next boundary. A store that cannot be
// written is an error that stops the daemon, as the rate store's is.
func (f *flows) store(next time.Time) (time.Time, error) {
	f.mu.Lock()
	batch := f.pending
	f.pending = make([]flow.Flow, 0, max(cap(batch), 1024))
	f.mu.Unlock()
	if len(batch) > 0 {
		if err := f.raw.Append(batch...); err != nil {
			return next, fmt.Errorf("flow store: %w", err)
		}
	}
	if next.IsZero() {
		return next, f.raw.Flush()
	}
	later := batch[:0:0]
	for i := range batch {
		if batch[i].Received.Before(next) {
			f.top.Add(&batch[i])
		} else {
			later = append(later, batch[i])
		}
	}
	if now := f.now(); !now.Before(next) {
		if f.det != nil {
			// Records received after the boundary are in the detector already: at
			// most a second's worth counts towards the step that ended.
			f.report(next, f.det.Step(next))
		}
		if err := f.top.Commit(next); err != nil && !errors.Is(err, flowtop.ErrNotAfter) {
			return next, fmt.Errorf("flow store: %w", err)
		}
		f.sendStep(next)
		if err := f.raw.Flush(); err != nil {
			return next, fmt.Errorf("flow store: %w", err)
		}
		next = nextBoundary(now, f.step)
	}
	for i := range later {
		f.top.Add(&later[i])
	}
	return next, nil
}

// sendStep hands the flow aggregates of the step that ended at end to remote.
func (f *flows) sendStep(end time.Time) {
	if f.remote == nil {
		return
	}
	f.mu.Lock()
	active := f.active
	f.active = map[ifaceRef]bool{}
	f.mu.Unlock()
	if len(active) == 0 {
		return
	}
	series, err := flowSeries(f.top, active, end, f.step, f.labels)
	if err != nil {
		f.log.Error("remote write: flow aggregates", "err", err)
		return
	}
	f.remote(series)
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
	f.own = cfg.Shard.N > 0
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
	if !ok && f.own {
		f.foreign++
		if !f.unknowns[r.Exporter] {
			f.unknowns[r.Exporter] = true
			f.log.Info("flows from an exporter of no device of this shard; dropped", "exporter", r.Exporter)
		}
		return
	}
	if !ok {
		if !f.unknowns[r.Exporter] {
			f.unknowns[r.Exporter] = true
			f.log.Warn("flows from an exporter no device claims; set flow_exporter on its device", "exporter", r.Exporter)
		}
		fl := flow.Flow{Record: r}
		if f.det != nil {
			f.det.Add(&fl) // an attack is one whoever exports it
		}
		f.pending = append(f.pending, fl)
		return
	}
	if n := f.sampling[dev]; n > 0 && n != r.SamplingRate {
		resample(&r, n)
	}
	fl := flow.Flow{Record: r, Device: dev}
	defer func() {
		if f.det != nil {
			f.det.Add(&fl) // with the interfaces named
		}
	}()
	for _, side := range []struct {
		index     uint32
		direction string
		name      *string
	}{{r.InIf, "in", &fl.In}, {r.OutIf, "out", &fl.Out}} {
		if side.index == 0 {
			continue
		}
		name, ok := f.names[dev][int(side.index)]
		if !ok {
			// An interface the poller does not poll: named by its ifIndex, so that
			// the traffic is seen and the series stay few (one per ifIndex).
			name = "ifIndex " + strconv.FormatUint(uint64(side.index), 10)
		}
		*side.name = name
		if f.active != nil {
			f.active[ifaceRef{dev, name}] = true
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
	f.pending = append(f.pending, fl)
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
	s.Foreign = f.foreign
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

// exporters lists the exporters heard from, for the index page.
func (f *flows) exporters() []web.Exporter {
	es := f.col.Exporters()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]web.Exporter, 0, len(es))
	for _, e := range es {
		out = append(out, web.Exporter{Addr: e.Addr.String(), Device: f.devices[e.Addr], LastSeen: e.LastSeen,
			Datagrams: e.Datagrams, Records: e.Records, Errors: e.Errors})
	}
	slices.SortFunc(out, func(a, b web.Exporter) int { return strings.Compare(a.Addr, b.Addr) })
	return out
}
