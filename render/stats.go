package render

import (
	"math"
	"slices"
	"time"
)

// Stats summarises one series of a period for the pages.
type Stats struct {
	// Max, Average and P95 are over the known rows, in bits per second;
	// NaN when no row is known.
	Max, Average, P95 float64
	// Current is the last row, NaN if it is unknown: a missed poll shows
	// as unknown, not as the previous value.
	Current float64
	// Bytes is the volume transferred in the known rows, in octets.
	Bytes float64
	// Known and Rows count the known rows and all rows.
	Known, Rows int
	// The same as a percentage of the interface speed; NaN when the speed
	// is unknown or the value is.
	MaxPct, AveragePct, CurrentPct, P95Pct float64
}

// Summarize computes the statistics of rates in bits per second on rows of
// step. speed is the interface speed in bits per second, 0 if unknown.
func Summarize(rates []float64, step time.Duration, speed float64) Stats {
	s := Stats{Rows: len(rates), Max: math.NaN(), Average: math.NaN(), Current: math.NaN(), P95: math.NaN()}
	sum := 0.0
	for _, v := range rates {
		if math.IsNaN(v) {
			continue
		}
		if s.Known == 0 || v > s.Max {
			s.Max = v
		}
		sum += v
		s.Known++
	}
	if s.Known > 0 {
		s.Average = sum / float64(s.Known)
		s.Bytes = sum * step.Seconds() / 8
		s.P95 = Percentile(rates, 95)
	}
	if len(rates) > 0 {
		s.Current = rates[len(rates)-1]
	}
	pct := func(v float64) float64 {
		if speed <= 0 {
			return math.NaN()
		}
		return 100 * v / speed
	}
	s.MaxPct, s.AveragePct, s.CurrentPct, s.P95Pct = pct(s.Max), pct(s.Average), pct(s.Current), pct(s.P95)
	return s
}

// Percentile returns the p-th percentile (0 < p <= 100) of the known values
// by the nearest-rank method used for 95th-percentile billing: the smallest
// value that at least p percent of the known values do not exceed. It is
// NaN when no value is known.
func Percentile(values []float64, p float64) float64 {
	known := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			known = append(known, v)
		}
	}
	if len(known) == 0 || math.IsNaN(p) {
		return math.NaN()
	}
	slices.Sort(known)
	rank := int(math.Ceil(p / 100 * float64(len(known))))
	rank = min(max(rank, 1), len(known))
	return known[rank-1]
}
