package rrd

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// LastUpdates returns the time of the last update of each named series (the start
// given to Create if it has had none), in one read transaction: what Info returns of
// each, without a transaction per series. It fails as a whole if a name is unknown.
func (db *DB) LastUpdates(names []string) ([]time.Time, error) {
	if err := db.ready(); err != nil {
		return nil, err
	}
	ss, err := db.lookupAll("last update of", names)
	if err != nil {
		return nil, err
	}
	out := make([]time.Time, len(names))
	err = db.bolt.View(func(tx *bolt.Tx) error {
		for i, s := range ss {
			last, err := readLastUp(tx, s)
			if err != nil {
				return fmt.Errorf("last update of %s: %w", s.name, err)
			}
			out[i] = time.UnixMicro(last).UTC()
		}
		return nil
	})
	return out, err
}

// lookupAll returns the series of names, or an error naming the first unknown one
// after op ("fetch", say).
func (db *DB) lookupAll(op string, names []string) ([]*series, error) {
	ss := make([]*series, len(names))
	db.mu.RLock()
	for i, n := range names {
		ss[i] = db.series[n]
	}
	db.mu.RUnlock()
	for i, s := range ss {
		if s == nil {
			return nil, fmt.Errorf("%s %s: %w", op, names[i], ErrNoSeries)
		}
	}
	return ss, nil
}
