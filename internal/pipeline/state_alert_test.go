package pipeline

import (
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/poller"
)

// An interface shut down by its operator (ifAdminStatus down) raises no threshold,
// however quiet or busy; one that is enabled but down (ifOperStatus) does, as before.
func TestThresholdAdminDownNeverAlerts(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte("step = \"1m\"\n[[device]]\nname = \"r1\"\nhost = \"h\"\ninterfaces = [\"eth0\"]\nthresholds = { in_min = \"10M\", out_max = \"100M\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name        string
		admin, oper int
		want        int
	}{
		{"admin down", poller.StatusDown, poller.StatusDown, 0},
		{"oper down", poller.StatusUp, poller.StatusDown, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWatcher(cfg)
			l := &link{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC), step: time.Minute}
			n := 0
			for _, mbps := range []float64{0, 0, 500, 500} {
				rs := l.next(0, mbps*1e6)
				rs[0].Samples[0].Admin, rs[0].Samples[0].Oper = tt.admin, tt.oper
				n += len(w.Observe(rs))
			}
			if n != tt.want {
				t.Errorf("%d events, want %d", n, tt.want)
			}
			if w.Active("r1", "eth0", "in", "min") != (tt.want > 0) {
				t.Errorf("in min active %v, want %v", !(tt.want > 0), tt.want > 0)
			}
		})
	}
}
