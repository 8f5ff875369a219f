package flowtop

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Query asks for a top list, or a stacked series, of one dimension over a time
// range.
type Query struct {
	// Device names the device; Interface one of its interfaces, or "" for all of
	// them (with Both, a flow that crossed two of the device's interfaces then
	// counts twice: once in, once out).
	Device, Interface string
	// Direction is In, Out or Both.
	Direction Direction
	Dimension Dimension
	// By is the measure ranked and reported.
	By Measure
	// From and To bound the range: every row that overlaps (From, To] is read, so
	// the range read is widened to whole rows (Result.From, Result.To).
	From, To time.Time
	// N is how many keys to list, 1 to 10000.
	N int
}

// Entry is a listed key. Its true weight is between Weight-Err and Weight+Miss.
// Err is the Space-Saving overestimate of the steps that listed the key; Miss is
// what the rows that did not list it may have held (each at most its list's bound).
// Both are 0 when the weight is exact.
type Entry struct {
	Key    Key
	Weight uint64
	Err    uint64
	Miss   uint64
}

// Result is a top list: Entries, heaviest first, and Other, so that the listed
// weights plus Other are Total, the exact total of the range read.
type Result struct {
	Dimension Dimension
	By        Measure
	// From and To are the range read: the start of its first row and the end of
	// its last. Step is the length of its rows (the archive read).
	From, To time.Time
	Step     time.Duration
	Entries  []Entry
	Other    uint64
	Total    uint64
	// Bound is the most any key not listed may weigh: every key heavier than
	// Bound is listed.
	Bound uint64
	// Steps is how many steps were recorded in the range read; fewer than
	// (To-From)/step where the collector was not running.
	Steps uint64
}

// Top returns the q.N heaviest keys of q.Dimension by q.By over the range, read
// from the finest archive that still holds q.From (the coarsest if none does).
// The last, unfinished row of a coarse archive is merged from finer rows, so the
// range reaches the last committed step.
func (s *Store) Top(q Query) (Result, error) {
	ids, last, err := s.resolve(q, true)
	if err != nil {
		return Result{}, err
	}
	res := Result{Dimension: q.Dimension, By: q.By}
	pl := s.plan(q.From, q.To, last)
	res.From, res.To, res.Step = pl.span(s.stepS)
	var all []*list
	err = s.bolt.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRows)
		for r := pl.q0; r <= pl.q1; r++ {
			part, err := s.rowLists(rb, pl.a, r, ids, q.Dimension, q.By, last, true)
			if err != nil {
				return err
			}
			res.Steps += part.steps
			res.Total += part.total[q.By]
			for i := range part.lists {
				all = append(all, &part.lists[i])
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("top %s: %w", q.what(), err)
	}
	m := mergeLists(all, q.N)
	res.Bound = m.bound
	res.Other = res.Total
	for _, e := range m.entries {
		res.Entries = append(res.Entries, Entry{Key: decodeKey(q.Dimension, e.key), Weight: e.w, Err: e.err, Miss: e.miss})
		res.Other -= e.w
	}
	return res, nil
}

// Series is a stacked series: per row, the weight of each of Keys, the top keys of
// the whole range, and the rest as Other.
type Series struct {
	Dimension Dimension
	By        Measure
	Step      time.Duration
	Keys      []Key
	Rows      []SeriesRow
}

// SeriesRow is one row of a Series. Values[i] is Keys[i]'s weight in the row: the
// sum of its listed weights, 0 where the row did not list it (it then weighed at
// most the row's list bound, and is counted in Other). Values plus Other make
// Total, exact. A row with Steps 0 recorded nothing: a gap, not a zero.
type SeriesRow struct {
	Start, End time.Time
	Steps      uint64
	Values     []uint64
	Other      uint64
	Total      uint64
}

// Series returns, for each row of the range (read as Top reads it), the weights
// of the q.N heaviest keys of the whole range and the rest: a graph of traffic by
// protocol or service stacked to the flow total.
func (s *Store) Series(q Query) (Series, error) {
	ids, last, err := s.resolve(q, true)
	if err != nil {
		return Series{}, err
	}
	pl := s.plan(q.From, q.To, last)
	_, _, step := pl.span(s.stepS)
	out := Series{Dimension: q.Dimension, By: q.By, Step: step}
	type seriesPart struct {
		q     int64
		steps uint64
		total uint64
		w     map[string]uint64
	}
	var parts []seriesPart
	var all []*list
	err = s.bolt.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRows)
		for r := pl.q0; r <= pl.q1; r++ {
			part, err := s.rowLists(rb, pl.a, r, ids, q.Dimension, q.By, last, true)
			if err != nil {
				return err
			}
			rp := seriesPart{q: r, steps: part.steps, total: part.total[q.By], w: map[string]uint64{}}
			for i := range part.lists {
				all = append(all, &part.lists[i])
				for _, e := range part.lists[i].entries {
					rp.w[e.key] += e.w
				}
			}
			parts = append(parts, rp)
		}
		return nil
	})
	if err != nil {
		return Series{}, fmt.Errorf("series %s: %w", q.what(), err)
	}
	top := mergeLists(all, q.N)
	for _, e := range top.entries {
		out.Keys = append(out.Keys, decodeKey(q.Dimension, e.key))
	}
	rowS := int64(pl.S) * s.stepS
	for _, rp := range parts {
		sr := SeriesRow{
			Start: time.Unix((rp.q-1)*rowS, 0).UTC(), End: time.Unix(rp.q*rowS, 0).UTC(),
			Steps: rp.steps, Total: rp.total, Other: rp.total, Values: make([]uint64, len(top.entries)),
		}
		for i, e := range top.entries {
			sr.Values[i] = rp.w[e.key]
			sr.Other -= sr.Values[i]
		}
		out.Rows = append(out.Rows, sr)
	}
	return out, nil
}

// TotalRow is one row of Totals: the exact flow totals of the row's steps
// (sampling-corrected bytes and packets, and records), to hold against the SNMP
// octets of the same interface. Steps 0 means nothing was recorded: a gap.
type TotalRow struct {
	Start, End            time.Time
	Steps                 uint64
	Bytes, Packets, Flows uint64
}

// Totals returns the flow totals of device's interface iface ("" for all of them)
// in direction dir, per row of the finest archive that holds from, for the rows
// that overlap (from, to].
func (s *Store) Totals(device, iface string, dir Direction, from, to time.Time) ([]TotalRow, error) {
	q := Query{Device: device, Interface: iface, Direction: dir, From: from, To: to}
	ids, last, err := s.resolve(q, false)
	if err != nil {
		return nil, err
	}
	pl := s.plan(from, to, last)
	rowS := int64(pl.S) * s.stepS
	var out []TotalRow
	err = s.bolt.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRows)
		for r := pl.q0; r <= pl.q1; r++ {
			part, err := s.rowLists(rb, pl.a, r, ids, 0, 0, last, false)
			if err != nil {
				return err
			}
			out = append(out, TotalRow{
				Start: time.Unix((r-1)*rowS, 0).UTC(), End: time.Unix(r*rowS, 0).UTC(), Steps: part.steps,
				Bytes: part.total[Bytes], Packets: part.total[Packets], Flows: part.total[Flows],
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("totals %s: %w", q.what(), err)
	}
	return out, nil
}

func (q Query) what() string {
	ifc := q.Interface
	if ifc == "" {
		ifc = "(all interfaces)"
	}
	return fmt.Sprintf("%s %s %s", q.Device, ifc, q.Direction)
}

// resolve checks q (its dimension, measure and N only when lists are asked for)
// and returns the series it reads and the last committed step.
func (s *Store) resolve(q Query, lists bool) ([]uint32, int64, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("query %s: %w: %s", q.what(), ErrQuery, fmt.Sprintf(format, args...))
	}
	switch {
	case q.Device == "":
		return nil, 0, bad("device: empty")
	case q.Direction != In && q.Direction != Out && q.Direction != Both:
		return nil, 0, bad("direction %d: want In, Out or Both", q.Direction)
	case !q.To.After(q.From):
		return nil, 0, bad("range: to %s not after from %s", q.To.UTC().Format(time.RFC3339), q.From.UTC().Format(time.RFC3339))
	case lists && int(q.Dimension) >= numDims:
		return nil, 0, bad("dimension %d: unknown", q.Dimension)
	case lists && int(q.By) >= numMeasures:
		return nil, 0, bad("measure %d: unknown", q.By)
	case lists && (q.N < 1 || q.N > 10000):
		return nil, 0, bad("n %d: must be 1 to 10000", q.N)
	}
	s.smu.RLock()
	defer s.smu.RUnlock()
	var ids []uint32
	if q.Interface != "" {
		for _, d := range []Direction{In, Out} {
			if q.Direction&d != 0 {
				if id, ok := s.ids[seriesName{q.Device, q.Interface, d}]; ok {
					ids = append(ids, id)
				}
			}
		}
	} else {
		for n, id := range s.ids {
			if n.device == q.Device && q.Direction&n.dir != 0 {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, 0, fmt.Errorf("query %s: %w", q.what(), ErrNoSeries)
	}
	return ids, s.last, nil
}

// plan is the rows a query reads: rows q0..q1 of archive a, each of S steps.
type plan struct {
	a      int
	S      int
	q0, q1 int64
}

func (p plan) span(stepS int64) (from, to time.Time, step time.Duration) {
	rowS := int64(p.S) * stepS
	step = time.Duration(rowS) * time.Second
	if p.q0 > p.q1 {
		return time.Time{}, time.Time{}, step
	}
	return time.Unix((p.q0-1)*rowS, 0).UTC(), time.Unix(p.q1*rowS, 0).UTC(), step
}

// plan picks the finest archive that still holds from (the coarsest if none does)
// and its rows that overlap (from, to] and are held, up to the one holding the
// last committed step.
func (s *Store) plan(from, to time.Time, last int64) plan {
	fromS, toS := from.Unix(), to.Unix()
	if to.Nanosecond() > 0 {
		toS++
	}
	as := s.opts.Archives
	a := len(as) - 1
	for i, ar := range as {
		S := int64(ar.Steps)
		if oldest := (ceilDiv(last, S) - int64(ar.Rows)) * S * s.stepS; fromS >= oldest {
			a = i
			break
		}
	}
	S, rows := int64(as[a].Steps), int64(as[a].Rows)
	rowS := S * s.stepS
	qLast := ceilDiv(last, S)
	pl := plan{a: a, S: as[a].Steps, q0: floorDiv(fromS, rowS) + 1, q1: ceilDiv(toS, rowS)}
	pl.q1 = min(pl.q1, qLast)
	pl.q0 = max(pl.q0, qLast-rows+1)
	return pl
}

// rowPart is what a row of one or more series holds for a query.
type rowPart struct {
	steps uint64
	total [numMeasures]uint64
	lists []list // one per series and finer row that make it up
}

// rowLists reads row q of archive a for series ids: totals, and the lists of
// (d, m) if withList. A row not yet finished (past the last committed step) is
// made of the finer rows it holds so far.
func (s *Store) rowLists(rb *bolt.Bucket, a int, q int64, ids []uint32, d Dimension, m Measure, last int64, withList bool) (rowPart, error) {
	var out rowPart
	S := int64(s.opts.Archives[a].Steps)
	if a > 0 && q*S > last {
		Sf := int64(s.opts.Archives[a-1].Steps)
		R := S / Sf
		for f := q*R - R + 1; f <= min(q*R, ceilDiv(last, Sf)); f++ {
			part, err := s.rowLists(rb, a-1, f, ids, d, m, last, withList)
			if err != nil {
				return out, err
			}
			out.steps += part.steps
			for i := range out.total {
				out.total[i] += part.total[i]
			}
			out.lists = append(out.lists, part.lists...)
		}
		return out, nil
	}
	slot := floorMod(q, int64(s.opts.Archives[a].Rows))
	key := make([]byte, rowKeyLen)
	putRowKey(key, a, slot, 0)
	v := rb.Get(key)
	if v == nil {
		return out, nil
	}
	mp, steps, err := decodeMarker(v)
	if err != nil {
		return out, fmt.Errorf("archive %d row %d marker: %w", a, q, err)
	}
	if mp != q {
		return out, nil
	}
	out.steps = steps
	for _, id := range ids {
		putRowKey(key, a, slot, id)
		v := rb.Get(key)
		if v == nil {
			continue
		}
		var p int64
		var total [numMeasures]uint64
		var l list
		if withList {
			p, total, l, err = decodeRowList(v, d, m)
		} else {
			p, total, err = decodeTotals(v)
		}
		if err != nil {
			return out, fmt.Errorf("archive %d row %d series %d: %w", a, q, id, err)
		}
		if p != q {
			continue
		}
		for i := range total {
			out.total[i] += total[i]
		}
		if withList {
			out.lists = append(out.lists, l)
		}
	}
	return out, nil
}

// decodeTotals decodes a row value's index and totals only.
func decodeTotals(v []byte) (int64, [numMeasures]uint64, error) {
	rd := reader{b: v}
	p := int64(rd.uvarint())
	var total [numMeasures]uint64
	for i := range total {
		total[i] = rd.uvarint()
	}
	return p, total, rd.err
}
