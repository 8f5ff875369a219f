package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// Threshold states, as MRTGO_STATE gives them.
const (
	StateExceeded  = "exceeded"
	StateRecovered = "recovered"
)

// Event is an interface crossing one of its thresholds, or coming back.
type Event struct {
	Device, Interface string
	Direction         string  // "in" or "out"
	Bound             string  // "max" or "min"
	Value             float64 // the rate that crossed, bits/s
	Threshold         float64 // the limit, bits/s
	State             string  // StateExceeded or StateRecovered
	Time              time.Time
}

// Watcher evaluates the thresholds of each interface on every cycle. The rate it
// compares is the one the store derives for the step: the counter difference since the
// interface's previous sample over the time between them, unknown after a
// discontinuity, across a gap longer than the heartbeat, or above the interface speed.
// A limit is crossed when the rate passes it, and recovered when the rate is back past
// it by the hysteresis; an unknown rate changes nothing.
type Watcher struct {
	devices   map[string]config.Device
	heartbeat time.Duration
	last      map[string]poller.Sample // by series
	active    map[watchKey]bool
}

type watchKey struct {
	series, direction, bound string
}

// NewWatcher returns a Watcher for cfg's devices; step sets the heartbeat (2 steps).
func NewWatcher(cfg *config.Config) *Watcher {
	w := &Watcher{last: map[string]poller.Sample{}, active: map[watchKey]bool{}}
	w.Configure(cfg)
	return w
}

// Configure applies a reloaded configuration, keeping which limits are crossed: an
// interface over a limit that is still configured does not alert again.
func (w *Watcher) Configure(cfg *config.Config) {
	w.devices = make(map[string]config.Device, len(cfg.Devices))
	for _, d := range cfg.Devices {
		w.devices[d.Name] = d
	}
	w.heartbeat = 2 * cfg.Step
	w.prune()
}

// prune forgets crossed limits the configuration no longer has: of devices removed,
// of interfaces no longer listed, and limits no longer set. (An interface of a device
// polling ["*"] that is no longer up keeps its state: a quiet link is what a minimum
// is there to report.)
func (w *Watcher) prune() {
	for k := range w.active {
		dev, iface, _ := series.Split(k.series)
		d, ok := w.devices[dev]
		if !ok || !limitOf(d.ThresholdsFor(iface), k.direction, k.bound).Set ||
			(!d.AllInterfaces() && !slices.Contains(d.Interfaces, iface)) {
			delete(w.active, k)
		}
	}
}

// Active reports whether a limit of an interface is crossed.
func (w *Watcher) Active(device, iface, direction, bound string) bool {
	return w.active[watchKey{series.Name(device, iface), direction, bound}]
}

// Alerts lists, by series, the limits now crossed, for the pages. The limit is in bits/s
// for the interface's last known speed.
func (w *Watcher) Alerts() map[string][]web.Alert {
	out := map[string][]web.Alert{}
	for k, on := range w.active {
		if !on {
			continue
		}
		dev, iface, _ := series.Split(k.series)
		d, ok := w.devices[dev]
		if !ok {
			continue
		}
		limit, ok := limitOf(d.ThresholdsFor(iface), k.direction, k.bound).Bits(float64(w.last[k.series].Speed))
		if !ok {
			continue
		}
		out[k.series] = append(out[k.series], web.Alert{Direction: k.direction, Bound: k.bound, Limit: limit})
	}
	for _, as := range out {
		slices.SortFunc(as, func(a, b web.Alert) int {
			return strings.Compare(a.Direction+a.Bound, b.Direction+b.Bound)
		})
	}
	return out
}

func limitOf(t config.Thresholds, direction, bound string) config.Limit {
	switch direction + bound {
	case "inmax":
		return t.InMax
	case "outmax":
		return t.OutMax
	case "inmin":
		return t.InMin
	}
	return t.OutMin
}

// Observe takes one cycle's results and returns the crossings and recoveries.
func (w *Watcher) Observe(results []poller.Result) []Event {
	var evs []Event
	for _, r := range results {
		d, ok := w.devices[r.Device]
		if !ok {
			continue
		}
		for _, s := range r.Samples {
			name := series.Name(s.Device, s.Interface)
			prev, had := w.last[name]
			w.last[name] = s
			th := d.ThresholdsFor(s.Interface)
			if !had || !th.Any() {
				continue
			}
			in, out, ok := rates(prev, s, w.heartbeat)
			if !ok {
				continue
			}
			for _, c := range []struct {
				direction string
				rate      float64
			}{{"in", in}, {"out", out}} {
				if math.IsNaN(c.rate) {
					continue
				}
				for _, bound := range []string{"max", "min"} {
					if ev, ok := w.check(s, th, c.direction, bound, c.rate); ok {
						evs = append(evs, ev)
					}
				}
			}
		}
	}
	return evs
}

func (w *Watcher) check(s poller.Sample, th config.Thresholds, direction, bound string, rate float64) (Event, bool) {
	limit, ok := limitOf(th, direction, bound).Bits(float64(s.Speed))
	if !ok {
		return Event{}, false
	}
	k := watchKey{series.Name(s.Device, s.Interface), direction, bound}
	was := w.active[k]
	var now bool
	switch {
	case bound == "max" && !was:
		now = rate > limit
	case bound == "max":
		now = rate >= limit*(1-th.Hysteresis)
	case !was:
		now = rate < limit
	default:
		now = rate <= limit*(1+th.Hysteresis)
	}
	if now == was {
		return Event{}, false
	}
	if now {
		w.active[k] = true
	} else {
		delete(w.active, k)
	}
	state := StateRecovered
	if now {
		state = StateExceeded
	}
	return Event{Device: s.Device, Interface: s.Interface, Direction: direction, Bound: bound,
		Value: rate, Threshold: limit, State: state, Time: s.Time}, true
}

// rates returns the bits/s between two samples of an interface, NaN where the store
// would store unknown.
func rates(prev, s poller.Sample, heartbeat time.Duration) (in, out float64, ok bool) {
	dt := s.Time.Sub(prev.Time).Seconds()
	if s.Discontinuity || dt <= 0 || s.Time.Sub(prev.Time) > heartbeat || s.Bits != prev.Bits || s.Index != prev.Index {
		return 0, 0, false
	}
	rate := func(a, b uint64) float64 {
		var d uint64
		switch {
		case b >= a:
			d = b - a
		case s.Bits == 32 && a <= math.MaxUint32:
			d = b + (1 << 32) - a // one wrap
		default:
			return math.NaN() // a 64-bit counter going back is a reset
		}
		r := float64(d) * 8 / dt
		if s.Speed > 0 && r > float64(s.Speed) {
			return math.NaN()
		}
		return r
	}
	return rate(prev.In, s.In), rate(prev.Out, s.Out), true
}

// Alerter runs the alert command for each event, one at a time in a goroutine of its
// own, so that a slow command never holds up polling: events queue (up to a bound,
// beyond which they are logged and dropped) and each command is killed after the
// timeout.
type Alerter struct {
	log   *slog.Logger
	queue chan Event
	mu    sync.Mutex
	alert config.Alert
	done  chan struct{}
}

// alertQueue is how many events may wait for the command.
const alertQueue = 1024

// NewAlerter starts an Alerter; Close stops it.
func NewAlerter(alert config.Alert, log *slog.Logger) *Alerter {
	a := &Alerter{log: log, alert: alert, queue: make(chan Event, alertQueue), done: make(chan struct{})}
	go a.loop()
	return a
}

// SetAlert changes the command, for a reload.
func (a *Alerter) SetAlert(alert config.Alert) {
	a.mu.Lock()
	a.alert = alert
	a.mu.Unlock()
}

// Send logs ev and queues its command; it never blocks.
func (a *Alerter) Send(ev Event) {
	attrs := []any{"device", ev.Device, "interface", ev.Interface, "direction", ev.Direction, "bound", ev.Bound,
		"value", ev.Value, "threshold", ev.Threshold}
	if ev.State == StateExceeded {
		a.log.Warn("threshold exceeded", attrs...)
	} else {
		a.log.Info("threshold recovered", attrs...)
	}
	select {
	case a.queue <- ev:
	default:
		a.log.Error("alert queue full; command not run", attrs...)
	}
}

// Close waits for the queued commands to finish.
func (a *Alerter) Close() {
	close(a.queue)
	<-a.done
}

func (a *Alerter) loop() {
	defer close(a.done)
	for ev := range a.queue {
		a.mu.Lock()
		alert := a.alert
		a.mu.Unlock()
		if alert.Command == "" {
			continue
		}
		if err := runAlert(alert, ev); err != nil {
			a.log.Error("alert command", "device", ev.Device, "interface", ev.Interface, "state", ev.State, "err", err)
		}
	}
}

func runAlert(alert config.Alert, ev Event) error {
	ctx, cancel := context.WithTimeout(context.Background(), alert.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", alert.Command)
	cmd.Env = append(os.Environ(),
		"MRTGO_DEVICE="+ev.Device,
		"MRTGO_INTERFACE="+ev.Interface,
		"MRTGO_DIRECTION="+ev.Direction,
		"MRTGO_BOUND="+ev.Bound,
		"MRTGO_VALUE="+strconv.FormatFloat(ev.Value, 'f', 0, 64),
		"MRTGO_THRESHOLD="+strconv.FormatFloat(ev.Threshold, 'f', 0, 64),
		"MRTGO_STATE="+ev.State,
		"MRTGO_TIME="+ev.Time.UTC().Format(time.RFC3339),
	)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return fmt.Errorf("run %q: killed after %v", alert.Command, alert.Timeout)
	}
	if err != nil {
		return fmt.Errorf("run %q: %w: %.200s", alert.Command, err, out)
	}
	return nil
}

// watcherState is what a Watcher carries from one "mrtgo poll --once" to the next: the
// previous sample of every interface with a threshold, and the limits crossed.
type watcherState struct {
	Last   map[string]poller.Sample `json:"last"`
	Active []watchKeyState          `json:"active"`
}

type watchKeyState struct {
	Series    string `json:"series"`
	Direction string `json:"direction"`
	Bound     string `json:"bound"`
}

// WatcherStateKey is the store's meta key for a saved Watcher.
const WatcherStateKey = "thresholds"

// Save encodes the Watcher's state for Load in the next process. Interfaces without
// thresholds are left out: nothing is evaluated for them.
func (w *Watcher) Save() ([]byte, error) {
	st := watcherState{Last: map[string]poller.Sample{}}
	for name, s := range w.last {
		if d, ok := w.devices[s.Device]; ok && d.ThresholdsFor(s.Interface).Any() {
			st.Last[name] = s
		}
	}
	for k, on := range w.active {
		if on {
			st.Active = append(st.Active, watchKeyState{k.series, k.direction, k.bound})
		}
	}
	return json.Marshal(st)
}

// LoadWatcher returns a Watcher for cfg holding what the last committed cycle saved
// (previous samples and crossed limits), so that a new process, cron's or a restarted
// daemon's, alerts on the same crossings as a long-lived one. An unreadable state is
// logged and costs only the previous samples.
func LoadWatcher(db *rrd.DB, cfg *config.Config, log *slog.Logger) (*Watcher, error) {
	w := NewWatcher(cfg)
	b, err := db.Meta(WatcherStateKey)
	if err != nil {
		return nil, fmt.Errorf("read threshold state: %w", err)
	}
	if b != nil {
		if err := w.Load(b); err != nil {
			log.Warn("threshold state unreadable; starting afresh", "err", err)
		}
	}
	return w, nil
}

// Load restores what Save encoded, then drops limits the configuration no longer has.
func (w *Watcher) Load(b []byte) error {
	var st watcherState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("read threshold state: %w", err)
	}
	maps.Copy(w.last, st.Last)
	for _, k := range st.Active {
		w.active[watchKey{k.Series, k.Direction, k.Bound}] = true
	}
	w.prune()
	return nil
}
