package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"slices"
	"time"

	"github.com/mrtgo/mrtgo/internal/atomicfile"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/remotewrite"
	"github.com/mrtgo/mrtgo/rrd"
)

// BackfillOptions choose what Remote.Backfill sends.
type BackfillOptions struct {
	// From and To bound the rows sent by the end of their interval, (From, To]; zero
	// means from the oldest row the store holds, and up to where the live export of
	// the device begins.
	From, To time.Time
	// Device, when set, sends that device's series only; Interface, with it, only
	// that interface's (or target's) series.
	Device, Interface string
	// State is the file in which what back-fills sent is kept, by series, so that a
	// back-fill run again sends only what was not sent yet. Empty keeps nothing.
	State string
	// Again sends what earlier back-fills sent again (the engine stores a sample
	// sent twice once).
	Again bool
	// Progress, when not nil, is told the series done out of the total.
	Progress func(done, total int)
	// Queued, when not nil, is called after each batch is put in the queue: a caller
	// sends there what the queue holds when it has grown large, so that a long
	// history does not fill the queue past its cap (past which its oldest records
	// would be dropped). An error stops the back-fill; what was queued stays queued
	// and recorded.
	Queued func() error
}

// BackfillStats count what a Backfill queued.
type BackfillStats struct {
	Series  int                   // series with at least one sample queued
	Samples int                   // samples queued
	ByRow   map[time.Duration]int // samples by the row length of the archive they came from
	// Positions is how many devices had no live position yet and were given the end
	// of their history as one: the live export goes on from there.
	Positions int
}

// Backfill queues the history the store holds before the live export's position of
// each device: the rows of every series sent by Export, with the same names, labels
// and values, each stamped with the end of its row. For each time range the finest
// archive that holds it is sent: one-step rows from the oldest known one the one-step
// archive holds, then the 30-minute, 2-hour and 1-day averages further back, each
// archive from the oldest known row it holds, cut where the next finer archive's rows
// begin (on a boundary of its own rows, so that no time is sent twice or left out).
// Unknown rows are not sent. A series' samples are queued oldest first.
//
// The back-fill stops where the live export of the device began (kept in the queue's
// mark beside its position), so that the two never send the same step, however far the
// live export has gone since. A device the live export has not seen yet is given, with
// its history, the end of its last completed step as its position: the live export (a
// later poll or run) goes on from there. A device whose live export began before
// where it began was kept is taken from its position at the first back-fill: the
// steps the live export sent before are sent again, the same samples, which engines
// store once. What was
// sent is recorded by series in opts.State after each queued batch; a Backfill run
// again sends only rows outside what was recorded (Again sends them anyway). A
// process stopped between a queued batch and its record sends that batch again on the
// next run: the same samples, which engines store once.
func (x *Remote) Backfill(opts BackfillOptions) (BackfillStats, error) {
	st := BackfillStats{ByRow: map[time.Duration]int{}}
	names, err := x.db.Series()
	if err != nil {
		return st, err
	}
	if err := x.refreshLabels(names); err != nil {
		return st, err
	}
	byDevice := map[string][]string{}
	for _, n := range names {
		if len(x.labels[n]) == 0 {
			continue
		}
		d, _, _, _ := series.Parse(n)
		if opts.Device == "" || d == opts.Device {
			byDevice[d] = append(byDevice[d], n)
		}
	}
	if opts.Device != "" && len(byDevice) == 0 {
		return st, fmt.Errorf("back-fill: the store has no series of device %q to send", opts.Device)
	}
	sent, err := readSent(opts.State)
	if err != nil {
		return st, err
	}
	total := 0
	for _, ss := range byDevice {
		for _, n := range ss {
			if _, _, iface, _ := series.Parse(n); opts.Interface == "" || iface == opts.Interface {
				total++
			}
		}
	}
	if opts.Interface != "" && total == 0 {
		return st, fmt.Errorf("back-fill: device %q has no series %q to send", opts.Device, opts.Interface)
	}
	var (
		batch   []remotewrite.Series
		pending int
		moved   = maps.Clone(x.cursor)
		record  = map[string][2]int64{} // the spans queued in batch, by series
		done    int
	)
	put := func() error {
		if err := x.putMarked(batch, moved); err != nil {
			return err
		}
		for n, span := range record {
			sent[n] = addSpan(sent[n], span)
		}
		clear(record)
		batch, pending = batch[:0], 0
		if err := writeSent(opts.State, sent); err != nil {
			return err
		}
		if opts.Queued != nil {
			return opts.Queued()
		}
		return nil
	}
	for _, dev := range slices.Sorted(maps.Keys(byDevice)) {
		ss := byDevice[dev]
		hi, ok := x.cursor[liveStartKey(dev)]
		switch c, live := x.cursor[dev]; {
		case ok:
		case live:
			// The live export began before where it began was kept: its position
			// now stands for it, once and for all.
			hi = c
			moved[liveStartKey(dev)] = c
		default:
			until, err := x.lastCompleted(ss)
			if err != nil {
				return st, err
			}
			if until.IsZero() {
				continue
			}
			hi = until.Unix()
			moved[dev], moved[liveStartKey(dev)] = hi, hi // the live export goes on from here
			st.Positions++
		}
		if !opts.To.IsZero() && opts.To.Unix() < hi {
			hi = opts.To.Unix()
		}
		lo := int64(math.MinInt64)
		if !opts.From.IsZero() {
			lo = opts.From.Unix()
		}
		for _, n := range ss {
			if _, _, iface, _ := series.Parse(n); opts.Interface != "" && iface != opts.Interface {
				continue
			}
			pieces := [][2]int64{{lo, hi}}
			if !opts.Again {
				pieces = minusSpans(lo, hi, sent[n])
			}
			got, span, err := x.history(n, pieces)
			if err != nil {
				return st, fmt.Errorf("back-fill %s: %w", n, err)
			}
			if from := max(lo, span[0]); from < hi && span[0] < span[1] && len(minusSpans(from, hi, sent[n])) > 0 {
				// What was asked for is recorded as sent from the oldest row the
				// store held, so that history imported later further back is not
				// taken for sent.
				record[n] = [2]int64{from, hi}
			}
			if len(got) > 0 {
				st.Series++
			}
			for _, g := range got {
				batch = append(batch, g.Series)
				pending += len(g.Samples)
				st.Samples += len(g.Samples)
				st.ByRow[g.row] += len(g.Samples)
			}
			done++
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
			if pending >= x.PutSamples {
				if err := put(); err != nil {
					return st, err
				}
			}
		}
	}
	if pending > 0 || len(record) > 0 || !maps.Equal(moved, x.cursor) {
		if err := put(); err != nil {
			return st, err
		}
	}
	return st, nil
}

// lastCompleted is the end of the last step every one of a device's series completed
// (Export's end); zero when none has a step.
func (x *Remote) lastCompleted(names []string) (time.Time, error) {
	last, err := x.db.LastUpdates(names)
	if err != nil {
		return time.Time{}, fmt.Errorf("back-fill: %w", err)
	}
	var end time.Time
	for i, n := range names {
		spec, err := x.db.Spec(n)
		if err != nil {
			return time.Time{}, err
		}
		if last[i].IsZero() {
			continue
		}
		if done := stepStart(last[i], spec.Step); end.IsZero() || done.Before(end) {
			end = done
		}
	}
	return end, nil
}

// backSeries is one data source's samples of a series from one archive.
type backSeries struct {
	remotewrite.Series
	row time.Duration
}

// region is the rows of one archive a back-fill sends: those ending in (from, to].
type region struct {
	res      rrd.Result
	from, to int64
}

// history returns the samples of series n in pieces (each (lo, hi] in Unix seconds,
// oldest first), oldest first, and the span of time its archives hold known rows in.
func (x *Remote) history(n string, pieces [][2]int64) ([]backSeries, [2]int64, error) {
	var span [2]int64
	if len(pieces) == 0 {
		return nil, span, nil
	}
	spec, err := x.db.Spec(n)
	if err != nil {
		return nil, span, err
	}
	lasts, err := x.db.LastUpdates([]string{n})
	if err != nil || lasts[0].IsZero() {
		return nil, span, err
	}
	regions, err := x.regions(n, spec, lasts[0])
	if err != nil || len(regions) == 0 {
		return nil, span, err
	}
	span = [2]int64{regions[len(regions)-1].from, regions[0].to}
	var out []backSeries
	// Oldest first: pieces in order, and in each the coarsest archive first. Each data
	// source is sent as Export sends it; the speed with each row holding a known rate.
	sources := slices.Clone(x.labels[n])
	speedAt := -1
	if sp, ok := x.speed[n]; ok {
		speedAt = len(sources)
		sources = append(sources, sp)
	}
	for d, ds := range sources {
		for _, p := range pieces {
			for i := len(regions) - 1; i >= 0; i-- {
				g := regions[i]
				from, to := max(g.from, p[0]), min(g.to, p[1])
				var samples []remotewrite.Sample
				for k, row := range g.res.Rows {
					t := g.res.Time(k)
					if u := t.Unix(); u <= from || u > to {
						continue
					}
					switch {
					case d == speedAt:
						if slices.ContainsFunc(row, func(v float64) bool { return !math.IsNaN(v) }) {
							samples = append(samples, remotewrite.Sample{Time: t, Value: ds.scale})
						}
					case d < len(row) && !math.IsNaN(row[d]):
						samples = append(samples, remotewrite.Sample{Time: t, Value: row[d] * ds.scale})
					}
				}
				if len(samples) > 0 {
					out = append(out, backSeries{remotewrite.Series{Labels: ds.labels, Samples: samples}, g.res.Step})
				}
			}
		}
	}
	return out, span, nil
}

// regions returns, finest first, the rows of each average archive of series n that a
// back-fill sends: from the oldest known row the archive holds, rounded up to a row
// boundary of the next coarser archive, to where the finer archive's begin.
func (x *Remote) regions(n string, spec rrd.Spec, last time.Time) ([]region, error) {
	var archives []rrd.Archive
	for _, a := range spec.Archives {
		if a.CF == rrd.Average && !slices.ContainsFunc(archives, func(b rrd.Archive) bool { return b.Steps == a.Steps }) {
			archives = append(archives, a)
		}
	}
	slices.SortFunc(archives, func(a, b rrd.Archive) int { return a.Steps - b.Steps })
	stepS := int64(spec.Step / time.Second)
	upper := int64(math.MaxInt64)
	var out []region
	for i, a := range archives {
		rowS := int64(a.Steps) * stepS
		lastS := last.Unix()
		calEnd := lastS - ((lastS%rowS)+rowS)%rowS
		calStart := calEnd - rowS*int64(a.Rows)
		res, err := x.db.Fetch(n, rrd.Average, time.Unix(calStart, 0), time.Unix(calEnd, 0), time.Duration(rowS)*time.Second)
		if err != nil {
			return nil, err
		}
		if res.Step != time.Duration(rowS)*time.Second {
			continue // the store chose another archive: this one cannot be read alone
		}
		first := slices.IndexFunc(res.Rows, func(row []float64) bool {
			return slices.ContainsFunc(row, func(v float64) bool { return !math.IsNaN(v) })
		})
		if first < 0 {
			continue
		}
		from := res.Time(first).Unix() - rowS
		if i+1 < len(archives) { // on a boundary of the next coarser rows
			next := int64(archives[i+1].Steps) * stepS
			from += (next - ((from%next)+next)%next) % next
		}
		to := min(upper, calEnd)
		if from >= to {
			continue
		}
		out = append(out, region{res: res, from: from, to: to})
		upper = from
	}
	return out, nil
}

// minusSpans returns (lo, hi] less the spans in have (sorted, apart), oldest first.
func minusSpans(lo, hi int64, have [][2]int64) [][2]int64 {
	var out [][2]int64
	for _, h := range have {
		if h[1] <= lo || h[0] >= hi {
			continue
		}
		if h[0] > lo {
			out = append(out, [2]int64{lo, h[0]})
		}
		lo = max(lo, h[1])
	}
	if lo < hi {
		out = append(out, [2]int64{lo, hi})
	}
	return out
}

// addSpan merges s into spans (sorted, apart) and returns them so.
func addSpan(spans [][2]int64, s [2]int64) [][2]int64 {
	spans = append(slices.Clone(spans), s)
	slices.SortFunc(spans, func(a, b [2]int64) int {
		switch {
		case a[0] < b[0]:
			return -1
		case a[0] > b[0]:
			return 1
		}
		return 0
	})
	out := spans[:1]
	for _, s := range spans[1:] {
		if l := &out[len(out)-1]; s[0] <= l[1] {
			l[1] = max(l[1], s[1])
		} else {
			out = append(out, s)
		}
	}
	return out
}

// readSent reads a back-fill's record: by series, the spans of row ends sent, in Unix
// seconds (lo, hi]. A missing file is an empty record.
func readSent(path string) (map[string][][2]int64, error) {
	sent := map[string][][2]int64{}
	if path == "" {
		return sent, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return sent, nil
	}
	if err != nil {
		return nil, fmt.Errorf("back-fill record: %w", err)
	}
	if err := json.Unmarshal(b, &sent); err != nil {
		return nil, fmt.Errorf("back-fill record %s: %w (remove it to send everything again)", path, err)
	}
	return sent, nil
}

// writeSent replaces the record at path whole (written aside, synced, renamed).
func writeSent(path string, sent map[string][][2]int64) error {
	if path == "" {
		return nil
	}
	b, err := json.Marshal(sent)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return fmt.Errorf("back-fill record: %w", err)
	}
	return nil
}
