package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/remotewrite"
	"github.com/mrtgo/mrtgo/rrd"
)

// Metric names of the series sent to a remote-write receiver. Every one is a rate per
// second, the value of one step's row as "mrtgo fetch" prints it, stamped with the end
// of the step.
const (
	MetricInterfaceBits    = "mrtgo_interface_bits_per_second"
	MetricInterfacePackets = "mrtgo_interface_packets_per_second"
	MetricInterfaceErrors  = "mrtgo_interface_errors_per_second"
	// MetricInterfaceSpeed is the interface's speed (the graphs' ceiling, as the
	// pages show it), sent with each step whose rates are known.
	MetricInterfaceSpeed = "mrtgo_interface_speed_bits_per_second"
	// MetricTarget and MetricAggregate are a target's and an aggregate's values as
	// their pages show them (factor applied, rates per second, minute or hour), with
	// their unit as a label.
	MetricTarget    = "mrtgo_target_value"
	MetricAggregate = "mrtgo_aggregate_value"
)

// Label names of those series, besides __name__ and the [remote_write] labels: one
// place for what sends them (Remote) and what reads them back (package promread).
const (
	LabelDevice      = "device"
	LabelInterface   = "interface"
	LabelDirection   = "direction" // "in" or "out"
	LabelType        = "type"      // a RemoteTypes value
	LabelDescription = "description"
	LabelTarget      = "target"
	LabelAggregate   = "aggregate"
	LabelUnit        = "unit" // absent when the target has none
)

// Remote puts the rows each commit completed into a remote-write queue: for every
// series, the one-step rows (average rates, as "mrtgo fetch" prints them) that ended
// since the last Export. How far each device got is kept in the queue itself, written
// with the rows (remotewrite.Queue.PutMarked), so that neither a crash nor a cron
// run's exit loses a step or queues one twice; the next process, cron's or the
// daemon's, takes up from there.
//
// A device's rows are queued up to the last step all of its series completed: a step
// an interface has not completed yet (its device answered late) is not skipped, it is
// sent by a later Export. A device that has been away longer than the one-step archive
// keeps has its rows sent from the oldest the archive still holds.
type Remote struct {
	db     *rrd.DB
	q      *remotewrite.Queue
	extra  []remotewrite.Label
	log    *slog.Logger
	cursor map[string]int64 // by device: Unix second of the end of the last row queued
	// labels are the labels of each series' data sources, kept while its facts are
	// unchanged (facts holds the stored bytes they were made from).
	labels map[string][]sent
	speed  map[string]sent // labels and speed (bits/s) of the interfaces whose speed is known
	facts  map[string][]byte
	// PutSamples is about how many samples go in one Put (several devices' rows
	// with one mark): bigger is fewer marks written, smaller less memory.
	PutSamples int
	// Targets are the targets and aggregates of the targets file, for their units
	// and factors; series of targets not in it are not sent.
	Targets Targets
}

// putMarked queues batch with the positions moved as its mark, in one write, and
// takes moved as the positions from now on.
func (x *Remote) putMarked(batch []remotewrite.Series, moved map[string]int64) error {
	mark, err := json.Marshal(moved)
	if err != nil {
		return err
	}
	if err := x.q.PutMarked(batch, mark); err != nil {
		return err
	}
	x.cursor = maps.Clone(moved)
	return nil
}

// liveStartKey is the key, in the queue's mark beside the devices' positions, of the
// position a device's live export began at: the rows up to it are a back-fill's to
// send (Backfill), those after it the live export's. A device name holds no slash
// (config rejects it), so no device has this key.
func liveStartKey(dev string) string { return "live-start/" + dev }

// NewRemote returns a Remote writing db's rows to q with the extra labels on every
// series, taking up where the last process that used q left off.
func NewRemote(db *rrd.DB, q *remotewrite.Queue, extra map[string]string, log *slog.Logger) (*Remote, error) {
	x := &Remote{db: db, q: q, log: log, cursor: map[string]int64{}, PutSamples: 50000,
		labels: map[string][]sent{}, speed: map[string]sent{}, facts: map[string][]byte{}}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		x.extra = append(x.extra, remotewrite.Label{Name: k, Value: extra[k]})
	}
	if m := q.Mark(); len(m) > 0 {
		if err := json.Unmarshal(m, &x.cursor); err != nil {
			return nil, fmt.Errorf("remote-write queue: position unreadable: %w", err)
		}
	}
	return x, nil
}

// SetTargets takes the targets and aggregates of a reloaded targets file.
func (x *Remote) SetTargets(t Targets) {
	x.Targets = t
	clear(x.labels) // made again, with the new units and factors
}

// Export queues the rows completed since the last Export and returns how many
// samples it queued.
func (x *Remote) Export() (int, error) {
	names, err := x.db.Series()
	if err != nil {
		return 0, err
	}
	if err := x.refreshLabels(names); err != nil {
		return 0, err
	}
	byDevice := map[string][]string{}
	for _, n := range names {
		if len(x.labels[n]) == 0 {
			continue // a kind of series not sent
		}
		d, _, _, _ := series.Parse(n)
		byDevice[d] = append(byDevice[d], n)
	}
	var (
		batch   []remotewrite.Series
		pending int // samples in batch
		total   int
		moved   = maps.Clone(x.cursor)
	)
	put := func() error {
		if err := x.putMarked(batch, moved); err != nil {
			return err
		}
		total += pending
		batch, pending = batch[:0], 0
		return nil
	}
	for _, dev := range slices.Sorted(maps.Keys(byDevice)) {
		ss := byDevice[dev]
		end, from, err := x.span(dev, ss)
		if err != nil {
			return total, err
		}
		if !end.After(from) {
			continue
		}
		if _, ok := x.cursor[dev]; !ok {
			moved[liveStartKey(dev)] = from.Unix() // where a back-fill of the device stops
		}
		rows, err := x.db.FetchMany(ss, rrd.Average, from, end, 0)
		if err != nil {
			return total, fmt.Errorf("remote write: read %s: %w", dev, err)
		}
		for i, r := range rows {
			for d, ds := range x.labels[ss[i]] {
				samples := make([]remotewrite.Sample, 0, len(r.Rows))
				for k, row := range r.Rows {
					t := r.Time(k)
					if d >= len(row) || math.IsNaN(row[d]) || !t.After(from) || t.After(end) {
						continue
					}
					samples = append(samples, remotewrite.Sample{Time: t, Value: row[d] * ds.scale})
				}
				if len(samples) > 0 {
					batch = append(batch, remotewrite.Series{Labels: ds.labels, Samples: samples})
					pending += len(samples)
				}
			}
			if sp, ok := x.speed[ss[i]]; ok {
				samples := make([]remotewrite.Sample, 0, len(r.Rows))
				for k, row := range r.Rows {
					if t := r.Time(k); t.After(from) && !t.After(end) && slices.ContainsFunc(row, func(v float64) bool { return !math.IsNaN(v) }) {
						samples = append(samples, remotewrite.Sample{Time: t, Value: sp.scale})
					}
				}
				if len(samples) > 0 {
					batch = append(batch, remotewrite.Series{Labels: sp.labels, Samples: samples})
					pending += len(samples)
				}
			}
		}
		moved[dev] = end.Unix()
		if pending >= x.PutSamples {
			if err := put(); err != nil {
				return total, err
			}
		}
	}
	if pending > 0 || !maps.Equal(moved, x.cursor) {
		if err := put(); err != nil {
			return total, err
		}
	}
	return total, nil
}

// span returns the rows to send of one device's series: those ending after from and
// no later than end, the last step every series completed.
func (x *Remote) span(dev string, names []string) (end, from time.Time, err error) {
	last, err := x.db.LastUpdates(names)
	if err != nil {
		return end, from, fmt.Errorf("remote write: %w", err)
	}
	var step, keep time.Duration
	for i, n := range names {
		err := x.db.ViewSpec(n, func(spec rrd.Spec) { // every series, every Export: no copies
			done := stepStart(last[i], spec.Step)
			if i == 0 || done.Before(end) {
				end = done
			}
			step = spec.Step
			for _, a := range spec.Archives {
				if a.Steps == 1 && (keep == 0 || time.Duration(a.Rows)*spec.Step < keep) {
					keep = time.Duration(a.Rows) * spec.Step
				}
			}
		})
		if err != nil {
			return end, from, err
		}
	}
	if c, ok := x.cursor[dev]; ok {
		from = time.Unix(c, 0).UTC()
	} else {
		from = end.Add(-step) // new to the queue: from the last completed step on
	}
	if oldest := end.Add(-keep + step); keep > 0 && from.Before(oldest) {
		x.log.Warn("remote write: rows older than the one-step archive are not sent", "device", dev, "from", from, "oldest", oldest)
		from = oldest.Add(-step)
	}
	return end, from, nil
}

// refreshLabels makes the labels of the series new since the last Export or whose
// facts (descriptions) changed.
func (x *Remote) refreshLabels(names []string) error {
	facts, err := x.db.MetaPrefix(series.InfoKey(""))
	if err != nil {
		return fmt.Errorf("remote write: read interface facts: %w", err)
	}
	for _, n := range names {
		b := facts[series.InfoKey(n)]
		if _, ok := x.labels[n]; ok && bytes.Equal(b, x.facts[n]) {
			continue
		}
		spec, err := x.db.Spec(n)
		if err != nil {
			return err
		}
		var info series.Info
		if len(b) > 0 {
			json.Unmarshal(b, &info) // facts that cannot be read cost the description only
		}
		x.labels[n] = x.seriesLabels(n, spec, info)
		x.facts[n] = b
		delete(x.speed, n)
		if dev, iface, ok := series.Split(n); ok && info.Speed > 0 {
			l := []remotewrite.Label{{Name: "__name__", Value: MetricInterfaceSpeed}, {Name: LabelDevice, Value: dev}, {Name: LabelInterface, Value: iface}}
			x.speed[n] = sent{append(l, x.extra...), info.Speed}
		}
	}
	return nil
}

// sent is how one data source of a series is sent: its labels, and what its stored
// rate is multiplied by (8: octets to bits). For an interface's speed, scale is the
// speed.
type sent struct {
	labels []remotewrite.Label
	scale  float64
}

// seriesLabels returns how each data source of a series is sent; nothing for a kind
// of series not sent.
func (x *Remote) seriesLabels(name string, spec rrd.Spec, info series.Info) []sent {
	dev, kind, iface, ok := series.Parse(name)
	if !ok {
		return nil
	}
	metric, scale := "", 1.0
	switch kind {
	case series.KindOctets:
		metric, scale = MetricInterfaceBits, 8
	case series.KindPackets:
		metric = MetricInterfacePackets
	case series.KindErrors:
		metric = MetricInterfaceErrors
	case series.KindTarget, series.KindAggregate:
		return x.targetLabels(dev, kind, iface, spec)
	default:
		return nil
	}
	out := make([]sent, len(spec.DS))
	for d, ds := range spec.DS {
		// "in" and "out", or "<type>_in" and "<type>_out": ucast_in, err_out, ...
		typ, dir, found := strings.Cut(ds.Name, "_")
		if !found {
			typ, dir = "", ds.Name
		}
		l := []remotewrite.Label{{Name: "__name__", Value: metric}, {Name: LabelDevice, Value: dev},
			{Name: LabelInterface, Value: iface}, {Name: LabelDirection, Value: dir}}
		if typ != "" {
			l = append(l, remotewrite.Label{Name: LabelType, Value: RemoteTypes[typ]})
		}
		if info.Alias != "" {
			l = append(l, remotewrite.Label{Name: LabelDescription, Value: info.Alias})
		}
		out[d] = sent{append(l, x.extra...), scale}
	}
	return out
}

// RemoteTypes spell out, as the type label, the data source prefixes of the packets
// and errors series (ucast_in is type="unicast", direction="in").
var RemoteTypes = map[string]string{"ucast": "unicast", "mcast": "multicast", "bcast": "broadcast", "err": "errors", "disc": "discards"}

// stepStart is the start of the step holding t, steps counted from the Unix epoch as
// the store's rows are (time.Truncate counts from year 1, which differs for steps
// that do not divide a day).
func stepStart(t time.Time, step time.Duration) time.Time {
	s := int64(step / time.Second)
	u := t.Unix()
	return time.Unix(u-((u%s)+s)%s, 0).UTC()
}

// targetLabels is seriesLabels for a target of device dev or an aggregate: its values
// as its page shows them, with its unit (RemoteTarget).
func (x *Remote) targetLabels(dev, kind, name string, spec rrd.Spec) []sent {
	rt, ok := x.Targets.remoteTarget(kind, dev, name)
	if !ok {
		return nil
	}
	out := make([]sent, len(spec.DS))
	for d, ds := range spec.DS {
		l := []remotewrite.Label{{Name: "__name__", Value: rt.Metric}}
		for _, k := range rt.keys() {
			l = append(l, remotewrite.Label{Name: k[0], Value: k[1]})
		}
		l = append(l, remotewrite.Label{Name: LabelDirection, Value: ds.Name})
		if rt.Unit != "" {
			l = append(l, remotewrite.Label{Name: LabelUnit, Value: rt.Unit})
		}
		out[d] = sent{append(l, x.extra...), rt.Scale}
	}
	return out
}
