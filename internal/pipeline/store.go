package pipeline

import (
	"time"

	"github.com/mrtgo/mrtgo/rrd"
)

// Store is what the pages are drawn from: the local store (*rrd.DB), or a
// Prometheus-compatible engine the pollers write to (package promread), so that a web
// node with no data of its own draws the same pages. Its series, rows and facts are
// the local store's: names as package series gives them, rows in octets per second,
// facts under the same metadata keys.
type Store interface {
	Series() ([]string, error)
	Info(name string) (rrd.Spec, time.Time, error)
	Fetch(name string, cf rrd.CF, start, end time.Time, resolution time.Duration) (rrd.Result, error)
	FetchMany(names []string, cf rrd.CF, start, end time.Time, resolution time.Duration) ([]rrd.Result, error)
	FetchHoltWinters(name string, start, end time.Time) (rrd.HWResult, error)
	Meta(key string) ([]byte, error)
}

var _ Store = (*rrd.DB)(nil)
