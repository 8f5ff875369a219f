package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
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
)

// DeviceHealth is the outcome of a device's last poll.
type DeviceHealth struct {
	Host        string        `json:"host,omitempty"`
	LastPoll    time.Time     `json:"last_poll"`
	LastSuccess time.Time     `json:"last_success,omitzero"`
	Duration    time.Duration `json:"duration"`
	Requests    int           `json:"requests"`
	Retries     int           `json:"retries,omitempty"`
	Timeouts    int           `json:"timeouts,omitempty"`
	Uptime      time.Duration `json:"uptime,omitempty"` // agent's sysUpTime at LastPoll
	Error       string        `json:"error,omitempty"`
	Missing     []string      `json:"missing,omitempty"`
}

func deviceKey(device string) string { return "dev:" + device }

// The poller's memory of a device (see poller.Result.State), kept in the commit of the
// cycle it describes so that the next process, cron's or the daemon's after a restart or
// reload, takes up exactly where this one left off.
func pollStateKey(device string) string   { return "poll:" + device }
func pollMappingKey(device string) string { return "pollmap:" + device }

// RestorePoller hands p the memory of every device as the last committed cycle left it.
// A device without memory (new, or a store written before memory was kept) starts
// afresh: it walks its interfaces, and each interface's first sample is a
// discontinuity. An unreadable memory is logged and costs the same.
func RestorePoller(db *rrd.DB, p *poller.Poller, log *slog.Logger) error {
	states, err := db.MetaPrefix(pollStateKey(""))
	if err != nil {
		return fmt.Errorf("read poller memory: %w", err)
	}
	mappings, err := db.MetaPrefix(pollMappingKey(""))
	if err != nil {
		return fmt.Errorf("read poller memory: %w", err)
	}
	err = p.Restore(func(device string) (state, mapping []byte) {
		return states[pollStateKey(device)], mappings[pollMappingKey(device)]
	})
	if err != nil {
		log.Warn("poller memory unreadable; those devices start afresh", "err", err)
	}
	return nil
}

// Recorder writes poll results to the store: one commit per cycle for the rates and the
// facts the pages show.
type Recorder struct {
	db    *rrd.DB
	step  time.Duration
	log   *slog.Logger
	hosts map[string]string
	info  map[string]series.Info // last written, to skip unchanged facts
	// groups holds the counter group series checked or made (counters.go).
	groups map[string]groupLayout
	// stored holds the facts an earlier process wrote, read once on the first Record,
	// so that a cron run rewrites only the facts that changed.
	stored map[string][]byte
	now    func() time.Time
	arch   []rrd.Archive
	hw     *rrd.HWParams // Holt-Winters of the series this Recorder creates; nil none
	// refused lists the rates the last Record saw refused.
	refused []Refused
	// refusals are the counts of refused rates by series, as committed (read once on
	// the first Record); pending are the ones the cycle in commit changed.
	refusals, pending map[string]Refusals
	// begun and ended are the anomalies of the last commit (anomalies.go).
	begun, ended []events.Event
	// targets and aggs are the targets and aggregates configured (targets.go), and
	// targetSeen what was made sure of their series.
	targets    map[string]config.Target
	aggs       []aggregate
	targetSeen map[string]targetState
	// preload delivers the outcome of a read of stored begun by Preload; nil when none.
	preload chan error
	// scratch holds the facts ensure encodes, reused: most are the same as stored.
	scratch []byte
}

// SetRetention sets the retention of the series this Recorder creates; series that
// exist with another retention are re-shaped from the data they hold on first sight.
func (r *Recorder) SetRetention(keep config.Retention) {
	r.arch = series.Archives(r.step, keep)
}

// SetHoltWinters sets the Holt-Winters aberrant behaviour detection of the series this
// Recorder creates (rrd.Spec.HoltWinters); nil creates them without. Series that exist
// keep what they have until they are re-shaped for a change of retention, which gives
// them this: adding detectors to a series is a re-shape, which rewrites every row of its
// archives, too much to do to every interface at once for this alone.
func (r *Recorder) SetHoltWinters(p *rrd.HWParams) { r.hw = p }

// NewRecorder returns a Recorder for a store whose series use step. hosts maps device
// names to their configured host, shown on the device pages. New series get
// Holt-Winters aberrant behaviour detection with a daily season
// (rrd.DefaultHoltWinters; see SetHoltWinters).
func NewRecorder(db *rrd.DB, step time.Duration, hosts map[string]string, log *slog.Logger) *Recorder {
	return &Recorder{db: db, step: step, log: log, hosts: hosts, info: map[string]series.Info{}, groups: map[string]groupLayout{}, now: time.Now,
		arch: series.Archives(step, config.DefaultRetention), hw: rrd.DefaultHoltWinters(step)}
}

// spec is the spec of a new series of an interface of speed (bits/s) and counter width.
func (r *Recorder) spec(speed float64, bits int) rrd.Spec {
	s := series.SpecWith(r.step, speed, bits, r.arch)
	s.HoltWinters = r.hw
	return s
}

// Record stores one cycle's results.
func (r *Recorder) Record(results []poller.Result) error { return r.RecordWith(results, nil) }

// RecordWith stores one cycle's results and the given facts (a Watcher's saved state,
// say) in the same commit.
func (r *Recorder) RecordWith(results []poller.Result, facts map[string][]byte) error {
	r.begun, r.ended = nil, nil
	n := 0
	for _, res := range results {
		n += len(res.Samples)
	}
	// One allocation for all updates and one for their values: a back-fill hands over
	// hundreds of thousands of samples at once.
	ups := make([]rrd.Update, 0, n) // more when counter groups are polled
	vals := make([]rrd.Value, 2*n)
	meta := maps.Clone(facts)
	if meta == nil {
		meta = map[string][]byte{}
	}
	if r.preload != nil {
		err := <-r.preload
		r.preload = nil
		if err != nil {
			r.stored = nil
			return err
		}
	}
	if r.stored == nil {
		if err := r.loadStored(); err != nil {
			return err
		}
	}
	if len(r.info) == 0 {
		// The first cycle of a process (every cron run's only one) meets every
		// interface: room for all at once rather than a map grown by rehashing.
		r.info = make(map[string]series.Info, n)
	}
	if err := r.createNew(results, n); err != nil {
		return err
	}
	if err := r.createGroups(results); err != nil {
		return err
	}
	for _, res := range results {
		when := r.now()
		if len(res.Samples) > 0 {
			when = res.Samples[0].Time
		}
		h := DeviceHealth{
			Host:     r.hosts[res.Device],
			LastPoll: when,
			Duration: res.Duration,
			Requests: res.Requests,
			Retries:  res.Retries,
			Timeouts: res.Timeouts,
			Uptime:   res.Uptime,
			Missing:  res.Missing,
		}
		if res.Err != nil {
			h.Error = res.Err.Error()
			old, _, err := Health(r.db, res.Device)
			switch {
			case errors.Is(err, errBadHealth):
				// This cycle's record replaces it; only the last success is lost.
				r.log.Warn("stored poll health unreadable; last success forgotten", "device", res.Device, "err", err)
			case err != nil:
				return err
			}
			h.LastSuccess = old.LastSuccess
		} else {
			h.LastSuccess = when
		}
		b, _ := json.Marshal(h)
		meta[deviceKey(res.Device)] = b
		if res.Err == nil && len(res.Missing) > 0 {
			if err := r.markGone(res.Device, res.Missing, when, meta); err != nil {
				return err
			}
		}
		if res.State != nil {
			meta[pollStateKey(res.Device)] = res.State
		}
		if res.Mapping != nil {
			meta[pollMappingKey(res.Device)] = res.Mapping
		}

		for _, s := range res.Samples {
			name := series.Name(s.Device, s.Interface)
			if err := r.ensure(name, s, meta); err != nil {
				return err
			}
			v := vals[:2:2]
			vals = vals[2:]
			v[0], v[1] = rrd.Uint(s.In), rrd.Uint(s.Out)
			ups = append(ups, rrd.Update{Series: name, Time: s.Time, Values: v, Discontinuity: s.Discontinuity})
			if s.Packets != nil || s.Errors != nil {
				var err error
				if ups, err = r.groupUpdates(s, ups); err != nil {
					return err
				}
			}
		}
	}
	more, err := r.targetUpdates(results, meta)
	if err != nil {
		return err
	}
	ups = append(ups, more...)
	if more, err = r.aggregateUpdates(); err != nil {
		return err
	}
	ups = append(ups, more...)
	err = r.db.UpdateWith(ups, meta, r.countRefused)
	// Also when err lists skipped samples: the others were committed (the store
	// reports no change when nothing was).
	r.findAnomalies(ups)
	if err != nil {
		r.stored = nil // what was committed is read again on the next Record
		return fmt.Errorf("store %d samples and their facts: %w", len(ups), err)
	}
	maps.Copy(r.refusals, r.pending)
	return nil
}

// Preload begins, on a goroutine of its own, the read of what the first Record
// compares with (the facts and refusal counts earlier processes stored), so that a
// cron run does it while it waits for its agents rather than after. Nothing but
// Record may use the Recorder until Record has been called.
func (r *Recorder) Preload() {
	// preload first: while a read is on, stored is its goroutine's.
	if r.preload != nil || r.stored != nil {
		return
	}
	done := make(chan error, 1)
	r.preload = done
	go func() { done <- r.loadStored() }()
}

// loadStored reads, in one transaction each, what earlier processes left that every
// cycle compares with: the interfaces' facts and the counts of refused rates.
func (r *Recorder) loadStored() error {
	kv, err := r.db.MetaPrefix(series.InfoKey(""))
	if err != nil {
		return fmt.Errorf("read interface facts: %w", err)
	}
	r.stored = make(map[string][]byte, len(kv))
	for k, b := range kv {
		r.stored[strings.TrimPrefix(k, series.InfoKey(""))] = b
	}
	kv, err = r.db.MetaPrefix(refusedKey(""))
	if err != nil {
		return fmt.Errorf("read refused rates: %w", err)
	}
	r.refusals = make(map[string]Refusals, len(kv))
	for k, b := range kv {
		var rf Refusals
		if json.Unmarshal(b, &rf) == nil {
			r.refusals[strings.TrimPrefix(k, refusedKey(""))] = rf
		}
	}
	return nil
}

// createNew creates the series seen for the first time, a transaction per distinct
// layout rather than one per series: the first poll of a large network meets
// thousands of them at once.
func (r *Recorder) createNew(results []poller.Result, samples int) error {
	type layout struct {
		speed uint64
		bits  int
	}
	batch := map[layout][]string{}
	start := map[layout]time.Time{}
	// A series with stored facts exists (ensure makes one that does not): only the
	// others are queued, none on a cron run's usual cycle.
	queued := make(map[string]bool, max(samples-len(r.info)-len(r.stored), 0))
	var buf []byte // the name looked up, made a string only for a series queued
	for _, res := range results {
		for _, s := range res.Samples {
			buf = series.AppendName(buf[:0], s.Device, s.Interface)
			if _, seen := r.info[string(buf)]; seen || queued[string(buf)] {
				continue
			}
			if _, ok := r.stored[string(buf)]; ok {
				continue
			}
			name := string(buf)
			queued[name] = true
			if _, err := r.db.Spec(name); !errors.Is(err, rrd.ErrNoSeries) {
				continue // exists (an earlier run made it), or ensure reports the error
			}
			l := layout{s.Speed, s.Bits}
			batch[l] = append(batch[l], name)
			// Before the first sample, on a whole second as rrdtool's create.
			t := s.Time.Add(-r.step).Truncate(time.Second)
			if old, ok := start[l]; !ok || t.Before(old) {
				start[l] = t
			}
		}
	}
	for l, names := range batch {
		if err := r.db.CreateBatch(names, r.spec(float64(l.speed), l.bits), start[l]); err != nil {
			return fmt.Errorf("create %d series: %w", len(names), err)
		}
	}
	return nil
}

// ensure creates the series on first sight and keeps its maximum and facts current.
func (r *Recorder) ensure(name string, s poller.Sample, meta map[string][]byte) error {
	info := series.Info{Index: s.Index, Descr: s.Descr, Alias: s.Alias, Speed: float64(s.Speed), Bits: s.Bits,
		Admin: s.Admin, Oper: s.Oper}
	old, seen := r.info[name]
	if seen && old == info {
		return nil
	}
	if !seen {
		// createNew made it, or another process (an earlier cron run) did. Its spec
		// is looked at in place (a cron run does this for every series): copied only
		// when it is to be re-shaped.
		var ds rrd.DS
		reshape := false
		err := r.db.ViewSpec(name, func(s rrd.Spec) {
			reshape, ds = !slices.Equal(s.Archives, r.arch), s.DS[0]
		})
		switch {
		case errors.Is(err, rrd.ErrNoSeries):
			if err := r.db.Create(name, r.spec(info.Speed, s.Bits), s.Time.Add(-r.step).Truncate(time.Second)); err != nil {
				return fmt.Errorf("create series %s: %w", name, err)
			}
			old.Speed, old.Bits = info.Speed, info.Bits
		case err != nil:
			return err
		default:
			if reshape {
				want, err := r.db.Spec(name)
				if err != nil {
					return err
				}
				want.Archives = r.arch
				want.HoltWinters, want.HWRows = r.hw, 0
				if err := r.db.Reshape(name, want); err != nil {
					return fmt.Errorf("change retention of %s: %w", name, err)
				}
				r.log.Info("retention changed; series re-shaped", "series", name)
			}
			old.Bits = ds.Bits
			old.Speed = math.NaN() // compare with what is stored below
			if m := ds.Max; !math.IsNaN(m) {
				old.Speed = m * 8
			} else if info.Speed == 0 {
				old.Speed = 0
			}
		}
	}
	if old.Speed != info.Speed {
		max := math.NaN()
		if info.Speed > 0 {
			max = info.Speed / 8
		}
		for ds := range 2 {
			if err := r.db.SetMax(name, ds, max); err != nil {
				return fmt.Errorf("set speed of %s: %w", name, err)
			}
		}
		if seen {
			r.log.Info("interface speed changed", "series", name, "from", old.Speed, "to", info.Speed)
		}
	}
	if old.Bits != info.Bits && info.Bits != 0 {
		// The agent lost (or regained) its 64-bit counters: the poller marks the
		// sample a discontinuity, and later 32-bit wraps must read as wraps.
		for ds := range 2 {
			if err := r.db.SetBits(name, ds, info.Bits); err != nil {
				return fmt.Errorf("set counter width of %s: %w", name, err)
			}
		}
		r.log.Info("interface counter width changed", "series", name, "from", old.Bits, "to", info.Bits)
	}
	r.info[name] = info
	r.scratch = appendInfo(r.scratch[:0], info)
	if !seen {
		same := bytes.Equal(r.stored[name], r.scratch)
		delete(r.stored, name) // compared once: later cycles compare with r.info
		if same {
			return nil // an earlier process wrote the same
		}
	}
	meta[series.InfoKey(name)] = bytes.Clone(r.scratch)
	return nil
}

// Health reads the stored outcome of a device's last poll. ok is false when none is
// stored (a device never polled); an unreadable record or a store error is an error
// naming the device.
func Health(db Store, device string) (h DeviceHealth, ok bool, err error) {
	b, err := db.Meta(deviceKey(device))
	if err != nil {
		return h, false, fmt.Errorf("read health of %s: %w", device, err)
	}
	if b == nil {
		return h, false, nil
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return DeviceHealth{}, false, fmt.Errorf("decode health of %s: %w", device, errors.Join(errBadHealth, err))
	}
	return h, true, nil
}

// errBadHealth marks a stored health record that does not decode: the next poll
// replaces it, so the Recorder logs it and goes on.
var errBadHealth = errors.New("unreadable health record")
