package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A module of three benchmarks, built and run as make bench runs them: one process per
// top-level benchmark, in the package's directory (BenchmarkDir reads a file there),
// a long sub-benchmark skipped, a failing benchmark failing only itself.
func TestSuitesRunAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary")
	}
	mod := t.TempDir()
	for name, text := range map[string]string{
		"go.mod":     "module example.com/m\n\ngo 1.24\n",
		"p/p.go":     "package p\n",
		"p/here.txt": "here\n",
		"q/q.go":     "package q\n", // no tests: no binary
		"p/bench_test.go": `package p

import (
	"os"
	"testing"
)

var pid = os.Getpid()

func BenchmarkSize(b *testing.B) {
	for _, n := range []string{"n=1", "n=2"} {
		b.Run(n, func(b *testing.B) {
			for range b.N {
			}
			b.ReportMetric(float64(pid), "pid")
		})
	}
}

func BenchmarkDir(b *testing.B) {
	if _, err := os.Stat("here.txt"); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(pid), "pid")
}

func BenchmarkFail(b *testing.B) { b.Fatal("no exporter") }

func TestNotABenchmark(t *testing.T) {}
`,
	} {
		path := filepath.Join(mod, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(mod)
	ctx := context.Background()
	suites, err := buildSuites(ctx, []string{"./..."}, regexp.MustCompile("."), t.TempDir(), os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	if len(suites) != 1 || suites[0].pkg != "example.com/m/p" || !slices.Equal(suites[0].benches, []string{"BenchmarkSize", "BenchmarkDir", "BenchmarkFail"}) {
		t.Fatalf("suites %+v", suites[0])
	}
	skip := []longRun{{pkg: "example.com/m/p", full: "BenchmarkSize/n=2", pattern: "^BenchmarkSize$/^n=2$"},
		{pkg: "example.com/m/p", full: "BenchmarkDir/none", pattern: "^BenchmarkDir$/^none$"}}
	var got []run
	var failed []string
	for _, j := range jobs(suites) {
		r, err := j.run(ctx, j.args("1x", "", skip), os.Environ(), nil)
		got = append(got, r...)
		if err != nil {
			failed = append(failed, err.Error())
		}
	}
	var names []string
	pids := map[float64]bool{}
	for _, r := range got {
		names = append(names, r.pkg+" "+r.full)
		pids[r.metrics["pid"]] = true
	}
	if want := []string{"example.com/m/p BenchmarkSize/n=1", "example.com/m/p BenchmarkDir"}; !slices.Equal(names, want) {
		t.Errorf("runs %q, want %q", names, want)
	}
	if len(pids) != 2 {
		t.Errorf("the benchmarks ran in %d processes, want one each", len(pids))
	}
	if len(failed) != 1 || !strings.Contains(failed[0], "BenchmarkFail") || !strings.Contains(failed[0], "no exporter") {
		t.Errorf("failures %q, want BenchmarkFail's, with what it said", failed)
	}
	// A pattern's sub-benchmark levels reach the process.
	j := jobs(suites)[0]
	if r, err := j.run(ctx, j.args("1x", "n=2", nil), os.Environ(), newCPUs()); err != nil || len(r) != 1 || r[0].full != "BenchmarkSize/n=2" {
		t.Errorf("BenchmarkSize with rest n=2: %v, %+v", err, r)
	}
}

func TestSplitPattern(t *testing.T) {
	for in, want := range map[string][2]string{".": {".", ""}, "Commit/series=1000": {"Commit", "series=1000"}, "A/b/c": {"A", "b/c"}} {
		if top, rest := splitPattern(in); top != want[0] || rest != want[1] {
			t.Errorf("splitPattern(%q) = %q, %q", in, top, rest)
		}
	}
}
