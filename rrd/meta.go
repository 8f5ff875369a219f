package rrd

import (
	"bytes"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// bucketNotes holds callers' small facts about series and their sources (an
// interface's description and speed, a device's last poll), kept in the same file so
// they share its lock and its crash safety.
var bucketNotes = []byte("notes")

// PutMeta stores the given keys in one transaction; a nil value deletes its key.
func (db *DB) PutMeta(kv map[string][]byte) error {
	if db.ro {
		return ErrReadOnly
	}
	if len(kv) == 0 {
		return nil
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return putMeta(tx, kv) }); err != nil {
		return fmt.Errorf("put meta: %w", err)
	}
	return nil
}

func putMeta(tx *bolt.Tx, kv map[string][]byte) error {
	if len(kv) == 0 {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketNotes)
	if err != nil {
		return err
	}
	for k, v := range kv {
		if v == nil {
			err = b.Delete([]byte(k))
		} else {
			err = b.Put([]byte(k), v)
		}
		if err != nil {
			return fmt.Errorf("put meta %q: %w", k, err)
		}
	}
	return nil
}

// Meta returns a copy of the value stored under key by PutMeta, or nil.
func (db *DB) Meta(key string) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketNotes); b != nil {
			if v := b.Get([]byte(key)); v != nil {
				out = append([]byte(nil), v...)
			}
		}
		return nil
	})
	return out, err
}

// MetaPrefix returns a copy of every value stored by PutMeta under a key starting with
// prefix, by key, in one read transaction.
//
// A cron run reads the facts of every interface this way: the keys are counted and
// measured first, so that the map is made at its size and the keys and values are
// copied into one block each, not one allocation per key and value.
func (db *DB) MetaPrefix(prefix string) (map[string][]byte, error) {
	var out map[string][]byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNotes)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		p := []byte(prefix)
		n, keyBytes, valBytes := 0, 0, 0
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			n, keyBytes, valBytes = n+1, keyBytes+len(k), valBytes+len(v)
		}
		// The builder is grown to hold every key, so that the string it returns at
		// the end is the block they were appended to and each key a part of it.
		var keys strings.Builder
		keys.Grow(keyBytes)
		vals := make([]byte, 0, valBytes)
		ends := make([]int, 0, n) // where each key ends in keys
		byKey := make([][]byte, 0, n)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			keys.Write(k)
			ends = append(ends, keys.Len())
			var val []byte // nil for an empty value, as a copy of it would be
			if len(v) > 0 {
				start := len(vals)
				vals = append(vals, v...)
				// Capacity capped at its length: a caller appending to one value
				// must not write over the next.
				val = vals[start:len(vals):len(vals)]
			}
			byKey = append(byKey, val)
		}
		all := keys.String()
		out = make(map[string][]byte, n)
		at := 0
		for i, end := range ends {
			out[all[at:end]] = byKey[i]
			at = end
		}
		return nil
	})
	if out == nil {
		out = map[string][]byte{}
	}
	return out, err
}
