package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/daemon"
	"github.com/mrtgo/mrtgo/rrd"
)

// lockWait is how long a command waits for another mrtgo process to release the store
// (a variable so that tests need not wait as long).
var lockWait = 10 * time.Second

// openStore opens the store, mapping "locked by another process" to exitLocked.
func openStore(path string, readOnly bool) (*rrd.DB, error) {
	return openStoreWith(path, &rrd.Options{Timeout: lockWait, ReadOnly: readOnly})
}

// openStoreWith is openStore with options of the caller's.
func openStoreWith(path string, opts *rrd.Options) (*rrd.DB, error) {
	readOnly := opts.ReadOnly
	if !readOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create store directory: %w", err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open store: %w (run \"mrtgo poll --once\" first)", err)
	}
	db, err := rrd.Open(path, opts)
	if errors.Is(err, rrd.ErrLocked) {
		return nil, withCode(exitLocked, err)
	}
	return db, err
}

// openWriter opens the store for writing and builds the recorder and poller of cfg
// over it. The catalog of series is read while the poller's memory is restored and the
// first cycle polls: the first commit waits for it.
func openWriter(cfg *config.Config, e *env) (*daemon.Writer, error) {
	db, err := openStoreWith(cfg.Data, &rrd.Options{Timeout: lockWait, Background: true})
	if err != nil {
		return nil, err
	}
	w, err := daemon.NewWriter(db, cfg, e.log)
	if err != nil {
		db.Close()
		return nil, err
	}
	return w, nil
}
