package rrd

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"
)

// Reshape gives an existing series a new spec (other archives, rows, xff,
// heartbeat or bounds; the same step and data sources) without losing its
// history: each row of each new archive is rebuilt from the finest old data
// that covers it — the old primary data points, else an old archive with
// the same consolidation function whose row length divides the new one.
// Rows nothing covers are unknown. The update state carries over, so the
// next update continues where the last one left off; so do Holt-Winters
// detectors of the same period, and detectors added (or of another
// period) learn the primary data points of the old one-step archive.
func (db *DB) Reshape(name string, spec Spec) error {
	if db.ro {
		return fmt.Errorf("reshape %s: %w", name, ErrReadOnly)
	}
	ns, err := spec.normalize()
	if err != nil {
		return fmt.Errorf("reshape %s: %w", name, err)
	}
	if err := db.ready(); err != nil {
		return err
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	old := db.series[name]
	if old == nil {
		return fmt.Errorf("reshape %s: %w", name, ErrNoSeries)
	}
	if ns.Step != old.spec.Step || len(ns.DS) != len(old.spec.DS) {
		return fmt.Errorf("reshape %s: step and data sources must stay the same: %w", name, ErrSpecMismatch)
	}
	for i := range ns.DS {
		if ns.DS[i].Name != old.spec.DS[i].Name || ns.DS[i].Type != old.spec.DS[i].Type || ns.DS[i].Bits != old.spec.DS[i].Bits {
			return fmt.Errorf("reshape %s: data source %d changed: %w", name, i, ErrSpecMismatch)
		}
	}
	arch, key := shape(ns)
	if key == old.g.key {
		// Same storage (bounds, heartbeat or archive order changed): the
		// record is all that changes.
		s := newSeries(name, ns, old.g, old.col)
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			v, _ := json.Marshal(storedSeries{Group: old.g.id, Col: old.col, Spec: toStored(ns)})
			return tx.Bucket(bucketSeries).Put([]byte(name), v)
		})
		if err != nil {
			return fmt.Errorf("reshape %s: %w", name, err)
		}
		db.mu.Lock()
		db.series[name] = s
		db.resolved = nil
		db.mu.Unlock()
		return nil
	}
	g := db.groups[key]
	newGroup := g == nil
	if newGroup {
		g = makeGroup(db.nextID, key, ns, arch)
	}
	col := g.cols
	s := newSeries(name, ns, g, col)
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		gb, err := tx.CreateBucketIfNotExists(g.bucket)
		if err != nil {
			return err
		}
		id := make([]byte, 4)
		binary.BigEndian.PutUint32(id, g.id)
		if err := tx.Bucket(bucketGroups).Put(id, g.stored(col+1)); err != nil {
			return err
		}
		v, _ := json.Marshal(storedSeries{Group: g.id, Col: col, Spec: toStored(ns)})
		if err := tx.Bucket(bucketSeries).Put([]byte(name), v); err != nil {
			return err
		}
		w := newWork(tx)
		ow := w.group(nil, old.g, old.g.cols)
		nw := w.group(gb, g, col+1)
		copy(nw.stateRec(col), ow.stateRec(old.col))
		lastUs := int64(binary.LittleEndian.Uint64(ow.stateRec(old.col)))
		rebuild(tx, old, s, nw, floorDiv(lastUs, 1e6))
		reshapeHW(tx, old, s, ow, nw, floorDiv(lastUs, 1e6))
		return w.flush()
	})
	if err != nil {
		return fmt.Errorf("reshape %s: %w", name, err)
	}
	db.mu.Lock()
	g.cols = col + 1
	if newGroup {
		db.groups[key] = g
		db.byID[g.id] = g
		db.nextID++
	}
	db.series[name] = s
	db.resolved = nil
	db.mu.Unlock()
	return nil
}

// oldArchive is one archive of the series before reshaping, read whole.
type oldArchive struct {
	cf    CF
	steps int64
	start int64 // time of the row before the first
	rowS  int64
	rows  [][]float64
}

func (o *oldArchive) value(t int64, d int) (float64, bool) {
	i := (t - o.start) / o.rowS
	if t <= o.start || (t-o.start)%o.rowS != 0 || i > int64(len(o.rows)) {
		return 0, false
	}
	return o.rows[i-1][d], true
}

// rebuild writes every row of every storage archive of s (column s.col of
// nw) from the archives of old.
func rebuild(tx *bolt.Tx, old, s *series, nw *groupWork, lastS int64) {
	stepS := old.g.stepUs / 1e6
	var olds []*oldArchive
	for i, a := range old.spec.Archives {
		rowS := int64(a.Steps) * stepS
		calEnd := lastS - floorMod(lastS, rowS)
		res := fetchArchive(tx, old, i, calEnd-rowS*int64(a.Rows), calEnd, lastS)
		olds = append(olds, &oldArchive{cf: a.CF, steps: int64(a.Steps), start: res.Start.Unix(), rowS: rowS, rows: res.Rows})
	}
	nds := s.g.nds
	chunk := s.col / chunkCols
	for a, ar := range s.g.arch {
		S := int64(ar.Steps)
		rowS := S * stepS
		calEnd := lastS - floorMod(lastS, rowS)
		for r := int64(0); r < int64(ar.Rows); r++ {
			t := calEnd - r*rowS
			rb := nw.row(a, floorMod(t/rowS, int64(ar.Rows)), chunk, true)
			for d := 0; d < nds; d++ {
				rb.set(s.col, nds, d, bounded(rebuiltValue(olds, ar, t, stepS, d), &s.spec.DS[d]))
			}
		}
	}
}

// rebuiltValue is the value of the row of ar ending at t, from the finest
// old archive that covers it, or NaN.
func rebuiltValue(olds []*oldArchive, ar Archive, t, stepS int64, d int) float64 {
	S := int64(ar.Steps)
	var best *oldArchive
	for _, o := range olds {
		if S%o.steps != 0 || (o.steps > 1 && o.cf != ar.CF) {
			continue
		}
		if _, ok := o.value(t-(S/o.steps-1)*o.rowS, d); !ok {
			continue
		}
		if best == nil || o.steps < best.steps {
			best = o
		}
	}
	if best == nil {
		return math.NaN()
	}
	// Rows of best.steps primary data points each: weight them so.
	n := S / best.steps
	c := newCDP()
	for p := int64(0); p < n; p++ {
		v, _ := best.value(t-(n-1-p)*best.rowS, d)
		c.add(v, best.steps)
	}
	return c.value(ar)
}
