package rrd

import (
	"bytes"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Result is a fetched range of one series at one resolution.
//
// Rows[i][d] is data source d's value for the interval
// (Start + i·Step, Start + (i+1)·Step], as rrdtool's row stamped
// Start + (i+1)·Step; NaN is unknown.
type Result struct {
	Start time.Time
	Step  time.Duration
	DS    []string
	Rows  [][]float64
}

// Time returns the end of row i's interval (rrdtool's row timestamp).
func (r Result) Time(i int) time.Time { return r.Start.Add(time.Duration(i+1) * r.Step) }

// Column returns data source d's values, one per row.
func (r Result) Column(d int) []float64 {
	out := make([]float64, len(r.Rows))
	for i, row := range r.Rows {
		out[i] = row[d]
	}
	return out
}

// Fetch returns the rows of series name whose intervals overlap
// (start, end], from the archive rrdtool fetch would pick: among archives
// with consolidation function cf (or one step, which serve every function),
// the one covering start whose row length is closest to resolution, else
// the one covering most of the range. resolution 0 means the finest.
//
// Unlike rrdtool, the range ends at the row containing end: rrdtool returns
// one more row when end falls on a row boundary.
func (db *DB) Fetch(name string, cf CF, start, end time.Time, resolution time.Duration) (Result, error) {
	s := db.lookup(name)
	if s == nil {
		return Result{}, fmt.Errorf("fetch %s: %w", name, ErrNoSeries)
	}
	if !end.After(start) {
		return Result{}, fmt.Errorf("fetch %s: end %s not after start %s", name, end, start)
	}
	var res Result
	err := db.bolt.View(func(tx *bolt.Tx) error {
		lastUs, err := readLastUp(tx, s)
		if err != nil {
			return err
		}
		res, err = fetch(tx, s, cf, start, end, resolution, lastUs)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("fetch %s: %w", name, err)
	}
	return res, nil
}

// chooseArchive is rrd_fetch_fn's archive choice; -1 if none has cf.
func chooseArchive(s *series, cf CF, startS, endS, resS, lastS int64) int {
	stepS := s.g.stepUs / 1e6
	bestFull, bestPart := -1, -1
	var bestFullDiff, bestPartDiff, bestMatch int64
	for i, a := range s.spec.Archives {
		if a.CF != cf && a.Steps != 1 {
			continue
		}
		rowS := int64(a.Steps) * stepS
		calEnd := lastS - floorMod(lastS, rowS)
		calStart := calEnd - rowS*int64(a.Rows)
		d := resS - rowS
		if d < 0 {
			d = -d
		}
		if calStart <= startS {
			if bestFull < 0 || d < bestFullDiff {
				bestFull, bestFullDiff = i, d
			}
			continue
		}
		match := endS - startS - (calStart - startS)
		if bestPart < 0 || bestMatch < match || (bestMatch == match && d < bestPartDiff) {
			bestPart, bestMatch, bestPartDiff = i, match, d
		}
	}
	if bestFull >= 0 {
		return bestFull
	}
	return bestPart
}

func fetch(tx *bolt.Tx, s *series, cf CF, start, end time.Time, resolution time.Duration, lastUs int64) (Result, error) {
	startS, endS := start.Unix(), end.Unix()
	if end.Nanosecond() > 0 {
		endS++ // (start, end] reaches into the next second
	}
	resS := int64(resolution / time.Second)
	if resS < 1 {
		resS = 1
	}
	lastS := floorDiv(lastUs, 1e6)
	i := chooseArchive(s, cf, startS, endS, resS, lastS)
	if i < 0 {
		return Result{}, fmt.Errorf("no archive with %s", cf)
	}
	return fetchArchive(tx, s, i, startS, endS, lastS), nil
}

// fetchArchive reads spec archive i of s for rows overlapping (startS, endS].
func fetchArchive(tx *bolt.Tx, s *series, i int, startS, endS, lastS int64) Result {
	a := s.spec.Archives[i]
	sa := s.arch[i]
	storeRows := int64(s.g.arch[sa].Rows)
	rowS := int64(a.Steps) * (s.g.stepUs / 1e6)
	calEnd := lastS - floorMod(lastS, rowS)
	calStart := calEnd - rowS*int64(a.Rows)
	first := startS - floorMod(startS, rowS) + rowS
	n := int((endS-first+rowS-1)/rowS) + 1
	if first >= endS+rowS {
		n = 0
	}
	res := Result{Start: time.Unix(first-rowS, 0).UTC(), Step: time.Duration(rowS) * time.Second}
	for _, d := range s.spec.DS {
		res.DS = append(res.DS, d.Name)
	}
	nds := s.g.nds
	flat := make([]float64, n*nds)
	b := tx.Bucket(s.g.bucket)
	chunk := s.col / chunkCols
	c := b.Cursor()
	var prev []byte
	tryNext := true
	for r := 0; r < n; r++ {
		row := flat[r*nds : (r+1)*nds : (r+1)*nds]
		res.Rows = append(res.Rows, row)
		t := first + int64(r)*rowS
		for d := range row {
			row[d] = math.NaN()
		}
		if t <= calStart || t > calEnd {
			continue
		}
		key := rowKey(sa, floorMod(t/rowS, storeRows), chunk)
		// With one chunk, the next slot is the next key. With several, the
		// keys between belong to other series: seeking touches fewer pages
		// than stepping over them.
		var k, v []byte
		if prev != nil && tryNext {
			k, v = c.Next()
			tryNext = bytes.Equal(k, key)
		}
		if !bytes.Equal(k, key) {
			k, v = c.Seek(key)
		}
		prev = k
		if !bytes.Equal(k, key) {
			continue
		}
		rb := rowBuf{data: v}
		for d := range row {
			row[d] = rb.get(s.col, nds, d)
		}
	}
	return res
}
