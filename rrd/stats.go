package rrd

import (
	"math"
	"sort"
	"time"
)

// Stats summarizes one data source over a fetched range.
type Stats struct {
	Max     float64 // largest known value
	Average float64 // mean of known values
	Current float64 // last known value
	P95     float64 // 95th percentile of known values (nearest rank)
	Total   float64 // integral: sum of known values × step seconds (bytes for octet rates)
}

// Summarize computes Stats over values (one column of a Result), ignoring
// unknown (NaN) values; every field is NaN when none is known. P95 is the
// nearest-rank 95th percentile, the usual billing definition: the smallest
// value at or above 95 % of the known values.
func Summarize(values []float64, step time.Duration) Stats {
	known := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			known = append(known, v)
		}
	}
	nan := math.NaN()
	if len(known) == 0 {
		return Stats{nan, nan, nan, nan, nan}
	}
	st := Stats{Max: math.Inf(-1), Current: known[len(known)-1]}
	sum := 0.0
	for _, v := range known {
		sum += v
		st.Max = math.Max(st.Max, v)
	}
	st.Average = sum / float64(len(known))
	st.Total = sum * step.Seconds()
	sort.Float64s(known)
	rank := int(math.Ceil(0.95*float64(len(known)))) - 1
	st.P95 = known[max(rank, 0)]
	return st
}
