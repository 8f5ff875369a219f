package pipeline

// How the series of targets and aggregates go to a remote-write receiver and come back
// from its query API: one description for both sides (Remote sends by it, package
// promread reads by it), since what is sent is what the page shows, not what is
// stored, and only the targets file says how the two differ.

import (
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/rrd"
)

// RemoteTarget is how the series of a target or an aggregate is sent: under Metric,
// with its device and target (or its aggregate) and its unit as labels, each data
// source ("in", "out") a series of its own labelled with its direction, every sample
// the stored one-step row times Scale (factor applied, per second, minute or hour, as
// its page shows it).
type RemoteTarget struct {
	Series       string // the store's name (series.KindName)
	Metric       string // MetricTarget or MetricAggregate
	Device, Name string // Device is "" for an aggregate
	Unit         string // the unit label's value; "" sends none
	// Scale turns a stored row into a sample. It is never 0 (a target's factor is
	// not), and is negative where the factor is: then the largest sample is the
	// smallest stored value.
	Scale float64
	// Spec is the store layout of the series (TargetSpec or AggregateSpec) with the
	// archives given to RemoteTargets; zero from remoteTarget.
	Spec rrd.Spec
}

// keys are the labels that name the series (besides direction and unit), in the
// order they are sent.
func (rt RemoteTarget) keys() [][2]string {
	if rt.Device == "" {
		return [][2]string{{LabelAggregate, rt.Name}}
	}
	return [][2]string{{LabelDevice, rt.Device}, {LabelTarget, rt.Name}}
}

// Labels are the labels that name the series in the engine: its device and target,
// or its aggregate, and its unit ("" where it has none, which PromQL matches as an
// absent label).
func (rt RemoteTarget) Labels() map[string]string {
	l := map[string]string{LabelUnit: rt.Unit}
	for _, k := range rt.keys() {
		l[k[0]] = k[1]
	}
	return l
}

// remoteTarget is how the series of target name of device dev (kind
// series.KindTarget) or of aggregate name (series.KindAggregate) is sent; ok is false
// when the targets file has no such target.
func (ts Targets) remoteTarget(kind, dev, name string) (RemoteTarget, bool) {
	var sh shown
	found := false
	if kind == series.KindTarget {
		for _, t := range ts.Devices[dev] {
			if t.Name == name {
				sh, found = targetShown(dev, t), true
			}
		}
	} else if kind == series.KindAggregate {
		for _, a := range ts.Aggregates {
			if a.Name == name {
				sh, found = ts.aggregateShown(a), true
			}
		}
	}
	if !found {
		return RemoteTarget{}, false
	}
	metric := MetricTarget
	if kind == series.KindAggregate {
		metric, dev = MetricAggregate, ""
	}
	// sh.scale takes what fetchRates gives (8 times the stored value, as for
	// octets) to the unit.
	return RemoteTarget{Series: sh.series, Metric: metric, Device: dev, Name: name, Unit: sh.target.Unit, Scale: sh.scale * 8}, true
}

// RemoteTargets lists how the series of every target and aggregate of the file are
// sent, by series name, with their store layout for the given step and archives.
func (ts Targets) RemoteTargets(step time.Duration, archives []rrd.Archive) map[string]RemoteTarget {
	out := map[string]RemoteTarget{}
	for dev, targets := range ts.Devices {
		for _, t := range targets {
			if rt, ok := ts.remoteTarget(series.KindTarget, dev, t.Name); ok {
				rt.Spec = TargetSpec(step, t, 64, archives)
				out[rt.Series] = rt
			}
		}
	}
	for _, a := range ts.Aggregates {
		if rt, ok := ts.remoteTarget(series.KindAggregate, "", a.Name); ok {
			rt.Spec = AggregateSpec(step, archives)
			out[rt.Series] = rt
		}
	}
	return out
}
