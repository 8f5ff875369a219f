package mrtgimport

import (
	"errors"
	"fmt"
	"math"
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

// replayed is one series' synthesized updates, compact: 25 bytes an update where an
// rrd.Update takes about a hundred, so that many series' years fit in memory at once.
type replayed struct {
	series string
	start  time.Time // for rrd.Create
	t      []int64   // Unix microseconds
	c      [][2]uint64
	disc   []bool
	next   int // cursor for the merge
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
		mx := [2]float64{r.MaxIn, r.MaxOut}
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
		// The step carrying the maximum: the last one of full length.
		peak := len(ends) - 1
		for i := len(ends) - 1; i >= 0; i-- {
			from := r.Start
			if i > 0 {
				from = ends[i-1]
			}
			if ends[i].Sub(from) == step {
				peak = i
				break
			}
		}
		pFrom := r.Start
		if peak > 0 {
			pFrom = ends[peak-1]
		}
		wPeak := ends[peak].Sub(pFrom).Seconds()
		total := span.Seconds()
		var peakRate, rest [2]float64
		for d := range 2 {
			m := mx[d]
			if math.IsNaN(m) || m < avg[d] {
				m = avg[d]
			}
			m = min(m, avg[d]*total/wPeak)
			if !math.IsNaN(max) {
				m = min(m, max)
			}
			peakRate[d] = m
			rest[d] = avg[d]
			if total > wPeak {
				rest[d] = (avg[d]*total - m*wPeak) / (total - wPeak)
			}
			if m < avg[d] { // the maximum was lowered below the average by the series maximum
				peakRate[d], rest[d] = avg[d], avg[d]
			}
		}
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
	var base [2]uint64
	if h.HaveLast && h.Last.Equal(segs[len(segs)-1].end) {
		for d, last := range []uint64{h.LastIn, h.LastOut} {
			total := uint64(math.Round(acc[d]))
			switch {
			case bits == 32:
				base[d] = (last - total) & math.MaxUint32
			case last >= total:
				base[d] = last - total
			default:
				base[d] = last + 1
			}
		}
	}
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

// window is the span of history one store transaction takes from every series of a
// group: time-major, as polls arrive, so each transaction touches few row keys.
const window = 24 * time.Hour

// feed hands the replays' updates to write, a window of time at a time, at most max
// updates per call. Only each series' own updates need to be in order.
func feed(rs []*replayed, max int, write func([]rrd.Update) error) error {
	var errs []error
	ups := make([]rrd.Update, 0, max)
	flush := func() {
		if len(ups) > 0 {
			if err := write(ups); err != nil {
				errs = append(errs, err)
			}
			ups = ups[:0]
		}
	}
	for {
		lo := int64(math.MaxInt64)
		for _, r := range rs {
			if r.next < len(r.t) {
				lo = min(lo, r.t[r.next])
			}
		}
		if lo == math.MaxInt64 {
			break
		}
		end := lo + window.Microseconds()
		for _, r := range rs {
			for r.next < len(r.t) && r.t[r.next] < end {
				ups = r.append(ups, r.next)
				r.next++
				if len(ups) == max {
					flush()
				}
			}
		}
		flush()
	}
	return errors.Join(errs...)
}
