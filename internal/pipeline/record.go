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
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/rrd"
)

// SeriesName is the store's name for one interface's series. Device names cannot hold
// a slash (config rejects it), so the first slash splits it again.
func SeriesName(device, iface string) string { return device + "/" + iface }

// SplitSeries undoes SeriesName.
func SplitSeries(name string) (device, iface string, ok bool) {
	return strings.Cut(name, "/")
}

// InterfaceInfo is what the pages show about an interface beyond its rates. It is kept
// in the store beside the series so that a separate "mrtgo render" sees it.
type InterfaceInfo struct {
	Index int     `json:"index"`
	Descr string  `json:"descr,omitempty"`
	Alias string  `json:"alias,omitempty"`
	Speed float64 `json:"speed"` // bits/s, 0 unknown
	Bits  int     `json:"bits"`  // counter width polled
}

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

func ifaceKey(series string) string  { return "if:" + series }
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

// Archives turns a retention into the store's archives: AVERAGE and MAX at 1, 6, 24 and
// 288 steps (MRTG's 5 minutes, 30 minutes, 2 hours and 1 day), each keeping its time.
func Archives(step time.Duration, keep config.Retention) []rrd.Archive {
	var as []rrd.Archive
	for _, a := range []struct {
		steps int
		keep  time.Duration
	}{{1, keep.Daily}, {6, keep.Weekly}, {24, keep.Monthly}, {288, keep.Yearly}} {
		res := time.Duration(a.steps) * step
		rows := int((a.keep + res - 1) / res)
		as = append(as,
			rrd.Archive{CF: rrd.Average, Steps: a.steps, Rows: rows, XFF: 0.5},
			rrd.Archive{CF: rrd.Max, Steps: a.steps, Rows: rows, XFF: 0.5})
	}
	return as
}

// Spec is the store layout of an interface series: octet counters in and out, each
// capped at the interface speed so that a rate above it is stored as unknown, kept for
// the default retention.
func Spec(step time.Duration, speed float64, bits int) rrd.Spec {
	return SpecWith(step, speed, bits, Archives(step, config.DefaultRetention))
}

// SpecWith is Spec with the given archives.
func SpecWith(step time.Duration, speed float64, bits int, archives []rrd.Archive) rrd.Spec {
	max := math.NaN()
	if speed > 0 {
		max = speed / 8
	}
	ds := func(name string) rrd.DS {
		return rrd.DS{Name: name, Type: rrd.Counter, Min: 0, Max: max, Bits: bits}
	}
	return rrd.Spec{
		Step:      step,
		Heartbeat: 2 * step,
		DS:        []rrd.DS{ds("in"), ds("out")},
		Archives:  archives,
	}
}

// Recorder writes poll results to the store: one commit per cycle for the rates and the
// facts the pages show.
type Recorder struct {
	db    *rrd.DB
	step  time.Duration
	log   *slog.Logger
	hosts map[string]string
	info  map[string]InterfaceInfo // last written, to skip unchanged facts
	// stored holds the facts an earlier process wrote, read once on the first Record,
	// so that a cron run rewrites only the facts that changed.
	stored map[string][]byte
	now    func() time.Time
	arch   []rrd.Archive
	// refused lists the rates the last Record saw refused.
	refused []Refused
	// refusals are the counts of refused rates by series, as committed (read once on
	// the first Record); pending are the ones the cycle in commit changed.
	refusals, pending map[string]Refusals
}

// SetRetention sets the retention of the series this Recorder creates; series that
// exist with another retention are re-shaped from the data they hold on first sight.
func (r *Recorder) SetRetention(keep config.Retention) {
	r.arch = Archives(r.step, keep)
}

// NewRecorder returns a Recorder for a store whose series use step. hosts maps device
// names to their configured host, shown on the device pages.
func NewRecorder(db *rrd.DB, step time.Duration, hosts map[string]string, log *slog.Logger) *Recorder {
	return &Recorder{db: db, step: step, log: log, hosts: hosts, info: map[string]InterfaceInfo{}, now: time.Now,
		arch: Archives(step, config.DefaultRetention)}
}

// Record stores one cycle's results.
func (r *Recorder) Record(results []poller.Result) error { return r.RecordWith(results, nil) }

// RecordWith stores one cycle's results and the given facts (a Watcher's saved state,
// say) in the same commit.
func (r *Recorder) RecordWith(results []poller.Result, facts map[string][]byte) error {
	n := 0
	for _, res := range results {
		n += len(res.Samples)
	}
	// One allocation for all updates and one for their values: a back-fill hands over
	// hundreds of thousands of samples at once.
	ups := make([]rrd.Update, 0, n)
	vals := make([]rrd.Value, 2*n)
	meta := maps.Clone(facts)
	if meta == nil {
		meta = map[string][]byte{}
	}
	if r.stored == nil {
		if err := r.loadStored(); err != nil {
			return err
		}
	}
	if err := r.createNew(results); err != nil {
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
			if old, err := r.health(res.Device); err == nil {
				h.LastSuccess = old.LastSuccess
			}
		} else {
			h.LastSuccess = when
		}
		b, _ := json.Marshal(h)
		meta[deviceKey(res.Device)] = b
		if res.State != nil {
			meta[pollStateKey(res.Device)] = res.State
		}
		if res.Mapping != nil {
			meta[pollMappingKey(res.Device)] = res.Mapping
		}

		for _, s := range res.Samples {
			name := SeriesName(s.Device, s.Interface)
			if err := r.ensure(name, s, meta); err != nil {
				return err
			}
			v := vals[2*len(ups) : 2*len(ups)+2 : 2*len(ups)+2]
			v[0], v[1] = rrd.Uint(s.In), rrd.Uint(s.Out)
			ups = append(ups, rrd.Update{Series: name, Time: s.Time, Values: v, Discontinuity: s.Discontinuity})
		}
	}
	if err := r.db.UpdateWith(ups, meta, r.countRefused); err != nil {
		r.stored = nil // what was committed is read again on the next Record
		return fmt.Errorf("store %d samples and their facts: %w", len(ups), err)
	}
	maps.Copy(r.refusals, r.pending)
	return nil
}

// loadStored reads, in one transaction each, what earlier processes left that every
// cycle compares with: the interfaces' facts and the counts of refused rates.
func (r *Recorder) loadStored() error {
	kv, err := r.db.MetaPrefix(ifaceKey(""))
	if err != nil {
		return fmt.Errorf("read interface facts: %w", err)
	}
	r.stored = make(map[string][]byte, len(kv))
	for k, b := range kv {
		r.stored[strings.TrimPrefix(k, ifaceKey(""))] = b
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
func (r *Recorder) createNew(results []poller.Result) error {
	type layout struct {
		speed uint64
		bits  int
	}
	batch := map[layout][]string{}
	start := map[layout]time.Time{}
	queued := map[string]bool{}
	for _, res := range results {
		for _, s := range res.Samples {
			name := SeriesName(s.Device, s.Interface)
			if _, seen := r.info[name]; seen || queued[name] {
				continue
			}
			queued[name] = true
			if _, ok := r.stored[name]; ok {
				continue // facts are stored only for series that exist (ensure makes one that does not)
			}
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
		if err := r.db.CreateBatch(names, SpecWith(r.step, float64(l.speed), l.bits, r.arch), start[l]); err != nil {
			return fmt.Errorf("create %d series: %w", len(names), err)
		}
	}
	return nil
}

// ensure creates the series on first sight and keeps its maximum and facts current.
func (r *Recorder) ensure(name string, s poller.Sample, meta map[string][]byte) error {
	info := InterfaceInfo{Index: s.Index, Descr: s.Descr, Alias: s.Alias, Speed: float64(s.Speed), Bits: s.Bits}
	old, seen := r.info[name]
	if seen && old == info {
		return nil
	}
	if !seen {
		// createNew made it, or another process (an earlier cron run) did.
		spec, err := r.db.Spec(name)
		switch {
		case errors.Is(err, rrd.ErrNoSeries):
			if err := r.db.Create(name, SpecWith(r.step, info.Speed, s.Bits, r.arch), s.Time.Add(-r.step).Truncate(time.Second)); err != nil {
				return fmt.Errorf("create series %s: %w", name, err)
			}
			old.Speed, old.Bits = info.Speed, info.Bits
		case err != nil:
			return err
		default:
			if !slices.Equal(spec.Archives, r.arch) {
				want := spec
				want.Archives = r.arch
				if err := r.db.Reshape(name, want); err != nil {
					return fmt.Errorf("change retention of %s: %w", name, err)
				}
				r.log.Info("retention changed; series re-shaped", "series", name)
			}
			old.Bits = spec.DS[0].Bits
			old.Speed = math.NaN() // compare with what is stored below
			if m := spec.DS[0].Max; !math.IsNaN(m) {
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
	b, _ := json.Marshal(info)
	if !seen {
		same := bytes.Equal(r.stored[name], b)
		delete(r.stored, name) // compared once: later cycles compare with r.info
		if same {
			return nil // an earlier process wrote the same
		}
	}
	meta[ifaceKey(name)] = b
	return nil
}

func (r *Recorder) health(device string) (DeviceHealth, error) {
	var h DeviceHealth
	b, err := r.db.Meta(deviceKey(device))
	if err != nil || b == nil {
		return h, fmt.Errorf("no health for %s", device)
	}
	return h, json.Unmarshal(b, &h)
}

// Interface reads the stored facts of a series.
func Interface(db *rrd.DB, series string) (InterfaceInfo, error) {
	var info InterfaceInfo
	b, err := db.Meta(ifaceKey(series))
	if err != nil || b == nil {
		return info, err
	}
	return info, json.Unmarshal(b, &info)
}

// Health reads the stored outcome of a device's last poll.
func Health(db *rrd.DB, device string) (DeviceHealth, bool) {
	var h DeviceHealth
	b, err := db.Meta(deviceKey(device))
	if err != nil || b == nil || json.Unmarshal(b, &h) != nil {
		return h, false
	}
	return h, true
}
