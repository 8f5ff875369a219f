package mrtgimport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

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
// Progress, when not nil, is called with the number of targets done out of those with a
// series, as targets are read, skipped and written; the counts only grow and the last
// call has done == total.
func ImportHistory(ctx context.Context, db *rrd.DB, c *Config, plans []*Plan, step time.Duration, log *slog.Logger, progress func(done, total int)) ([]Imported, error) {
	var out []Imported
	total, done := 0, 0
	for _, p := range plans {
		if p.Series != "" {
			total++
		}
	}
	report := func(done int) {
		if progress != nil {
			progress(done, total)
		}
	}
	im := &importer{db: db, step: step, log: log}
	var errs []error
	flush := func() error {
		err := im.store(ctx, out, func(n int) { report(done + n) })
		done += len(im.jobs)
		report(done)
		im.jobs = im.jobs[:0]
		if err != nil && ctx.Err() != nil {
			return err
		}
		errs = append(errs, err)
		return nil
	}
	for _, p := range plans {
		if p.Series == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		res := Imported{Plan: p}
		var h *History
		var err error
		base := p.Target.LogBase(c)
		if c.LogFormat == "rrdtool" {
			res.Source = base + ".rrd"
			h, err = ReadRRD(ctx, res.Source)
		} else {
			res.Source = base + ".log"
			h, err = ReadLog(res.Source)
		}
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				res.Skipped = "no history file " + res.Source
			} else {
				res.Skipped = err.Error()
			}
			out = append(out, res)
			done++
			report(done)
			continue
		}
		res.Rows, res.From, res.To = len(h.Rows), h.Rows[0].Start, h.Rows[len(h.Rows)-1].End
		out = append(out, res)
		im.jobs = append(im.jobs, job{out: len(out) - 1, h: h})
		if len(im.jobs) == group {
			if err := flush(); err != nil {
				return out, err
			}
		}
	}
	if err := flush(); err != nil {
		return out, err
	}
	infos := map[string]series.Info{}
	for _, r := range out {
		if r.Skipped != "" {
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
