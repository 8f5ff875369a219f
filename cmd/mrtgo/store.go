package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/poller"
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

// writer is what the polling commands share: the store open for writing, the recorder
// that fills it and the poller of the configured devices.
type writer struct {
	db     *rrd.DB
	rec    *pipeline.Recorder
	poller *poller.Poller
}

func openWriter(cfg *config.Config, e *env) (*writer, error) {
	// The catalog of series is read while the poller's memory is restored and the
	// first cycle polls: the first commit waits for it.
	db, err := openStoreWith(cfg.Data, &rrd.Options{Timeout: lockWait, Background: true})
	if err != nil {
		return nil, err
	}
	rec := pipeline.NewRecorder(db, cfg.Step, hosts(cfg), e.log)
	rec.SetRetention(cfg.Retention)
	// Spread only matters to Run (the daemon): devices start evenly over the first half
	// of each step instead of all at once.
	p := poller.New(cfg.Devices, poller.Options{Logger: e.log, Now: time.Now, Spread: true})
	// Cron's "poll --once" and a restarted daemon take up where the last cycle left
	// off: the same interface mapping, clocks and counters, so the same decisions.
	if err := pipeline.RestorePoller(db, p, e.log); err != nil {
		db.Close()
		return nil, err
	}
	return &writer{db: db, rec: rec, poller: p}, nil
}

// Close ends the SNMP sessions (SNMPv3 clients live across cycles) and the store.
func (w *writer) Close() error {
	w.poller.Close()
	return w.db.Close()
}
