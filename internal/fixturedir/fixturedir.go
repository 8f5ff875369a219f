// Package fixturedir keeps benchmark fixtures that take seconds to build (stores of
// thousands of series, a rendered site) for the life of a test process, so that every
// run of a benchmark (make bench runs each several times) measures the same warm
// fixture instead of building its own. They live in one temporary directory, which the
// package's TestMain removes with Remove.
package fixturedir

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Dir is a temporary directory made on first use. The zero value is ready; Prefix
// names the directory.
type Dir struct {
	Prefix string

	once sync.Once
	path string
	err  error
}

// Path returns name inside the directory, making the directory on first use.
func (d *Dir) Path(tb testing.TB, name string) string {
	tb.Helper()
	d.once.Do(func() { d.path, d.err = os.MkdirTemp("", d.Prefix) })
	if d.err != nil {
		tb.Fatalf("make fixture directory: %v", d.err)
	}
	return filepath.Join(d.path, name)
}

// Remove deletes the directory and everything in it, if it was made.
func (d *Dir) Remove() {
	if d.path != "" {
		os.RemoveAll(d.path)
	}
}
