package main

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// longRuns returns -skip patterns for the benchmarks of a first pass whose run measured
// at least limit (time per operation times operations). Such a benchmark (a minute of
// flow ingest, a day of idle steps at 100,000 interfaces) averages over far more than a
// slow moment of the machine, and repeating it would take most of the time of a pass.
// A pattern names the benchmark and every level of its sub-benchmark, anchored, as go
// test's -skip matches them level by level.
func longRuns(runs []run, limit time.Duration) []string {
	var out []string
	for _, r := range runs {
		ns, ok := r.metrics["ns/op"]
		if !ok || time.Duration(ns*float64(r.n)) < limit {
			continue
		}
		var levels []string
		for _, l := range strings.Split(r.full, "/") {
			levels = append(levels, "^"+regexp.QuoteMeta(l)+"$")
		}
		if p := strings.Join(levels, "/"); !slices.Contains(out, p) {
			out = append(out, p)
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

// noisyRows are the rows run at least three times whose slowest run took more than
// spread times their fastest.
func noisyRows(rows []row, spread float64) []row {
	var out []row
	for _, r := range rows {
		lo, ok := r.lo["ns/op"]
		if ok && r.runs >= 3 && lo > 0 && r.hi["ns/op"] > spread*lo {
			out = append(out, r)
		}
	}
	return out
}

// rerun is the go test -bench pattern and the packages that run the benchmarks of
// rows again: their top-level names, anchored (go test matches a pattern without a
// slash against the top level, and runs every sub-benchmark below).
func rerun(rows []row) (pattern string, pkgs []string) {
	var names []string
	for _, r := range rows {
		top := "Benchmark" + strings.SplitN(r.name, "/", 2)[0]
		if !slices.Contains(names, top) {
			names = append(names, top)
		}
		if p := "./" + r.pkg; !slices.Contains(pkgs, p) {
			pkgs = append(pkgs, p)
		}
	}
	return "^(" + strings.Join(names, "|") + ")$", pkgs
}
