package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mrtgo/mrtgo/rrd"
)

// lockWait is how long a command waits for another mrtgo process to release the store.
const lockWait = 10 * time.Second

// openStore opens the store, mapping "locked by another process" to exitLocked.
func openStore(path string, readOnly bool) (*rrd.DB, error) {
	if !readOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create store directory: %w", err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open store: %w (run \"mrtgo poll --once\" first)", err)
	}
	db, err := rrd.Open(path, &rrd.Options{Timeout: lockWait, ReadOnly: readOnly})
	if errors.Is(err, rrd.ErrLocked) {
		return nil, withCode(exitLocked, err)
	}
	return db, err
}
