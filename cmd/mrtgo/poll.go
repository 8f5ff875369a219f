package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/poller"
)

func runPoll(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "poll", "[-c FILE] [--once]")
	once := fs.Bool("once", false, "poll every device once and exit (for cron); exit code 3 if some devices failed, 4 if all did")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	w, err := openWriter(cfg, e)
	if err != nil {
		return err
	}
	defer w.Close()
	rec, p := w.rec, w.poller
	if !*once {
		return p.Run(ctx, cfg.Step, func(ctx context.Context, rs []poller.Result) error {
			return rec.Record(rs)
		})
	}
	began := time.Now()
	rs := p.Poll(ctx)
	polled := time.Now()
	if err := rec.Record(rs); err != nil {
		return err
	}
	committed := time.Now()
	if err := checkThresholds(cfg, w, rs, e); err != nil {
		return err
	}
	failed, samples := 0, 0
	for _, r := range rs {
		samples += len(r.Samples)
		if r.Err != nil {
			failed++
		}
	}
	e.log.Info("poll done", "devices", len(rs), "failed", failed, "samples", samples,
		"poll", polled.Sub(began).Round(time.Microsecond), "commit", committed.Sub(polled).Round(time.Microsecond),
		"thresholds", time.Since(committed).Round(time.Microsecond))
	switch {
	case len(rs) > 0 && failed == len(rs):
		return withCode(exitAllFailed, fmt.Errorf("no device answered (%d devices)", failed))
	case failed > 0:
		return withCode(exitSomeFailed, fmt.Errorf("%d of %d devices failed", failed, len(rs)))
	}
	return nil
}

// checkThresholds evaluates the thresholds on one cron cycle, as the daemon does on each
// of its cycles: the previous samples and crossed limits come from the store, where this
// run leaves its own for the next. Alert commands finish before it returns.
func checkThresholds(cfg *config.Config, w *writer, rs []poller.Result, e *env) error {
	watch := pipeline.NewWatcher(cfg)
	b, err := w.db.Meta(pipeline.WatcherStateKey)
	if err != nil {
		return err
	}
	if b != nil {
		if err := watch.Load(b); err != nil {
			e.log.Warn("threshold state unreadable; starting afresh", "err", err)
		}
	}
	alerts := pipeline.NewAlerter(cfg.Alert, e.log)
	for _, ev := range watch.Observe(rs) {
		alerts.Send(ev)
	}
	alerts.Close()
	if b, err = watch.Save(); err != nil {
		return err
	}
	return w.db.PutMeta(map[string][]byte{pipeline.WatcherStateKey: b})
}

func hosts(cfg *config.Config) map[string]string {
	m := make(map[string]string, len(cfg.Devices))
	for _, d := range cfg.Devices {
		m[d.Name] = d.Host
	}
	return m
}

func deviceOrder(cfg *config.Config) []string {
	names := make([]string, len(cfg.Devices))
	for i, d := range cfg.Devices {
		names[i] = d.Name
	}
	return names
}
