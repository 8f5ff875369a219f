package rrd

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
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
	return db.FetchInto(Result{}, name, cf, start, end, resolution)
}

// FetchInto is Fetch writing its rows into dst's where their shape fits (same
// number of rows and data sources), as FetchManyInto does for many series, and
// returning the result: a caller that fetches series after series, each result
// consumed before the next, allocates the rows once. A month of five-minute rows
// is about 0.35 MB a series, allocated by every Fetch. Whatever dst held is
// overwritten.
func (db *DB) FetchInto(dst Result, name string, cf CF, start, end time.Time, resolution time.Duration) (Result, error) {
	if err := db.ready(); err != nil {
		return Result{}, err
	}
	s := db.lookup(name)
	if s == nil {
		return Result{}, fmt.Errorf("fetch %s: %w", name, ErrNoSeries)
	}
	if !end.After(start) {
		return Result{}, fmt.Errorf("fetch %s: end %s not after start %s", name, end, start)
	}
	res := dst
	err := db.bolt.View(func(tx *bolt.Tx) error {
		lastUs, err := readLastUp(tx, s)
		if err != nil {
			return err
		}
		return fetch(tx, s, cf, start, end, resolution, lastUs, &res)
	})
	if err != nil {
		return Result{}, fmt.Errorf("fetch %s: %w", name, err)
	}
	return res, nil
}

// chooseArchive is rrd_fetch_fn's archive choice; -1 if none has cf.
func chooseArchive(s *series, cf CF, startS, endS, resS, lastS int64) int {
	return chooseIn(s.spec.Archives, s.g.stepUs/1e6, cf, startS, endS, resS, lastS)
}

// Layout is the rows Fetch returns for a series of spec last updated at last: the
// archive it reads (its index in spec.Archives; -1 when none has cf), the row length,
// the end of the first row and the number of rows. A source of rows other than the
// store (a query API the same rates were sent to) lays its rows out alike with it.
func (spec Spec) Layout(cf CF, start, end time.Time, resolution time.Duration, last time.Time) (archive int, row time.Duration, first time.Time, n int) {
	stepS := int64(spec.Step / time.Second)
	startS, endS := start.Unix(), end.Unix()
	if end.Nanosecond() > 0 {
		endS++
	}
	archive = chooseIn(spec.Archives, stepS, cf, startS, endS, max(1, int64(resolution/time.Second)), last.Unix())
	if archive < 0 {
		return -1, 0, time.Time{}, 0
	}
	rowS := int64(spec.Archives[archive].Steps) * stepS
	f, n := rowRange(startS, endS, rowS)
	return archive, time.Duration(rowS) * time.Second, time.Unix(f, 0).UTC(), n
}

func chooseIn(archives []Archive, stepS int64, cf CF, startS, endS, resS, lastS int64) int {
	bestFull, bestPart := -1, -1
	var bestFullDiff, bestPartDiff, bestMatch int64
	for i, a := range archives {
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

// fetch reads Fetch's rows into res, reusing the rows it holds where they fit.
func fetch(tx *bolt.Tx, s *series, cf CF, start, end time.Time, resolution time.Duration, lastUs int64, res *Result) error {
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
		return fmt.Errorf("no archive with %s", cf)
	}
	readColumns(tx, []column{{s: s, i: i, lastS: lastS, res: res}}, startS, endS)
	return nil
}

// fetchArchive reads spec archive i of s for rows overlapping (startS, endS].
func fetchArchive(tx *bolt.Tx, s *series, i int, startS, endS, lastS int64) Result {
	var res Result
	readColumns(tx, []column{{s: s, i: i, lastS: lastS, res: &res}}, startS, endS)
	return res
}

// column is one series' part of a read: spec archive i of s, last
// updated at lastS, into res.
type column struct {
	s     *series
	i     int
	lastS int64
	res   *Result
}

// readColumns reads the rows overlapping (startS, endS] of columns that
// share a group, a storage archive and a chunk, reading each row key once.
func readColumns(tx *bolt.Tx, cols []column, startS, endS int64) {
	s0 := cols[0].s
	g := s0.g
	sa := s0.arch[cols[0].i]
	storeRows := int64(g.arch[sa].Rows)
	rowS := int64(g.arch[sa].Steps) * (g.stepUs / 1e6)
	first, n := rowRange(startS, endS, rowS)
	nds := g.nds
	type span struct{ calStart, calEnd int64 }
	spans := make([]span, len(cols))
	for j, c := range cols {
		a := c.s.spec.Archives[c.i]
		calEnd := c.lastS - floorMod(c.lastS, rowS)
		spans[j] = span{calEnd - rowS*int64(a.Rows), calEnd}
		old := *c.res
		res := Result{Start: time.Unix(first-rowS, 0).UTC(), Step: time.Duration(rowS) * time.Second, DS: old.DS[:0]}
		for _, d := range c.s.spec.DS {
			res.DS = append(res.DS, d.Name)
		}
		res.Rows = unknownRows(old.Rows, n, nds)
		*c.res = res
	}
	b := tx.Bucket(g.bucket)
	chunk := s0.col / chunkCols
	c := b.Cursor()
	key := make([]byte, rowKeyLen)
	var k, v []byte
	positioned := false
	tryNext := true
	for r := 0; r < n; r++ {
		t := first + int64(r)*rowS
		wanted := false
		for _, sp := range spans {
			if t > sp.calStart && t <= sp.calEnd {
				wanted = true
				break
			}
		}
		if !wanted {
			continue
		}
		putRowKey(key, sa, floorMod(t/rowS, storeRows), chunk)
		// The next slot is usually the next key: with one chunk always,
		// but after the ring wraps. With several chunks the keys between
		// belong to other series, and seeking touches fewer pages than
		// stepping over them.
		found := false
		if positioned && tryNext {
			k, v = c.Next()
			found = bytes.Equal(k, key)
			if !found && len(k) == rowKeyLen && bytes.Equal(k[:6], key[:6]) {
				tryNext = false // another chunk of the same slot
			}
		}
		if !found {
			k, v = c.Seek(key)
			found = bytes.Equal(k, key)
		}
		positioned = k != nil
		if !found {
			continue
		}
		for j, cl := range cols {
			if t <= spans[j].calStart || t > spans[j].calEnd {
				continue
			}
			off := int(cl.s.col%chunkCols) * nds * 4
			if off+nds*4 > len(v) {
				continue
			}
			row := cl.res.Rows[r]
			for d := range row {
				row[d] = float64(math.Float32frombits(binary.LittleEndian.Uint32(v[off+4*d:])))
			}
		}
	}
}

// unknownRows returns n rows of nds unknown values: rows itself where it has
// that shape, else new rows sharing one backing array.
func unknownRows(rows [][]float64, n, nds int) [][]float64 {
	fits := len(rows) == n
	for _, row := range rows {
		if !fits {
			break
		}
		fits = len(row) == nds
	}
	if !fits {
		flat := make([]float64, n*nds)
		rows = make([][]float64, n)
		for r := range rows {
			rows[r] = flat[r*nds : (r+1)*nds : (r+1)*nds]
		}
	}
	nan := math.NaN()
	for _, row := range rows {
		for d := range row {
			row[d] = nan
		}
	}
	return rows
}

// rowRange returns the time of the first of the rows of rowS seconds that
// overlap (startS, endS], and their number.
func rowRange(startS, endS, rowS int64) (first int64, n int) {
	first = startS - floorMod(startS, rowS) + rowS
	if first >= endS+rowS {
		return first, 0
	}
	return first, int((endS-first+rowS-1)/rowS) + 1
}

// FetchMany is Fetch for many series at once, in one read transaction:
// result i is what Fetch(names[i], cf, start, end, resolution) returns.
// Series whose rows share row keys (same shape, the same archive chosen,
// neighbouring columns) are read together, each row key once, so a batch
// costs about as much as fetching one of its series. It fails as a whole
// if any name is unknown. Results hold every row in memory: a month of
// five-minute rows is about 140 KB per series, so batch accordingly.
func (db *DB) FetchMany(names []string, cf CF, start, end time.Time, resolution time.Duration) ([]Result, error) {
	return db.FetchManyInto(nil, names, cf, start, end, resolution)
}

// FetchManyInto is FetchMany writing its results into dst, resized to
// len(names), and returning it. A result's rows reuse the memory of the rows
// dst already held at that index where their shape fits (same number of
// rows and data sources), so a caller that fetches batch after batch, each
// result consumed before the next batch, allocates the rows once: a month
// of five-minute rows for 64 series is 22 MiB, allocated by every FetchMany.
// Whatever dst held is overwritten.
func (db *DB) FetchManyInto(dst []Result, names []string, cf CF, start, end time.Time, resolution time.Duration) ([]Result, error) {
	if !end.After(start) {
		return nil, fmt.Errorf("fetch many: end %s not after start %s", end, start)
	}
	if err := db.ready(); err != nil {
		return nil, err
	}
	ss, err := db.lookupAll("fetch", names)
	if err != nil {
		return nil, err
	}
	startS, endS := start.Unix(), end.Unix()
	if end.Nanosecond() > 0 {
		endS++ // (start, end] reaches into the next second
	}
	resS := max(int64(resolution/time.Second), 1)
	out := slices.Grow(dst[:0], len(names))[:len(names)]
	err = db.bolt.View(func(tx *bolt.Tx) error {
		type batchKey struct {
			g     uint32
			sa    int
			chunk uint32
		}
		batches := map[batchKey][]column{}
		var order []batchKey
		for i, s := range ss {
			lastUs, err := readLastUp(tx, s)
			if err != nil {
				return fmt.Errorf("fetch %s: %w", names[i], err)
			}
			lastS := floorDiv(lastUs, 1e6)
			a := chooseArchive(s, cf, startS, endS, resS, lastS)
			if a < 0 {
				return fmt.Errorf("fetch %s: no archive with %s", names[i], cf)
			}
			bk := batchKey{s.g.id, s.arch[a], s.col / chunkCols}
			if batches[bk] == nil {
				order = append(order, bk)
			}
			batches[bk] = append(batches[bk], column{s: s, i: a, lastS: lastS, res: &out[i]})
		}
		for _, bk := range order {
			readColumns(tx, batches[bk], startS, endS)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fetch many: %w", err)
	}
	return out, nil
}
