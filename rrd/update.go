package rrd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Update is one sample of one series.
type Update struct {
	Series string
	Time   time.Time
	// Values holds one reading per data source, in spec order.
	Values []Value
	// Discontinuity says the source was reset (agent restart, counter
	// reset): the interval since the previous update is unknown, and this
	// sample is the new baseline. It is never turned into a rate.
	Discontinuity bool
	// Refused is set by Update, not read: bit d says data source d's rate
	// since the previous update fell outside [Min, Max] and was stored as
	// unknown (above an interface's speed, say), so that callers can count
	// and show what was refused rather than leave a silent gap.
	Refused uint64
	// FailureChanges is set by Update, not read (its backing array is
	// reused): for a series with Holt-Winters, the steps this update
	// completed at which a data source's FAILURES turned on or off, each
	// data source's in step order. It is empty when nothing changed and
	// when the transaction did not commit. See FailureChange.
	FailureChanges []FailureChange
}

// Update applies ups in order, in one transaction. Updates of one series
// must be in time order; different series may interleave. An update that
// cannot apply (unknown series, not after the last update, wrong number of
// values) is skipped, the rest are committed, and the returned error lists
// the skipped ones (errors.Is ErrNoSeries, ErrNotAfter or ErrBadValue).
func (db *DB) Update(ups []Update) error { return db.UpdateMeta(ups, nil) }

// UpdateMeta is Update and PutMeta in one transaction: a poll cycle's samples
// and the facts that go with them cost one commit and one fsync.
func (db *DB) UpdateMeta(ups []Update, meta map[string][]byte) error {
	return db.UpdateWith(ups, meta, nil)
}

// UpdateWith is UpdateMeta whose transaction also holds the facts after
// returns once the updates are applied (it sees each Update's Refused), so
// that what depends on the outcome of a cycle is committed with it. after
// must not use the DB; nil means none.
func (db *DB) UpdateWith(ups []Update, meta map[string][]byte, after func([]Update) map[string][]byte) error {
	if db.ro {
		return fmt.Errorf("update: %w", ErrReadOnly)
	}
	if len(ups) == 0 && len(meta) == 0 {
		return nil
	}
	if err := db.ready(); err != nil {
		return err
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	var skipped []error
	nskipped := 0
	var resolved []resolvedName
	if len(ups) > 0 {
		resolved = db.resolve(ups)
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := putMeta(tx, meta); err != nil {
			return err
		}
		if len(ups) == 0 {
			return nil
		}
		w := newWork(tx)
		w.pool = &db.bufs
		u := updater{w: w}
		for i := range ups {
			if err := u.apply(resolved[i].s, &ups[i]); err != nil {
				nskipped++
				if len(skipped) < 10 {
					skipped = append(skipped, fmt.Errorf("update %s at %s: %w", ups[i].Series, ups[i].Time.UTC().Format(time.RFC3339), err))
				}
			}
		}
		if err := w.flush(); err != nil {
			return err
		}
		if after == nil {
			return nil
		}
		return putMeta(tx, after(ups))
	})
	db.bufs.release()
	if err != nil {
		// Nothing was stored: no FAILURES changed.
		for i := range ups {
			ups[i].FailureChanges = ups[i].FailureChanges[:0]
		}
		return fmt.Errorf("commit updates: %w", err)
	}
	if nskipped > len(skipped) {
		skipped = append(skipped, fmt.Errorf("and %d more skipped updates", nskipped-len(skipped)))
	}
	return errors.Join(skipped...)
}

// resolvedName is a series name an Update call named, and its series.
type resolvedName struct {
	name string
	s    *series
}

// resolve looks up the series of every update. A poller names the same
// series in the same order every cycle, so the previous call's answers are
// checked by position first and the catalog map is consulted only where
// the name differs. The caller holds db.wmu, which also guards every
// change of the catalog (each of which forgets db.resolved).
func (db *DB) resolve(ups []Update) []resolvedName {
	prev := db.resolved
	if cap(prev) < len(ups) {
		db.resolved = make([]resolvedName, len(ups))
		copy(db.resolved, prev)
	}
	r := db.resolved[:len(ups)]
	for i := range ups {
		if i < len(prev) && r[i].s != nil && r[i].name == ups[i].Series {
			continue
		}
		r[i] = resolvedName{name: ups[i].Series, s: db.series[ups[i].Series]}
	}
	db.resolved = r
	return r
}

type updater struct {
	w                   *work
	g                   *group
	gw                  *groupWork
	pdpNew, first, fill []float64
	firstS, fillS       []float32
	pl                  stepPlan
	win                 []cdpWindow // windows of the current update
	hw                  hwUpdater
}

// apply is RRDtool's update (rrd_update.c: update_pdp_prep,
// calculate_elapsed_steps, simple_update, process_pdp_st, update_cdp_prep)
// for one sample, with mrtgo's counter rules, and consolidated rows computed
// from the primary-data-point ring instead of per-archive accumulators.
func (u *updater) apply(s *series, up *Update) error {
	up.FailureChanges = up.FailureChanges[:0]
	if s == nil {
		return ErrNoSeries
	}
	g := s.g
	nds := g.nds
	if len(up.Values) != nds {
		return fmt.Errorf("%w: %d values for %d data sources", ErrBadValue, len(up.Values), nds)
	}
	for d, v := range up.Values {
		if err := checkValue(s.spec.DS[d].Type, v); err != nil {
			return err
		}
	}
	if u.g != g {
		u.g, u.gw = g, u.w.group(nil, g, g.cols)
	}
	gw := u.gw
	st := gw.stateRec(s.col)
	last := int64(binary.LittleEndian.Uint64(st[0:]))
	t := up.Time.UnixMicro()
	if t <= last {
		return fmt.Errorf("%w (%s)", ErrNotAfter, time.UnixMicro(last).UTC().Format(time.RFC3339Nano))
	}
	if cap(u.pdpNew) < nds {
		u.pdpNew = make([]float64, nds)
		u.first = make([]float64, nds)
		u.fill = make([]float64, nds)
		u.firstS = make([]float32, nds)
		u.fillS = make([]float32, nds)
	}
	pdpNew, first, fill, firstS, fillS := u.pdpNew[:nds], u.first[:nds], u.fill[:nds], u.firstS[:nds], u.fillS[:nds]
	up.Refused = 0

	intervalUs := t - last
	interval := float64(intervalUs) / 1e6
	hbExceeded := intervalUs > s.hbUs

	// update_pdp_prep: the new reading as rate × seconds (pdp_new).
	for d := 0; d < nds; d++ {
		ds := &s.spec.DS[d]
		r := st[8+d*dsRecSize:]
		lastV := Value{kind: valueKind(r[0]), bits: binary.LittleEndian.Uint64(r[1:])}
		if hbExceeded {
			lastV = Value{}
		}
		v := up.Values[d]
		if ds.Type == Counter && v.kind == kindInt {
			v.kind = kindUint
		}
		pn := math.NaN()
		if !v.IsUnknown() && !hbExceeded && !up.Discontinuity {
			rate := math.NaN()
			switch ds.Type {
			case Counter:
				if !lastV.IsUnknown() {
					pn = counterDelta(lastV.bits, v.bits, ds.Bits)
					rate = pn / interval
				}
			case Derive:
				if !lastV.IsUnknown() {
					pn = diff(v, lastV)
					rate = pn / interval
				}
			case Absolute:
				pn = v.Float64()
				rate = pn / interval
			case Gauge:
				pn = v.Float64() * interval
				rate = v.Float64()
			}
			if !math.IsNaN(rate) && ((!math.IsNaN(ds.Max) && rate > ds.Max) || (!math.IsNaN(ds.Min) && rate < ds.Min)) {
				pn = math.NaN()
				if d < 64 {
					up.Refused |= 1 << d
				}
			}
		}
		pdpNew[d] = pn
		r[0] = byte(v.kind)
		binary.LittleEndian.PutUint64(r[1:], v.bits)
	}
	binary.LittleEndian.PutUint64(st[0:], uint64(t))

	// calculate_elapsed_steps
	step := g.stepUs
	stepS := step / 1e6
	procSt := floorDiv(last, step) * step
	occuSt := floorDiv(t, step) * step
	elapsed := (occuSt - procSt) / step
	if elapsed == 0 {
		// simple_update
		for d := 0; d < nds; d++ {
			r := st[8+d*dsRecSize:]
			if math.IsNaN(pdpNew[d]) {
				unkn := binary.LittleEndian.Uint32(r[17:])
				binary.LittleEndian.PutUint32(r[17:], unkn+uint32(math.Floor(interval)))
				continue
			}
			val := math.Float64frombits(binary.LittleEndian.Uint64(r[9:]))
			if math.IsNaN(val) {
				val = pdpNew[d]
			} else {
				val += pdpNew[d]
			}
			binary.LittleEndian.PutUint64(r[9:], math.Float64bits(val))
		}
		return nil
	}
	// RRDtool 1.5 and later: the step the previous update was in gets its
	// own rate (what it had so far plus this update's share of it); every
	// later step this update covers gets this update's rate.
	preInt := float64(procSt+step-last) / 1e6
	postInt := float64(t-occuSt) / 1e6
	// rrdtool splits an update spanning several steps at the first step
	// boundary; the heartbeat applies to the part before it.
	firstLate := hbExceeded
	if elapsed > 1 {
		firstLate = procSt+step-last > s.hbUs
	}
	for d := 0; d < nds; d++ {
		r := st[8+d*dsRecSize:]
		val := math.Float64frombits(binary.LittleEndian.Uint64(r[9:]))
		unkn := int64(binary.LittleEndian.Uint32(r[17:]))
		preUnknown := 0.0
		if math.IsNaN(pdpNew[d]) {
			preUnknown = preInt
		} else {
			if math.IsNaN(val) {
				val = 0
			}
			val += pdpNew[d] / interval * preInt
		}
		if firstLate || float64(stepS)/2.0 < float64(unkn) {
			first[d] = math.NaN()
		} else {
			first[d] = val / (float64(stepS-unkn) - preUnknown)
		}
		fill[d] = pdpNew[d] / interval
		if math.IsNaN(pdpNew[d]) {
			binary.LittleEndian.PutUint32(r[17:], uint32(math.Floor(postInt)))
			binary.LittleEndian.PutUint64(r[9:], math.Float64bits(math.NaN()))
		} else {
			binary.LittleEndian.PutUint32(r[17:], 0)
			binary.LittleEndian.PutUint64(r[9:], math.Float64bits(pdpNew[d]/interval*postInt))
		}
		firstS[d] = bounded(first[d], &s.spec.DS[d])
		fillS[d] = bounded(fill[d], &s.spec.DS[d])
	}

	p0 := procSt / step // last primary data point already written
	pEnd := occuSt / step
	chunk := s.col / chunkCols
	pl := u.plan(gw, p0, pEnd, chunk)

	// Consolidated archives first: a row may need primary data points from
	// the ring that this update's ring writes could overwrite. Archives of
	// the same length (AVERAGE and MAX of 6 steps) share one pass over the
	// primary data points.
	for _, ap := range pl.arch {
		ar := g.arch[ap.a]
		S := int64(ar.Steps)
		for i, rb := range ap.rows {
			q := ap.q + int64(i)
			for d := 0; d < nds; d++ {
				c := u.window(pl, s.col, nds, d, S, q)
				rb.set(s.col, nds, d, bounded(c.value(ar), &s.spec.DS[d]))
			}
		}
	}
	for i, rb := range pl.ring {
		p := pl.ringP + int64(i)
		for d := 0; d < nds; d++ {
			v := fillS[d]
			if p == p0+1 {
				v = firstS[d]
			}
			rb.set(s.col, nds, d, v)
		}
	}
	u.win = u.win[:0]
	u.hw.observe(gw, s, p0, pEnd, firstS, fillS, &up.FailureChanges)
	return nil
}

// window returns the primary data points q*S-S+1 .. q*S of data source d
// of column col, accumulated: from the ring up to the plan's p0, then the
// update's first step, then its fill rate. Windows are remembered until
// the update ends, so archives of the same length read the ring once.
func (u *updater) window(pl *stepPlan, col uint32, nds, d int, S, q int64) *cdp {
	for i := range u.win {
		if w := &u.win[i]; w.S == S && w.q == q && w.d == d {
			return &w.c
		}
	}
	lo, hi := q*S-S+1, q*S
	c := newCDP()
	p0 := pl.p0
	if lo < pl.minP {
		// Not needed by any row (the plan reads back only as far as one does).
		c.add(math.NaN(), min(hi, pl.minP-1)-lo+1)
	}
	for p := max(lo, pl.minP); p <= min(hi, p0); p++ {
		c.add(pl.old[p-pl.minP].get(col, nds, d), 1)
	}
	if lo <= p0+1 && p0+1 <= hi {
		c.add(float64(u.firstS[d]), 1)
	}
	c.add(float64(u.fillS[d]), hi-max(lo, p0+2)+1)
	u.win = append(u.win, cdpWindow{S: S, q: q, d: d, c: c})
	return &u.win[len(u.win)-1].c
}

type cdpWindow struct {
	S, q int64
	d    int
	c    cdp
}

// stepPlan is what an update from primary data point p0 to pEnd touches
// in one chunk of a group: the same for every series updated in the same
// steps, so it is worked out once for all of them.
type stepPlan struct {
	g        *group
	p0, pEnd int64
	chunk    uint32
	minP     int64     // first old primary data point needed
	old      []*rowBuf // ring rows minP..p0, for reading
	arch     []archPlan
	ringP    int64     // first ring row written
	ring     []*rowBuf // ring rows ringP..pEnd, for writing
}

// archPlan is the consolidated rows q.. of storage archive a that an
// update completes.
type archPlan struct {
	a    int
	q    int64
	rows []*rowBuf
}

// plan returns the stepPlan of an update of chunk of gw's group from p0 to
// pEnd, reusing the previous one when it is the same.
func (u *updater) plan(gw *groupWork, p0, pEnd int64, chunk uint32) *stepPlan {
	pl := &u.pl
	if pl.g == gw.g && pl.p0 == p0 && pl.pEnd == pEnd && pl.chunk == chunk && pl.old != nil {
		return pl
	}
	g := gw.g
	*pl = stepPlan{g: g, p0: p0, pEnd: pEnd, chunk: chunk, old: pl.old[:0], arch: pl.arch[:0], ring: pl.ring[:0]}
	ringRows := int64(g.arch[0].Rows)
	minP := p0 + 1
	for a := 1; a < len(g.arch); a++ {
		S, rows := int64(g.arch[a].Steps), int64(g.arch[a].Rows)
		q1, qn := floorDiv(p0, S)+1, floorDiv(pEnd, S)
		if q1 > qn {
			continue
		}
		if q1 > qn-rows {
			minP = min(minP, q1*S-S+1)
		}
		ap := archPlan{a: a, q: max(q1, qn-rows+1)}
		for q := ap.q; q <= qn; q++ {
			ap.rows = append(ap.rows, gw.row(a, floorMod(q, rows), chunk, true))
		}
		pl.arch = append(pl.arch, ap)
	}
	pl.minP = minP
	for p := minP; p <= p0; p++ {
		pl.old = append(pl.old, gw.row(0, floorMod(p, ringRows), chunk, false))
	}
	if pl.old == nil {
		pl.old = []*rowBuf{} // marks the plan valid
	}
	pl.ringP = max(p0+1, pEnd-ringRows+1)
	for p := pl.ringP; p <= pEnd; p++ {
		pl.ring = append(pl.ring, gw.row(0, floorMod(p, ringRows), chunk, true))
	}
	return pl
}

// cdp accumulates primary data points into one consolidated row, as
// RRDtool's update_cdp: the row is unknown if more than XFF of its points
// are unknown. It is the one consolidation of the package.
type cdp struct {
	n, unknown          int64
	sum, max, min, last float64
}

func newCDP() cdp { return cdp{max: math.Inf(-1), min: math.Inf(1), last: math.NaN()} }

// add adds k primary data points of value v.
func (c *cdp) add(v float64, k int64) {
	if k <= 0 {
		return
	}
	c.n += k
	c.last = v
	if math.IsNaN(v) {
		c.unknown += k
		return
	}
	c.sum += v * float64(k)
	if v > c.max {
		c.max = v
	}
	if v < c.min {
		c.min = v
	}
}

// value is the consolidated row for archive ar.
func (c *cdp) value(ar Archive) float64 {
	if c.n == 0 || float64(c.unknown) > float64(c.n)*ar.XFF {
		return math.NaN()
	}
	switch ar.CF {
	case Average:
		return c.sum / float64(c.n-c.unknown)
	case Max:
		return c.max
	case Min:
		return c.min
	}
	return c.last
}

// counterDelta is the increase of a counter from a to b: a 32-bit counter
// that went backwards wrapped once; a 64-bit one was reset (unknown).
func counterDelta(a, b uint64, bits int) float64 {
	if b >= a {
		return float64(b - a)
	}
	if bits == 32 && a <= math.MaxUint32 && b <= math.MaxUint32 {
		return float64(b + (1 << 32) - a)
	}
	return math.NaN()
}

// bounded converts a rate to its stored float32, never outside the data
// source's bounds: rounding may not push a rate at the maximum above it.
func bounded(v float64, ds *DS) float32 {
	if math.IsNaN(v) {
		return float32(math.NaN())
	}
	f := float32(v)
	if !math.IsNaN(ds.Max) && float64(f) > ds.Max {
		f = float32(ds.Max)
		if float64(f) > ds.Max {
			f = math.Nextafter32(f, float32(math.Inf(-1)))
		}
	}
	if !math.IsNaN(ds.Min) && float64(f) < ds.Min {
		f = float32(ds.Min)
		if float64(f) < ds.Min {
			f = math.Nextafter32(f, float32(math.Inf(1)))
		}
	}
	return f
}
