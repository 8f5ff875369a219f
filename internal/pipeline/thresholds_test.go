package pipeline

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/events"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/internal/syncbuf"
	"github.com/mrtgo/mrtgo/poller"
)

// link simulates one interface's counters: each step adds the given rates (bits/s).
type link struct {
	t       time.Time
	in, out uint64
	step    time.Duration
}

func (l *link) next(inBps, outBps float64) []poller.Result {
	l.t = l.t.Add(l.step)
	secs := l.step.Seconds()
	l.in += uint64(inBps / 8 * secs)
	l.out += uint64(outBps / 8 * secs)
	return []poller.Result{{Device: "r1", Samples: []poller.Sample{{Device: "r1", Interface: "eth0", Index: 2,
		Time: l.t, In: l.in, Out: l.out, Bits: 64, Speed: 1e9}}}}
}

// A link ramps past its 50% maximum and back, twice, wobbling inside the hysteresis
// band on the way: the command runs once per crossing and once per recovery, in order,
// with the facts in its environment.
func TestThresholdRamp(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "alerts")
	src := fmt.Sprintf(`
step = "1m"
[thresholds]
hysteresis = "10%%"
command = 'echo "$MRTGO_DEVICE $MRTGO_INTERFACE $MRTGO_DIRECTION $MRTGO_BOUND $MRTGO_STATE $MRTGO_VALUE $MRTGO_THRESHOLD" >> %s'
[[device]]
name = "r1"
host = "127.0.0.1"
interfaces = ["eth0"]
interface_thresholds = { eth0 = { in_max = "50%%" } }
`, out)
	cfg, err := config.Parse("targets.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var logBuf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	w := NewWatcher(cfg)
	a := NewAlerter(cfg, log)
	store, err := events.Open(t.TempDir(), events.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	desk, err := NewDesk(cfg, store, a, log, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l := &link{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC), step: time.Minute}
	// Mbit/s in; out stays at 1 Mbit/s and has no limit.
	ramp := []float64{0, 100, 300, 480, 520, 600, 480, 460, 440, 300, 499, 510, 900, 100, 100}
	var crossings []Event
	sawAlert := false
	for _, mbps := range ramp {
		evs := w.Observe(l.next(mbps*1e6, 1e6))
		crossings = append(crossings, evs...)
		if err := desk.Thresholds(evs); err != nil {
			t.Fatal(err)
		}
		// What the pages show follows the crossings.
		alerts := w.Alerts()[series.Name("r1", "eth0")]
		if w.Active("r1", "eth0", "in", "max") {
			sawAlert = true
			if len(alerts) != 1 || alerts[0].Direction != "in" || alerts[0].Bound != "max" || alerts[0].Limit != 500e6 {
				t.Errorf("at %v Mbit/s: alerts %+v, want in above 500 Mbit/s", mbps, alerts)
			}
		} else if len(alerts) != 0 {
			t.Errorf("at %v Mbit/s: alerts %+v while no limit is crossed", mbps, alerts)
		}
	}
	if !sawAlert {
		t.Error("the limit was never shown as crossed")
	}
	a.Close()
	if got := w.Active("r1", "eth0", "in", "max"); got {
		t.Errorf("still active after the ramp down")
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("command never ran: %v\nlog:\n%s", err, logBuf.String())
	}
	got := strings.Split(strings.TrimSpace(string(b)), "\n")
	want := []string{
		"r1 eth0 in max exceeded 520000000 500000000",
		"r1 eth0 in max recovered 440000000 500000000",
		"r1 eth0 in max exceeded 510000000 500000000",
		"r1 eth0 in max recovered 100000000 500000000",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands ran with:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(crossings) != len(want) {
		t.Errorf("%d crossings, want %d", len(crossings), len(want))
	}
	// The log holds two events, each begun at its crossing and ended at its recovery.
	logged, err := store.Find(events.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) != 2 || logged[0].State != events.Ended || logged[1].State != events.Ended ||
		logged[1].Value != 440e6 || logged[0].Threshold != 500e6 || !logged[0].End.After(logged[0].Start) {
		t.Errorf("event log: %+v", logged)
	}
	if n := strings.Count(logBuf.String(), "threshold exceeded"); n != 2 {
		t.Errorf("%d crossings logged, want 2:\n%s", n, logBuf.String())
	}
}

func TestThresholdMinAndPercent(t *testing.T) {
	tests := []struct {
		name  string
		th    string
		speed uint64
		rates []float64 // Mbit/s out
		want  []string  // states
	}{
		{"min with hysteresis", `out_min = "10M", hysteresis = "50%"`, 1e9, []float64{0, 50, 5, 12, 16, 3}, []string{"exceeded", "recovered", "exceeded"}},
		{"percent of unknown speed", `out_max = "10%"`, 0, []float64{0, 50, 900}, nil},
		{"absolute on unknown speed", `out_max = "100M"`, 0, []float64{0, 50, 900}, []string{"exceeded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("t.toml", []byte("step = \"1m\"\n[[device]]\nname = \"r1\"\nhost = \"h\"\ninterfaces = [\"eth0\"]\nthresholds = { "+tt.th+" }\n"))
			if err != nil {
				t.Fatal(err)
			}
			w := NewWatcher(cfg)
			l := &link{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC), step: time.Minute}
			var got []string
			for _, r := range tt.rates {
				rs := l.next(0, r*1e6)
				rs[0].Samples[0].Speed = tt.speed
				for _, ev := range w.Observe(rs) {
					got = append(got, ev.State)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("states %v, want %v", got, tt.want)
			}
		})
	}
}

// A discontinuity or a gap longer than the heartbeat gives no rate, so no event.
func TestThresholdUnknownRate(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte("step = \"1m\"\n[[device]]\nname = \"r1\"\nhost = \"h\"\ninterfaces = [\"eth0\"]\nthresholds = { in_max = \"1M\" }\n"))
	if err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(cfg)
	l := &link{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC), step: time.Minute}
	w.Observe(l.next(0, 0))
	rs := l.next(1e8, 0)
	rs[0].Samples[0].Discontinuity = true
	if evs := w.Observe(rs); len(evs) != 0 {
		t.Errorf("events across a discontinuity: %v", evs)
	}
	l.t = l.t.Add(10 * time.Minute)
	if evs := w.Observe(l.next(1e8, 0)); len(evs) != 0 {
		t.Errorf("events across a gap: %v", evs)
	}
	if evs := w.Observe(l.next(1e8, 0)); len(evs) != 1 {
		t.Errorf("%d events once the rate is known, want 1", len(evs))
	}
	// A reload that removes the limit forgets the crossing.
	cfg2, _ := config.Parse("t.toml", []byte("step = \"1m\"\n[[device]]\nname = \"r1\"\nhost = \"h\"\ninterfaces = [\"eth0\"]\n"))
	w.Configure(cfg2)
	if w.Active("r1", "eth0", "in", "max") {
		t.Error("crossing kept after its limit was removed")
	}
}

// A reload that stops polling an interface forgets its crossings; one that keeps it, or
// switches the device to ["*"], keeps them.
func TestThresholdInterfaceRemoved(t *testing.T) {
	parse := func(ifaces string) *config.Config {
		t.Helper()
		cfg, err := config.Parse("t.toml", []byte("step = \"1m\"\n[thresholds]\nin_max = \"1M\"\n[[device]]\nname = \"r1\"\nhost = \"h\"\ninterfaces = "+ifaces+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	w := NewWatcher(parse(`["eth0", "eth1"]`))
	l := &link{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC), step: time.Minute}
	w.Observe(l.next(0, 0))
	if evs := w.Observe(l.next(1e8, 0)); len(evs) != 1 {
		t.Fatalf("%d events, want the crossing", len(evs))
	}
	for _, step := range []struct {
		ifaces string
		active bool
	}{{`["eth1", "eth0"]`, true}, {`["*"]`, true}, {`["eth1"]`, false}} {
		w.Configure(parse(step.ifaces))
		if got := w.Active("r1", "eth0", "in", "max"); got != step.active {
			t.Errorf("interfaces = %s: crossing kept %v, want %v", step.ifaces, got, step.active)
		}
		if got := len(w.Alerts()) == 1; got != step.active {
			t.Errorf("interfaces = %s: alerts %v", step.ifaces, w.Alerts())
		}
	}
}

// A command that hangs is killed after the timeout and the failure logged.
func TestAlertTimeout(t *testing.T) {
	var logBuf syncbuf.Buffer
	cfg := &config.Config{Alert: config.Alert{Command: "sleep 30", Timeout: 100 * time.Millisecond}}
	a := NewAlerter(cfg, slog.New(slog.NewTextHandler(&logBuf, nil)))
	ev := Event{Device: "r1", Interface: "eth0", Direction: "in", Bound: "max", State: StateExceeded}
	a.Send(events.Update{Event: ev.Record(), Change: events.Began})
	a.Close()
	if !strings.Contains(logBuf.String(), "killed after 100ms") {
		t.Errorf("log does not report the kill:\n%s", logBuf.String())
	}
}
