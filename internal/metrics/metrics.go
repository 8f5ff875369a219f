// Package metrics exposes mrtgo on /metrics in the Prometheus text format: the daemon's
// own health (polls, store commits, renders, reloads) and every interface's octet
// counters (and packet and error counters, where polled) and speed, labelled by
// device, interface and description, so that Prometheus can scrape mrtgo instead of
// polling the devices a second time. It reads what the daemon hands it (poll results,
// durations) or, for "mrtgo serve", the store.
package metrics

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
)

const namespace = "mrtgo"

// Metrics is the registry behind /metrics. Its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	pollDuration *prometheus.HistogramVec
	requests     *prometheus.CounterVec
	retries      *prometheus.CounterVec
	timeouts     *prometheus.CounterVec
	errors       *prometheus.CounterVec
	up           *prometheus.GaugeVec
	lastSuccess  *prometheus.GaugeVec
	commit       prometheus.Histogram
	render       prometheus.Histogram
	drawn        prometheus.Counter
	lag          prometheus.Gauge
	skipped      prometheus.Counter
	reloads      *prometheus.CounterVec
	thresholds   *prometheus.GaugeVec
	refused      *prometheus.CounterVec

	ifaces *ifaceCollector
	events *eventCollector
}

// New returns the metrics of a running daemon, with Go runtime and process metrics.
func New() *Metrics {
	m := newBare()
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func newBare() *Metrics {
	dev := []string{"device"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		pollDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "poll_duration_seconds",
			Help:    "Wall time spent polling a device in one cycle.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, dev),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "poll_requests_total", Help: "SNMP PDUs sent to a device.",
		}, dev),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "poll_retries_total", Help: "SNMP PDUs sent again after a timeout.",
		}, dev),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "poll_timeouts_total", Help: "SNMP requests that got no answer in time.",
		}, dev),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "poll_errors_total", Help: "Cycles in which a device did not answer.",
		}, dev),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "device_up", Help: "1 if the device answered its last poll, else 0.",
		}, dev),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "poll_last_success_timestamp_seconds",
			Help: "When the device last answered a whole cycle, in Unix seconds.",
		}, dev),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "store_commit_duration_seconds",
			Help:    "Time to write one cycle's results to the store.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		render: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "render_duration_seconds",
			Help:    "Time to draw the graphs and write the pages after a cycle.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		drawn: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "render_graphs_drawn_total", Help: "Graphs drawn again because their period moved on.",
		}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "cycle_lag_seconds",
			Help: "Time from the start of the last cycle to the end of its render; above the step, cycles back up.",
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "render_backlog_skipped_total",
			Help: "Cycles whose render was folded into a later one because the previous render was still pending.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "config_reloads_total", Help: "Reloads of the targets file, by result.",
		}, []string{"result"}),
		thresholds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "threshold_exceeded",
			Help: "1 while an interface is past a threshold, else 0.",
		}, []string{"device", "interface", "direction", "bound"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "interface_rates_refused_total", Help: refusedHelp,
		}, []string{"device", "interface", "direction"}),
		ifaces: &ifaceCollector{byDevice: map[string][]poller.Sample{}},
		events: &eventCollector{begun: map[[2]string]uint64{}, active: map[uint64][2]string{}},
	}
	m.reg.MustRegister(m.pollDuration, m.requests, m.retries, m.timeouts, m.errors, m.up, m.lastSuccess,
		m.commit, m.render, m.drawn, m.lag, m.skipped, m.reloads, m.thresholds, m.refused, m.ifaces, m.events)
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Register adds a collector, such as a Store, to the registry.
func (m *Metrics) Register(c prometheus.Collector) error { return m.reg.Register(c) }

// ObservePoll records one cycle's results: the devices' health and the interfaces'
// counters, which replace those of the previous cycle (a device that did not answer
// has no interface series until it answers again, rather than stale counters).
func (m *Metrics) ObservePoll(results []poller.Result) {
	for _, r := range results {
		m.pollDuration.WithLabelValues(r.Device).Observe(r.Duration.Seconds())
		m.requests.WithLabelValues(r.Device).Add(float64(r.Requests))
		m.retries.WithLabelValues(r.Device).Add(float64(r.Retries))
		m.timeouts.WithLabelValues(r.Device).Add(float64(r.Timeouts))
		errs := m.errors.WithLabelValues(r.Device)
		if r.Err != nil {
			errs.Inc()
			m.up.WithLabelValues(r.Device).Set(0)
		} else {
			m.up.WithLabelValues(r.Device).Set(1)
		}
		if !r.LastSuccess.IsZero() {
			m.lastSuccess.WithLabelValues(r.Device).Set(float64(r.LastSuccess.UnixNano()) / 1e9)
		}
	}
	m.ifaces.set(results)
}

// ObserveCommit records the time one cycle took to reach the store.
func (m *Metrics) ObserveCommit(d time.Duration) { m.commit.Observe(d.Seconds()) }

// ObserveRender records one render: its duration, the graphs drawn and the time since
// the cycle began.
func (m *Metrics) ObserveRender(d time.Duration, drawn int, lag time.Duration) {
	m.render.Observe(d.Seconds())
	m.drawn.Add(float64(drawn))
	m.lag.Set(lag.Seconds())
}

// ObserveRenderSkipped counts a cycle whose render folds into a later one.
func (m *Metrics) ObserveRenderSkipped() { m.skipped.Inc() }

// ObserveReload counts a reload of the targets file.
func (m *Metrics) ObserveReload(ok bool) {
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
	} else {
		m.reloads.WithLabelValues("error").Inc()
	}
}

const refusedHelp = "Steps whose rate was above the interface speed and was stored as unknown; set the interface's speed in the targets file if the link is faster than its agent says."

// ObserveRefused counts the rates the store refused in one cycle for being above
// their interface's speed.
func (m *Metrics) ObserveRefused(refused []pipeline.Refused) {
	for _, r := range refused {
		dev, iface, _ := series.Split(r.Series)
		m.refused.WithLabelValues(dev, iface, r.Direction).Inc()
	}
}

// SetThreshold records whether an interface is past one of its thresholds.
// direction is "in" or "out", bound "max" or "min".
func (m *Metrics) SetThreshold(device, iface, direction, bound string, exceeded bool) {
	v := 0.0
	if exceeded {
		v = 1
	}
	m.thresholds.WithLabelValues(device, iface, direction, bound).Set(v)
}

// Retain drops every series of the devices not in devices, after a reload removed them.
func (m *Metrics) Retain(devices []string) {
	keep := map[string]bool{}
	for _, d := range devices {
		keep[d] = true
	}
	for _, name := range m.ifaces.devices() {
		if !keep[name] {
			m.ifaces.drop(name)
		}
	}
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.pollDuration, m.requests, m.retries, m.timeouts, m.errors, m.up, m.lastSuccess, m.thresholds, m.refused} {
		for _, name := range m.known() {
			if !keep[name] {
				v.DeletePartialMatch(prometheus.Labels{"device": name})
			}
		}
	}
	m.ifaces.mu.Lock()
	for name := range m.ifaces.seen {
		if !keep[name] {
			delete(m.ifaces.seen, name)
		}
	}
	m.ifaces.mu.Unlock()
}

// known lists every device ever observed (and not yet dropped).
func (m *Metrics) known() []string {
	m.ifaces.mu.Lock()
	defer m.ifaces.mu.Unlock()
	names := make([]string, 0, len(m.ifaces.seen))
	for n := range m.ifaces.seen {
		names = append(names, n)
	}
	return names
}

var (
	labels    = []string{"device", "interface", "description"}
	inOctets  = prometheus.NewDesc(namespace+"_interface_in_octets_total", "Octets received on the interface (ifHCInOctets, or ifInOctets where 64-bit counters are missing).", labels, nil)
	outOctets = prometheus.NewDesc(namespace+"_interface_out_octets_total", "Octets sent on the interface (ifHCOutOctets, or ifOutOctets where 64-bit counters are missing).", labels, nil)
	speedDesc = prometheus.NewDesc(namespace+"_interface_speed_bytes", "Interface speed in bytes/s (ifHighSpeed/ifSpeed or the configured override, divided by 8); 0 unknown.", labels, nil)

	// The counter groups a device polls with counters = ["packets", "errors"], one
	// series per data source of the store's group (series.PacketDS, series.ErrorDS),
	// labelled as remote write labels them.
	groupLabels   = append(slices.Clone(labels), pipeline.LabelDirection, pipeline.LabelType)
	packetsTotal  = prometheus.NewDesc(namespace+"_interface_packets_total", "Packets received (direction in) and sent (out) on the interface by type: unicast, multicast, broadcast (ifHC*Pkts, or the 32-bit counters where those are missing).", groupLabels, nil)
	errorsTotal   = prometheus.NewDesc(namespace+"_interface_errors_total", "Errors and discards (type) of packets received (direction in) and sent (out) on the interface (ifInErrors, ifOutErrors, ifInDiscards, ifOutDiscards).", groupLabels, nil)
	groupCounters = []struct {
		desc  *prometheus.Desc
		names []string
		of    func(poller.Sample) *poller.Group
	}{
		{packetsTotal, series.PacketDS, func(s poller.Sample) *poller.Group { return s.Packets }},
		{errorsTotal, series.ErrorDS, func(s poller.Sample) *poller.Group { return s.Errors }},
	}
)

// groupLabelValues are the direction and type labels of a group's data source
// ("ucast_in": "in", "unicast").
func groupLabelValues(ds string) (direction, typ string) {
	short, dir, _ := strings.Cut(ds, "_")
	return dir, pipeline.RemoteTypes[short]
}

// ifaceCollector exports the counters of the last cycle of each device.
type ifaceCollector struct {
	mu       sync.Mutex
	byDevice map[string][]poller.Sample
	seen     map[string]bool
}

func (c *ifaceCollector) set(results []poller.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	for _, r := range results {
		c.seen[r.Device] = true
		c.byDevice[r.Device] = r.Samples
	}
}

func (c *ifaceCollector) devices() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.byDevice))
	for n := range c.byDevice {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (c *ifaceCollector) drop(device string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byDevice, device)
}

func (c *ifaceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- inOctets
	ch <- outOctets
	ch <- speedDesc
	ch <- packetsTotal
	ch <- errorsTotal
}

func (c *ifaceCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, samples := range c.byDevice {
		for _, s := range samples {
			lv := []string{s.Device, s.Interface, description(s.Alias, s.Descr)}
			ch <- prometheus.MustNewConstMetric(inOctets, prometheus.CounterValue, float64(s.In), lv...)
			ch <- prometheus.MustNewConstMetric(outOctets, prometheus.CounterValue, float64(s.Out), lv...)
			ch <- prometheus.MustNewConstMetric(speedDesc, prometheus.GaugeValue, float64(s.Speed)/8, lv...)
			for _, gc := range groupCounters {
				g := gc.of(s)
				if g == nil {
					continue // not polled on this device
				}
				for i, v := range g.Values {
					if i >= len(gc.names) || g.Absent&(1<<i) != 0 {
						continue // a counter the agent lacks
					}
					dir, typ := groupLabelValues(gc.names[i])
					ch <- prometheus.MustNewConstMetric(gc.desc, prometheus.CounterValue, float64(v), append(lv, dir, typ)...)
				}
			}
		}
	}
}

// description is what operators call an interface's description: ifAlias where set,
// else ifDescr.
func description(alias, descr string) string {
	if alias != "" {
		return alias
	}
	return descr
}
