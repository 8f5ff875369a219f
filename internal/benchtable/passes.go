package main

import (
	"crypto/sha256"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// longRuns returns the benchmarks of a first pass whose run measured at least limit
// (time per operation times operations), each with a -test.skip pattern. Such a
// benchmark (a minute of flow ingest, a day of idle steps at 100,000 interfaces)
// averages over far more than a slow moment of the machine, and repeating it would
// take most of the time of a pass. A pattern names the benchmark and every level of
// its sub-benchmark, anchored, as the test binary's -test.skip matches them level by
// level.
func longRuns(runs []run, limit time.Duration) []longRun {
	var out []longRun
	for _, r := range runs {
		ns, ok := r.metrics["ns/op"]
		if !ok || time.Duration(ns*float64(r.n)) < limit {
			continue
		}
		var levels []string
		for _, l := range strings.Split(r.full, "/") {
			levels = append(levels, "^"+regexp.QuoteMeta(l)+"$")
		}
		l := longRun{pkg: r.pkg, bench: strings.Split(r.full, "/")[0], full: r.full, pattern: strings.Join(levels, "/")}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// reference times a fixed piece of work (hashing 32 MiB) and returns its nanoseconds:
// taken before each pass, it tells a table made on a slow machine from a slow change.
func reference() float64 {
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	best := time.Duration(1 << 62)
	for range 3 { // the fastest of three: the work itself, not a moment's interruption
		start := time.Now()
		for range 32 {
			sum := sha256.Sum256(buf)
			buf[0] ^= sum[0]
		}
		best = min(best, time.Since(start))
	}
	return float64(best)
}

// referenceLine is the table's last line: each pass's machine speed, and what the
// reference work took in the median pass, which -compare reads back (referenceTook)
// to tell two tables made on a machine running at different speeds.
func referenceLine(ns []float64) string {
	took := "-"
	if len(ns) > 0 {
		took = duration(median(ns))
	}
	return fmt.Sprintf("Machine speed by pass (a fixed piece of reference work; 1.00 is the fastest pass): %s; the work took %s in the median pass.", relative(ns), took)
}

// referenceTook matches the end of referenceLine.
var referenceTook = regexp.MustCompile(`the work took (\S+) in the median pass\.$`)

// relative prints each pass's reference time as the fastest pass's speed over its own.
func relative(ns []float64) string {
	if len(ns) == 0 {
		return "-"
	}
	fastest := slices.Min(ns)
	var parts []string
	for _, v := range ns {
		parts = append(parts, fmt.Sprintf("%.2f", fastest/v))
	}
	return strings.Join(parts, " ")
}

// noisyRows are the rows run at least three times whose median is not yet pinned
// down: the interval that holds it with 90 % confidence (medianInterval) spans more
// than spread, its upper end over its lower.
func noisyRows(rows []row, spread float64) []row {
	var out []row
	for _, r := range rows {
		lo, hi := r.interval[0], r.interval[1]
		if r.runs >= 3 && lo > 0 && hi > spread*lo {
			out = append(out, r)
		}
	}
	return out
}

// medianInterval is the distribution-free confidence interval of a median: of the n
// values in order, the k-th from either end, for the largest k at which the true
// median lies between them with probability at least 0.9 whatever the distribution
// (each value falls below it with probability one half). With five values it is the
// fastest and slowest run; with nine the second of each; with thirteen the fourth.
// Unlike the fastest and slowest, it narrows as runs are added, so a row with an
// outlier or two stops needing more runs once the middle of its runs is close.
func medianInterval(v []float64) (lo, hi float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0, 0
	}
	k := 1
	for c := 2; c <= n/2; c++ {
		// The chance that fewer than c of n values fall below the median, twice
		// (either end).
		var p float64
		for i := range c {
			p += binomial(n, i)
		}
		if 2*p/math.Pow(2, float64(n)) > 0.1 {
			break
		}
		k = c
	}
	return s[k-1], s[n-k]
}

// binomial is n choose k, as a float64 (n is a count of runs, a few dozen at most).
func binomial(n, k int) float64 {
	c := 1.0
	for i := range k {
		c = c * float64(n-i) / float64(i+1)
	}
	return c
}
