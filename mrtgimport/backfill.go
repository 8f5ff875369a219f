package mrtgimport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/rrd"
)

// job is one target's history waiting for its batch.
type job struct {
	out  int // its Imported
	h    *History
	last time.Time // the series' last update before the batch
	hw   bool      // the series has Holt-Winters detectors
	skip bool      // another target of the batch fills the same series
	spec rrd.Spec  // of the series: its data sources' types and bounds
}

// importer writes batches of histories into the store. Rather than replaying years of
// counter updates (Replay: some 115,000 updates and hundreds of commits for two years of
// a .log), it hands each series' steps to rrd.Backfill, which writes every row key of a
// chunk of series once, and only the part of the last step is left to Update.
type importer struct {
	db   *rrd.DB
	step time.Duration
	log  *slog.Logger
	jobs []job
	// buffers reused from target to target
	spans []span
	rates []float64
}

// store writes the batch: it creates the series that do not exist, backfills every
// history, then applies the updates after each new history's last whole step. progress
// is called with the number of targets of the batch handed to the store so far.
func (im *importer) store(ctx context.Context, out []Imported, progress func(n int)) error {
	if len(im.jobs) == 0 {
		return nil
	}
	create := map[string][]int{} // jobs by the spec of their new series
	start := map[string]time.Time{}
	specs := map[string]rrd.Spec{}
	names := make([]string, len(im.jobs))
	seen := map[string]int{}
	for i := range im.jobs {
		j := &im.jobs[i]
		p := out[j.out].Plan
		names[i] = p.Series
		j.spec = planSpec(p, im.step)
		if k, ok := seen[p.Series]; ok {
			j.skip = true
			out[j.out].Skipped = fmt.Sprintf("series %s takes the history of Target[%s]", p.Series, out[im.jobs[k].out].Plan.Target.Name)
			continue
		}
		seen[p.Series] = i
		spec, last, err := im.db.Info(p.Series)
		switch {
		case errors.Is(err, rrd.ErrNoSeries):
			k := fmt.Sprintf("%+v", j.spec)
			specs[k] = j.spec
			create[k] = append(create[k], i)
			if s, ok := start[k]; !ok || j.h.Rows[0].Start.Before(s) {
				start[k] = j.h.Rows[0].Start
			}
		case err != nil:
			return err
		case spec.Step != im.step:
			// The history's steps are the targets file's; the series keeps its own.
			j.skip = true
			out[j.out].Skipped = fmt.Sprintf("series %s has a step of %s, the targets file %s", p.Series, spec.Step, im.step)
		default:
			j.last, j.hw = last, spec.HoltWinters != nil
			j.spec.DS = spec.DS // the series keeps its own types and bounds
			out[j.out].Merged = true
		}
	}
	for k, js := range create {
		// Created just before the earliest history of the batch: every history is then
		// after the series' last update, and takes all its rows.
		at := start[k].Add(-time.Second)
		ns := make([]string, len(js))
		for n, i := range js {
			ns[n] = names[i]
			im.jobs[i].last = at
		}
		if err := im.db.CreateBatch(ns, specs[k], at); err != nil {
			return fmt.Errorf("create series: %w", err)
		}
	}
	var ups []rrd.Update
	handed := 0
	err := im.db.Backfill(names, func(i int) (rrd.History, error) {
		if err := ctx.Err(); err != nil {
			return rrd.History{}, err
		}
		handed++
		progress(handed)
		j := &im.jobs[i]
		if j.skip {
			return rrd.History{}, nil
		}
		p := out[j.out].Plan
		h, more := im.history(j, p)
		ups = append(ups, more...)
		return h, nil
	})
	if err != nil && ctx.Err() != nil {
		return err
	}
	if len(ups) > 0 {
		err = errors.Join(err, im.db.Update(ups))
	}
	return err
}

// history is the rrd.History of job j and the updates that follow it.
func (im *importer) history(j *job, p *Plan) (rrd.History, []rrd.Update) {
	ds := j.spec.DS[0]
	im.spans = spans(j.h, im.step, p.MaxRate, im.spans)
	first, rates := stepRates(im.spans, j.h.Rows[0].Start.Unix(), im.step, ds.Min, ds.Max, im.rates)
	im.rates = rates
	stepS := int64(im.step / time.Second)
	n := int64(len(rates) / 2)
	lastS := j.last.Unix()
	if n == 0 {
		// Shorter than a step: its few updates, if the series has nothing newer.
		if j.h.Rows[0].Start.After(j.last) && ds.Type == rrd.Counter {
			ups, _, err := Replay(j.h, p.Series, im.step, p.MaxRate, p.Bits)
			if err == nil {
				return rrd.History{}, ups
			}
		}
		return rrd.History{}, nil
	}
	end := (first + n - 1) * stepS
	h := rrd.History{End: time.Unix(end, 0).UTC(), Rates: rates}
	if time.Unix(end, 0).After(j.last) {
		if j.hw {
			// Detectors learn from Update, step by step: such a series takes the rows
			// before its last update only.
			keep := floorDiv(lastS, stepS) - first + 1
			im.log.Info("history after the series' last update not imported: it has holt-winters detectors",
				"series", p.Series, "last", j.last, "history end", h.End)
			if keep <= 0 {
				return rrd.History{}, nil
			}
			h.Rates = rates[:2*keep]
			h.End = time.Unix((first+keep-1)*stepS, 0).UTC()
			return h, nil
		}
		var ups []rrd.Update
		h.Last, ups = tail(j.h, im.spans, end, p.Series, ds.Type, p.Bits, nil)
		return h, ups
	}
	return h, nil
}

// planSpec is the store layout of a plan's new series, as the recorder makes it on
// first sight: an interface's octets, a target's values of its kind and ceiling, or an
// aggregate's sums (gauges without bounds, one update per row).
func planSpec(p *Plan, step time.Duration) rrd.Spec {
	archives := series.Archives(step, config.DefaultRetention)
	switch p.kind() {
	case series.KindTarget:
		return pipeline.TargetSpec(step, p.Targets[0].Target, p.Bits, archives)
	case series.KindAggregate:
		return pipeline.AggregateSpec(step, archives)
	}
	return series.SpecWith(step, speed(p), p.Bits, archives)
}

// speed is the interface speed (bits/s) of a plan's new series; 0 for none.
func speed(p *Plan) float64 {
	s := p.MaxRate * 8
	if math.IsNaN(s) {
		return 0
	}
	return s
}
