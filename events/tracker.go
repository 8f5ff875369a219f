package events

import (
	"slices"
	"strings"
	"time"
)

// Change is what happened to an event in one call of Tracker.Observe or Tracker.End,
// as the alert command's MRTGO_STATE says it.
type Change string

// Changes.
const (
	Began     Change = "began"
	Escalated Change = "escalated" // graver than it was
	Updated   Change = "updated"   // reported again: it lasts
	Finished  Change = "ended"
)

// Update is an event as it now is and what changed.
type Update struct {
	Event  Event
	Change Change
}

// Tracker turns reports, which a source repeats for as long as what it found lasts,
// into events that begin, last and end: a report with the Key of an active event
// extends it; an active event not reported for its linger ends. The detector reports
// a lasting flood once per step and a lasting scan once per scan window, so a flood
// lingers two steps and a scan its scan window and a step.
type Tracker struct {
	// Linger is how long an active event of a kind may go unreported before it ends.
	Linger func(kind string) time.Duration
	open   map[string]*Event
	seen   map[string]time.Time // when each open event was last reported
}

// NewTracker returns a Tracker that ends events after linger(kind) without a report.
func NewTracker(linger func(kind string) time.Duration) *Tracker {
	return &Tracker{Linger: linger, open: map[string]*Event{}, seen: map[string]time.Time{}}
}

// Restore takes active events from a log (the last state of a previous process), so
// that a lasting event goes on under its ID instead of beginning again.
func (t *Tracker) Restore(active []Event, now time.Time) {
	for _, e := range active {
		if e.State != Active {
			continue
		}
		e := e
		k := e.Key()
		t.open[k] = &e
		t.seen[k] = now
	}
}

// Observe takes the reports made at now and returns what began, escalated or lasts,
// then what ended for want of a report, in a stable order. Events of kinds in
// ownEnd (thresholds, anomalies) end only by End: their source says when.
func (t *Tracker) Observe(now time.Time, reports []Event) []Update {
	var out []Update
	for _, r := range reports {
		k := r.Key()
		e, ok := t.open[k]
		if !ok {
			r.State = Active
			n := r
			t.open[k] = &n
			t.seen[k] = now
			out = append(out, Update{n, Began})
			continue
		}
		was := SeverityRank(e.Severity)
		e.merge(r)
		t.seen[k] = now
		c := Updated
		if SeverityRank(e.Severity) > was {
			c = Escalated
		}
		out = append(out, Update{*e, c})
	}
	for _, k := range t.sortedKeys() {
		e := t.open[k]
		if e.Kind == Threshold || e.Kind == Anomaly {
			continue
		}
		if now.Sub(t.seen[k]) >= t.Linger(e.Kind) {
			e.State = Ended
			out = append(out, Update{*e, Finished})
			delete(t.open, k)
			delete(t.seen, k)
		}
	}
	return out
}

// End ends the active event with r's key, as of r.End, folding r in; ok is false when
// none is active.
func (t *Tracker) End(r Event) (Update, bool) {
	k := r.Key()
	e, ok := t.open[k]
	if !ok {
		return Update{}, false
	}
	e.merge(r)
	e.End = r.End
	e.State = Ended
	delete(t.open, k)
	delete(t.seen, k)
	return Update{*e, Finished}, true
}

// SetID records the ID the log gave an active event.
func (t *Tracker) SetID(e Event) {
	if o, ok := t.open[e.Key()]; ok {
		o.ID = e.ID
		o.Capture = e.Capture
		o.BPF = e.BPF
	}
}

// Active lists the events going on, by key.
func (t *Tracker) Active() []Event {
	out := make([]Event, 0, len(t.open))
	for _, k := range t.sortedKeys() {
		out = append(out, *t.open[k])
	}
	return out
}

func (t *Tracker) sortedKeys() []string {
	ks := make([]string, 0, len(t.open))
	for k := range t.open {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, strings.Compare)
	return ks
}
