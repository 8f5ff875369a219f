package mrtgimport

import (
	"math"
	"time"

	"github.com/mrtgo/mrtgo/rrd"
)

// span is a stretch of history at one rate (bytes/s in and out), from the end of the
// span before it up to end (Unix seconds); unknown where MRTG did not know it.
type span struct {
	end     int64
	rate    [2]float64
	unknown [2]bool // per direction: a target may know one and not the other
}

// dark reports a span unknown in both directions.
func (s span) dark() bool { return s.unknown[0] && s.unknown[1] }

// spans turns h into the traffic Replay describes (see there): a row no longer than the
// heartbeat is one span at its mean; a longer row is its peak step at MRTG's maximum and
// the rest of it at the rest of its mean. Replay cuts the rest into updates the
// heartbeat apart, which only a store fed by updates needs.
func spans(h *History, step time.Duration, max float64, out []span) []span {
	out = out[:0]
	for _, r := range h.Rows {
		length := r.End.Sub(r.Start)
		unk := [2]bool{math.IsNaN(r.In), math.IsNaN(r.Out)}
		if unk[0] && unk[1] || length <= 0 {
			out = append(out, span{end: r.End.Unix(), unknown: [2]bool{true, true}})
			continue
		}
		if length <= 2*step {
			out = append(out, span{end: r.End.Unix(), rate: [2]float64{r.In, r.Out}, unknown: unk})
			continue
		}
		from, to := peakStep(r, step)
		peak, rest := shares(r, to.Sub(from), max)
		if from.After(r.Start) {
			out = append(out, span{end: from.Unix(), rate: rest, unknown: unk})
		}
		out = append(out, span{end: to.Unix(), rate: peak, unknown: unk})
		if to.Before(r.End) {
			out = append(out, span{end: r.End.Unix(), rate: rest, unknown: unk})
		}
	}
	return out
}

// stepRates returns the rate of every step the spans after start cover, two a step (in,
// out), from the step holding start up to the last step complete at the last span's
// end, and the number of that first step (its end / step). They are the rates rrd's
// Update makes of updates at the spans' ends (rrd_update's arithmetic, to the letter):
// each step the time-weighted mean of what covers it; unknown when more than half of it
// is unknown, counting the unknown spans that end inside it; a rate outside [lo, hi]
// unknown (NaN for no bound). The part of the first step before start is unknown.
func stepRates(sp []span, start int64, step time.Duration, lo, hi float64, out []float64) (first int64, rates []float64) {
	stepS := int64(step / time.Second)
	first = floorDiv(start, stepS) + 1
	rates = out[:0]
	last := start
	var val [2]float64
	unkn := [2]int64{start - floorDiv(start, stepS)*stepS, start - floorDiv(start, stepS)*stepS}
	var pn, fill, firstRate [2]float64
	for _, s := range sp {
		interval := s.end - last
		if interval <= 0 {
			continue
		}
		secs := float64(interval)
		for d := range 2 {
			r := s.rate[d]
			if s.unknown[d] || (!math.IsNaN(lo) && r < lo) || (!math.IsNaN(hi) && r > hi) {
				pn[d] = math.NaN()
			} else {
				pn[d] = r * secs
			}
		}
		procSt := floorDiv(last, stepS) * stepS
		occuSt := floorDiv(s.end, stepS) * stepS
		elapsed := (occuSt - procSt) / stepS
		last = s.end
		if elapsed == 0 {
			for d := range 2 {
				switch {
				case math.IsNaN(pn[d]):
					unkn[d] += interval
				case math.IsNaN(val[d]):
					val[d] = pn[d]
				default:
					val[d] += pn[d]
				}
			}
			continue
		}
		preInt := float64(procSt + stepS - (s.end - interval))
		postInt := float64(s.end - occuSt)
		for d := range 2 {
			v := val[d]
			preUnknown := 0.0
			if math.IsNaN(pn[d]) {
				preUnknown = preInt
			} else {
				if math.IsNaN(v) {
					v = 0
				}
				v += pn[d] / secs * preInt
			}
			if float64(stepS)/2.0 < float64(unkn[d]) {
				firstRate[d] = math.NaN()
			} else {
				firstRate[d] = v / (float64(stepS-unkn[d]) - preUnknown)
			}
			fill[d] = pn[d] / secs
			if math.IsNaN(pn[d]) {
				unkn[d], val[d] = int64(postInt), math.NaN()
			} else {
				unkn[d], val[d] = 0, pn[d]/secs*postInt
			}
		}
		rates = append(rates, firstRate[0], firstRate[1])
		for range elapsed - 1 {
			rates = append(rates, fill[0], fill[1])
		}
	}
	return first, rates
}

// tail is what a history imported with stepRates needs after its last whole step: the
// readings at the end of that step (end) and the updates of the spans after it, which
// rrd.Backfill leaves to Update so that the series' step in progress holds them. The
// readings are those of the data source type typ: Replay's counters for Counter (and
// Derive, signed), the rate itself for Gauge, the count since the last update for
// Absolute.
func tail(h *History, sp []span, end int64, series string, typ rrd.DSType, bits int, ups []rrd.Update) ([]rrd.Value, []rrd.Update) {
	if typ == rrd.Gauge || typ == rrd.Absolute {
		return tailValues(sp, h.Rows[0].Start.Unix(), end, series, typ, ups)
	}
	var total [2]float64
	prev := h.Rows[0].Start.Unix()
	for _, s := range sp {
		for d := range 2 {
			if !s.unknown[d] {
				total[d] += s.rate[d] * float64(s.end-prev)
			}
		}
		prev = s.end
	}
	base := counterBase(h, total, bits)
	counter := func(d int, v float64) rrd.Value {
		if typ == rrd.Derive {
			return rrd.Int(int64(base[d]) + int64(math.Round(v)))
		}
		c := base[d] + uint64(math.Round(v))
		if bits == 32 {
			c &= math.MaxUint32
		}
		return rrd.Uint(c)
	}
	var acc [2]float64
	var last []rrd.Value
	prev = h.Rows[0].Start.Unix()
	for _, s := range sp {
		if last == nil && s.end >= end {
			at := acc
			for d := range 2 {
				if !s.unknown[d] {
					at[d] += s.rate[d] * float64(end-prev)
				}
			}
			last = []rrd.Value{counter(0, at[0]), counter(1, at[1])}
		}
		for d := range 2 {
			if !s.unknown[d] {
				acc[d] += s.rate[d] * float64(s.end-prev)
			}
		}
		prev = s.end
		if s.end > end {
			vs := []rrd.Value{counter(0, acc[0]), counter(1, acc[1])}
			for d := range 2 {
				if s.unknown[d] && !s.dark() {
					vs[d] = rrd.Unknown() // the other direction goes on
				}
			}
			ups = append(ups, rrd.Update{Series: series, Time: time.Unix(s.end, 0).UTC(), Values: vs, Discontinuity: s.dark()})
		}
	}
	return last, ups
}

// tailValues is tail for gauges and absolute counters, whose readings are the spans'
// rates (times their length for Absolute): nothing of them carries over an update.
func tailValues(sp []span, prev, end int64, series string, typ rrd.DSType, ups []rrd.Update) ([]rrd.Value, []rrd.Update) {
	value := func(s span, d int, secs int64) rrd.Value {
		if s.unknown[d] {
			return rrd.Unknown()
		}
		if typ == rrd.Absolute {
			return rrd.Float(s.rate[d] * float64(secs))
		}
		return rrd.Float(s.rate[d])
	}
	var last []rrd.Value
	for _, s := range sp {
		if last == nil && s.end >= end {
			last = []rrd.Value{value(s, 0, end-prev), value(s, 1, end-prev)}
		}
		if s.end > end {
			from := max(prev, end)
			ups = append(ups, rrd.Update{Series: series, Time: time.Unix(s.end, 0).UTC(),
				Values: []rrd.Value{value(s, 0, s.end-from), value(s, 1, s.end-from)}})
		}
		prev = s.end
	}
	return last, ups
}

// counterBase is the counter reading before the history: what makes the replayed
// counters end on MRTG's last readings, given the bytes the history holds (see Replay).
func counterBase(h *History, total [2]float64, bits int) [2]uint64 {
	var base [2]uint64
	if !h.HaveLast || !h.Last.Equal(h.Rows[len(h.Rows)-1].End) {
		return base
	}
	for d, last := range []uint64{h.LastIn, h.LastOut} {
		t := uint64(math.Round(total[d]))
		switch {
		case bits == 32:
			base[d] = (last - t) & math.MaxUint32
		case last >= t:
			base[d] = last - t
		default:
			base[d] = last + 1
		}
	}
	return base
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
