package mrtgimport

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mrtgo/mrtgo/rrd"
)

// Replay turns h into counter updates of a series with the given step, maximum rate
// (bytes/s, NaN for none) and counter width, oldest first, so that the store consolidates
// them into the rows MRTG kept:
//
//   - A row no longer than the heartbeat (2 × step) becomes one update at its end: the
//     store's step rows are the time-weighted means of MRTG's rows, as MRTG draws them.
//   - A longer row (MRTG's 30-minute, 2-hour and daily rows) becomes one update per step.
//     Its last whole step carries MRTG's maximum and the other steps share the rest of
//     the average, so the store's consolidated AVERAGE and MAX rows of that length equal
//     MRTG's. The maximum is lowered to what the average allows (n × average for n steps)
//     and to the series maximum; the store's one-step rows of such a period show that
//     shape, not the real five-minute traffic, which MRTG no longer had.
//   - An unknown row is an update flagged as a discontinuity at its end.
//
// Counters are synthesized from the rates; they end on MRTG's last readings when the
// history has them, so the first poll after the switch joins the history with no gap. A
// 64-bit history holding more bytes than its last reading (the counter was reset) ends
// above that reading instead, which the first poll sees as a reset: unknown, not a spike.
// The first returned time is the start to give rrd.Create.
func Replay(h *History, series string, step time.Duration, max float64, bits int) ([]rrd.Update, time.Time, error) {
	r, err := replay(h, step, max, bits)
	if err != nil {
		return nil, time.Time{}, err
	}
	r.series = series
	ups := make([]rrd.Update, 0, len(r.t))
	for i := range r.t {
		ups = r.append(ups, i)
	}
	return ups, r.start, nil
}

// replayed is one series' synthesized updates.
type replayed struct {
	series string
	start  time.Time // for rrd.Create
	t      []int64   // Unix microseconds
	c      [][2]uint64
	disc   []bool
}

func (r *replayed) append(ups []rrd.Update, i int) []rrd.Update {
	return append(ups, rrd.Update{
		Series:        r.series,
		Time:          time.UnixMicro(r.t[i]).UTC(),
		Values:        []rrd.Value{rrd.Uint(r.c[i][0]), rrd.Uint(r.c[i][1])},
		Discontinuity: r.disc[i],
	})
}

func replay(h *History, step time.Duration, max float64, bits int) (*replayed, error) {
	if len(h.Rows) == 0 {
		return nil, errors.New("replay: no rows")
	}
	if step <= 0 {
		return nil, fmt.Errorf("replay: step %s", step)
	}
	type seg struct {
		end     time.Time
		rate    [2]float64
		unknown bool
	}
	var segs []seg
	hb := 2 * step
	for _, r := range h.Rows {
		span := r.End.Sub(r.Start)
		avg := [2]float64{r.In, r.Out}
		if math.IsNaN(avg[0]) || math.IsNaN(avg[1]) || span <= 0 {
			segs = append(segs, seg{end: r.End, unknown: true})
			continue
		}
		if span <= hb {
			segs = append(segs, seg{end: r.End, rate: avg})
			continue
		}
		// Step boundaries strictly inside the row.
		var ends []time.Time
		for b := r.Start.Truncate(step).Add(step); b.Before(r.End); b = b.Add(step) {
			if b.After(r.Start) {
				ends = append(ends, b)
			}
		}
		ends = append(ends, r.End)
		pFrom, pTo := peakStep(r, step)
		peak := slices.IndexFunc(ends, pTo.Equal)
		peakRate, rest := shares(r, pTo.Sub(pFrom), max)
		// Updates at the peak step's ends and otherwise as far apart as the heartbeat
		// allows: a constant rate needs no more.
		last := r.Start
		for i, e := range ends {
			if i == peak {
				if pFrom.After(last) {
					segs = append(segs, seg{end: pFrom, rate: rest})
				}
				segs = append(segs, seg{end: e, rate: peakRate})
				last = e
				continue
			}
			next := i + 1
			if next < len(ends) && next != peak && ends[next].Sub(last) <= hb {
				continue // the next boundary is still within the heartbeat
			}
			segs = append(segs, seg{end: e, rate: rest})
			last = e
		}
	}

	// Cumulative bytes at each segment end, then the base that lands on the last readings.
	start := h.Rows[0].Start
	cum := make([][2]float64, len(segs))
	var acc [2]float64
	prev := start
	for i, s := range segs {
		if !s.unknown {
			secs := s.end.Sub(prev).Seconds()
			for d := range 2 {
				acc[d] += s.rate[d] * secs
			}
		}
		cum[i] = acc
		prev = s.end
	}
	base := counterBase(h, acc, bits)
	counter := func(d int, v float64) uint64 {
		c := base[d] + uint64(math.Round(v))
		if bits == 32 {
			c &= math.MaxUint32
		}
		return c
	}
	r := &replayed{start: start.Add(-time.Second)}
	r.t = make([]int64, 0, len(segs)+1)
	r.c = make([][2]uint64, 0, len(segs)+1)
	r.disc = make([]bool, 0, len(segs)+1)
	r.t = append(r.t, start.UnixMicro())
	r.c = append(r.c, [2]uint64{counter(0, 0), counter(1, 0)})
	r.disc = append(r.disc, false)
	for i, s := range segs {
		r.t = append(r.t, s.end.UnixMicro())
		r.c = append(r.c, [2]uint64{counter(0, cum[i][0]), counter(1, cum[i][1])})
		r.disc = append(r.disc, s.unknown)
	}
	return r, nil
}

// peakStep is the step of a row longer than the heartbeat that carries its maximum:
// the last whole step in it, else (a row of no whole step) its part after the last
// step boundary.
func peakStep(r Row, step time.Duration) (from, to time.Time) {
	b := r.End.Truncate(step)
	if !b.Add(-step).Before(r.Start) {
		return b.Add(-step), b
	}
	if b.After(r.Start) && b.Before(r.End) {
		return b, r.End
	}
	return r.Start, r.End
}

// shares returns the rates of a long row's peak step (of length w) and of the rest of
// it, so that they average to the row's mean and the peak is MRTG's maximum: lowered to
// what the mean allows and to the series maximum limit (NaN for none), never below the
// mean. The rest is never below zero.
func shares(r Row, w time.Duration, limit float64) (peak, rest [2]float64) {
	avg := [2]float64{r.In, r.Out}
	mx := [2]float64{r.MaxIn, r.MaxOut}
	total := r.End.Sub(r.Start).Seconds()
	wPeak := w.Seconds()
	for d := range 2 {
		m := mx[d]
		if math.IsNaN(m) || m < avg[d] {
			m = avg[d]
		}
		m = min(m, avg[d]*total/wPeak)
		if !math.IsNaN(limit) {
			m = min(m, limit)
		}
		peak[d] = m
		rest[d] = avg[d]
		if total > wPeak {
			rest[d] = (avg[d]*total - m*wPeak) / (total - wPeak)
		}
		if m < avg[d] { // the maximum was lowered below the average by the series maximum
			peak[d], rest[d] = avg[d], avg[d]
		}
		rest[d] = max(rest[d], 0) // not -1e-12 for an unknown rate below the minimum
	}
	return peak, rest
}
