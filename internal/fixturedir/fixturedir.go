// Package fixturedir keeps benchmark fixtures that take seconds to build (stores of
// thousands of series, a rendered site) so that every run of a benchmark measures the
// same warm fixture instead of building its own. Within a process they live in one
// temporary directory, which the package's TestMain removes with Remove. When
// MRTGO_BENCH_FIXTURES names a directory (make bench sets it for its passes over the
// suite), they live there instead and outlive the process: the next pass opens what
// an earlier one built and marked Ready.
package fixturedir

import (
	"errors"
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

// Remove deletes the directory and everything in it, if this process made it.
func (d *Dir) Remove() {
	if d.path != "" && !d.kept {
		os.RemoveAll(d.path)
	}
}
