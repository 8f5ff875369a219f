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
	count := flag.Int("count", 5, "runs of each benchmark, one per pass over all of them, after a pass that builds the fixtures and is not counted; the table shows their median")
	once := flag.Duration("once", 10*time.Second, "a benchmark whose run in the first pass measured at least this long (a minute of ingest) is its own average: that run counts, and it runs again only in the last pass")
	compare := flag.Bool("compare", false, "compare two tables printed by earlier runs (files named as arguments): the rows whose time/op medians differ by more than -within")
	within := flag.Float64("within", 0.2, "with -compare: the largest ratio of two medians, less one, counted as agreeing")
	extra := flag.Int("extra", 8, "at most this many more passes over the benchmarks whose median is not pinned down (see -spread)")
	extraTime := flag.Duration("extratime", 15*time.Minute, "no more extra pass starts once the extra passes have taken this long")
	spread := flag.Float64("spread", 1.3, "a benchmark runs again while the interval that holds its median with 90% confidence spans more than this, upper end over lower (with five runs: the slowest over the fastest)")
	bench := flag.String("bench", ".", "go test -bench pattern")
	pin := flag.Bool("pin", pinning, "run each benchmark process on one CPU, the fastest when it starts, and move it to another when that one becomes faster (Linux)")
	pkgs := flag.String("pkgs", "./cmd/mrtgo ./rrd ./poller/... ./render ./web ./discover ./mrtgimport ./flow ./flowstore ./flowquery ./flowtop ./detect ./capture ./events ./remotewrite ./internal/...", "packages to benchmark")
	// ./cmd/mrtgo first: its poll --once process, timed against snmpd and MRTG, is
	// the figure most sensitive to what ran before it (the 100,000-interface fixtures
	// of internal/pipeline leave minutes of disk writes and a tired machine behind).
	flag.Parse()
	if *compare {
		os.Exit(compareFiles(os.Stdout, flag.Args(), *within))
	}
	// An interrupted run (^C, or make killed) stops its benchmark and still removes
	// the fixtures, gigabytes of stores: every way out below returns through benchmark.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := benchmark(ctx, config{benchtime: *benchtime, count: *count, once: *once, extra: *extra,
		extraTime: *extraTime, spread: *spread, bench: *bench, pin: *pin, pkgs: strings.Fields(*pkgs)})
	stop()
	os.Exit(code)
}

// config is what the flags ask of a run.
type config struct {
	benchtime       string
	count, extra    int
	once, extraTime time.Duration
	spread          float64
	bench           string
	pin             bool
	pkgs            []string
}

// benchmark makes the passes and prints the table; it returns the exit code.
//
// Every run of a benchmark is a process of its own: one top-level benchmark (all its
// sizes) of one package's test binary. Runs that shared a process with the package's
// other benchmarks carried what those left behind: a heap that sets the collector's
// pace, memory the runtime had or had not given back. The same benchmark then took
// 1.2 s after the package's others and 2.5 s in a process that ran it with a few
// (ImportHistory interfaces=10, its extra runs), so a median over both kinds of run
// moved with how many of each it drew. A benchmark alone in its process measures
// itself and the code it runs.
//
// The runs are spread over passes over the whole suite rather than made back to back:
// on a shared machine a slow minute then costs one run of each benchmark, which the
// median drops, instead of every run of a few. The first pass builds the fixtures that
// take seconds to build (kept between processes in one directory, see
// internal/fixturedir, removed at the end) and is not counted: the process that built
// a store differs from those that open it (a heap full of what it built), and its
// runs were off by up to 3.8 times either way.
func benchmark(ctx context.Context, c config) int {
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
	bins, err := os.MkdirTemp("", "mrtgo-bench-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bins)
	env := passEnv(os.Environ(), fixtures, scratch)
	top, rest := splitPattern(c.bench)
	topRE, err := regexp.Compile(top)
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtable: -bench %q: %v\n", c.bench, err)
		return 2
	}
	start := time.Now()
	fmt.Fprintln(os.Stderr, "building the test binaries")
	suites, err := buildSuites(ctx, c.pkgs, topRE, bins, env)
	if err == nil && len(suites) == 0 {
		err = errNoBenchmarks
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		return 1
	}
	var cpu *cpus // nil: processes run where the system puts them
	if c.pin {
		cpu = newCPUs()
	}
	var (
		runs   []run // the counted ones
		werr   error
		long   []longRun
		speed  []float64 // reference work per pass, ns
		memory []float64 // memory reference per pass, ns per read
		disk   []float64 // disk reference per pass, ns per write and sync
	)
	pass := func(label, benchtime string, js []job, skip []longRun) []run {
		// The writes of the pass before (stores of 100,000 series, a site) go to
		// disk before this one starts, not under its first benchmarks' commits.
		syscall.Sync()
		speed = append(speed, reference())
		memory = append(memory, memoryReference())
		disk = append(disk, diskReference(scratch))
		fmt.Fprintln(os.Stderr, label)
		var got []run
		for _, j := range js {
			if ctx.Err() != nil {
				break
			}
			// Nor the writes of the process before (an import of 1,000 interfaces
			// writes gigabytes) under this one's.
			syscall.Sync()
			r, err := j.run(ctx, j.args(benchtime, rest, skip), env, cpu)
			got = append(got, r...)
			// A benchmark that fails (a flaky exporter, a port taken) fails its own
			// process, not the others' runs: the passes go on, and make bench fails
			// at the end, saying which benchmarks failed.
			if err != nil {
				werr = errors.Join(werr, fmt.Errorf("%s: %w", label, err))
			}
		}
		return got
	}
	all := jobs(suites)
	count := max(c.count, 1)
	if count > 1 {
		// Run once each (one operation, -benchtime 1x): the fixtures are built, and a
		// benchmark long enough to average itself is found, whose run counts.
		got := pass(fmt.Sprintf("pass 0 of %d: builds the fixtures, not counted", count), "1x", all, nil)
		long = longRuns(got, c.once)
		for _, r := range got {
			if slices.ContainsFunc(long, func(l longRun) bool { return l.matches(r) }) {
				runs = append(runs, r)
			}
		}
	}
	for i := range count {
		// The long benchmarks run again in the last pass only.
		skip := long
		if i == count-1 {
			skip = nil
		}
		runs = append(runs, pass(fmt.Sprintf("pass %d of %d", i+1, count), c.benchtime, all, skip)...)
	}
	// A benchmark whose median is not pinned down by its runs (a run now and then
	// twice as slow as the others: a commit waiting on another process's fsync, a
	// collection landing in one run) gets more runs, in passes of their own, until it
	// is or the extra passes run out; the steady ones cost nothing more.
	extraStart, extras := time.Now(), 0
	var noisy []string
	for ; extras < c.extra && count >= 3 && ctx.Err() == nil && time.Since(extraStart) < c.extraTime; extras++ {
		rows := noisyRows(summarize(runs), c.spread)
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			if n := strings.TrimSpace(r.pkg + " " + r.name + " " + r.size); !slices.Contains(noisy, n) {
				noisy = append(noisy, n)
			}
		}
		js := rerunJobs(rows, suites)
		var names []string
		for _, j := range js {
			names = append(names, j.s.pkg+" "+strings.TrimPrefix(j.name, "Benchmark"))
		}
		runs = append(runs, pass(fmt.Sprintf("extra pass %d: %s", extras+1, strings.Join(names, ", ")), c.benchtime, js, long)...)
	}
	print(os.Stdout, summarize(runs))
	if count > 1 {
		fmt.Fprintf(os.Stdout, "\n%d runs of each benchmark, one per pass (-benchtime %s), each in a process of its own, after a pass that built the fixtures; in %s. Figures are medians, range is the fastest and slowest run.\n",
			count, c.benchtime, time.Since(start).Round(time.Second))
	} else {
		fmt.Fprintf(os.Stdout, "\n1 run of each benchmark (-benchtime %s), each in a process of its own, in %s.\n", c.benchtime, time.Since(start).Round(time.Second))
	}
	if len(noisy) > 0 {
		fmt.Fprintf(os.Stdout, "Median not within %.2g× (90%% confidence) after the passes, so run again (with the other sizes of the same benchmark) in %d extra passes: %s.\n",
			c.spread, extras, strings.Join(noisy, "; "))
	}
	if len(long) > 0 {
		fmt.Fprintf(os.Stdout, "Run twice, in the first and the last pass (a run of at least %s averages itself): %d benchmarks.\n", c.once, len(long))
	}
	fmt.Fprintln(os.Stdout, referenceLine(speed))
	fmt.Fprintln(os.Stdout, memoryLine(memory))
	fmt.Fprintln(os.Stdout, diskLine(disk))
	if cpu != nil {
		fmt.Fprintln(os.Stdout, cpu.summary())
	}
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
			pkg = strings.TrimPrefix(m[1], modulePrefix)
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
	interval        [2]float64         // where the median time/op lies (medianInterval)
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
			if k == "ns/op" {
				r.interval[0], r.interval[1] = medianInterval(v)
			}
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
