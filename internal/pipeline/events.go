package pipeline

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mrtgo/mrtgo/capture"
	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/detect"
	"github.com/mrtgo/mrtgo/events"
)

// Desk turns what the sources report (the flow detector every step, the thresholds
// and the Holt-Winters anomalies every committed cycle) into events: it merges a
// lasting report into the event it continues (events.Tracker), stores each change in
// the event log, runs the alert command, and starts a capture of a new attack's
// packets. The daemon and "poll --once" both use one, and a Desk takes up the events
// the log says are going on, so a cron run and the daemon decide alike.
type Desk struct {
	// Capture, when set, is called with each event of the flow kinds that begins,
	// once it is stored (it has its ID), and the filter of its packets, to start a
	// capture of them; it returns the file's name, or "" when none was started.
	Capture func(events.Event, capture.Filter) string
	// OnUpdate, when set, sees every change (for /metrics).
	OnUpdate func(events.Update)

	log     *slog.Logger
	store   *events.Log
	alerts  *Alerter
	mu      sync.Mutex
	tracker *events.Tracker
	step    time.Duration
	scan    time.Duration
}

// NewDesk returns a Desk over the open log store, alerting through alerts, with the
// events the log says are going on taken up as of now.
func NewDesk(cfg *config.Config, store *events.Log, alerts *Alerter, log *slog.Logger, now time.Time) (*Desk, error) {
	d := &Desk{log: log, store: store, alerts: alerts, tracker: events.NewTracker(lingerOf(cfg))}
	d.step, d.scan = windows(cfg)
	active, err := store.ActiveEvents()
	if err != nil {
		return nil, err
	}
	d.tracker.Restore(active, now)
	return d, nil
}

// Configure takes the windows of a reloaded configuration.
func (d *Desk) Configure(cfg *config.Config) {
	d.mu.Lock()
	d.tracker.Linger = lingerOf(cfg)
	d.step, d.scan = windows(cfg)
	d.mu.Unlock()
}

// lingerOf is how long an event of each kind goes unreported before it ends: the
// detector reports a lasting flood every step and a lasting scan once per scan window.
func lingerOf(cfg *config.Config) func(string) time.Duration {
	step, scan := windows(cfg)
	return func(kind string) time.Duration {
		switch detect.Kind(kind) {
		case detect.VerticalScan, detect.HorizontalSweep, detect.ICMPSweep:
			return scan + step
		}
		return 2 * step
	}
}

// windows are the step and the scan window of cfg.
func windows(cfg *config.Config) (step, scan time.Duration) {
	scan = cfg.Detect.Config.ScanWindow
	if scan == 0 {
		scan = detect.DefaultScanWindow
	}
	return cfg.Step, scan
}

// Report takes the flow detector's reports of the step that ended at now.
//
// The detector dates an event by its flows' times, which are the exporter's clock:
// one that is off (or a capture replayed with its own times) would put the event
// where nobody looks for it. Evidence that does not end within the scan window and a
// step before now, or ends more than a step after it, is dated by when it arrived:
// the step that ended at now.
func (d *Desk) Report(now time.Time, reports []detect.Event) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	evs := make([]events.Event, len(reports))
	for i, r := range reports {
		evs[i] = events.FromDetect(r)
		e := &evs[i]
		if e.End.After(now.Add(d.step)) || e.End.Before(now.Add(-d.scan-d.step)) {
			span := min(e.End.Sub(e.Start), d.step)
			e.End = now.UTC()
			e.Start = e.End.Add(-max(span, 0))
		}
	}
	return d.apply(d.tracker.Observe(now, evs))
}

// Thresholds takes a cycle's threshold crossings and recoveries.
func (d *Desk) Thresholds(evs []Event) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ups []events.Update
	for _, ev := range evs {
		e := ev.Record()
		if ev.State == StateExceeded {
			ups = append(ups, d.tracker.Observe(ev.Time, []events.Event{e})...)
			continue
		}
		if u, ok := d.tracker.End(e); ok {
			ups = append(ups, u)
		}
	}
	return d.apply(ups)
}

// Anomalies takes the interface directions that left their Holt-Winters band (begun)
// and came back (ended) in a committed cycle.
func (d *Desk) Anomalies(begun, ended []events.Event) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ups []events.Update
	if len(begun) > 0 {
		ups = d.tracker.Observe(begun[0].Start, begun)
	}
	for _, e := range ended {
		if u, ok := d.tracker.End(e); ok {
			ups = append(ups, u)
		}
	}
	return d.apply(ups)
}

// Active lists the events going on.
func (d *Desk) Active() []events.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tracker.Active()
}

// apply stores, captures and alerts the changes. An event that begins is stored
// first, so that it has its ID when its capture starts and its command runs.
func (d *Desk) apply(ups []events.Update) error {
	if len(ups) == 0 {
		return nil
	}
	ptrs := make([]*events.Event, len(ups))
	for i := range ups {
		if ups[i].Change == events.Began {
			if f, ok := ups[i].Event.Filter(); ok {
				ups[i].Event.BPF = f.BPF()
			}
		}
		ptrs[i] = &ups[i].Event
	}
	if err := d.store.Put(ptrs...); err != nil {
		return fmt.Errorf("store events: %w", err)
	}
	var captured []*events.Event
	for i := range ups {
		u := &ups[i]
		if f, ok := u.Event.Filter(); ok && u.Change == events.Began && d.Capture != nil {
			if name := d.Capture(u.Event, f); name != "" {
				u.Event.Capture = name
				captured = append(captured, &u.Event)
			}
		}
		if u.Event.State == events.Active {
			d.tracker.SetID(u.Event)
		}
	}
	if len(captured) > 0 {
		if err := d.store.Put(captured...); err != nil {
			return fmt.Errorf("store events: %w", err)
		}
	}
	for _, u := range ups {
		if d.OnUpdate != nil {
			d.OnUpdate(u)
		}
		d.alerts.Send(u)
	}
	return nil
}
