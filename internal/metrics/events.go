package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mrtgo/mrtgo/capture"
	"github.com/mrtgo/mrtgo/detect"
	"github.com/mrtgo/mrtgo/events"
)

var (
	eventsBegun = prometheus.NewDesc(namespace+"_events_total",
		"Events begun since the start, by kind and the severity they began with (attacks and scans in the flows, threshold crossings, Holt-Winters anomalies).",
		[]string{"kind", "severity"}, nil)
	eventsActive = prometheus.NewDesc(namespace+"_events_active",
		"Events going on, by kind and their severity now.", []string{"kind", "severity"}, nil)
	detectRecords = prometheus.NewDesc(namespace+"_detect_records_total",
		"Flow records the detector examined.", nil, nil)
	detectAllowed = prometheus.NewDesc(namespace+"_detect_allowed_records_total",
		"Flow records not examined: their source is allow-listed in [detect].", nil, nil)
	detectEntries = prometheus.NewDesc(namespace+"_detect_table_entries",
		"Entries in the detector's bounded tables: source-host pairs, source-port sweeps, destinations.", []string{"table"}, nil)
	detectEvicted = prometheus.NewDesc(namespace+"_detect_table_evictions_total",
		"Entries evicted from the detector's tables to keep within their bounds (the lightest half goes when a table is full).", []string{"table"}, nil)
)

// eventCollector counts events as the daemon's Desk reports them.
type eventCollector struct {
	mu     sync.Mutex
	begun  map[[2]string]uint64
	active map[uint64][2]string // by ID: kind, severity
}

func (c *eventCollector) observe(u events.Update) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := u.Event
	if u.Change == events.Began {
		c.begun[[2]string{e.Kind, e.Severity}]++
	}
	if e.State == events.Active {
		c.active[e.ID] = [2]string{e.Kind, e.Severity}
	} else {
		delete(c.active, e.ID)
	}
}

func (c *eventCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- eventsBegun
	ch <- eventsActive
}

func (c *eventCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.begun {
		ch <- prometheus.MustNewConstMetric(eventsBegun, prometheus.CounterValue, float64(n), k[0], k[1])
	}
	act := map[[2]string]int{}
	for _, k := range c.active {
		act[k]++
	}
	for k, n := range act {
		ch <- prometheus.MustNewConstMetric(eventsActive, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}

// ObserveEvent counts an event's change; events active when the process started
// (taken up from the log) count once they next change.
func (m *Metrics) ObserveEvent(u events.Update) { m.events.observe(u) }

// detectCollector exports the detector's Stats at each scrape.
type detectCollector struct{ stats func() detect.Stats }

func (c detectCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{detectRecords, detectAllowed, detectEntries, detectEvicted} {
		ch <- d
	}
}

func (c detectCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(detectRecords, prometheus.CounterValue, float64(s.Records))
	ch <- prometheus.MustNewConstMetric(detectAllowed, prometheus.CounterValue, float64(s.Allowed))
	for _, t := range []struct {
		name    string
		entries int
		evicted uint64
	}{{"pairs", s.Pairs, s.EvictedPairs}, {"sweeps", s.Sweeps, s.EvictedSweeps}, {"targets", s.Targets, s.EvictedTargets}} {
		ch <- prometheus.MustNewConstMetric(detectEntries, prometheus.GaugeValue, float64(t.entries), t.name)
		ch <- prometheus.MustNewConstMetric(detectEvicted, prometheus.CounterValue, float64(t.evicted), t.name)
	}
}

// RegisterDetect exports the flow detector's counts, read from stats at each scrape.
func (m *Metrics) RegisterDetect(stats func() detect.Stats) error {
	return m.reg.Register(detectCollector{stats})
}

var (
	capturesStarted = prometheus.NewDesc(namespace+"_captures_started_total", "Packet captures started for events ([detect.capture]).", nil, nil)
	capturesFailed  = prometheus.NewDesc(namespace+"_captures_failed_total", "Packet captures that could not start or ended with an error.", nil, nil)
	capturesBusy    = prometheus.NewDesc(namespace+"_captures_refused_total", "Packet captures not started because as many as allowed were running.", nil, nil)
	capturesActive  = prometheus.NewDesc(namespace+"_captures_active", "Packet captures running.", nil, nil)
	captureFrames   = prometheus.NewDesc(namespace+"_capture_frames_total", "Frames the captures read from the interface (seen), selected by their filters (matched), wrote (written), and the kernel dropped for want of socket buffer (dropped).", []string{"what"}, nil)
)

type captureCollector struct{ totals func() capture.Totals }

func (c captureCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{capturesStarted, capturesFailed, capturesBusy, capturesActive, captureFrames} {
		ch <- d
	}
}

func (c captureCollector) Collect(ch chan<- prometheus.Metric) {
	t := c.totals()
	ch <- prometheus.MustNewConstMetric(capturesStarted, prometheus.CounterValue, float64(t.Started))
	ch <- prometheus.MustNewConstMetric(capturesFailed, prometheus.CounterValue, float64(t.Failed))
	ch <- prometheus.MustNewConstMetric(capturesBusy, prometheus.CounterValue, float64(t.Busy))
	ch <- prometheus.MustNewConstMetric(capturesActive, prometheus.GaugeValue, float64(t.Active))
	for _, f := range []struct {
		what string
		n    uint64
	}{{"seen", t.Seen}, {"matched", t.Matched}, {"written", t.Written}, {"dropped", t.Dropped}} {
		ch <- prometheus.MustNewConstMetric(captureFrames, prometheus.CounterValue, float64(f.n), f.what)
	}
}

// RegisterCapture exports the packet captures' counts, read from totals at each scrape.
func (m *Metrics) RegisterCapture(totals func() capture.Totals) error {
	return m.reg.Register(captureCollector{totals})
}
