package poller

// A cycle's read of the counters. Interfaces that are consecutive rows of the agent's
// interface table are read with GETBULK from the row before them; the rest, and the
// scalars, with GET. net-snmp answers a GETBULK of 20 rows of three columns faster than
// a GET of the same 60 objects (1,000 interfaces: 10–20 ms against 23–58 ms), and any
// agent answers it in as many PDUs as the GET would take. A bulk answer is taken only where every
// varbind is the expected instance; from the first that is not (a row added or removed
// since the mapping was made, a counter the row lacks) the run's remaining interfaces
// are read with GET, so the result is exactly what the GET would have returned.

import (
	"errors"
	"fmt"
	"sync"

	"github.com/mrtgo/mrtgo/internal/snmp"
)

// minBulkRun is the shortest run of consecutive rows read with GETBULK: shorter runs
// pack better into the GET.
const minBulkRun = 8

// reading is one cycle's answer.
type reading struct {
	uptime snmp.Value // sysUpTime.0
	change snmp.Value // ifTableLastChange.0; absent where the agent lacks it
	number snmp.Value // ifNumber.0; absent where the agent lacks it
	// per holds, for each of d.ifaces in order, the columns of lay: the in and out
	// counters, unless the agent lacks it ifCounterDiscontinuityTime, the status and
	// the counter groups the device asks for.
	per    []snmp.Value
	stride int // values per interface in per
	lay    layout
}

func (r reading) counters(i int) (in, out snmp.Value) { return r.per[r.stride*i], r.per[r.stride*i+1] }

// discTime is interface i's ifCounterDiscontinuityTime.
func (r reading) discTime(i int) (uint32, bool) {
	if r.lay.disc < 0 {
		return 0, false
	}
	return r.per[r.stride*i+r.lay.disc].Ticks()
}

// readPlan is how a cycle reads: the GET (scalars first, then the interfaces in getIfs
// order, stride OIDs each) and the bulk runs.
type readPlan struct {
	get    []string
	getIfs []int // positions in d.ifaces
	runs   []bulkRun
	stride int
	lay    layout
}

// bulkRun is interfaces that are consecutive rows of the agent's table, with the same
// counter columns.
type bulkRun struct {
	cols  []string // the columns of the plan's layout (counters.go)
	after int      // ifIndex of the row before the first; 0 when it is the table's first
	ifs   []int    // positions in d.ifaces, in row order
}

// plan builds the read of the current mapping.
func (d *device) plan() *readPlan {
	lay := d.layout()
	p := &readPlan{stride: lay.stride, lay: lay}
	p.get = make([]string, 0, 3+p.stride*len(d.ifaces))
	p.get = append(p.get, oidSysUpTime)
	if !d.noChange {
		p.get = append(p.get, oidIfTableLastChange)
	}
	if !d.noNumber {
		p.get = append(p.get, oidIfNumber)
	}
	// An interface's columns follow from its counter width and how its packets are
	// read: one slice for each such kind, shared, and runs compared by kind.
	type kind struct {
		bits32 bool
		pk     int
	}
	kinds := map[kind][]string{}
	kindOf := make([]kind, len(d.ifaces))
	colsOf := make([][]string, len(d.ifaces))
	for i, f := range d.ifaces {
		k := kind{d.is32(f.name), pkHC}
		if lay.packets >= 0 {
			k.pk = d.packetMode(f.name)
		}
		c, ok := kinds[k]
		if !ok {
			c = d.columns(f.name, lay)
			kinds[k] = c
		}
		kindOf[i], colsOf[i] = k, c
	}
	inGet := make([]bool, len(d.ifaces))
	for i := range inGet {
		inGet[i] = true
	}
	if d.cfg.SNMP.Version != "1" && len(d.rows) > 0 {
		// Rows of the agent's table by ifIndex, and the polled interfaces in row order.
		row := make(map[int]int, len(d.rows))
		for k, idx := range d.rows {
			row[idx] = k
		}
		order := make([]int, 0, len(d.ifaces))
		for i, f := range d.ifaces {
			if _, ok := row[f.index]; ok {
				order = append(order, i)
			}
		}
		sortByRow(order, d.ifaces, row)
		for start := 0; start < len(order); {
			end := start + 1
			for end < len(order) {
				a, b := order[end-1], order[end]
				if row[d.ifaces[b].index] != row[d.ifaces[a].index]+1 || kindOf[a] != kindOf[b] {
					break
				}
				end++
			}
			if end-start >= minBulkRun {
				first := d.ifaces[order[start]]
				r := bulkRun{cols: colsOf[order[start]], ifs: order[start:end]}
				if k := row[first.index]; k > 0 {
					r.after = d.rows[k-1]
				}
				p.runs = append(p.runs, r)
				for _, i := range order[start:end] {
					inGet[i] = false
				}
			}
			start = end
		}
	}
	for i, f := range d.ifaces {
		if !inGet[i] {
			continue
		}
		p.getIfs = append(p.getIfs, i)
		for _, c := range colsOf[i] {
			p.get = append(p.get, instance(c, f.index))
		}
	}
	return p
}

func sortByRow(order []int, ifs []iface, row map[int]int) {
	// Insertion sort: the interfaces come in configuration order, usually row order.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && row[ifs[order[j]].index] < row[ifs[order[j-1]].index]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}

// read reads sysUpTime.0, ifTableLastChange.0 and ifNumber.0 (until the agent shows it
// lacks them: on SNMPv1 asking costs a PDU more) and, per interface, the in and out
// counters of the width known for it and ifCounterDiscontinuityTime, all in as few PDUs
// as the agent takes.
func (d *device) read(s *session) (reading, error) {
	if d.readPlan == nil {
		d.readPlan = d.plan()
	}
	p := d.readPlan
	vals, err := s.Get(p.get)
	if err != nil {
		return reading{}, fmt.Errorf("get counters: %w", err)
	}
	r := reading{uptime: vals[0], change: snmp.AbsentValue, number: snmp.AbsentValue, stride: p.stride, lay: p.lay}
	head := 1
	if !d.noChange {
		r.change = vals[head]
		head++
		if r.change.Absent() {
			d.noChange, d.readPlan = true, nil
		}
	}
	if !d.noNumber {
		r.number = vals[head]
		head++
		if r.number.Absent() {
			d.noNumber, d.readPlan = true, nil
		}
	}
	r.per = make([]snmp.Value, p.stride*len(d.ifaces))
	for k, i := range p.getIfs {
		copy(r.per[p.stride*i:p.stride*(i+1)], vals[head+p.stride*k:head+p.stride*(k+1)])
	}
	if err := s.readRuns(d, p, r.per); err != nil {
		return reading{}, fmt.Errorf("get counters: %w", err)
	}
	if p.lay.disc >= 0 && len(d.ifaces) > 0 {
		absent := true
		for i := range d.ifaces {
			if !r.per[p.stride*i+p.lay.disc].Absent() {
				absent = false
				break
			}
		}
		if absent {
			d.log.Debug("agent has no ifCounterDiscontinuityTime; no longer asking")
			d.noDisc, d.readPlan = true, nil
		}
	}
	return r, nil
}

func (d *device) indexesOf(ifs []int) []int {
	idx := make([]int, len(ifs))
	for k, i := range ifs {
		idx[k] = d.ifaces[i].index
	}
	return idx
}

// bulkChunk is one GETBULK's share of a run: the rows of ifs (positions in d.ifaces),
// which follow the row with ifIndex after.
type bulkChunk struct {
	cols  []string
	after int
	ifs   []int
}

// chunks cuts the plan's runs into one GETBULK each, of answers of up to bulkOIDs
// varbinds. Every chunk knows the row before it from the mapping, so they can be
// asked in any order.
func (p *readPlan) chunks(d *device, bulkOIDs int) []bulkChunk {
	var out []bulkChunk
	for _, run := range p.runs {
		reps := max(bulkOIDs/len(run.cols), 1)
		for start := 0; start < len(run.ifs); start += reps {
			c := bulkChunk{cols: run.cols, after: run.after, ifs: run.ifs[start:min(start+reps, len(run.ifs))]}
			if start > 0 {
				c.after = d.ifaces[run.ifs[start-1]].index
			}
			out = append(out, c)
		}
	}
	return out
}

// readChunk reads one chunk into per: by GETBULK as far as the agent answers the
// expected rows, the rest by GET, which tells an absent counter from a moved row.
func (s *session) readChunk(d *device, c bulkChunk, stride int, per []snmp.Value) error {
	got, err := s.Rows(c.cols, c.after, d.indexesOf(c.ifs))
	if err != nil {
		return err
	}
	for k, i := range c.ifs[:len(got)] {
		copy(per[stride*i:stride*(i+1)], got[k])
	}
	rest := c.ifs[len(got):]
	if len(rest) == 0 {
		return nil
	}
	oids := make([]string, 0, stride*len(rest))
	for _, i := range rest {
		for _, col := range c.cols {
			oids = append(oids, instance(col, d.ifaces[i].index))
		}
	}
	vs, err := s.Get(oids)
	if err != nil {
		return err
	}
	for k, i := range rest {
		copy(per[stride*i:stride*(i+1)], vs[stride*k:stride*(k+1)])
	}
	return nil
}

// readRuns reads the plan's bulk runs into per. With s.window above one and a way to
// open more clients, up to window GETBULKs are in flight at once, each on a socket of
// its own: the agent answers one while the last answer is decoded here.
func (s *session) readRuns(d *device, p *readPlan, per []snmp.Value) error {
	chunks := p.chunks(d, s.BulkOIDs())
	workers := 1
	if s.more != nil {
		workers = min(s.window, len(chunks))
	}
	if workers <= 1 {
		for _, c := range chunks {
			if err := s.readChunk(d, c, p.stride, per); err != nil {
				return err
			}
		}
		return nil
	}
	subs := make([]*session, workers)
	subs[0] = s
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for w := 1; w < workers; w++ {
		pdu := *s.MaxOIDs
		sub := &session{Session: snmp.Session{V1: s.V1, MaxOIDs: &pdu, MaxBulk: s.MaxBulk, Now: s.Now, OnShrink: s.OnShrink}}
		c, closeFn, err := s.more(func() { sub.sent++ })
		if err != nil {
			workers = w // fewer sockets: the ones open share the work
			break
		}
		sub.Client = c
		closers = append(closers, closeFn)
		subs[w] = sub
	}
	subs = subs[:workers]
	next := make(chan bulkChunk, len(chunks))
	for _, c := range chunks {
		next <- c
	}
	close(next)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w, sub := range subs {
		wg.Go(func() {
			for c := range next {
				if errs[w] != nil {
					continue // drain: another worker may still succeed, but the read has failed
				}
				errs[w] = sub.readChunk(d, c, p.stride, per)
			}
		})
	}
	wg.Wait()
	for _, sub := range subs[1:] {
		s.Requests += sub.Requests
		s.sent += sub.sent
		*s.MaxOIDs = min(*s.MaxOIDs, *sub.MaxOIDs)
	}
	return errors.Join(errs...)
}
