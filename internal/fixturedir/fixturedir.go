// Package fixturedir keeps benchmark fixtures that take seconds to build (stores of
// thousands of series, a rendered site) so that every run of a benchmark measures the
// same warm fixture instead of building its own. Within a process they live in one
// temporary directory, which the package's TestMain removes with Remove. When
// MRTGO_BENCH_FIXTURES names a directory (make bench sets it for its passes over the
// suite), they live there instead and outlive the process: the next pass opens what
// an earlier one built and marked Ready. A fixture the benchmarks change is opened
// through Copy, so that every process starts from it as it was built.
package fixturedir

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Env names the directory fixtures outlive their process in.
const Env = "MRTGO_BENCH_FIXTURES"

// Dir is a fixture directory made on first use. The zero value is ready; Prefix
// names the directory.
type Dir struct {
	Prefix string

	once sync.Once
	path string
	kept bool // in Env's directory: not removed
	err  error

	mu   sync.Mutex // guards mine: parallel benchmarks may copy at once
	mine string     // this process's copies of kept fixtures (Copy); removed
}

func (d *Dir) open() {
	d.once.Do(func() {
		if shared := os.Getenv(Env); shared != "" {
			d.path, d.kept = filepath.Join(shared, d.Prefix), true
			d.err = os.MkdirAll(d.path, 0o755)
			return
		}
		d.path, d.err = os.MkdirTemp("", d.Prefix)
	})
}

// Path returns name inside the directory, making the directory on first use.
func (d *Dir) Path(tb testing.TB, name string) string {
	tb.Helper()
	d.open()
	if d.err != nil {
		tb.Fatalf("make fixture directory: %v", d.err)
	}
	return filepath.Join(d.path, name)
}

// Ready reports whether an earlier process built the fixture name completely.
func (d *Dir) Ready(tb testing.TB, name string) bool {
	tb.Helper()
	_, err := os.Stat(d.Path(tb, name+".ready"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	return err == nil
}

// MarkReady records that the fixture name is built, for later processes.
func (d *Dir) MarkReady(tb testing.TB, name string) {
	tb.Helper()
	if err := os.WriteFile(d.Path(tb, name+".ready"), nil, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Copy returns a file this process may change that starts as the built fixture
// name: in Env's directory a copy in a directory of the process's own, which Remove
// deletes; otherwise the fixture itself, which no other process sees.
//
// A fixture that every pass went on changing aged from pass to pass, and its figures
// with it: a Holt-Winters store of 100,000 series took ~90 ms a cycle in the first
// passes and 140-400 ms from the fifth, as its file grew from 0.5 to 3.9 GiB; a
// 10,000-series one took 2-2.5x its usual time in the fifth pass of both of two
// runs. From a copy,
// every process times the same cycles of the same store.
//
// The copy is synced before it is returned, so that writing it back to disk falls
// here and not in a timed run.
func (d *Dir) Copy(tb testing.TB, name string) string {
	tb.Helper()
	src := d.Path(tb, name)
	if !d.kept {
		return src
	}
	d.mu.Lock()
	if d.mine == "" {
		dir, err := os.MkdirTemp(d.path, "process-")
		if err != nil {
			d.mu.Unlock()
			tb.Fatalf("fixture copy: %v", err)
		}
		d.mine = dir
	}
	dst := filepath.Join(d.mine, name)
	d.mu.Unlock()
	if err := copyFile(src, dst); err != nil {
		tb.Fatalf("fixture copy: %v", err)
	}
	return dst
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Remove deletes the directory and everything in it, if this process made it, and
// this process's copies.
func (d *Dir) Remove() {
	if d.path != "" && !d.kept {
		os.RemoveAll(d.path)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mine != "" {
		os.RemoveAll(d.mine)
		d.mine = ""
	}
}
