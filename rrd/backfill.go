package rrd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// History is the past of one series as Backfill takes it: a rate for every step, from
// which each archive's rows are consolidated as Update would have consolidated them.
type History struct {
	// End is the end of the last step of Rates: a whole multiple of the series' step.
	End time.Time
	// Rates holds the rate (per second) of each step up to End, oldest first, data
	// source by data source: Rates[i*nds+d] is data source d's rate in the step ending
	// at End - (n-1-i)·Step, for n = len(Rates)/nds. NaN is unknown; a rate outside the
	// data source's [Min, Max] is stored as unknown, as Update stores it.
	Rates []float64
	// Last, when the history reaches past the series' last update, holds the readings
	// at End (one per data source, nil for unknown): the series continues from them, as
	// after an update at End, so that the next Update's interval starts there.
	Last []Value
}

// Backfill merges histories into series by time, in one transaction per chunk of
// series: history(i) gives the history of names[i], asked for one series at a time so
// that only one need be in memory, in no particular order (its Rates may be reused
// between calls; a history with no rates leaves the series alone). What a series holds
// is never changed:
//
//   - Rows that end at or before the series' oldest known data (its last update, if it
//     holds none) take the history's values: MRTG's years under a series polled for
//     a week.
//   - If the history ends after the series' last update, rows ending after that update
//     take the history's values too, and the series continues from End with Last. A
//     consolidated row holding both takes the series' own steps up to its last update.
//     Holt-Winters detectors learn step by step from Update, so a series with them
//     takes only the older rows; a history reaching past its last update is refused.
//
// Rows in between, the series' own, are left as they are, and a value that does not
// change is not written: backfilling the same history twice changes nothing. (With
// many series of a chunk at once, their rows are consolidated on every core, and every
// row key of the chunk is rewritten, changed or not.) A series that cannot take its
// history (unknown name, a bad history) is skipped and the returned error lists it; the
// others are stored. An error from history stops the backfill, and nothing of the
// transaction it was in is stored.
func (db *DB) Backfill(names []string, history func(i int) (History, error)) error {
	if db.ro {
		return fmt.Errorf("backfill: %w", ErrReadOnly)
	}
	if len(names) == 0 {
		return nil
	}
	if err := db.ready(); err != nil {
		return err
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	type item struct {
		i int
		s *series
	}
	var items []item
	var skipped []error
	db.mu.RLock()
	for i, n := range names {
		if s := db.series[n]; s != nil {
			items = append(items, item{i, s})
		} else {
			skipped = append(skipped, fmt.Errorf("backfill %s: %w", n, ErrNoSeries))
		}
	}
	db.mu.RUnlock()
	// Series of one chunk share every row key: one transaction writes each key once.
	slices.SortStableFunc(items, func(a, b item) int {
		if a.s.g.id != b.s.g.id {
			return int(a.s.g.id) - int(b.s.g.id)
		}
		return int(a.s.col) - int(b.s.col)
	})
	for lo := 0; lo < len(items); {
		hi := lo + 1
		for hi < len(items) && items[hi].s.g == items[lo].s.g && items[hi].s.col/chunkCols == items[lo].s.col/chunkCols {
			hi++
		}
		batch := items[lo:hi]
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			w := newWork(tx)
			s0 := batch[0].s
			cr := newChunkRows(w.group(nil, s0.g, s0.g.cols), s0.col/chunkCols)
			workers := min(runtime.GOMAXPROCS(0), len(batch)/parallelMin)
			if workers < 2 {
				f := &filler{chunkRows: cr}
				for _, it := range batch {
					h, err := history(it.i)
					if err != nil {
						return err
					}
					if len(h.Rates) == 0 {
						continue
					}
					if err := f.prepare(it.s, h); err != nil {
						skipped = append(skipped, fmt.Errorf("backfill %s: %w", it.s.name, err))
						continue
					}
					f.consolidate(it.s)
				}
				return w.flush()
			}
			// Many series: consolidate on every core. Each series writes its own column
			// of rows read and made writable beforehand, so the workers share nothing
			// they write; history is still asked for one series at a time.
			cr.preload()
			var mu sync.Mutex
			var stop error
			next := 0
			var wg sync.WaitGroup
			for range workers {
				f := &filler{chunkRows: cr}
				wg.Go(func() {
					for {
						mu.Lock()
						if stop != nil || next == len(batch) {
							mu.Unlock()
							return
						}
						it := batch[next]
						next++
						h, err := history(it.i)
						if err != nil {
							stop = err
							mu.Unlock()
							return
						}
						ok := false
						if len(h.Rates) > 0 {
							if err := f.prepare(it.s, h); err != nil {
								skipped = append(skipped, fmt.Errorf("backfill %s: %w", it.s.name, err))
							} else {
								ok = true
							}
						}
						mu.Unlock()
						if ok {
							f.consolidate(it.s)
						}
					}
				})
			}
			wg.Wait()
			if stop != nil {
				return stop
			}
			return w.flush()
		})
		if err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
		lo = hi
	}
	return errors.Join(skipped...)
}

// parallelMin is the fewest series of a chunk per worker: below it, consolidating on
// more than one core does not pay for making every row key of the chunk writable.
const parallelMin = 32

// chunkRows are the row keys of one chunk of a group in a Backfill's transaction.
type chunkRows struct {
	gw    *groupWork
	chunk uint32
	rows  [][]*rowBuf // [storage archive][slot], read lazily
}

func newChunkRows(gw *groupWork, chunk uint32) *chunkRows {
	cr := &chunkRows{gw: gw, chunk: chunk, rows: make([][]*rowBuf, len(gw.g.arch))}
	for a, ar := range gw.g.arch {
		cr.rows[a] = make([]*rowBuf, ar.Rows)
	}
	return cr
}

// preload reads every row key and the state of the chunk, writable, so that row and
// stateRec change nothing shared afterwards.
func (cr *chunkRows) preload() {
	for a := range cr.rows {
		for slot := range cr.rows[a] {
			cr.rows[a][slot] = cr.gw.row(a, int64(slot), cr.chunk, true)
		}
	}
	cr.gw.stateRec(cr.chunk * chunkCols)
}

// row returns slot of storage archive a, for writing if write.
func (cr *chunkRows) row(a int, slot int64, write bool) *rowBuf {
	rb := cr.rows[a][slot]
	if rb == nil || (write && !rb.dirty) {
		rb = cr.gw.row(a, slot, cr.chunk, write)
		cr.rows[a][slot] = rb
	}
	return rb
}

// filler writes one series' history at a time into the columns of a chunkRows.
type filler struct {
	*chunkRows
	// The history being written (prepare): its steps as the ring would hold them
	// (float32, NaN where refused), pFirst to pEnd, and its end and last readings.
	pdp          []float64
	pFirst, pEnd int64
	endUs        int64
	last         []Value
	win          []cdp // one row's consolidation, per data source
}

// prepare checks h against s and takes what consolidate needs of it: h.Rates and h.Last
// may change once it returns.
func (f *filler) prepare(s *series, h History) error {
	g := f.gw.g
	nds := g.nds
	if len(h.Rates)%nds != 0 {
		return fmt.Errorf("%w: %d rates for %d data sources", ErrBadValue, len(h.Rates), nds)
	}
	if h.Last != nil && len(h.Last) != nds {
		return fmt.Errorf("%w: %d last readings for %d data sources", ErrBadValue, len(h.Last), nds)
	}
	for d, v := range h.Last {
		if err := checkValue(s.spec.DS[d].Type, v); err != nil {
			return err
		}
	}
	step := g.stepUs
	endUs := h.End.UnixMicro()
	if floorMod(endUs, step) != 0 {
		return fmt.Errorf("history end %s is not a multiple of the step", h.End.UTC().Format(time.RFC3339Nano))
	}
	lastUs := int64(binary.LittleEndian.Uint64(f.gw.stateRec(s.col)[0:]))
	if endUs > lastUs && s.spec.HoltWinters != nil {
		return fmt.Errorf("%w: the history reaches past the last update (%s) of a series with holt-winters",
			ErrNotAfter, time.UnixMicro(lastUs).UTC().Format(time.RFC3339))
	}
	f.endUs = endUs
	f.last = append(f.last[:0], h.Last...)
	if h.Last == nil {
		f.last = f.last[:0]
	}
	f.pEnd = endUs / step
	f.pFirst = f.pEnd - int64(len(h.Rates)/nds) + 1
	f.pdp = slices.Grow(f.pdp[:0], len(h.Rates))[:len(h.Rates)]
	for i, v := range h.Rates {
		ds := &s.spec.DS[i%nds]
		if (!math.IsNaN(ds.Max) && v > ds.Max) || (!math.IsNaN(ds.Min) && v < ds.Min) {
			v = math.NaN()
		}
		f.pdp[i] = float64(bounded(v, ds))
	}
	return nil
}

// consolidate writes the prepared history into s (see Backfill).
func (f *filler) consolidate(s *series) {
	g := f.gw.g
	nds := g.nds
	step := g.stepUs
	stepS := step / 1e6
	st := f.gw.stateRec(s.col)
	lastUs := int64(binary.LittleEndian.Uint64(st[0:]))
	endUs, pFirst, pEnd := f.endUs, f.pFirst, f.pEnd
	extends := endUs > lastUs
	lastS := floorDiv(lastUs, 1e6)
	lastP := floorDiv(lastS, stepS) // the last step complete at the last update

	// The start of the oldest known row the series shows now.
	oldest := lastS
	for a, ar := range g.arch {
		rowS := int64(ar.Steps) * stepS
		R := int64(ar.Rows)
		qHi := floorDiv(lastS, rowS)
		for q := qHi - R + 1; q <= qHi; q++ {
			if q*rowS-rowS >= oldest {
				break
			}
			rb := f.row(a, floorMod(q, R), false)
			for d := 0; d < nds; d++ {
				if !math.IsNaN(rb.get(s.col, nds, d)) {
					oldest = q*rowS - rowS
					break
				}
			}
		}
	}

	final := lastS
	if extends {
		final = endUs / 1e6
	}
	ringR := int64(g.arch[0].Rows)
	// own is data source d of step p as the series holds it, for the rows that hold
	// both: its ring keeps the steps up to its last update.
	own := func(p int64, d int) float64 {
		if p <= lastP-ringR {
			return math.NaN()
		}
		return f.row(0, floorMod(p, ringR), false).get(s.col, nds, d)
	}
	hist := func(p int64, d int) float64 {
		if p < pFirst || p > pEnd {
			return math.NaN()
		}
		return f.pdp[int(p-pFirst)*nds+d]
	}
	if cap(f.win) < nds {
		f.win = make([]cdp, nds)
	}
	win := f.win[:nds]
	// Consolidated archives first: their rows read the ring's older steps, which the
	// ring's new ones may overwrite. Archives of the same length (AVERAGE and MAX of 6
	// steps) are neighbours and share one pass over the steps.
	for hiA := len(g.arch) - 1; hiA >= 0; {
		loA := hiA
		for loA > 0 && g.arch[loA-1].Steps == g.arch[hiA].Steps && g.arch[loA-1].Rows == g.arch[hiA].Rows {
			loA--
		}
		S := int64(g.arch[hiA].Steps)
		rowS := S * stepS
		R := int64(g.arch[hiA].Rows)
		qHi := floorDiv(final, rowS)
		for q := qHi - R + 1; q <= qHi; q++ {
			end := q * rowS
			older := end <= oldest
			if !older && !(extends && end > lastS) {
				continue
			}
			p0, p1 := q*S-S+1, q*S
			if older && (p0 > pEnd || p1 < pFirst) && !extends {
				// Outside the history, in the window the series already shows: the
				// row is unknown (older than its oldest known row) and stays so.
				continue
			}
			for d := range win {
				win[d] = newCDP()
				if older || p0 > lastP {
					// The history's steps alone, in order: unknown before and after it.
					lo, hi := max(p0, pFirst), min(p1, pEnd)
					win[d].add(math.NaN(), min(lo, p1+1)-p0)
					for i := (lo-pFirst)*int64(nds) + int64(d); lo <= hi; lo++ {
						win[d].add(f.pdp[i], 1)
						i += int64(nds)
					}
					win[d].add(math.NaN(), p1-max(hi, p0-1))
					continue
				}
				for p := p0; p <= p1; p++ {
					v := hist(p, d)
					if p <= lastP {
						v = own(p, d)
					}
					win[d].add(v, 1)
				}
			}
			slot := floorMod(q, R)
			for a := loA; a <= hiA; a++ {
				rb := f.row(a, slot, false)
				for d := 0; d < nds; d++ {
					v := bounded(win[d].value(g.arch[a]), &s.spec.DS[d])
					if was := float32(rb.get(s.col, nds, d)); v == was || v != v && was != was {
						continue // unchanged (an absent value reads as unknown)
					}
					rb = f.row(a, slot, true)
					rb.set(s.col, nds, d, v)
				}
			}
		}
		hiA = loA - 1
	}
	if extends {
		binary.LittleEndian.PutUint64(st[0:], uint64(endUs))
		for d := 0; d < nds; d++ {
			r := st[8+d*dsRecSize:]
			var v Value
			if len(f.last) == nds {
				v = f.last[d]
			}
			if s.spec.DS[d].Type == Counter && v.kind == kindInt {
				v.kind = kindUint
			}
			r[0] = byte(v.kind)
			binary.LittleEndian.PutUint64(r[1:], v.bits)
			binary.LittleEndian.PutUint64(r[9:], math.Float64bits(0))
			binary.LittleEndian.PutUint32(r[17:], 0)
		}
	}
}
