package main

import (
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
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
		l := longRun{pkg: r.pkg, full: r.full, pattern: strings.Join(levels, "/")}
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

// chain is the memory reference's cycle: chain[i] is the index read after i, all of
// them in one random cycle (Sattolo's shuffle), so that each read waits on the one
// before and almost none is in a cache. Made once, on first use, and kept.
var chain []uint32

// chainLen is 32 Mi entries, 128 MiB: several times any cache of the machines the
// figures are measured on.
const chainLen = 32 << 20

// memoryReference times reads that miss the caches (one read of the chain each, 1 Mi
// of them) and returns the nanoseconds per read. The hashing of reference runs in
// the core's own cache and does not see what slows memory. It was added to explain
// runs whose passes kept the same hashing speed while some benchmarks (a site
// write, a poll of the simulator) ran 20-40 % slower for half an hour, and does not:
// in 30 passes their times were uncorrelated with it. What does follow them is each
// virtual CPU's own speed, which reference, the fastest of three on any CPU, misses
// (see the README's Development section).
func memoryReference() float64 {
	if chain == nil {
		chain = makeChain(chainLen)
	}
	const reads = 1 << 20
	best := time.Duration(1 << 62)
	for range 3 {
		start, at := time.Now(), uint32(0)
		for range reads {
			at = chain[at]
		}
		best = min(best, time.Since(start))
		if at >= chainLen { // never: the reads' result is used, so they are made
			panic("memory reference: index out of the chain")
		}
	}
	return float64(best) / reads
}

// makeChain returns n indices in one random cycle.
func makeChain(n int) []uint32 {
	c := make([]uint32, n)
	for i := range c {
		c[i] = uint32(i)
	}
	for i := n - 1; i > 0; i-- {
		j := rand.IntN(i)
		c[i], c[j] = c[j], c[i]
	}
	return c
}

// diskReference times what makes a commit durable on the disk the benchmarks write
// to: 32 writes of 4 KiB, each in place in a file of dir and followed by an
// fdatasync, as a store's commit writes its pages and syncs. It returns the
// nanoseconds of the median one, or 0 if the file could not be written. The rrd
// commit benchmarks skip their syncs (their figures are the store's, not the disk's);
// this line says what each sync of a daemon's commit adds on the machine, pass by pass.
func diskReference(dir string) float64 {
	f, err := os.CreateTemp(dir, "disk-reference-")
	if err != nil {
		return 0
	}
	defer os.Remove(f.Name())
	defer f.Close()
	const pages = 32
	page := make([]byte, 4096)
	if _, err := f.Write(make([]byte, pages*len(page))); err != nil || f.Sync() != nil {
		return 0
	}
	took := make([]float64, 0, pages)
	for i := range pages {
		page[0] = byte(i)
		start := time.Now()
		if _, err := f.WriteAt(page, int64(i*len(page))); err != nil {
			return 0
		}
		if err := fdatasync(f); err != nil {
			return 0
		}
		took = append(took, float64(time.Since(start)))
	}
	return median(took)
}

// diskLine is the line after memoryLine: each pass's disk speed, and what a write and
// its sync took in the median pass.
func diskLine(ns []float64) string {
	took := "-"
	if len(ns) > 0 && slices.Min(ns) > 0 {
		took = duration(median(ns))
	} else {
		ns = nil // a pass could not write its file: no speed to print
	}
	return fmt.Sprintf("Disk speed by pass (a 4 KiB write and its fdatasync in the benchmarks' directory, the median of 32; 1.00 is the fastest pass): %s; one took %s in the median pass.", relative(ns), took)
}

// memoryLine is the line after referenceLine: each pass's memory speed, and what a
// read took in the median pass.
func memoryLine(ns []float64) string {
	took := "-"
	if len(ns) > 0 {
		took = fmt.Sprintf("%.1fns", median(ns))
	}
	return fmt.Sprintf("Memory speed by pass (reads that miss the caches, over 128 MiB; 1.00 is the fastest pass): %s; a read took %s in the median pass.", relative(ns), took)
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
