package pipeline

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/events"
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
	if len(w.last) == 0 {
		// The first cycle of a process (a cron run's only one) meets every
		// interface: room for all at once rather than a map grown by rehashing.
		n := 0
		for _, r := range results {
			n += len(r.Samples)
		}
		w.last = make(map[string]poller.Sample, n)
	}
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
			if !had || !th.Any() || s.Admin == poller.StatusDown {
				// An interface its operator shut down is quiet on purpose: no
				// minimum calls for help, and what was crossed stays as it was.
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

// Record is the crossing as an event of the log: a crossing begins one, its recovery
// ends it.
func (ev Event) Record() events.Event {
	sev := events.Warning
	return events.Event{Kind: events.Threshold, Severity: sev, State: events.Active, Start: ev.Time.UTC(), End: ev.Time.UTC(),
		Device: ev.Device, Interface: ev.Interface, Direction: ev.Direction, Bound: ev.Bound,
		Value: ev.Value, Threshold: ev.Threshold,
		Evidence: []events.Evidence{{Measure: "bits/s " + ev.Direction, Value: ev.Value, Threshold: ev.Threshold}}}
}
