package mrtgimport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/rrd"
)

// Imported is the outcome of one target's history import.
type Imported struct {
	Plan     *Plan
	Source   string    // the .log or .rrd file read
	Rows     int       // MRTG rows replayed
	From, To time.Time // the span imported
	Skipped  string    // why nothing was imported ("" when rows were)
	// Merged says the series held data before: only the history's rows older than the
	// series' own, or after its last update, were written (see rrd.Backfill).
	Merged bool
}

// group is how many targets' histories one rrd.Backfill takes: their MRTG rows are held
// in memory meanwhile (about 120 KB a target for two years of a .log), and each Backfill
// rewrites every row key of the chunks it touches, so fewer and larger batches write
// less.
const group = 512

// ImportHistory reads the history of every planned target and merges it into db, whose
// series have the given step, by time (rrd.Backfill): a new series takes the whole
// history and continues from MRTG's last counter readings; a series that already holds
// data (polled by mrtgo, or imported before) takes the rows older than its own and
// keeps every row of its own time, so importing twice changes nothing. A missing or
// unreadable file is reported, not an error.
//
// Progress, when not nil, is called with how many targets are done out of those with a
// series (a target read counts half), as targets are read, skipped and written; the
// counts only grow and the last call has done == total.
func ImportHistory(ctx context.Context, db *rrd.DB, c *Config, plans []*Plan, step time.Duration, log *slog.Logger, progress func(done, total int)) ([]Imported, error) {
	var out []Imported
	total := 0
	for _, p := range plans {
		if p.Series != "" {
			total++
		}
	}
	// A target is half done when its history is read and done when it is stored (or
	// skipped): reading is most of the work in rrdtool mode.
	var mu sync.Mutex
	nread, stored := 0, 0
	report := func() {
		if progress != nil {
			progress((nread+stored)/2, total)
		}
	}
	im := &importer{db: db, step: step, log: log}
	var errs []error
	flush := func() error {
		base := stored
		err := im.store(ctx, out, func(n int) {
			stored = base + n
			report()
		})
		stored = base + len(im.jobs)
		report()
		im.jobs = im.jobs[:0]
		if err != nil && ctx.Err() != nil {
			return err
		}
		errs = append(errs, err)
		return nil
	}
	var todo []*Plan
	for _, p := range plans {
		if p.Series != "" {
			todo = append(todo, p)
		}
	}
	for len(todo) > 0 {
		n := min(group, len(todo))
		read := readHistories(ctx, c, todo[:n], func() {
			mu.Lock()
			nread++
			report()
			mu.Unlock()
		})
		todo = todo[n:]
		if err := ctx.Err(); err != nil {
			return out, err
		}
		for _, r := range read {
			out = append(out, r.Imported)
			if r.h == nil {
				stored++
				report()
				continue
			}
			im.jobs = append(im.jobs, job{out: len(out) - 1, h: r.h})
		}
		if err := flush(); err != nil {
			return out, err
		}
	}
	infos := map[string]series.Info{}
	for _, r := range out {
		if r.Skipped != "" || r.Plan.kind() != series.KindOctets {
			continue
		}
		p := r.Plan
		infos[p.Series] = series.Info{Index: p.Index, Descr: p.Descr, Speed: speed(p), Bits: p.Bits}
	}
	if err := series.PutInterfaces(db, infos); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("store history: %w", err)
	}
	return out, nil
}

// perRates undoes rateup's perminute and perhour: its .log holds such a counter's rates
// times 60 or 3600 (an .rrd of rrdtool mode keeps them per second), and the store
// keeps rates per second, the target's per being applied where they are shown.
func perRates(h *History, per string) {
	f := config.Target{Per: per}.PerSeconds()
	if f == 1 {
		return
	}
	for i := range h.Rows {
		r := &h.Rows[i]
		r.In, r.Out, r.MaxIn, r.MaxOut = r.In/f, r.Out/f, r.MaxIn/f, r.MaxOut/f
	}
}

// read is a target's history as readHistories read it: h is nil when Skipped says why.
type read struct {
	Imported
	h *History
}

// readHistories reads the history files of plans, on as many goroutines as there are
// cores: in rrdtool mode every file is a run of "rrdtool dump" (tens of milliseconds),
// and parsing a .log is most of the rest of an import.
// done is called after each file is read, from the goroutine that read it.
func readHistories(ctx context.Context, c *Config, plans []*Plan, done func()) []read {
	out := make([]read, len(plans))
	var g errgroup.Group
	workers := runtime.GOMAXPROCS(0)
	g.SetLimit(workers)
	// One rrdtool process per goroutine reading, for all its files.
	dumpers := make(chan *dumper, workers)
	defer func() {
		close(dumpers)
		for d := range dumpers {
			d.close()
		}
	}()
	for i, p := range plans {
		g.Go(func() error {
			defer done()
			r := &out[i]
			r.Plan = p
			if ctx.Err() != nil {
				r.Skipped = ctx.Err().Error()
				return nil
			}
			var err error
			base := p.Target.LogBase(c)
			if c.LogFormat == "rrdtool" {
				r.Source = base + ".rrd"
				var d *dumper
				select {
				case d = <-dumpers:
				default:
					d = newDumper(ctx)
				}
				r.h, err = d.read(ctx, r.Source)
				dumpers <- d
			} else {
				r.Source = base + ".log"
				r.h, err = ReadLog(r.Source)
				if err == nil {
					perRates(r.h, p.Target.Per)
				}
			}
			switch {
			case errors.Is(err, os.ErrNotExist):
				r.h, r.Skipped = nil, "no history file "+r.Source
			case err != nil:
				r.h, r.Skipped = nil, err.Error()
			default:
				r.Rows, r.From, r.To = len(r.h.Rows), r.h.Rows[0].Start, r.h.Rows[len(r.h.Rows)-1].End
			}
			return nil
		})
	}
	g.Wait()
	return out
}
