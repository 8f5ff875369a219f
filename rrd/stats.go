package rrd

import (
	"math"
	"slices"
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
	rank := int(math.Ceil(0.95*float64(len(known)))) - 1
	st.P95 = nthSmallest(known, max(rank, 0))
	return st
}

// nthSmallest returns the k-th smallest (from 0) of xs, which hold no NaN,
// reordering them: a quickselect, linear on average, where sorting a
// month of five-minute rows for one rank would cost n log n.
func nthSmallest(xs []float64, k int) float64 {
	lo, hi := 0, len(xs)-1
	for budget := 64; hi > lo; budget-- {
		if budget == 0 {
			// Pathological pivots: sort what is left.
			slices.Sort(xs[lo : hi+1])
			return xs[k]
		}
		// Median of three as pivot, then Hoare partition.
		mid := lo + (hi-lo)/2
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		// Now xs[lo..j] <= pivot <= xs[i..hi], and xs[j+1..i-1] == pivot.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	return xs[k]
}
