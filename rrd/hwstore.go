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

// Holt-Winters in the store. A group whose series have Spec.HoltWinters
// keeps, beside its rates (see doc.go, Layout), time-major as they are:
//
//	'h' chunk:u32            → the detectors' state of 1024 columns × data sources
//	'a' row:u32 chunk:u32    → one row of the period: seasonal coefficient and
//	                           deviation (float64 each) per column and data source
//	'p' slot:u32 chunk:u32   → one step's results: prediction and deviation
//	                           (float32 each) per column and data source
//
// Every series of a group is at the same row of its period at the same time
// (step p is row p mod Period), so a poll cycle rewrites one 'a' key and one
// 'p' key per chunk, and the state key. The smoother, once a period and at
// the first wraps, rewrites all of a chunk's 'a' keys at once.
//
// The arrays are float64, as rrdtool keeps them, so that a detector in the
// store computes exactly what a HoltWinters fed the same rates does; the
// results are float32, as the rates are. A deviation is never negative
// (it is a mean of absolute differences), so the sign bit of a stored
// deviation holds the step's FAILURES.
//
// The state record also keeps the FAILURES of the last step its detector
// learned (bit 31 of the violations word; bit 30 says it is kept, which a
// store written before it was is not: there the stored result of the last
// step is read once instead). The updater compares each step's FAILURES
// with it and reports the steps where it changed in Update.FailureChanges,
// so that what turned on and off in a commit costs neither a read of the
// results nor anything per series that did not change. The flag lives in
// the store and is written in the transaction of the step, so a process
// opened for one cycle (a cron poll) sees the same changes as one that
// has been running; a step that an update spanning a gap learns is
// compared with the step before it like any other.

const (
	// hwRecSize is the state of one data source of one series: intercept,
	// slope, the next row's seasonal coefficient and deviation (as read
	// before the last smoothing), float64 each; the unknown steps since
	// the intercept was last learned, u32; the violations window, newest
	// in bit 0, u32; the seasonal and deviation burn-in counts, u8 each.
	// What HWState holds beyond that is either rewritten before it is read
	// in every step (the Last fields) or follows from the time (the rows).
	hwRecSize = 42
	// hwArrayCell and hwResultCell are the bytes per column and data source
	// of an 'a' and a 'p' key.
	hwArrayCell  = 16
	hwResultCell = 8
	hwKeyLen     = 9
	nanBits64    = 0x7FF8000000000001 // math.NaN()'s bits
	signBit32    = 1 << 31
	// failureBit and failureKept are the bits of the violations word
	// (above the window's, at most maxFailureWindow) that hold the
	// FAILURES of the last step learned, and that it is held.
	failureBit  = 1 << 31
	failureKept = 1 << 30
)

func hwStateKey(chunk uint32) []byte {
	k := []byte{'h', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(k[1:], chunk)
	return k
}

func hwKey(kind byte, slot int64, chunk uint32) [hwKeyLen]byte {
	var k [hwKeyLen]byte
	k[0] = kind
	binary.BigEndian.PutUint32(k[1:], uint32(slot))
	binary.BigEndian.PutUint32(k[5:], chunk)
	return k
}

// initHWState writes RRDtool's initial state into the state record of a
// new series: nothing learned, each array's burn-in at its first cycle.
func initHWState(rec []byte, nds int) {
	for d := 0; d < nds; d++ {
		r := rec[d*hwRecSize : (d+1)*hwRecSize]
		for _, off := range []int{0, 8, 16, 24} {
			binary.LittleEndian.PutUint64(r[off:], nanBits64)
		}
		binary.LittleEndian.PutUint32(r[32:], 1)
		binary.LittleEndian.PutUint32(r[36:], failureKept)
		r[40], r[41] = 1, 1
	}
}

// decodeHWState reads a state record into s, whose Violations has the
// length of the window.
func decodeHWState(r []byte, s *HWState) {
	f := func(off int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(r[off:])) }
	s.Intercept, s.Slope, s.SeasonalNext, s.DeviationNext = f(0), f(8), f(16), f(24)
	s.NullCount = int64(binary.LittleEndian.Uint32(r[32:]))
	v := binary.LittleEndian.Uint32(r[36:])
	for i := range s.Violations {
		s.Violations[i] = v&(1<<i) != 0
	}
	s.SeasonalBurnIn, s.DeviationBurnIn = int(r[40]), int(r[41])
}

func encodeHWState(r []byte, s *HWState) {
	for i, v := range []float64{s.Intercept, s.Slope, s.SeasonalNext, s.DeviationNext} {
		binary.LittleEndian.PutUint64(r[8*i:], math.Float64bits(v))
	}
	binary.LittleEndian.PutUint32(r[32:], uint32(min(s.NullCount, math.MaxUint32)))
	var v uint32
	for i, x := range s.Violations {
		if x {
			v |= 1 << i
		}
	}
	binary.LittleEndian.PutUint32(r[36:], v)
	r[40], r[41] = byte(s.SeasonalBurnIn), byte(s.DeviationBurnIn)
}

// hwStateRec returns the Holt-Winters state record of column col, for
// modification.
func (gw *groupWork) hwStateRec(col uint32) []byte {
	c := col / chunkCols
	for len(gw.hwStates) <= int(c) {
		gw.hwStates = append(gw.hwStates, nil)
	}
	rs := hwRecSize * gw.g.nds
	if gw.hwStates[c] == nil {
		want := colsIn(gw.cols, c) * rs
		buf := gw.w.pool.get(want)
		n := copy(buf, gw.b.Get(hwStateKey(c)))
		clear(buf[n:])
		gw.hwStates[c] = &buf
	}
	buf := *gw.hwStates[c]
	off := int(col%chunkCols) * rs
	return buf[off : off+rs]
}

// hwRow returns the 'a' or 'p' key of slot and chunk; for writing it is a
// private copy at full width, unknown where nothing was stored.
func (gw *groupWork) hwRow(kind byte, slot int64, chunk uint32, write bool) *rowBuf {
	k := hwKey(kind, slot, chunk)
	var rb *rowBuf
	for _, l := range gw.hwLast {
		if l.rb != nil && l.key == k {
			rb = l.rb
			break
		}
	}
	if rb == nil {
		if gw.hwRows == nil {
			gw.hwRows = map[[hwKeyLen]byte]*rowBuf{}
		}
		rb = gw.hwRows[k]
		if rb == nil {
			rb = &rowBuf{data: gw.b.Get(k[:])}
			gw.hwRows[k] = rb
		}
		copy(gw.hwLast[1:], gw.hwLast[:len(gw.hwLast)-1])
		gw.hwLast[0].key, gw.hwLast[0].rb = k, rb
	}
	if write && !rb.dirty {
		cell, nan := hwResultCell, []byte{0, 0, 0xC0, 0x7F}
		if kind == 'a' {
			cell, nan = hwArrayCell, binary.LittleEndian.AppendUint64(nil, nanBits64)
		}
		width := colsIn(gw.cols, chunk) * gw.g.nds * cell
		buf := gw.w.pool.get(width)
		n := copy(buf, rb.data)
		for i := n - n%len(nan); i < width; i += len(nan) {
			copy(buf[i:], nan)
		}
		rb.data = buf
		rb.dirty = true
	}
	return rb
}

// flushHW writes the group's modified Holt-Winters keys, in key order.
func (gw *groupWork) flushHW() error {
	for c, p := range gw.hwStates {
		if p == nil {
			continue
		}
		if err := gw.b.Put(hwStateKey(uint32(c)), *p); err != nil {
			return fmt.Errorf("put holt-winters state: %w", err)
		}
	}
	keys := make([][hwKeyLen]byte, 0, len(gw.hwRows))
	for k, rb := range gw.hwRows {
		if rb.dirty {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b [hwKeyLen]byte) int { return bytes.Compare(a[:], b[:]) })
	for _, k := range keys {
		if err := gw.b.Put(k[:], gw.hwRows[k].data); err != nil {
			return fmt.Errorf("put holt-winters row: %w", err)
		}
	}
	return nil
}

// storeArrays are the seasonal coefficients and deviations of data source
// d of column col, in the 'a' keys of a group.
type storeArrays struct {
	gw     *groupWork
	col    uint32
	nds, d int
	period int
}

func (a *storeArrays) cell(row int, write bool) []byte {
	rb := a.gw.hwRow('a', int64(row), a.col/chunkCols, write)
	off := (int(a.col%chunkCols)*a.nds + a.d) * hwArrayCell
	if off+hwArrayCell > len(rb.data) {
		return nil
	}
	return rb.data[off : off+hwArrayCell]
}

func (a *storeArrays) get(row, half int) float64 {
	c := a.cell(row, false)
	if c == nil {
		return math.NaN()
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(c[half:]))
}

func (a *storeArrays) set(row, half int, v float64) {
	binary.LittleEndian.PutUint64(a.cell(row, true)[half:], math.Float64bits(v))
}

func (a *storeArrays) seasonal(row int) float64        { return a.get(row, 0) }
func (a *storeArrays) setSeasonal(row int, v float64)  { a.set(row, 0, v) }
func (a *storeArrays) deviation(row int) float64       { return a.get(row, 8) }
func (a *storeArrays) setDeviation(row int, v float64) { a.set(row, 8, v) }

// smooth reads the column's cells of every row of the chunk (all the
// series of a chunk smooth in the same step, so the rows are looked up
// once for all of them) and writes back those that changed: none while
// the smoother waits for an array to be known.
func (a *storeArrays) smooth(f func(seasonal, deviation []float64)) {
	rows := a.gw.hwPeriodRows(a.col / chunkCols)
	s, d := make([]float64, a.period), make([]float64, a.period)
	off := (int(a.col%chunkCols)*a.nds + a.d) * hwArrayCell
	for i, rb := range rows {
		s[i], d[i] = math.NaN(), math.NaN()
		if off+hwArrayCell <= len(rb.data) {
			s[i] = math.Float64frombits(binary.LittleEndian.Uint64(rb.data[off:]))
			d[i] = math.Float64frombits(binary.LittleEndian.Uint64(rb.data[off+8:]))
		}
	}
	old := slices.Concat(s, d)
	f(s, d)
	for i, rb := range rows {
		if math.Float64bits(s[i]) == math.Float64bits(old[i]) && math.Float64bits(d[i]) == math.Float64bits(old[a.period+i]) {
			continue
		}
		if !rb.dirty {
			a.gw.hwRow('a', int64(i), a.col/chunkCols, true) // makes rb a private copy
		}
		binary.LittleEndian.PutUint64(rb.data[off:], math.Float64bits(s[i]))
		binary.LittleEndian.PutUint64(rb.data[off+8:], math.Float64bits(d[i]))
	}
}

// hwPeriodRows returns the 'a' keys of every row of the period of chunk,
// for reading.
func (gw *groupWork) hwPeriodRows(chunk uint32) []*rowBuf {
	for len(gw.hwPeriod) <= int(chunk) {
		gw.hwPeriod = append(gw.hwPeriod, nil)
	}
	if gw.hwPeriod[chunk] == nil {
		rows := make([]*rowBuf, gw.g.hwPeriod)
		for i := range rows {
			rows[i] = gw.hwRow('a', int64(i), chunk, false)
		}
		gw.hwPeriod[chunk] = rows
	}
	return gw.hwPeriod[chunk]
}

// putHWResult stores step p's prediction, deviation and failure for data
// source d of column col.
func (gw *groupWork) putHWResult(col uint32, d int, p int64, r HWRow) {
	rb := gw.hwRow('p', floorMod(p, int64(gw.g.hwRows)), col/chunkCols, true)
	off := (int(col%chunkCols)*gw.g.nds + d) * hwResultCell
	dev := math.Float32bits(float32(r.Deviation))
	if r.Failure {
		dev |= signBit32
	}
	binary.LittleEndian.PutUint32(rb.data[off:], math.Float32bits(float32(r.Prediction)))
	binary.LittleEndian.PutUint32(rb.data[off+4:], dev)
}

// FailureChange is a step at which the FAILURES of one data source of a
// series with Holt-Winters changed: it differs from the step before's
// (which, for a series' first step, is off).
type FailureChange struct {
	DS int // the data source, by index in the spec
	// Time is the end of the step, as HWResult.Time gives its row's.
	Time time.Time
	// Failure is the step's FAILURES: true when it turned on, false off.
	Failure bool
	// Rate is the step's primary data point (as Fetch reads it from a
	// one-step archive), Prediction and Deviation its HWPREDICT and
	// DEVPREDICT (as FetchHoltWinters reads them); NaN where unknown. The
	// band the rate was judged against is Prediction − DeltaNeg ×
	// Deviation to Prediction + DeltaPos × Deviation.
	Rate, Prediction, Deviation float64
}

// hwUpdater is the Holt-Winters part of an updater: scratch reused for
// every series.
type hwUpdater struct {
	st  HWState
	arr storeArrays
	// failed is the FAILURES of the last step the loaded detector learned.
	failed bool
	// changes collects the steps whose FAILURES changed; nil collects none.
	changes *[]FailureChange
}

// observe feeds the primary data points p0+1 .. pEnd of column s.col (the
// first first[d], the rest fill[d]) to its detectors and stores their
// results: the last hwRows of them, the others having been overwritten
// within this update. It appends the steps whose FAILURES changed to
// changes.
func (h *hwUpdater) observe(gw *groupWork, s *series, p0, pEnd int64, first, fill []float32, changes *[]FailureChange) {
	if !h.begin(gw, s) {
		return
	}
	h.changes = changes
	keep := pEnd - int64(gw.g.hwRows)
	for d := 0; d < gw.g.nds; d++ {
		h.load(gw, s, d, p0)
		for p := p0 + 1; p <= pEnd; p++ {
			x := fill[d]
			if p == p0+1 {
				x = first[d]
			}
			h.learn(gw, s, d, p, float64(x), p > keep)
		}
		h.save(gw, s, d)
	}
}

// begin prepares the scratch for series s; false if it has no detectors.
func (h *hwUpdater) begin(gw *groupWork, s *series) bool {
	hp := s.spec.HoltWinters
	if hp == nil || gw.g.hwPeriod != hp.Period {
		return false
	}
	if cap(h.st.Violations) < hp.Window {
		h.st.Violations = make([]bool, maxFailureWindow)
	}
	h.st.Violations = h.st.Violations[:hp.Window]
	return true
}

// load reads the state of data source d of s, whose last step learned is
// p0, into the scratch.
func (h *hwUpdater) load(gw *groupWork, s *series, d int, p0 int64) {
	r := gw.hwStateRec(s.col)[d*hwRecSize : (d+1)*hwRecSize]
	decodeHWState(r, &h.st)
	h.failed = lastFailure(gw, s.col, d, r, p0)
	h.arr = storeArrays{gw: gw, col: s.col, nds: gw.g.nds, d: d, period: s.spec.HoltWinters.Period}
}

// lastFailure returns the FAILURES of step p0, the last learned by the
// detector of data source d of column col whose state record is r: as the
// record keeps it, or, in a record of a store written before it kept it,
// as the step's stored result holds it (off where none is stored, as
// before a series' first step).
func lastFailure(gw *groupWork, col uint32, d int, r []byte, p0 int64) bool {
	v := binary.LittleEndian.Uint32(r[36:])
	if v&failureKept != 0 {
		return v&failureBit != 0
	}
	rb := gw.hwRow('p', floorMod(p0, int64(gw.g.hwRows)), col/chunkCols, false)
	off := (int(col%chunkCols)*gw.g.nds + d) * hwResultCell
	if off+hwResultCell > len(rb.data) {
		return false
	}
	return binary.LittleEndian.Uint32(rb.data[off+4:])&signBit32 != 0
}

// learn feeds primary data point p, x, to the loaded detector, storing its
// results if keep, and collects the step if its FAILURES changed.
func (h *hwUpdater) learn(gw *groupWork, s *series, d int, p int64, x float64, keep bool) {
	h.st.SeasonalRow = int(floorMod(p, int64(s.spec.HoltWinters.Period)))
	h.st.DeviationRow = h.st.SeasonalRow
	out := s.spec.HoltWinters.observe(&h.st, &h.arr, x)
	if keep {
		gw.putHWResult(s.col, d, p, out)
	}
	if out.Failure != h.failed && h.changes != nil {
		*h.changes = append(*h.changes, FailureChange{
			DS: d, Time: time.Unix(p*(gw.g.stepUs/1e6), 0).UTC(), Failure: out.Failure,
			Rate: x, Prediction: float64(float32(out.Prediction)), Deviation: float64(float32(out.Deviation)),
		})
	}
	h.failed = out.Failure
}

// save writes the loaded state back as data source d's, with the FAILURES
// of its last step.
func (h *hwUpdater) save(gw *groupWork, s *series, d int) {
	r := gw.hwStateRec(s.col)[d*hwRecSize : (d+1)*hwRecSize]
	encodeHWState(r, &h.st)
	v := binary.LittleEndian.Uint32(r[36:]) | failureKept
	if h.failed {
		v |= failureBit
	}
	binary.LittleEndian.PutUint32(r[36:], v)
}

// reshapeHW gives series s, moved by Reshape from old (last updated at
// lastS) to column s.col of nw, its detectors. With the same period they
// carry over: state, arrays and the results that fit. Otherwise they
// start afresh and learn the primary data points old holds (its longest
// one-step archive), so that a series gets its band from its history
// rather than a period after the change; their last FAILURES is the old
// detectors', so that the next update reports a change from what the
// last one left (a failure the new detectors do not see ends there).
func reshapeHW(tx *bolt.Tx, old, s *series, ow, nw *groupWork, lastS int64) {
	if s.spec.HoltWinters == nil {
		return
	}
	nds := s.g.nds
	P := s.g.hwPeriod
	stepS := s.g.stepUs / 1e6
	pEnd := floorDiv(lastS, stepS)
	if old.g.hwPeriod == P {
		copy(nw.hwStateRec(s.col), ow.hwStateRec(old.col))
		for row := 0; row < P; row++ {
			src := ow.hwRow('a', int64(row), old.col/chunkCols, false)
			dst := nw.hwRow('a', int64(row), s.col/chunkCols, true)
			copyCells(dst.data, src.data, s.col, old.col, nds*hwArrayCell)
		}
		for p := pEnd - int64(min(s.g.hwRows, old.g.hwRows)) + 1; p <= pEnd; p++ {
			src := ow.hwRow('p', floorMod(p, int64(old.g.hwRows)), old.col/chunkCols, false)
			dst := nw.hwRow('p', floorMod(p, int64(s.g.hwRows)), s.col/chunkCols, true)
			copyCells(dst.data, src.data, s.col, old.col, nds*hwResultCell)
		}
		return
	}
	oldFailed := make([]bool, nds)
	if old.g.hwPeriod > 0 && old.spec.HoltWinters != nil {
		rec := ow.hwStateRec(old.col)
		for d := range oldFailed {
			oldFailed[d] = lastFailure(ow, old.col, d, rec[d*hwRecSize:(d+1)*hwRecSize], pEnd)
		}
	}
	initHWState(nw.hwStateRec(s.col), nds)
	ring := -1
	for i, a := range old.spec.Archives {
		if a.Steps == 1 && (ring < 0 || a.Rows > old.spec.Archives[ring].Rows) {
			ring = i
		}
	}
	var h hwUpdater
	h.begin(nw, s)
	if ring < 0 {
		for d := 0; d < nds; d++ {
			h.load(nw, s, d, pEnd)
			h.failed = oldFailed[d]
			h.save(nw, s, d)
		}
		return
	}
	rows := int64(old.spec.Archives[ring].Rows)
	calEnd := pEnd * stepS
	res := fetchArchive(tx, old, ring, calEnd-stepS*rows, calEnd, lastS)
	keep := pEnd - int64(s.g.hwRows)
	for d := 0; d < nds; d++ {
		h.load(nw, s, d, pEnd)
		for i, row := range res.Rows {
			p := res.Time(i).Unix() / stepS
			h.learn(nw, s, d, p, row[d], p > keep)
		}
		h.failed = oldFailed[d]
		h.save(nw, s, d)
	}
}

// copyCells copies the cells of cell bytes of column from in src to
// column to in dst, leaving dst's cell alone when src has none.
func copyCells(dst, src []byte, to, from uint32, cell int) {
	so, do := int(from%chunkCols)*cell, int(to%chunkCols)*cell
	if so+cell > len(src) {
		return
	}
	copy(dst[do:do+cell], src[so:so+cell])
}

// HWResult is a range of a series' Holt-Winters results, one row per step.
//
// Row i is the step (Start + i·Step, Start + (i+1)·Step], as Result's rows.
type HWResult struct {
	Start time.Time
	Step  time.Duration
	DS    []string
	// Prediction[d][i] and Deviation[d][i] are data source d's HWPREDICT
	// (MHWPREDICT) and DEVPREDICT rows, NaN where unknown, and Failures[d][i]
	// its FAILURES row. The confidence band of the step is Prediction −
	// DeltaNeg × Deviation to Prediction + DeltaPos × Deviation.
	Prediction, Deviation [][]float64
	Failures              [][]bool
}

// Time returns the end of row i's interval.
func (r HWResult) Time(i int) time.Time { return r.Start.Add(time.Duration(i+1) * r.Step) }

// FetchHoltWinters returns the Holt-Winters results of series name for the
// steps overlapping (start, end], as Fetch returns the rows of a one-step
// archive: the same rows for the same range. Steps older than the
// HWRows kept, or not yet learned, are unknown. A series without
// Spec.HoltWinters gives ErrNoHoltWinters.
func (db *DB) FetchHoltWinters(name string, start, end time.Time) (HWResult, error) {
	if err := db.ready(); err != nil {
		return HWResult{}, err
	}
	s := db.lookup(name)
	if s == nil {
		return HWResult{}, fmt.Errorf("fetch holt-winters %s: %w", name, ErrNoSeries)
	}
	if s.spec.HoltWinters == nil || s.g.hwPeriod == 0 {
		return HWResult{}, fmt.Errorf("fetch holt-winters %s: %w", name, ErrNoHoltWinters)
	}
	if !end.After(start) {
		return HWResult{}, fmt.Errorf("fetch holt-winters %s: end %s not after start %s", name, end, start)
	}
	startS, endS := start.Unix(), end.Unix()
	if end.Nanosecond() > 0 {
		endS++
	}
	g := s.g
	stepS := g.stepUs / 1e6
	first, n := rowRange(startS, endS, stepS)
	res := HWResult{Start: time.Unix(first-stepS, 0).UTC(), Step: time.Duration(stepS) * time.Second}
	for _, d := range s.spec.DS {
		res.DS = append(res.DS, d.Name)
		pred, dev := make([]float64, n), make([]float64, n)
		for i := range pred {
			pred[i], dev[i] = math.NaN(), math.NaN()
		}
		res.Prediction = append(res.Prediction, pred)
		res.Deviation = append(res.Deviation, dev)
		res.Failures = append(res.Failures, make([]bool, n))
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		lastUs, err := readLastUp(tx, s)
		if err != nil {
			return err
		}
		lastS := floorDiv(lastUs, 1e6)
		calEnd := lastS - floorMod(lastS, stepS)
		calStart := calEnd - stepS*int64(g.hwRows)
		b := tx.Bucket(g.bucket)
		off := int(s.col%chunkCols) * g.nds * hwResultCell
		// The rows are read in slot order with one cursor, as readColumns reads
		// rates: the next slot is usually the next key (with one chunk, and until
		// the ring wraps), where a Get would search the tree from its root for each.
		c := b.Cursor()
		var k, v []byte
		positioned, tryNext := false, true
		for i := 0; i < n; i++ {
			t := first + int64(i)*stepS
			if t <= calStart || t > calEnd {
				continue
			}
			key := hwKey('p', floorMod(t/stepS, int64(g.hwRows)), s.col/chunkCols)
			found := false
			if positioned && tryNext {
				k, v = c.Next()
				found = bytes.Equal(k, key[:])
				if !found && len(k) == hwKeyLen && bytes.Equal(k[:5], key[:5]) {
					tryNext = false // another chunk of the same slot
				}
			}
			if !found {
				k, v = c.Seek(key[:])
				found = bytes.Equal(k, key[:])
			}
			positioned = k != nil
			if !found || off+g.nds*hwResultCell > len(v) {
				continue
			}
			for d := 0; d < g.nds; d++ {
				c := v[off+d*hwResultCell:]
				dev := binary.LittleEndian.Uint32(c[4:])
				res.Prediction[d][i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(c)))
				res.Deviation[d][i] = float64(math.Float32frombits(dev &^ signBit32))
				res.Failures[d][i] = dev&signBit32 != 0
			}
		}
		return nil
	})
	if err != nil {
		return HWResult{}, fmt.Errorf("fetch holt-winters %s: %w", name, err)
	}
	return res, nil
}
