// Command benchtable runs mrtgo's benchmarks (poll cycle, store commit, render, site)
// several times and prints one table: for each benchmark and size, the median of every
// figure over the runs and, for the time per operation, the range the runs fell in. The
// sizes are taken from the sub-benchmark names (for example BenchmarkCommit/series=10000).
// It is what "make bench" runs.
//
// A single run on a busy 2-core machine can be off by a factor of two or three; the
// median of a few runs moves far less, and the range shows how far one run can be
// trusted.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	benchtime := flag.String("benchtime", "1x", "go test -benchtime of each run")
	count := flag.Int("count", 5, "runs of each benchmark, one per pass over all of them; the table shows their median")
	once := flag.Duration("once", 10*time.Second, "a benchmark whose first run measured at least this long (a minute of ingest) is its own average: it runs again only in the last pass")
	compare := flag.Bool("compare", false, "compare two tables printed by earlier runs (files named as arguments): the rows whose time/op medians differ by more than -within")
	within := flag.Float64("within", 0.2, "with -compare: the largest ratio of two medians, less one, counted as agreeing")
	extra := flag.Int("extra", 4, "more runs, in passes of their own, of the benchmarks whose runs spread more than -spread")
	spread := flag.Float64("spread", 1.5, "the slowest run over the fastest above which a benchmark gets -extra more runs")
	bench := flag.String("bench", ".", "go test -bench pattern")
	pkgs := flag.String("pkgs", "./cmd/mrtgo ./rrd ./poller/... ./render ./web ./discover ./mrtgimport ./flow ./flowstore ./flowquery ./flowtop ./detect ./capture ./events ./remotewrite ./internal/...", "packages to benchmark")
	// ./cmd/mrtgo first: its poll --once process, timed against snmpd and MRTG, is
	// the figure most sensitive to what ran before it (the 100,000-interface fixtures
	// of internal/pipeline leave minutes of disk writes and a tired machine behind).
	flag.Parse()
	if *compare {
		os.Exit(compareFiles(os.Stdout, flag.Args(), *within))
	}
	// An interrupted run (^C, or make killed) stops its go test and still removes the
	// fixtures, gigabytes of stores: every way out below returns through benchmark.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := benchmark(ctx, *benchtime, *count, *once, *extra, *spread, *bench, *pkgs)
	stop()
	os.Exit(code)
}

// benchmark makes the passes and prints the table; it returns the exit code.
func benchmark(ctx context.Context, benchtime string, count int, once time.Duration, extra int, spread float64, bench, pkgs string) int {
	// The runs of a benchmark are spread over passes over the whole suite rather than
	// made back to back (go test -count): on a shared machine a slow minute then costs
	// one run of each benchmark, which the median drops, instead of every run of a
	// few. Fixtures that take seconds to build are kept between the passes' processes
	// in one directory (see internal/fixturedir), removed at the end.
	fixtures, err := os.MkdirTemp("", "mrtgo-bench-fixtures-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(fixtures)
	// The benchmarks' own temporary directories (b.TempDir) go under one of the
	// passes', whose subdirectories the file system spreads over the disk (see
	// spreadDirs): what a benchmark's files cost to make is then its own, not what
	// the benchmarks before it had just deleted beside them. Its name is short: some
	// benchmarks make Unix sockets in their temporary directories.
	scratch, err := os.MkdirTemp("", "mb")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(scratch)
	if err := spreadDirs(scratch); err != nil {
		fmt.Fprintf(os.Stderr, "benchtable: %s: directories made in it are not spread: %v\n", scratch, err)
	}
	start := time.Now()
	var (
		runs  []run
		werr  error
		long  []string  // benchmarks long enough to be run twice only
		speed []float64 // reference work per pass, ns
	)
	pass := func(label, pattern string, pkgs, skip []string) ([]run, error) {
		// The writes of the pass before (stores of 100,000 series, a site) go to
		// disk before this one starts, not under its first benchmarks' commits.
		syscall.Sync()
		speed = append(speed, reference())
		args := []string{"test", "-run", "^$", "-bench", pattern, "-benchmem", "-timeout", "60m",
			"-benchtime", benchtime, "-count", "1"}
		if len(skip) > 0 {
			args = append(args, "-skip", strings.Join(skip, "|"))
		}
		args = append(args, pkgs...)
		cmd := exec.CommandContext(ctx, "go", args...)
		// go test and the test binary it started, together: the binary holds the
		// fixtures open.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.Env = passEnv(os.Environ(), fixtures, scratch)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(os.Stderr, label)
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		got := parse(io.TeeReader(out, os.Stderr)) // raw output shows progress while it runs
		return got, cmd.Wait()
	}
	for i := range max(count, 1) {
		label := fmt.Sprintf("pass %d of %d", i+1, max(count, 1))
		// The long benchmarks run in the first pass and again in the last, so that
		// their figure is not one pass's alone (pass 1 also builds the fixtures).
		skip := long
		if i == count-1 {
			skip = nil
		}
		got, err := pass(label, bench, strings.Fields(pkgs), skip)
		runs = append(runs, got...)
		// A benchmark that fails (a flaky exporter, a port taken) fails its package's
		// go test, not the others' runs: the passes go on, and make bench fails at the
		// end, saying which passes failed. Interrupted, it stops.
		if err != nil {
			werr = errors.Join(werr, fmt.Errorf("%s: %w", label, err))
			if ctx.Err() != nil {
				break
			}
		}
		if i == 0 && count > 1 {
			long = longRuns(got, once)
		}
	}
	// A benchmark whose runs spread widely (a run now and then twice as slow as the
	// others: a commit waiting on another process's fsync, a collection landing in one
	// run) gets more runs, in passes of its own, so that its median rests on more of
	// them; the steady ones cost nothing more.
	var noisy []row
	if ctx.Err() == nil && count >= 3 && extra > 0 {
		noisy = noisyRows(summarize(runs), spread)
	}
	if len(noisy) > 0 {
		pattern, pkgs := rerun(noisy)
		for i := range extra {
			label := fmt.Sprintf("extra pass %d of %d", i+1, extra)
			got, err := pass(label+": "+pattern, pattern, pkgs, long)
			runs = append(runs, got...)
			if err != nil {
				werr = errors.Join(werr, fmt.Errorf("%s: %w", label, err))
				if ctx.Err() != nil {
					break
				}
			}
		}
	}
	print(os.Stdout, summarize(runs))
	fmt.Fprintf(os.Stdout, "\n%d runs of each benchmark, one per pass (-benchtime %s), in %s; figures are medians, range is the fastest and slowest run.\n",
		max(count, 1), benchtime, time.Since(start).Round(time.Second))
	if len(noisy) > 0 {
		var names []string
		for _, r := range noisy {
			names = append(names, strings.TrimSpace(r.pkg+" "+r.name+" "+r.size))
		}
		fmt.Fprintf(os.Stdout, "Spread over %.2g× in those runs, so run %d times more (with the other sizes of the same benchmark): %s.\n",
			spread, extra, strings.Join(names, "; "))
	}
	if len(long) > 0 {
		fmt.Fprintf(os.Stdout, "Run twice, in the first and the last pass (a run of at least %s averages itself): %d benchmarks.\n", once, len(long))
	}
	fmt.Fprintln(os.Stdout, referenceLine(speed))
	if werr != nil {
		fmt.Fprintln(os.Stderr, "benchmarks failed:", werr)
		return 1
	}
	return 0
}

// passEnv is the environment of a pass's go test: the fixtures' directory, the
// spread temporary directory, and GODEBUG=madvdontneed=0 before whatever GODEBUG
// the caller set (a later setting wins). With it the Go runtime gives memory back to
// the system with MADV_FREE, which leaves the pages mapped until the system needs
// them, rather than MADV_DONTNEED, which unmaps them at once: a benchmark that
// allocates then pays no page fault for memory the runtime's scavenger happened to
// give back a moment before. A fault costs 15-40 µs on the virtual machine the
// figures were measured on, and how many a run took depended on when the
// scavenger last ran: four runs each of 15 benchmarks (site writes, polls, flow
// decoding and storing, events) spread 1.49 times, slowest over fastest, in the
// median benchmark with MADV_DONTNEED and 1.19 times with MADV_FREE.
func passEnv(env []string, fixtures, scratch string) []string {
	debug := "madvdontneed=0"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok && v != "" {
			debug += "," + v
		}
	}
	return append(env, fixturedirEnv+"="+fixtures, "TMPDIR="+scratch, "GODEBUG="+debug)
}

// fixturedirEnv is internal/fixturedir's variable: the directory where benchmark
// fixtures outlive their process.
const fixturedirEnv = "MRTGO_BENCH_FIXTURES"

// run is one result line of go test -bench.
type run struct {
	pkg, name, size string
	full            string // as go test names it: BenchmarkCommit/series=10000
	n               int
	metrics         map[string]float64
	order           []string
}

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)
	pkgHeader = regexp.MustCompile(`^pkg: (\S+)`)
)

func parse(r io.Reader) []run {
	var runs []run
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if m := pkgHeader.FindStringSubmatch(line); m != nil {
			pkg = strings.TrimPrefix(m[1], "github.com/mrtgo/mrtgo/")
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		rw := run{pkg: pkg, full: m[1], n: n, metrics: map[string]float64{}}
		rw.name, rw.size = splitName(m[1])
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			rw.metrics[f[i+1]] = v
			rw.order = append(rw.order, f[i+1])
		}
		runs = append(runs, rw)
	}
	return runs
}

// splitName separates the sizes (key=value parts) from a benchmark's name.
func splitName(full string) (name, size string) {
	parts := strings.Split(strings.TrimPrefix(full, "Benchmark"), "/")
	var names, sizes []string
	for _, p := range parts {
		if strings.Contains(p, "=") {
			sizes = append(sizes, p)
		} else {
			names = append(names, p)
		}
	}
	return strings.Join(names, "/"), strings.Join(sizes, " ")
}

// row is one benchmark at one size over all its runs.
type row struct {
	pkg, name, size string
	runs            int
	median          map[string]float64
	lo, hi          map[string]float64 // fastest and slowest run of each metric
	order           []string
}

// summarize groups the runs of each benchmark (in the order they first ran) into
// medians and ranges.
func summarize(runs []run) []row {
	var rows []row
	index := map[string]int{}
	values := map[string]map[string][]float64{}
	for _, r := range runs {
		key := r.pkg + "\x00" + r.name + "\x00" + r.size
		i, ok := index[key]
		if !ok {
			i = len(rows)
			index[key] = i
			rows = append(rows, row{pkg: r.pkg, name: r.name, size: r.size})
			values[key] = map[string][]float64{}
		}
		rows[i].runs++
		for _, k := range r.order {
			if !slices.Contains(rows[i].order, k) {
				rows[i].order = append(rows[i].order, k)
			}
			values[key][k] = append(values[key][k], r.metrics[k])
		}
	}
	for i := range rows {
		r := &rows[i]
		r.median, r.lo, r.hi = map[string]float64{}, map[string]float64{}, map[string]float64{}
		for k, v := range values[r.pkg+"\x00"+r.name+"\x00"+r.size] {
			r.median[k] = median(v)
			r.lo[k], r.hi[k] = slices.Min(v), slices.Max(v)
		}
	}
	return rows
}

// median is the middle value, or the mean of the two middle values.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func print(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "package\tbenchmark\tsize\ttime/op\trange\tallocs/op\tmemory/op\tother")
	for _, r := range rows {
		var other []string
		for _, k := range r.order {
			switch k {
			case "ns/op", "B/op", "allocs/op":
				continue
			}
			other = append(other, fmt.Sprintf("%s %s", human(r.median[k]), k))
		}
		// A benchmark whose result is not a time (a file size) reports no ns/op, and
		// its allocations are those of whichever run built the result.
		perOp, spread, allocs, memory := "-", "-", "-", "-"
		if _, ok := r.median["ns/op"]; ok {
			perOp = duration(r.median["ns/op"])
			if r.runs > 1 {
				spread = fmt.Sprintf("%s–%s", duration(r.lo["ns/op"]), duration(r.hi["ns/op"]))
			}
			allocs, memory = human(r.median["allocs/op"]), bytes(r.median["B/op"])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.pkg, r.name, dash(r.size),
			perOp, spread, allocs, memory, strings.Join(other, ", "))
	}
	tw.Flush()
}

// duration prints nanoseconds to three significant digits at most.
func duration(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d >= 100*time.Microsecond:
		return d.Round(time.Microsecond).String()
	case d >= time.Microsecond:
		return d.Round(10 * time.Nanosecond).String()
	default:
		// Three figures, not tens of nanoseconds: 12.87 and 15.01 ns/op were
		// printed as 10ns and 20ns, and compared as twice apart.
		return strconv.FormatFloat(ns, 'g', 3, 64) + "ns"
	}
}

// parseDuration reads a time printed by duration: Go's form, and fractions of a
// nanosecond, which time.ParseDuration drops.
func parseDuration(s string) (float64, error) {
	if v, ok := strings.CutSuffix(s, "ns"); ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f, nil
		}
	}
	d, err := time.ParseDuration(s)
	return float64(d), err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func human(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v == float64(int64(v)):
		return strconv.FormatInt(int64(v), 10)
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
}

func bytes(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.1f GiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", v)
	}
}
