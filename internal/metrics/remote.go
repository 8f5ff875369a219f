package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mrtgo/mrtgo/remotewrite"
)

var (
	remoteSamples = prometheus.NewDesc(namespace+"_remote_write_samples_total",
		"Samples of committed steps sent to the remote-write receiver: taken (sent), sent again after a failed request (retried), refused for good by the receiver or dropped from a full queue (dropped).", []string{"outcome"}, nil)
	remoteFailures = prometheus.NewDesc(namespace+"_remote_write_failed_requests_total", "Remote-write requests that failed.", nil, nil)
	remoteQueued   = prometheus.NewDesc(namespace+"_remote_write_queue_samples", "Samples waiting in the remote-write queue.", nil, nil)
	remoteRecords  = prometheus.NewDesc(namespace+"_remote_write_queue_requests", "Requests waiting in the remote-write queue.", nil, nil)
	remoteBytes    = prometheus.NewDesc(namespace+"_remote_write_queue_bytes", "Size of the remote-write queue's files on disk.", nil, nil)
)

type remoteCollector struct{ stats func() remotewrite.Stats }

func (c remoteCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{remoteSamples, remoteFailures, remoteQueued, remoteRecords, remoteBytes} {
		ch <- d
	}
}

func (c remoteCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	for _, o := range []struct {
		outcome string
		n       int64
	}{{"sent", st.Sent}, {"retried", st.Retried}, {"dropped", st.Dropped + st.Queue.Dropped}} {
		ch <- prometheus.MustNewConstMetric(remoteSamples, prometheus.CounterValue, float64(o.n), o.outcome)
	}
	ch <- prometheus.MustNewConstMetric(remoteFailures, prometheus.CounterValue, float64(st.Failures))
	ch <- prometheus.MustNewConstMetric(remoteQueued, prometheus.GaugeValue, float64(st.Queue.Samples))
	ch <- prometheus.MustNewConstMetric(remoteRecords, prometheus.GaugeValue, float64(st.Queue.Records))
	ch <- prometheus.MustNewConstMetric(remoteBytes, prometheus.GaugeValue, float64(st.Queue.Bytes))
}

// RegisterRemote adds the remote-write sender's counts and queue to the registry.
func (m *Metrics) RegisterRemote(stats func() remotewrite.Stats) error {
	return m.reg.Register(remoteCollector{stats})
}
