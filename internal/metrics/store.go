package metrics

import (
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/rrd"
)

var (
	inRate        = prometheus.NewDesc(namespace+"_interface_in_bytes_per_second", "Last stored inbound rate of the interface in bytes/s (average over one step); absent when unknown.", labels, nil)
	outRate       = prometheus.NewDesc(namespace+"_interface_out_bytes_per_second", "Last stored outbound rate of the interface in bytes/s (average over one step); absent when unknown.", labels, nil)
	lastUpdate    = prometheus.NewDesc(namespace+"_interface_last_update_timestamp_seconds", "When the interface's series was last updated, in Unix seconds.", labels, nil)
	storeUp       = prometheus.NewDesc(namespace+"_store_up", "1 if the store could be read for this scrape, else 0.", nil, nil)
	storeDevUp    = prometheus.NewDesc(namespace+"_device_up", "1 if the device answered its last poll, else 0.", []string{"device"}, nil)
	storeLastOK   = prometheus.NewDesc(namespace+"_poll_last_success_timestamp_seconds", "When the device last answered a whole cycle, in Unix seconds.", []string{"device"}, nil)
	storeRefused  = prometheus.NewDesc(namespace+"_interface_rates_refused_total", refusedHelp, []string{"device", "interface", "direction"}, nil)
	storeLastPoll = prometheus.NewDesc(namespace+"_poll_last_duration_seconds", "Wall time spent polling the device in its last cycle.", []string{"device"}, nil)
	packetsRate   = prometheus.NewDesc(namespace+"_interface_packets_per_second", "Last stored rate of the interface's packets by direction and type (unicast, multicast, broadcast), per second (average over one step); absent when unknown.", groupLabels, nil)
	errorsRate    = prometheus.NewDesc(namespace+"_interface_errors_per_second", "Last stored rate of the interface's errors and discards (type) by direction, per second (average over one step); absent when unknown.", groupLabels, nil)
	groupRates    = []struct {
		kind string
		desc *prometheus.Desc
	}{{series.KindPackets, packetsRate}, {series.KindErrors, errorsRate}}
)

// StoreHandler serves /metrics for "mrtgo serve", which runs no poller: what the store
// at path knows, read afresh on each scrape (each interface's last rate and speed, each
// device's last poll), with Go runtime and process metrics. The store is opened
// read-only for the scrape only, so that "mrtgo poll" from cron can still write to it;
// interfaces polled with counters = ["packets", "errors"] have their last packet and
// error rates too;
// a store that stays locked for longer than wait is reported as mrtgo_store_up 0.
func StoreHandler(path string, wait time.Duration, log *slog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{path: path, wait: wait, log: log})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

type storeCollector struct {
	path string
	wait time.Duration
	log  *slog.Logger
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{inRate, outRate, speedDesc, lastUpdate, storeUp, storeDevUp, storeLastOK, storeLastPoll, storeRefused, packetsRate, errorsRate} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	db, err := rrd.Open(c.path, &rrd.Options{ReadOnly: true, Timeout: c.wait})
	if err != nil {
		c.log.Warn("metrics: open store", "err", err)
		ch <- prometheus.MustNewConstMetric(storeUp, prometheus.GaugeValue, 0)
		return
	}
	defer db.Close()
	names, err := db.Series()
	if err != nil {
		c.log.Warn("metrics: list series", "err", err)
		ch <- prometheus.MustNewConstMetric(storeUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(storeUp, prometheus.GaugeValue, 1)
	have := make(map[string]bool, len(names))
	for _, n := range names {
		have[n] = true
	}
	devices := map[string]bool{}
	for _, name := range names {
		device, iface, ok := series.Split(name)
		if !ok {
			continue
		}
		devices[device] = true
		info, err := series.Interface(db, name)
		if err != nil {
			continue
		}
		lv := []string{device, iface, description(info.Alias, info.Descr)}
		ch <- prometheus.MustNewConstMetric(speedDesc, prometheus.GaugeValue, info.Speed/8, lv...)
		if rf, err := pipeline.RefusalsOf(db, name); err == nil && rf.In+rf.Out > 0 {
			ch <- prometheus.MustNewConstMetric(storeRefused, prometheus.CounterValue, float64(rf.In), device, iface, "in")
			ch <- prometheus.MustNewConstMetric(storeRefused, prometheus.CounterValue, float64(rf.Out), device, iface, "out")
		}
		spec, last, err := db.Info(name)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(lastUpdate, prometheus.GaugeValue, float64(last.UnixNano())/1e9, lv...)
		if _, rates, err := lastRates(db, name, spec, last); err == nil {
			for d, desc := range []*prometheus.Desc{inRate, outRate} {
				if !math.IsNaN(rates[d]) {
					ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, rates[d], lv...)
				}
			}
		}
		for _, g := range groupRates {
			gname := series.KindName(device, g.kind, iface)
			if !have[gname] {
				continue // not polled
			}
			spec, last, err := db.Info(gname)
			if err != nil {
				continue
			}
			ds, rates, err := lastRates(db, gname, spec, last)
			if err != nil {
				continue
			}
			for d, v := range rates {
				if !math.IsNaN(v) {
					dir, typ := groupLabelValues(ds[d])
					ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v, append(lv, dir, typ)...)
				}
			}
		}
	}
	for device := range devices {
		h, ok, err := pipeline.Health(db, device)
		if err != nil {
			c.log.Warn("metrics: device health", "err", err)
			continue
		}
		if !ok {
			continue
		}
		up := 1.0
		if h.Error != "" {
			up = 0
		}
		ch <- prometheus.MustNewConstMetric(storeDevUp, prometheus.GaugeValue, up, device)
		ch <- prometheus.MustNewConstMetric(storeLastPoll, prometheus.GaugeValue, h.Duration.Seconds(), device)
		if !h.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(storeLastOK, prometheus.GaugeValue, float64(h.LastSuccess.UnixNano())/1e9, device)
		}
	}
}

// lastRates returns the data sources of a series last updated at last and, for each,
// its newest known rate among the last few complete rows (NaN where none is known).
func lastRates(db *rrd.DB, name string, spec rrd.Spec, last time.Time) ([]string, []float64, error) {
	end := last.Truncate(spec.Step)
	res, err := db.Fetch(name, rrd.Average, end.Add(-3*spec.Step), end, spec.Step)
	if err != nil {
		return nil, nil, err
	}
	rates := make([]float64, len(res.DS))
	for d := range rates {
		rates[d] = math.NaN()
		for i := len(res.Rows) - 1; i >= 0; i-- {
			if v := res.Rows[i][d]; !math.IsNaN(v) && !res.Time(i).After(last) {
				rates[d] = v
				break
			}
		}
	}
	return res.DS, rates, nil
}
