package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const sample = `goos: linux
pkg: github.com/mrtgo/mrtgo/rrd
BenchmarkCommitCycle/series=10000-2   	       1	   7500000 ns/op	    679936 bytes-written/cycle	         2.2 cpu-ms/op	  724112 B/op	     342 allocs/op
BenchmarkCommitCycle/series=10000-2   	       1	   2900000 ns/op	    679936 bytes-written/cycle	         2.0 cpu-ms/op	  724112 B/op	     342 allocs/op
BenchmarkCommitCycle/series=10000-2   	       1	   3100000 ns/op	    679936 bytes-written/cycle	         2.4 cpu-ms/op	  724112 B/op	     340 allocs/op
BenchmarkBackfillYear-2               	       1	3247222391 ns/op	336229424 B/op	 8039772 allocs/op
BenchmarkBackfillYear-2               	       1	3000000000 ns/op	336229424 B/op	 8039772 allocs/op
ok  	github.com/mrtgo/mrtgo/rrd	150.261s
pkg: github.com/mrtgo/mrtgo/poller/snmpsim
BenchmarkCounters-2           	       1	      1152 ns/op	       0 B/op	       0 allocs/op
pkg: github.com/mrtgo/mrtgo/rrd
BenchmarkFileSize/series=1000-2            	       1	    131138 bytes/series
BenchmarkFileSize/series=1000-2            	1000000000	    131138 bytes/series
`

func TestSummarize(t *testing.T) {
	rows := summarize(parse(strings.NewReader(sample)))
	if len(rows) != 4 {
		t.Fatalf("got %d rows, want 4: %+v", len(rows), rows)
	}
	tests := []struct {
		pkg, name, size string
		runs            int
		ns, lo, hi      float64
		metric          string
		want            float64
	}{
		{"rrd", "CommitCycle", "series=10000", 3, 3.1e6, 2.9e6, 7.5e6, "cpu-ms/op", 2.2},
		{"rrd", "BackfillYear", "", 2, (3247222391 + 3e9) / 2, 3e9, 3247222391, "allocs/op", 8039772},
		{"poller/snmpsim", "Counters", "", 1, 1152, 1152, 1152, "B/op", 0},
	}
	for i, tt := range tests {
		r := rows[i]
		if r.pkg != tt.pkg || r.name != tt.name || r.size != tt.size || r.runs != tt.runs {
			t.Errorf("row %d: got %s %s %q with %d runs, want %s %s %q with %d", i, r.pkg, r.name, r.size, r.runs, tt.pkg, tt.name, tt.size, tt.runs)
		}
		if r.median["ns/op"] != tt.ns || r.lo["ns/op"] != tt.lo || r.hi["ns/op"] != tt.hi {
			t.Errorf("%s: ns/op median %v range %v-%v, want %v, %v-%v", r.name, r.median["ns/op"], r.lo["ns/op"], r.hi["ns/op"], tt.ns, tt.lo, tt.hi)
		}
		if got := r.median[tt.metric]; got != tt.want {
			t.Errorf("%s: median %s %v, want %v", r.name, tt.metric, got, tt.want)
		}
	}
	var b strings.Builder
	print(&b, rows)
	for _, want := range []string{"3.1ms", "2.9ms–7.5ms", "3.12s", "1.15µs", "2.2 cpu-ms/op"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	// A result that is not a time has no time per operation and no range.
	for _, line := range strings.Split(b.String(), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[1] == "FileSize" && (f[3] != "-" || f[4] != "-" || f[5] != "-") {
			t.Errorf("FileSize row %q: want - for time/op, range and allocs/op", line)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLongRuns(t *testing.T) {
	runs := parse(strings.NewReader(`pkg: github.com/mrtgo/mrtgo/internal/daemon
BenchmarkFlowIngest-2   	       1	70010000000 ns/op	   48300 records/s
BenchmarkDecodeAndStore/detect=off-2 	   60000	      3490 ns/op
BenchmarkOnRequest/idle-step/interfaces=100000-2 	       1	69130000000 ns/op
BenchmarkFileSize/series=1000-2            	       1	    131138 bytes/series
`))
	long := longRuns(runs, 10*time.Second)
	var got []string
	for _, l := range long {
		got = append(got, l.pkg+" "+l.full+" "+l.pattern)
	}
	want := []string{`internal/daemon BenchmarkFlowIngest ^BenchmarkFlowIngest$`,
		`internal/daemon BenchmarkOnRequest/idle-step/interfaces=100000 ^BenchmarkOnRequest$/^idle-step$/^interfaces=100000$`}
	if !slices.Equal(got, want) {
		t.Errorf("longRuns = %q, want %q", got, want)
	}
	if !long[1].matches(runs[2]) || long[1].matches(runs[1]) || long[0].matches(runs[2]) {
		t.Errorf("longRun.matches picks the wrong runs")
	}
	// The patterns select what go test's -skip would: each level matched on its own.
	for _, l := range long {
		p := l.pattern
		for i, level := range strings.Split(p, "/") {
			name := strings.Split(strings.Split(p, "/")[0], "$")[0][1:]
			if i > 0 {
				name = strings.Trim(level, "^$")
			}
			if !regexp.MustCompile(level).MatchString(name) {
				t.Errorf("pattern %q level %q does not match %q", p, level, name)
			}
		}
	}
}

func TestRelative(t *testing.T) {
	if got := relative([]float64{100, 125, 100}); got != "1.00 0.80 1.00" {
		t.Errorf("relative = %q", got)
	}
}

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	b := filepath.Join(dir, "b.txt")
	os.WriteFile(a, []byte(`pass 1 of 3
BenchmarkX-2  1  5 ns/op
package  benchmark    size          time/op  range        allocs/op  memory/op  other
rrd      CommitCycle  series=1000   960µs    814µs–1.11ms   148        164.5 KiB
rrd      FetchMonth   series=1000   639µs    519µs–1.55ms  18         360.9 KiB
rrd      FileSize     series=1000   -        -             -          -          131.1k bytes/series
daemon   FlowIngest   -             1m10.01s  1m0s–1m10.05s  164.76M    25.9 GiB

3 runs of each benchmark
`+referenceLine([]float64{40e6, 44e6, 42e6})+"\n"), 0o644)
	os.WriteFile(b, []byte(`package  benchmark    size          time/op  range  allocs/op  memory/op  other
rrd      FetchMonth   series=1000   1.23ms   -      18         360.9 KiB
rrd      CommitCycle  series=1000   1.1ms    -      148        164.5 KiB
daemon   FlowIngest   -             1m0s     -      1          1 B

`+referenceLine([]float64{50.4e6})+"\n"), 0o644)
	var out strings.Builder
	if code := compareFiles(&out, []string{a, b}, 0.2); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if !strings.Contains(out.String(), "FetchMonth") || strings.Contains(out.String(), "CommitCycle") ||
		!strings.Contains(out.String(), "2 of 3 rows in both tables agree within 20 %") ||
		!strings.Contains(out.String(), "took 42ms and 50.4ms in the median pass: the second machine ran at 0.83 times") {
		t.Errorf("comparison:\n%s", out.String())
	}
	if code := compareFiles(&out, []string{a, a}, 0.2); code != 0 {
		t.Errorf("a table against itself: exit status %d", code)
	}
	if code := compareFiles(&out, []string{a, filepath.Join(dir, "none")}, 0.2); code != 2 {
		t.Errorf("a missing file: exit status %d", code)
	}
}

// The rows whose median is not pinned down within 1.5× are run again: CommitCycle
// (2.9 ms to 7.5 ms in three runs), not BackfillYear (two runs only) nor FileSize (no
// time); each by its top-level benchmark in its package's binary.
func TestNoisyRowsRerun(t *testing.T) {
	runs := parse(strings.NewReader(sample + `pkg: github.com/mrtgo/mrtgo/internal/pipeline
BenchmarkSite/full/interfaces=1000-2   	       1	   6000000000 ns/op
BenchmarkSite/full/interfaces=1000-2   	       1	   6100000000 ns/op
BenchmarkSite/full/interfaces=1000-2   	       1	   6200000000 ns/op
BenchmarkSite/incremental/interfaces=1000-2   	       1	   1000000000 ns/op
BenchmarkSite/incremental/interfaces=1000-2   	       1	   1400000000 ns/op
BenchmarkSite/incremental/interfaces=1000-2   	       1	   2100000000 ns/op
`))
	noisy := noisyRows(summarize(runs), 1.5)
	var got []string
	for _, r := range noisy {
		got = append(got, r.pkg+" "+r.name+" "+r.size)
	}
	want := []string{"rrd CommitCycle series=10000", "internal/pipeline Site/incremental interfaces=1000"}
	if !slices.Equal(got, want) {
		t.Fatalf("noisy rows %q, want %q", got, want)
	}
	rrd := &suite{pkg: "rrd", benches: []string{"BenchmarkCommitCycle", "BenchmarkBackfillYear"}}
	pipeline := &suite{pkg: "internal/pipeline", benches: []string{"BenchmarkSite"}}
	if js := rerunJobs(noisy, []*suite{rrd, pipeline}); !slices.Equal(js, []job{{rrd, "BenchmarkCommitCycle"}, {pipeline, "BenchmarkSite"}}) {
		t.Errorf("rerun jobs %v", js)
	}
}

// The interval narrows as runs are added: five runs are bounded by the fastest and
// slowest, nine by the second from each end, so one slow run out of nine no longer
// calls for more.
func TestMedianInterval(t *testing.T) {
	for _, tt := range []struct {
		in     []float64
		lo, hi float64
	}{
		{[]float64{5, 1, 3}, 1, 5},
		{[]float64{10, 11, 12, 13, 30}, 10, 30},
		{[]float64{10, 11, 12, 13, 30, 10, 11, 12, 13}, 10, 13},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, 4, 10},
	} {
		if lo, hi := medianInterval(tt.in); lo != tt.lo || hi != tt.hi {
			t.Errorf("medianInterval(%v) = %v, %v; want %v, %v", tt.in, lo, hi, tt.lo, tt.hi)
		}
	}
	// Its coverage, by the binomial sum it rests on: nine runs, the second from
	// each end, hold the median unless eight or more fall on one side.
	if p := 2 * (binomial(9, 0) + binomial(9, 1)) / 512; p > 0.1 || p < 0.03 {
		t.Errorf("nine runs: %v outside", p)
	}
}

// Times are printed to three figures or more, and read back as printed: a time of
// a few nanoseconds rounded to tens of them was a factor of two apart from the next
// run's (12.87 ns as 10ns, 15.01 ns as 20ns).
func TestDurationRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ns   float64
		want string
	}{
		{12.87, "12.9ns"},
		{15.01, "15ns"},
		{504.4, "504ns"},
		{5604, "5.6µs"},
		{337_400, "337µs"},
		{1_043_000, "1.04ms"},
		{74_050_000_000, "1m14.05s"},
	} {
		got := duration(tc.ns)
		if got != tc.want {
			t.Errorf("duration(%v) = %q, want %q", tc.ns, got, tc.want)
			continue
		}
		back, err := parseDuration(got)
		if err != nil || back/tc.ns < 0.99 || back/tc.ns > 1.01 {
			t.Errorf("parseDuration(%q) = %v, %v; printed from %v", got, back, err, tc.ns)
		}
	}
}

func TestPassEnv(t *testing.T) {
	last := func(env []string, key string) string { // as os/exec passes it: the last wins
		v := ""
		for _, kv := range env {
			if k, val, _ := strings.Cut(kv, "="); k == key {
				v = val
			}
		}
		return v
	}
	env := passEnv([]string{"HOME=/root", "GODEBUG=madvdontneed=1,gctrace=1"}, "/f", "/s")
	if got, want := last(env, "GODEBUG"), "madvdontneed=0,madvdontneed=1,gctrace=1"; got != want {
		t.Errorf("GODEBUG = %q, want %q (the caller's settings after, so that they win)", got, want)
	}
	if last(env, fixturedirEnv) != "/f" || last(env, "TMPDIR") != "/s" || last(env, "HOME") != "/root" {
		t.Errorf("env = %q", env)
	}
	if got := last(passEnv([]string{"GODEBUG="}, "/f", "/s"), "GODEBUG"); got != "madvdontneed=0" {
		t.Errorf("GODEBUG with an empty one set = %q", got)
	}
}

// The memory reference reads through one cycle of the whole chain: every entry is
// visited once before the first comes round again.
func TestMemoryReference(t *testing.T) {
	const n = 1 << 16
	c := makeChain(n)
	at, steps := uint32(0), 0
	for {
		at = c[at]
		steps++
		if at == 0 {
			break
		}
	}
	if steps != n {
		t.Errorf("the chain's cycle is %d entries long, want %d", steps, n)
	}
	if got := memoryLine([]float64{80, 100, 80}); !strings.Contains(got, "1.00 0.80 1.00") || !strings.Contains(got, "80.0ns in the median pass") {
		t.Errorf("memoryLine: %q", got)
	}
}

// TestDiskReference times real writes and syncs in a temporary directory, and the line
// prints each pass's speed relative to the fastest.
func TestDiskReference(t *testing.T) {
	ns := diskReference(t.TempDir())
	if ns <= 0 {
		t.Fatalf("diskReference = %v, want a time", ns)
	}
	if got := diskReference(filepath.Join(t.TempDir(), "missing")); got != 0 {
		t.Errorf("diskReference of a missing directory = %v, want 0", got)
	}
	if got := diskLine([]float64{2e6, 1e6, 4e6}); !strings.Contains(got, "0.50 1.00 0.25") || !strings.Contains(got, "one took 2ms in the median pass") {
		t.Errorf("diskLine: %q", got)
	}
	if got := diskLine([]float64{1e6, 0}); !strings.Contains(got, ": -; one took - in") {
		t.Errorf("diskLine with a failed pass: %q", got)
	}
}
