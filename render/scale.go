package render

import (
	"fmt"
	"math"
	"strings"
)

// yTicks is MRTG's number of y intervals.
const yTicks = 4

var siPrefixes = []string{"", "k", "M", "G", "T"}

// yScale returns the top of the y axis for data reaching max (bits per
// second) and the yTicks+1 labels from the bottom up. It is MRTG's rateup
// algorithm: a quarter of the maximum is rounded up to a number with one or
// two leading digits, so the labels read like "0.0 M … 10.0 M" or
// "0.0 k … 9.6 k", all with the same SI prefix.
func yScale(max float64) (top float64, labels []string) { return yScaleKMG(max, siPrefixes) }

// yScaleKMG is yScale with the given prefixes for powers of 1000 (MRTG's kMG):
// past the last, the labels grow in digits.
func yScaleKMG(max float64, prefixes []string) (top float64, labels []string) {
	if math.IsNaN(max) || max <= 0 {
		max = 1 // as MRTG: an idle graph still has an axis
	}
	maxq := math.Ceil(max / yTicks)
	if maxq > 1e18 {
		maxq = 1e18
	}
	// digits is floor(log10(maxq)), counted exactly (math.Log10 is off by
	// one ulp at powers of ten).
	digits := 0
	for n := maxq; n >= 10; n /= 10 {
		digits++
	}
	scaTen := math.Floor(maxq / math.Pow10(digits))
	scaHun := math.Floor(maxq / math.Pow10(digits-1))
	nexRnd := scaHun * math.Pow10(digits-1)
	nexTen := (scaTen + 1) * math.Pow10(digits)
	nexHun := (scaHun + 1) * math.Pow10(digits-1)
	var nmaxq float64
	switch {
	case nexTen <= 1.1*maxq:
		nmaxq = nexTen
	case maxq == nexRnd:
		nmaxq = nexRnd
	default:
		nmaxq = nexHun
	}
	group := min(digits/3, len(prefixes)-1)
	unit := math.Pow10(group * 3)
	step := nmaxq / unit
	top = step * yTicks * unit
	if top < 1 {
		top, step = 1, 0.25
	}
	prefix := prefixes[group]
	labels = make([]string, yTicks+1)
	for i := range labels {
		labels[i] = strings.TrimSpace(fmt.Sprintf("%.1f %s", step*float64(i), prefix))
	}
	return top, labels
}
