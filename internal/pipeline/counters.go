package pipeline

// The series of an interface's counter groups beyond the octets (packets by kind,
// errors and discards): one series per group, named series.KindName(device, kind,
// interface), with the octets' archives and a data source per counter. They are written
// in the commit of the octets, with the poller's discontinuities; their facts are the
// interface's (series.Info of the octets series).

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/rrd"
)

// groupLayout is what a group series was last made or checked with.
type groupLayout struct {
	speed float64
	bits  int
}

// groupUpdates appends the updates of the sample's counter groups to ups, creating
// their series on first sight and keeping their maximum and counter width current.
func (r *Recorder) groupUpdates(s poller.Sample, ups []rrd.Update) ([]rrd.Update, error) {
	for _, g := range []struct {
		kind string
		grp  *poller.Group
	}{{series.KindPackets, s.Packets}, {series.KindErrors, s.Errors}} {
		if g.grp == nil {
			continue
		}
		name := series.KindName(s.Device, g.kind, s.Interface)
		if err := r.ensureGroup(name, g.kind, float64(s.Speed), g.grp.Bits, s); err != nil {
			return ups, err
		}
		vals := make([]rrd.Value, len(g.grp.Values))
		for k, v := range g.grp.Values {
			if g.grp.Absent&(1<<k) == 0 {
				vals[k] = rrd.Uint(v)
			}
		}
		ups = append(ups, rrd.Update{Series: name, Time: s.Time, Values: vals, Discontinuity: g.grp.Discontinuity})
	}
	return ups, nil
}

// ensureGroup creates a group's series on first sight, and sets its maximum and counter
// width when the interface's speed or the group's counters changed.
func (r *Recorder) ensureGroup(name, kind string, speed float64, bits int, s poller.Sample) error {
	want := groupLayout{speed, bits}
	old, seen := r.groups[name]
	if seen && old == want {
		return nil
	}
	spec := series.GroupSpecWith(kind, r.step, speed, bits, r.arch)
	if !seen {
		got, err := r.db.Spec(name)
		switch {
		case errors.Is(err, rrd.ErrNoSeries):
			if err := r.db.Create(name, spec, s.Time.Add(-r.step).Truncate(time.Second)); err != nil {
				return fmt.Errorf("create series %s: %w", name, err)
			}
			r.groups[name] = want
			return nil
		case err != nil:
			return err
		}
		if !slices.Equal(got.Archives, r.arch) {
			got.Archives = r.arch
			if err := r.db.Reshape(name, got); err != nil {
				return fmt.Errorf("change retention of %s: %w", name, err)
			}
		}
		old = groupLayout{speed: math.NaN(), bits: got.DS[0].Bits}
		if m := got.DS[0].Max; !math.IsNaN(m) && !math.IsNaN(spec.DS[0].Max) && m == spec.DS[0].Max {
			old.speed = speed
		} else if math.IsNaN(m) && speed == 0 {
			old.speed = 0
		}
	}
	for ds := range spec.DS {
		if old.speed != speed {
			if err := r.db.SetMax(name, ds, spec.DS[ds].Max); err != nil {
				return fmt.Errorf("set speed of %s: %w", name, err)
			}
		}
		if old.bits != bits {
			if err := r.db.SetBits(name, ds, bits); err != nil {
				return fmt.Errorf("set counter width of %s: %w", name, err)
			}
		}
	}
	r.groups[name] = want
	return nil
}

// createGroups creates the counter group series seen for the first time, a
// transaction per distinct layout (as createNew does for the octets): the first poll
// of a large network with counters meets twice as many of them as interfaces.
func (r *Recorder) createGroups(results []poller.Result) error {
	type layout struct {
		kind  string
		speed uint64
		bits  int
	}
	batch := map[layout][]string{}
	start := map[layout]time.Time{}
	queued := map[string]bool{}
	for _, res := range results {
		for _, s := range res.Samples {
			for _, g := range []struct {
				kind string
				grp  *poller.Group
			}{{series.KindPackets, s.Packets}, {series.KindErrors, s.Errors}} {
				if g.grp == nil {
					continue
				}
				name := series.KindName(s.Device, g.kind, s.Interface)
				if _, seen := r.groups[name]; seen || queued[name] {
					continue
				}
				queued[name] = true
				if _, err := r.db.Spec(name); !errors.Is(err, rrd.ErrNoSeries) {
					continue // exists, or ensureGroup reports the error
				}
				l := layout{g.kind, s.Speed, g.grp.Bits}
				batch[l] = append(batch[l], name)
				t := s.Time.Add(-r.step).Truncate(time.Second)
				if old, ok := start[l]; !ok || t.Before(old) {
					start[l] = t
				}
			}
		}
	}
	for l, names := range batch {
		spec := series.GroupSpecWith(l.kind, r.step, float64(l.speed), l.bits, r.arch)
		if err := r.db.CreateBatch(names, spec, start[l]); err != nil {
			return fmt.Errorf("create %d series: %w", len(names), err)
		}
		for _, n := range names {
			r.groups[n] = groupLayout{float64(l.speed), l.bits}
		}
	}
	return nil
}
