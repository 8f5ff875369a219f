package pipeline

// Recording targets that are not interfaces (a device's OIDs and commands) and the
// aggregates that sum interfaces and targets. A target's series holds its raw values
// with the store's data source type of its kind (the store does the counter, derive
// and absolute arithmetic, as for octets); factor and per are applied where values are
// shown. An aggregate's series holds, per step, the sum of its members' rates of that
// step, read back from the store: so it is what the members' graphs show, in the same
// commit as the next cycle (one step behind them), whether the cycles are the daemon's
// or cron's.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/rrd"
)

// aggregate is an [[aggregate]] as the Recorder sums it: its members' series.
type aggregate struct {
	series  string
	members []string
	swap    []bool
}

// SetTargets gives the Recorder the targets and aggregates of cfg. Samples of targets
// it does not know (a reload removed them) are not stored.
func (r *Recorder) SetTargets(cfg *config.Config) {
	r.targets = map[string]config.Target{}
	for _, d := range cfg.Devices {
		for _, t := range d.Targets {
			r.targets[series.KindName(d.Name, series.KindTarget, t.Name)] = t
		}
	}
	r.aggs = nil
	for _, a := range cfg.Aggregates {
		ag := aggregate{series: series.KindName("", series.KindAggregate, a.Name)}
		for _, m := range a.Members {
			ag.members = append(ag.members, MemberSeries(m))
			ag.swap = append(ag.swap, m.Swap)
		}
		r.aggs = append(r.aggs, ag)
	}
}

// MemberSeries is the series an aggregate's member names.
func MemberSeries(m config.Member) string {
	if m.Target != "" {
		return series.KindName(m.Device, series.KindTarget, m.Target)
	}
	return series.Name(m.Device, m.Interface)
}

// dsType is the store's data source type of a target kind.
func dsType(kind string) rrd.DSType {
	switch kind {
	case config.KindGauge:
		return rrd.Gauge
	case config.KindDerive:
		return rrd.Derive
	case config.KindAbsolute:
		return rrd.Absolute
	}
	return rrd.Counter
}

// TargetSpec is the store layout of a target's series: "in" and "out" of its kind,
// capped at its max (undone of factor and per), with the given archives.
func TargetSpec(step time.Duration, t config.Target, bits int, archives []rrd.Archive) rrd.Spec {
	typ := dsType(t.Kind)
	lo := math.NaN() // gauges and derives may go below zero (temperatures, differences)
	if typ == rrd.Counter || typ == rrd.Absolute {
		lo = 0
	}
	ds := func(name string) rrd.DS {
		return rrd.DS{Name: name, Type: typ, Min: lo, Max: t.StoredMax(), Bits: bits}
	}
	return rrd.Spec{Step: step, Heartbeat: 2 * step, DS: []rrd.DS{ds("in"), ds("out")}, Archives: archives}
}

// AggregateSpec is the store layout of an aggregate: the sums as gauges, one update
// per row at the row's end, so that each row is exactly the sum.
func AggregateSpec(step time.Duration, archives []rrd.Archive) rrd.Spec {
	ds := func(name string) rrd.DS { return rrd.DS{Name: name, Type: rrd.Gauge, Min: math.NaN(), Max: math.NaN()} }
	return rrd.Spec{Step: step, Heartbeat: 2 * step, DS: []rrd.DS{ds("in"), ds("out")}, Archives: archives}
}

func value(v poller.Reading) rrd.Value {
	switch {
	case !v.Known:
		return rrd.Unknown()
	case v.Exact:
		return rrd.Uint(v.Uint)
	}
	return rrd.Float(v.Float)
}

// cmdUptimeKey is the store metadata key of the uptime a command target last printed.
func cmdUptimeKey(series string) string { return "cmdup:" + series }

// targetUpdates are the updates of the targets' samples in results, their series made
// on first sight and kept to the configured kind's ceiling. A command whose uptime
// went back since its last sample (kept in meta, in the cycle's commit) marks a
// discontinuity.
func (r *Recorder) targetUpdates(results []poller.Result, meta map[string][]byte) ([]rrd.Update, error) {
	var ups []rrd.Update
	for _, res := range results {
		for _, s := range res.Targets {
			name := series.KindName(s.Device, series.KindTarget, s.Target)
			t, ok := r.targets[name]
			if !ok {
				continue
			}
			if err := r.ensureTarget(name, t, s); err != nil {
				return nil, err
			}
			in, out := value(s.In), value(s.Out)
			if t.Swap {
				in, out = out, in
			}
			disc := s.Discontinuity
			if s.HaveUptime {
				b, err := r.db.Meta(cmdUptimeKey(name))
				if err != nil {
					return nil, fmt.Errorf("read uptime of %s: %w", name, err)
				}
				if prev, err := strconv.ParseFloat(string(b), 64); err == nil && s.Uptime < prev {
					disc = true
					r.log.Info("command's uptime went back; marking a discontinuity", "series", name, "before", prev, "now", s.Uptime)
				}
				meta[cmdUptimeKey(name)] = []byte(strconv.FormatFloat(s.Uptime, 'g', -1, 64))
			}
			ups = append(ups, rrd.Update{Series: name, Time: s.Time, Values: []rrd.Value{in, out}, Discontinuity: disc})
		}
	}
	return ups, nil
}

// ensureTarget creates a target's series on first sight and keeps its ceiling and
// counter width as configured and answered.
func (r *Recorder) ensureTarget(name string, t config.Target, s poller.TargetSample) error {
	if r.targetSeen == nil {
		r.targetSeen = map[string]targetState{}
	}
	want := targetState{max: t.StoredMax(), bits: s.Bits, kind: t.Kind}
	old, seen := r.targetSeen[name]
	if seen && sameTargetState(old, want) {
		return nil
	}
	if !seen {
		spec, err := r.db.Spec(name)
		switch {
		case errors.Is(err, rrd.ErrNoSeries):
			if err := r.db.Create(name, TargetSpec(r.step, t, s.Bits, r.arch), s.Time.Add(-r.step).Truncate(time.Second)); err != nil {
				return fmt.Errorf("create series %s: %w", name, err)
			}
			r.targetSeen[name] = want
			return nil
		case err != nil:
			return err
		}
		old = targetState{max: spec.DS[0].Max, bits: spec.DS[0].Bits, kind: t.Kind}
		if spec.DS[0].Type != dsType(t.Kind) {
			// The store keeps the type it was made with: changing it would make the
			// stored rows mean something else.
			r.log.Warn("target's kind differs from its stored series; the series keeps its own (remove it to start again)",
				"series", name, "kind", t.Kind)
		}
	}
	if !sameMax(old.max, want.max) {
		for ds := range 2 {
			if err := r.db.SetMax(name, ds, want.max); err != nil {
				return fmt.Errorf("set max of %s: %w", name, err)
			}
		}
	}
	if old.bits != want.bits && want.bits != 0 && dsType(t.Kind) == rrd.Counter {
		for ds := range 2 {
			if err := r.db.SetBits(name, ds, want.bits); err != nil {
				return fmt.Errorf("set counter width of %s: %w", name, err)
			}
		}
	}
	r.targetSeen[name] = want
	return nil
}

// targetState is what the Recorder last made sure of a target's series.
type targetState struct {
	max  float64
	bits int
	kind string
}

func sameMax(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func sameTargetState(a, b targetState) bool {
	return sameMax(a.max, b.max) && a.bits == b.bits && a.kind == b.kind
}

// aggregateLookback bounds how many rows an aggregate fills at once after a pause.
const aggregateLookback = 12

// aggregateUpdates are the rows of each aggregate its members completed since its
// last: the sum of the members' rows, in and out (swapped for members written with
// "-"), unknown where any member's is. A row is complete once every member has an
// update at or after its end.
func (r *Recorder) aggregateUpdates() ([]rrd.Update, error) {
	var ups []rrd.Update
	stepS := int64(r.step / time.Second)
	for _, a := range r.aggs {
		var done time.Time // the last row every member completed
		have := true
		for _, m := range a.members {
			_, last, err := r.db.Info(m)
			if errors.Is(err, rrd.ErrNoSeries) {
				have = false // not polled yet
				break
			}
			if err != nil {
				return nil, err
			}
			end := time.Unix(last.Unix()/stepS*stepS, 0)
			if done.IsZero() || end.Before(done) {
				done = end
			}
		}
		if !have || done.IsZero() {
			continue
		}
		from := done.Add(-aggregateLookback * r.step)
		_, last, err := r.db.Info(a.series)
		switch {
		case errors.Is(err, rrd.ErrNoSeries):
			from = done.Add(-r.step)
			if err := r.db.Create(a.series, AggregateSpec(r.step, r.arch), from); err != nil {
				return nil, fmt.Errorf("create series %s: %w", a.series, err)
			}
		case err != nil:
			return nil, err
		case !last.Before(done):
			continue
		case last.After(from):
			from = last
		}
		res, err := r.db.FetchMany(a.members, rrd.Average, from, done, r.step)
		if err != nil {
			return nil, fmt.Errorf("fetch members of %s: %w", a.series, err)
		}
		type sum struct {
			in, out float64
			n       int // members with the row
		}
		sums := map[int64]*sum{}
		var times []int64
		for k, f := range res {
			for i, row := range f.Rows {
				t := f.Time(i)
				if !t.After(from) || t.After(done) {
					continue
				}
				s, ok := sums[t.Unix()]
				if !ok {
					if k > 0 {
						continue // a row the first member does not have
					}
					s = &sum{}
					sums[t.Unix()] = s
					times = append(times, t.Unix())
				}
				in, out := row[0], row[1]
				if a.swap[k] {
					in, out = out, in
				}
				s.in += in
				s.out += out
				s.n++
			}
		}
		for _, t := range times {
			s := sums[t]
			if s.n != len(a.members) {
				s.in, s.out = math.NaN(), math.NaN()
			}
			ups = append(ups, rrd.Update{Series: a.series, Time: time.Unix(t, 0),
				Values: []rrd.Value{rrd.Float(s.in), rrd.Float(s.out)}})
		}
	}
	return ups, nil
}
