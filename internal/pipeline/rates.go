package pipeline

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// Rates is one interface's traffic over one period, as the pages show it and as
// "mrtgo fetch" prints it: bits per second, NaN for unknown.
type Rates struct {
	Period        render.Period
	Span          time.Duration // time the period covers
	Start         time.Time     // end of the first row's interval
	Step          time.Duration
	In, Out       []float64
	MaxIn, MaxOut []float64 // peaks, from the MAX archives (nil on the day period)

	// End is the time the rows were fetched up to (the graph's right edge) and
	// Last the series' last update.
	End, Last time.Time
	// P95In and P95Out are the period's 95th percentiles in bits/s, over rows of
	// P95Step covering P95Span ending at End: see FetchRates.
	P95In, P95Out    float64
	P95Step, P95Span time.Duration
	// BandLo and BandHi are the in rate's Holt-Winters confidence band in bits/s
	// (prediction − DeltaNeg × deviation to prediction + DeltaPos × deviation), and
	// Failures its FAILURES rows, on In's rows; OutBandLo, OutBandHi and
	// OutFailures the out rate's. On the day period of a series with Holt-Winters
	// only, else nil.
	BandLo, BandHi       []float64
	Failures             []bool
	OutBandLo, OutBandHi []float64
	OutFailures          []bool
	// heartbeat is the longest a series may go without an update and still be current.
	heartbeat time.Duration
}

// Time returns the end of row i's interval.
func (r Rates) Time(i int) time.Time { return r.Start.Add(time.Duration(i) * r.Step) }

// FetchRates reads a period of a series ending at end. The period's span and resolution
// follow the series' step (MRTG's 5 minutes gives 33 hours of 5-minute rows on the day graph).
//
// The 95th percentile is taken over the finest rows the store holds for the period, since
// a percentile of averages is lower than the percentile of the rates averaged: on the day
// graph its own base-step rows; on the week and month graphs the base-step ring
// (rrd.DefaultArchives keeps 31 days), over the whole week and over the month's last 31
// days (the month graph shows 33 days); on the year graph, which no base-step archive
// covers, the daily averages it draws.
func FetchRates(db Store, series string, p render.Period, end time.Time) (Rates, error) {
	return fetchRates(db, series, p, end, nil)
}

// fetchRates is FetchRates taking the percentile's base-step rows from ring when
// it holds them.
func fetchRates(db Store, series string, p render.Period, end time.Time, ring *ringRows) (Rates, error) {
	return fetchRatesKeyed(db, series, p, end, ring, false)
}

// graphRates is fetchRates for a graph Publish draws or summarizes, keyed by st: it
// ends at graphEnd(st), and the percentile's base-step rows are those the store
// holds for any last update in the row of the period that holds the series' last
// update (keyedLast), so that the numbers, like the pixels, follow from the
// graph's key alone.
func graphRates(db Store, series string, p render.Period, st drawnGraph, ring *ringRows) (Rates, error) {
	return fetchRatesKeyed(db, series, p, graphEnd(st), ring, true)
}

// keyedLast is the latest last update that leaves a series last updated at last in
// the same row of res: the base-step archive of a series updated up to then has
// dropped the most old rows (a row falls off it with every new step).
func keyedLast(last time.Time, res, step time.Duration) time.Time {
	return last.Truncate(res).Add(res - step)
}

// fetchRatesKeyed is fetchRates, or graphRates when keyed.
func fetchRatesKeyed(db Store, series string, p render.Period, end time.Time, ring *ringRows, keyed bool) (Rates, error) {
	spec, last, err := db.Info(series)
	if err != nil {
		return Rates{}, err
	}
	span := p.SpanFor(spec.Step)
	start := end.Add(-span)
	avg, err := db.Fetch(series, rrd.Average, start, end, p.ResolutionFor(spec.Step))
	if err != nil {
		return Rates{}, fmt.Errorf("fetch %s %s: %w", series, p, err)
	}
	r := Rates{Period: p, Span: span, Start: avg.Time(0), Step: avg.Step, End: end, Last: last, heartbeat: spec.Heartbeat}
	r.In, r.Out = bitsColumns(avg)
	if p == render.Day && spec.HoltWinters != nil && avg.Step == spec.Step {
		if err := r.fetchBand(db, series, spec, start, end, avg); err != nil {
			return Rates{}, err
		}
	}
	if p != render.Day {
		mx, err := db.Fetch(series, rrd.Max, start, end, p.ResolutionFor(spec.Step))
		if err != nil {
			return Rates{}, fmt.Errorf("fetch %s %s peaks: %w", series, p, err)
		}
		r.MaxIn, r.MaxOut = bitsColumns(mx)
	}

	// The percentile's rows: the period's own unless finer ones cover (most of) it.
	r.P95Step, r.P95Span = r.Step, span
	in, out := r.In, r.Out
	held := last
	if keyed {
		held = keyedLast(last, p.ResolutionFor(spec.Step), spec.Step)
	}
	if fine := fineSpan(spec, span, end, held); r.Step > spec.Step && fine > 0 && p != render.Year {
		fin, fout, ok, err := ring.rows(db, series, end, fine, spec.Step)
		if err != nil {
			return Rates{}, fmt.Errorf("fetch %s %s percentile rows: %w", series, p, err)
		}
		if ok {
			in, out = fin, fout
			r.P95Step, r.P95Span = spec.Step, fine
		}
	}
	r.P95In = rrd.Summarize(in, r.P95Step).P95
	r.P95Out = rrd.Summarize(out, r.P95Step).P95
	return r, nil
}

// fetchBand fills both rates' Holt-Winters bands and failures, on the rows of avg.
func (r *Rates) fetchBand(db Store, series string, spec rrd.Spec, start, end time.Time, avg rrd.Result) error {
	hw, err := db.FetchHoltWinters(series, start, end)
	if err != nil {
		return fmt.Errorf("fetch %s holt-winters: %w", series, err)
	}
	if len(hw.Prediction) < 2 {
		return fmt.Errorf("fetch %s holt-winters: %d data sources, want in and out", series, len(hw.Prediction))
	}
	if !hw.Start.Equal(avg.Start) || len(hw.Prediction[0]) != len(avg.Rows) {
		return fmt.Errorf("fetch %s holt-winters: rows from %s × %d, rates from %s × %d", series,
			hw.Start, len(hw.Prediction[0]), avg.Start, len(avg.Rows))
	}
	p := spec.HoltWinters
	band := func(ds int) (lo, hi []float64) {
		pred, dev := hw.Prediction[ds], hw.Deviation[ds]
		lo, hi = make([]float64, len(pred)), make([]float64, len(pred))
		for i := range pred {
			lo[i] = (pred[i] - p.DeltaNeg*dev[i]) * 8
			hi[i] = (pred[i] + p.DeltaPos*dev[i]) * 8
		}
		return lo, hi
	}
	r.BandLo, r.BandHi = band(0)
	r.OutBandLo, r.OutBandHi = band(1)
	r.Failures, r.OutFailures = hw.Failures[0], hw.Failures[1]
	return nil
}

// eitherFailed is the rows where in or out failed; nil when neither has rows.
func eitherFailed(in, out []bool) []bool {
	if len(in) == 0 && len(out) == 0 {
		return nil
	}
	f := make([]bool, max(len(in), len(out)))
	for i := range f {
		f[i] = i < len(in) && in[i] || i < len(out) && out[i]
	}
	return f
}

// fineSpan is how much of the span ending at end the base-step average archive of
// a series last updated at last covers, at most the archive's length less a row: a
// fetch must start inside the archive, or the store answers from a coarser one that
// covers more. 0 if there is no such archive.
func fineSpan(spec rrd.Spec, span time.Duration, end, last time.Time) time.Duration {
	for _, a := range spec.Archives {
		if a.Steps == 1 && a.CF == rrd.Average {
			length := time.Duration(a.Rows-1) * spec.Step
			oldest := last.Truncate(spec.Step).Add(-length)
			return max(min(span, length, end.Sub(oldest).Truncate(spec.Step)), 0)
		}
	}
	return 0
}

// ringRows are one series' base-step rows over (end-span, end], fetched once for
// the percentiles of all the periods drawn together (the week's are the last third
// of the month's, each ending at its own clock row: see graphEnd). A nil *ringRows
// fetches every time.
type ringRows struct {
	span    time.Duration // the longest span that will be asked for, back from end
	end     time.Time     // the latest end that will be asked for; zero: the first asked
	fetched bool
	start   time.Time     // of the rows, as rrd.Result's
	step    time.Duration // of the rows
	in, out []float64
}

// covers reports whether the rows over (end-span, end] are among rr's.
func (rr *ringRows) covers(end time.Time, span time.Duration) bool {
	return !end.After(rr.end) && !end.Add(-span).Before(rr.end.Add(-rr.span))
}

// set keeps the bits/s columns of res (and not res: a month of base-step rows is
// about 0.4 MB a series as rows, 0.15 MB as two columns).
func (rr *ringRows) set(res rrd.Result) {
	rr.fetched = true
	rr.start, rr.step = res.Start, res.Step
	rr.in, rr.out = bitsColumns(res)
}

// rows returns the base-step rows in bits/s over (end-span, end]; ok is false when
// the store answered from a coarser archive.
func (rr *ringRows) rows(db Store, series string, end time.Time, span, step time.Duration) (in, out []float64, ok bool, err error) {
	if rr != nil && rr.end.IsZero() {
		rr.end = end
	}
	if rr == nil || !rr.covers(end, span) {
		res, err := db.Fetch(series, rrd.Average, end.Add(-span), end, step)
		if err != nil {
			return nil, nil, false, err
		}
		in, out = bitsColumns(res)
		return in, out, res.Step == step, nil
	}
	if !rr.fetched {
		res, err := db.Fetch(series, rrd.Average, rr.end.Add(-rr.span), rr.end, step)
		if err != nil {
			return nil, nil, false, err
		}
		rr.set(res)
	}
	// The rows a fetch of (end-span, end] would return: those ending after its
	// start, up to the one holding end.
	at := rrd.Result{Start: rr.start, Step: rr.step}
	i := 0
	for i < len(rr.in) && !at.Time(i).After(end.Add(-span)) {
		i++
	}
	j := len(rr.in)
	for j > i && !at.Time(j-1).Add(-rr.step).Before(end) {
		j--
	}
	return rr.in[i:j], rr.out[i:j], rr.step == step, nil
}

// ringBatch is how many series fetchRings reads with one rrd.FetchMany: enough to
// read each row key once for many series, few enough that a month of rows of each
// (about 140 KB a series) stays small.
const ringBatch = 64

// fetchRings returns the ringRows of many series up to end, fetched together:
// rrd.FetchMany reads each base-step row once for neighbouring series, where a
// fetch per series reads a month of rows for each. spans[i] is the longest span
// that will be asked of series[i] (see fineSpan); series with the same span share
// fetches, and a span of 0 gives a nil *ringRows (fetchRates then fetches itself).
func fetchRings(db Store, series []string, spans []time.Duration, end time.Time, step time.Duration) ([]*ringRows, error) {
	out := make([]*ringRows, len(series))
	bySpan := map[time.Duration][]int{}
	var order []time.Duration
	for i, sp := range spans {
		if sp <= 0 {
			continue
		}
		if bySpan[sp] == nil {
			order = append(order, sp)
		}
		bySpan[sp] = append(bySpan[sp], i)
	}
	// The local store fills the same results batch after batch: each is
	// consumed (copied into columns) before the next.
	fetch := func(res []rrd.Result, names []string, start time.Time) ([]rrd.Result, error) {
		return db.FetchMany(names, rrd.Average, start, end, step)
	}
	if into, ok := db.(interface {
		FetchManyInto(dst []rrd.Result, names []string, cf rrd.CF, start, end time.Time, resolution time.Duration) ([]rrd.Result, error)
	}); ok {
		fetch = func(res []rrd.Result, names []string, start time.Time) ([]rrd.Result, error) {
			return into.FetchManyInto(res, names, rrd.Average, start, end, step)
		}
	}
	var res []rrd.Result
	names := make([]string, 0, ringBatch)
	for _, sp := range order {
		idx := bySpan[sp]
		for lo := 0; lo < len(idx); lo += ringBatch {
			batch := idx[lo:min(lo+ringBatch, len(idx))]
			names = names[:0]
			for _, i := range batch {
				names = append(names, series[i])
			}
			var err error
			if res, err = fetch(res, names, end.Add(-sp)); err != nil {
				return nil, fmt.Errorf("fetch base-step rows: %w", err)
			}
			for j, i := range batch {
				rr := &ringRows{span: sp, end: end}
				rr.set(res[j])
				out[i] = rr
			}
		}
	}
	return out, nil
}

// bitsColumns turns octets/s rows into two bits/s columns.
func bitsColumns(res rrd.Result) (in, out []float64) {
	in = make([]float64, len(res.Rows))
	out = make([]float64, len(res.Rows))
	for i, row := range res.Rows {
		in[i], out[i] = row[0]*8, row[1]*8
	}
	return in, out
}

// Summary returns the stats the pages show for a period: rates in bits/s, Total in
// bytes. Max is the highest row of the peaks where the period has them (the
// highest base-step rate), else of the averages. Current is the last complete row,
// unknown when that row is unknown or the series has had no update for longer than
// its heartbeat: a device that stopped answering has no current rate.
func Summary(r Rates) (in, out web.Stats) {
	cur := -1
	if r.Step > 0 && (r.heartbeat <= 0 || r.End.Sub(r.Last) <= r.heartbeat) {
		cur = int(r.Last.Truncate(r.Step).Sub(r.Start) / r.Step)
	}
	return stats(r.In, r.MaxIn, r.P95In, r.Step, cur), stats(r.Out, r.MaxOut, r.P95Out, r.Step, cur)
}

func stats(bits, peaks []float64, p95 float64, step time.Duration, cur int) web.Stats {
	s := rrd.Summarize(bits, step)
	st := web.Stats{Max: s.Max, Average: s.Average, Current: math.NaN(), P95: p95, Total: s.Total / 8}
	if len(peaks) > 0 {
		st.Max = rrd.Summarize(peaks, step).Max
	}
	if cur >= 0 && cur < len(bits) {
		st.Current = bits[cur]
	}
	return st
}

// p95Basis says in words which rows a period's percentile was taken over.
func p95Basis(r Rates) string {
	return "of " + formatStep(r.P95Step) + " averages over " + formatSpan(r.P95Span)
}

// formatStep names a row length as an adjective: "5-minute", "2-hour", "daily".
func formatStep(d time.Duration) string {
	switch {
	case d == 24*time.Hour:
		return "daily"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d-day", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d-hour", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d-minute", d/time.Minute)
	}
	return d.String()
}

// formatSpan names a length of time: "8 days 8 hours", "1 day".
func formatSpan(d time.Duration) string {
	var parts []string
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}} {
		n := int(d / u.d)
		d -= time.Duration(n) * u.d
		switch {
		case n == 1:
			parts = append(parts, "1 "+u.name)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, u.name))
		}
	}
	return strings.Join(parts, " ")
}
