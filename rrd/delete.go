package rrd

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Delete removes the named series and applies meta (as PutMeta: a nil value deletes
// its key) in one transaction: the series are no longer listed, fetched or updated,
// and a series created later under one of their names starts empty. A name that is
// not a series is ErrNoSeries, and nothing is deleted.
//
// The rows' space is not reclaimed: each series keeps its column of its group's rows,
// unused, as long as the file lives (the file has a fixed size per series created).
func (db *DB) Delete(names []string, meta map[string][]byte) error {
	if db.ro {
		return fmt.Errorf("delete series: %w", ErrReadOnly)
	}
	if err := db.ready(); err != nil {
		return err
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	db.mu.RLock()
	for _, n := range names {
		if db.series[n] == nil {
			db.mu.RUnlock()
			return fmt.Errorf("delete series %s: %w", n, ErrNoSeries)
		}
	}
	db.mu.RUnlock()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSeries)
		for _, n := range names {
			if err := b.Delete([]byte(n)); err != nil {
				return err
			}
		}
		return putMeta(tx, meta)
	})
	if err != nil {
		return fmt.Errorf("delete series: %w", err)
	}
	db.mu.Lock()
	for _, n := range names {
		delete(db.series, n)
	}
	db.resolved = nil
	db.mu.Unlock()
	return nil
}
