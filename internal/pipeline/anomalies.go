package pipeline

import (
	"cmp"
	"math"
	"slices"

	"github.com/mrtgo/mrtgo/events"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/rrd"
)

// Anomalies of an interface's traffic: a direction whose rate left its Holt-Winters
// confidence band often enough that the store's FAILURES for it turned on (RRDtool's
// aberrant behaviour detection: by default 7 of the last 9 steps outside prediction ±
// 2 deviations; rrd.HWParams). The store reports the steps at which FAILURES turned on
// or off in each commit (rrd.Update.FailureChanges), from the flag of the step before
// as the store keeps it; so a process that records one cycle and exits (cron's "mrtgo
// poll --once") finds the same changes as a daemon that has been running, and no
// anomaly state is kept here.
//
// An anomaly begins at the step whose FAILURES turned on, with that step's rate as its
// Value and the band edge it is outside (prediction + DeltaPos × deviation above the
// prediction, prediction − DeltaNeg × deviation below) as its Threshold, both in
// bits/s. Its severity is events.Warning, or events.Major when the rate is twice as far
// from the prediction as the edge. It ends at the step whose FAILURES turned off, with
// that step's rate and the edge on its side of the prediction.
//
// A commit that learns several steps (the first cycle after a device came back, a
// back-fill) may see FAILURES turn on and off more than once. Within a commit the
// changes of a direction fold into at most one begin (at the first step that turned
// on) and one end (at the last step that turned off): a direction in FAILURE before the
// commit and after it goes on, whatever it did in between.
//
// RRDtool counts a step whose rate is unknown as a violation, so that FAILURES also
// turns on when data goes missing: a device that did not answer for an hour, a counter
// reset, rates refused above the interface's speed. That is not traffic leaving its
// usual shape, and the device's health and the refusal counts already say it: a
// FAILURES that turns on at a step whose rate (or band) is unknown begins no anomaly.
// Its end, in a later commit, is reported like any other, and Tracker.End finds no
// active event for it.
//
// The FAILURES are RRDtool's (the day graph draws those of the in rate), and so is
// their start-up: a detector predicts from its second period and judges from its third,
// whose deviations each come from one step and take a few periods (DevGamma) to
// become an average; a new interface whose traffic is irregular may report
// anomalies in its first days that it would not later.

// majorFactor is how many times the band's half-width a rate must be from the
// prediction for an anomaly to be major rather than a warning.
const majorFactor = 2

// Anomalies returns the Holt-Winters anomalies of the last RecordWith (or Record)
// call's commit, as events.Anomaly events in bits/s: begun those of the interface
// directions whose FAILURES turned on in the steps the commit learned, ended those
// whose FAILURES turned off, each ordered by series and direction. Both are empty
// when nothing was committed. The daemon and "mrtgo poll --once" call it alike, right
// after RecordWith, and hand the events to the events.Tracker restored from the log
// (Tracker.Restore from Log.ActiveEvents), which Desk.Anomalies does:
//
//	err := rec.RecordWith(results, facts)
//	// Before returning on err: it may list only samples the store skipped, the rest
//	// committed, and what that commit changed is reported only now.
//	begun, ended := rec.Anomalies()
//	desk.Anomalies(begun, ended)
//
// The begun are observed before the ended are ended: a direction whose FAILURES
// turned on and off within one commit is in both.
func (r *Recorder) Anomalies() (begun, ended []events.Event) {
	return r.begun, r.ended
}

// anomalyKey is one data source of one series.
type anomalyKey struct {
	series string
	ds     int
}

// findAnomalies turns the FAILURES changes the store set on a committed cycle's updates
// into the events Anomalies returns.
func (r *Recorder) findAnomalies(ups []rrd.Update) {
	r.begun, r.ended = nil, nil
	// The changes of a data source in a commit alternate, in step order (across
	// updates of its series too).
	type folded struct {
		key                           anomalyKey
		first, last, firstOn, lastOff *rrd.FailureChange
		begin, end                    *rrd.FailureChange // the events to report
	}
	var fs []folded
	var at map[anomalyKey]int // index in fs
	for i := range ups {
		for j := range ups[i].FailureChanges {
			c := &ups[i].FailureChanges[j]
			k := anomalyKey{ups[i].Series, c.DS}
			n, ok := at[k]
			if !ok {
				if at == nil {
					at = map[anomalyKey]int{}
				}
				n = len(fs)
				at[k] = n
				fs = append(fs, folded{key: k, first: c})
			}
			f := &fs[n]
			f.last = c
			if c.Failure && f.firstOn == nil {
				f.firstOn = c
			}
			if !c.Failure {
				f.lastOff = c
			}
		}
	}
	if len(fs) == 0 {
		return
	}
	slices.SortFunc(fs, func(a, b folded) int {
		return cmp.Or(cmp.Compare(a.key.series, b.key.series), cmp.Compare(a.key.ds, b.key.ds))
	})
	nb, ne := 0, 0
	for i := range fs {
		f := &fs[i]
		before, after := !f.first.Failure, f.last.Failure
		// In FAILURE before and after, it goes on: neither.
		if !before && known(f.firstOn) {
			f.begin = f.firstOn
			nb++
		}
		// An end of a run that began in this commit on missing data ends nothing.
		if !after && (before || f.begin != nil) {
			f.end = f.lastOff
			ne++
		}
	}
	r.begun, r.ended = make([]events.Event, 0, nb), make([]events.Event, 0, ne)
	var spec rrd.Spec // of the series of the last key that needed it
	var specErr error
	specOf := ""
	for i := range fs {
		f := &fs[i]
		if f.begin == nil && f.end == nil {
			continue
		}
		k := f.key
		if k.series != specOf {
			spec, specErr = r.db.Spec(k.series)
			specOf = k.series
		}
		if specErr != nil || spec.HoltWinters == nil || k.ds >= len(spec.DS) {
			// Not expected: the store reports changes only of series with detectors.
			r.log.Warn("holt-winters failure of a series without detectors left out", "series", k.series, "err", specErr)
			continue
		}
		device, iface, _ := series.Split(k.series)
		if f.begin != nil {
			r.begun = append(r.begun, anomalyEvent(device, iface, spec.DS[k.ds].Name, spec.HoltWinters, f.begin, events.Active))
		}
		if f.end != nil {
			r.ended = append(r.ended, anomalyEvent(device, iface, spec.DS[k.ds].Name, spec.HoltWinters, f.end, events.Ended))
		}
	}
}

// known reports whether a change's step has a rate and a band.
func known(c *rrd.FailureChange) bool {
	return !math.IsNaN(c.Rate) && !math.IsNaN(c.Prediction) && !math.IsNaN(c.Deviation)
}

// anomalyEvent is the event of change c of direction dir of an interface whose
// detectors have parameters p: its rate against the band edge on the rate's side of
// the prediction, in bits/s.
func anomalyEvent(device, iface, dir string, p *rrd.HWParams, c *rrd.FailureChange, state string) events.Event {
	e := events.Event{Kind: events.Anomaly, Severity: events.Warning, State: state, Start: c.Time, End: c.Time,
		Device: device, Interface: iface, Direction: dir}
	if !known(c) {
		return e // an end at a step without a rate: Value and Threshold stay 0, as JSON can hold no NaN
	}
	half := p.DeltaNeg * c.Deviation // from the prediction to the band's edge
	edge := c.Prediction - half
	if c.Rate > c.Prediction {
		half = p.DeltaPos * c.Deviation
		edge = c.Prediction + half
	}
	e.Value, e.Threshold = c.Rate*8, edge*8
	if c.Failure && math.Abs(c.Rate-c.Prediction) > majorFactor*half {
		e.Severity = events.Major
	}
	return e
}
