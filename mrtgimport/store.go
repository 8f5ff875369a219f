package mrtgimport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
}

// batch is the most updates one store transaction takes; group is how many series are
// replayed together (about 3 MB each for two years of MRTG history).
const (
	batch = 200_000
	group = 128
)

// ImportHistory reads the history of every planned target and replays it into db, whose
// series have the given step. A target whose series already holds data from the span of
// the history is left alone (importing twice is harmless); a missing file is reported, not
// an error.
//
// Progress, when not nil, is called with the number of targets done out of those with a
// series, as targets are skipped and as each group's updates are written; the counts
// only grow and the last call has done == total.
func ImportHistory(ctx context.Context, db *rrd.DB, c *Config, plans []*Plan, step time.Duration, log *slog.Logger, progress func(done, total int)) ([]Imported, error) {
	var out []Imported
	var rs []*replayed
	write := func(ups []rrd.Update) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return db.Update(ups)
	}
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
	// flush writes the replays in rs, moving the count through the group in proportion
	// to the updates written (a group of 128 takes a while).
	var errs []error
	flush := func() {
		n := 0
		for _, r := range rs {
			n += len(r.t)
		}
		written := 0
		errs = append(errs, feed(rs, batch, func(ups []rrd.Update) error {
			err := write(ups)
			written += len(ups)
			if n > 0 {
				report(done + len(rs)*written/n)
			}
			return err
		}))
		done += len(rs)
		report(done)
		rs = rs[:0]
	}
	skip := func(im Imported) {
		out = append(out, im)
		done++
		report(done)
	}
	for _, p := range plans {
		if p.Series == "" {
			continue
		}
		im := Imported{Plan: p}
		var h *History
		var err error
		base := p.Target.LogBase(c)
		if c.LogFormat == "rrdtool" {
			im.Source = base + ".rrd"
			h, err = ReadRRD(ctx, im.Source)
		} else {
			im.Source = base + ".log"
			h, err = ReadLog(im.Source)
		}
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				im.Skipped = "no history file " + im.Source
			} else {
				im.Skipped = err.Error()
			}
			skip(im)
			continue
		}
		rp, err := replay(h, step, p.MaxRate, p.Bits)
		if err != nil {
			im.Skipped = err.Error()
			skip(im)
			continue
		}
		_, last, err := db.Info(p.Series)
		switch {
		case errors.Is(err, rrd.ErrNoSeries):
			speed := p.MaxRate * 8
			if math.IsNaN(speed) {
				speed = 0
			}
			if err := db.Create(p.Series, series.Spec(step, speed, p.Bits), rp.start); err != nil {
				return out, fmt.Errorf("create series %s: %w", p.Series, err)
			}
		case err != nil:
			return out, err
		case last.UnixMicro() >= rp.t[0]:
			im.Skipped = fmt.Sprintf("series %s already holds data up to %s", p.Series, last.Format(time.RFC3339))
			skip(im)
			continue
		}
		im.Rows, im.From, im.To = len(h.Rows), h.Rows[0].Start, h.Rows[len(h.Rows)-1].End
		rp.series = p.Series
		rs = append(rs, rp)
		out = append(out, im)
		log.Debug("history read", "target", p.Target.Name, "series", p.Series, "rows", im.Rows, "updates", len(rp.t))
		if len(rs) == group {
			flush()
		}
	}
	flush()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	infos := map[string]series.Info{}
	for _, im := range out {
		if im.Skipped != "" {
			continue
		}
		p := im.Plan
		speed := p.MaxRate * 8
		if math.IsNaN(speed) {
			speed = 0
		}
		infos[p.Series] = series.Info{Index: p.Index, Descr: p.Descr, Speed: speed, Bits: p.Bits}
	}
	if err := series.PutInterfaces(db, infos); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("store history: %w", err)
	}
	return out, nil
}
