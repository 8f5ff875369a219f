package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// modulePrefix is dropped from import paths in the table ("rrd", not the whole path).
const modulePrefix = "github.com/mrtgo/mrtgo/"

// suite is one package's test binary and the top-level benchmarks it runs.
type suite struct {
	pkg     string // as the table names it: "rrd", "internal/pipeline"
	dir     string // the package's directory, where go test would run the binary
	bin     string
	benches []string // top-level names, BenchmarkCommitCycle, in the order they are declared
}

// job is one process: one top-level benchmark of one suite, with every sub-benchmark
// the pattern selects.
type job struct {
	s    *suite
	name string
}

// buildSuites compiles the test binary of each package (go test -c, once: the passes
// then start processes, not builds) into dir and lists its top-level benchmarks
// matching top, the part of the -bench pattern before its first slash.
func buildSuites(ctx context.Context, pkgs []string, top *regexp.Regexp, dir string, env []string) ([]*suite, error) {
	list := exec.CommandContext(ctx, "go", append([]string{"list", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}"}, pkgs...)...)
	list.Stderr = os.Stderr
	out, err := list.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	var suites []*suite
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || (f[2] == "0" && f[3] == "0") {
			continue // no tests, so no benchmarks
		}
		s := &suite{pkg: strings.TrimPrefix(f[0], modulePrefix), dir: f[1], bin: filepath.Join(dir, fmt.Sprintf("%02d.test", i))}
		build := exec.CommandContext(ctx, "go", "test", "-c", "-o", s.bin, f[0])
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("go test -c %s: %w", f[0], err)
		}
		ls := exec.CommandContext(ctx, s.bin, "-test.list", "^Benchmark")
		ls.Dir, ls.Env, ls.Stderr = s.dir, env, os.Stderr
		names, err := ls.Output()
		if err != nil {
			return nil, fmt.Errorf("%s -test.list: %w", f[0], err)
		}
		for _, n := range strings.Fields(string(names)) {
			if strings.HasPrefix(n, "Benchmark") && top.MatchString(n) {
				s.benches = append(s.benches, n)
			}
		}
		if len(s.benches) > 0 {
			suites = append(suites, s)
		}
	}
	return suites, nil
}

// jobs is every top-level benchmark of the suites, in order.
func jobs(suites []*suite) []job {
	var out []job
	for _, s := range suites {
		for _, n := range s.benches {
			out = append(out, job{s, n})
		}
	}
	return out
}

// splitPattern separates a -bench pattern into its top level and the rest (the
// sub-benchmark levels, without the slash), as go test reads it.
func splitPattern(p string) (top, rest string) {
	top, rest, _ = strings.Cut(p, "/")
	return top, rest
}

// args are the test binary's arguments that run j's benchmark (and the sub-benchmarks
// rest selects) once, at benchtime, skipping the patterns of skip that belong to it.
func (j job) args(benchtime, rest string, skip []longRun) []string {
	pattern := "^" + regexp.QuoteMeta(j.name) + "$"
	if rest != "" {
		pattern += "/" + rest
	}
	args := []string{"-test.run", "^$", "-test.bench", pattern, "-test.benchmem",
		"-test.benchtime", benchtime, "-test.count", "1", "-test.timeout", "60m"}
	var skips []string
	for _, l := range skip {
		if top, _, _ := strings.Cut(l.full, "/"); l.pkg == j.s.pkg && top == j.name {
			skips = append(skips, l.pattern)
		}
	}
	if len(skips) > 0 {
		args = append(args, "-test.skip", strings.Join(skips, "|"))
	}
	return args
}

// run runs j in a process of its own, in its package's directory as go test would,
// and returns its results; its output goes on to stderr as it comes (progress). With
// cpu (not nil) the process runs on one CPU, the fastest, and follows the fastest
// while it runs (see cpus).
func (j job) run(ctx context.Context, args, env []string, cpu *cpus) ([]run, error) {
	cmd := exec.CommandContext(ctx, j.s.bin, args...)
	cmd.Dir, cmd.Env = j.s.dir, env
	// The benchmark and whatever it started (snmpd, an exporter, mrtgo), together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var tail strings.Builder // what a failing benchmark said, for the error
	cmd.Stderr = io.MultiWriter(os.Stderr, &tail)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if cpu == nil || len(cpu.ids) < 2 {
		err = cmd.Start()
	} else {
		at := cpu.fastest(ctx, 5*time.Second)
		if err = cpu.start(cmd, at); err == nil {
			fctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go cpu.follow(fctx, cmd.Process.Pid, at, func(s string) { fmt.Fprintln(os.Stderr, s) })
		}
	}
	if err != nil {
		return nil, err
	}
	got := parse(io.TeeReader(out, io.MultiWriter(os.Stderr, &tail)))
	if err := cmd.Wait(); err != nil {
		return got, fmt.Errorf("%s %s: %w%s", j.s.pkg, j.name, err, lastLines(tail.String(), 5))
	}
	return got, nil
}

// lastLines is the end of a failed process's output, indented, for its error.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	lines = lines[max(0, len(lines)-n):]
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	return "\n\t" + strings.Join(lines, "\n\t")
}

// longRun is a benchmark (or one sub-benchmark) long enough to average itself.
type longRun struct {
	pkg     string
	full    string // its name as go test prints it, BenchmarkOnRequest/idle-step/interfaces=100000
	pattern string // a -test.skip pattern that selects it
}

// rerunJobs are the processes that run the rows again: their top-level benchmarks,
// each with every size (the others' figures gain runs too, at little cost).
func rerunJobs(rows []row, suites []*suite) []job {
	var out []job
	for _, r := range rows {
		name := "Benchmark" + strings.SplitN(r.name, "/", 2)[0]
		for _, s := range suites {
			if s.pkg == r.pkg && slices.Contains(s.benches, name) && !slices.Contains(out, job{s, name}) {
				out = append(out, job{s, name})
			}
		}
	}
	return out
}

// errNoBenchmarks is returned when the pattern selects nothing.
var errNoBenchmarks = errors.New("no benchmark matches")

// matches reports whether r is a run of l.
func (l longRun) matches(r run) bool { return r.pkg == l.pkg && r.full == l.full }
