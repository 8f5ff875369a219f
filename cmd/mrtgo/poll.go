package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/trace"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/daemon"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/poller"
)

func runPoll(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "poll", "[-c FILE] [--once] [--shard I/N] [--trace FILE]")
	shardFlag(fs, c)
	once := fs.Bool("once", false, "poll every device once and exit (for cron); exit code 3 if some devices failed, 4 if all did")
	traceFile := fs.String("trace", "", "with --once: write a Go execution trace of the run to `file` (go tool trace FILE), its phases as regions")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	if *once {
		onceGC()
	}
	tl := newTimeline(ctx)
	if *once && *traceFile != "" {
		stop, err := startTrace(*traceFile)
		if err != nil {
			return err
		}
		defer stop()
	}
	tl.phase("config")
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	tl.phase("open")
	w, err := openWriter(cfg, e)
	if err != nil {
		return err
	}
	defer w.Close()
	rec, p := w.Rec, w.Poller
	if !*once {
		return p.Run(ctx, cfg.Step, func(ctx context.Context, rs []poller.Result) error {
			return rec.Record(rs)
		})
	}
	defer tl.log(e.log)
	// Thresholds see the cycle before it is stored, so that their state (previous
	// samples, crossed limits) goes into the same commit as the rates.
	tl.phase("thresholds")
	watch, err := pipeline.LoadWatcher(w.DB, cfg, e.log)
	if err != nil {
		return err
	}
	rec.Preload() // read while the agents answer
	tl.phase("poll")
	began := time.Now()
	rs := p.Poll(ctx)
	polled := time.Now()
	tl.phase("record")
	crossed := watch.Observe(rs)
	state, err := watch.Save()
	if err != nil {
		return err
	}
	recErr := rec.RecordWith(rs, map[string][]byte{pipeline.WatcherStateKey: state})
	begun, ended := rec.Anomalies() // also when recErr lists samples the store skipped
	if recErr != nil && len(begun)+len(ended) == 0 {
		return recErr
	}
	committed := time.Now()
	tl.phase("events")
	// Events are stored once the crossing is, and their commands finish before the
	// exit. The event log is opened only when there is something to write.
	if len(crossed)+len(begun)+len(ended) > 0 {
		// The rates are stored: an event log that cannot be written costs the
		// events, as in the daemon, and is said on standard error.
		err := storeEvents(cfg, e, func(d *pipeline.Desk) error {
			return errors.Join(d.Thresholds(crossed), d.Anomalies(begun, ended))
		})
		if err != nil {
			e.log.Error("events", "err", err)
		}
	}
	if recErr != nil {
		return recErr
	}
	tl.phase("remote")
	if err := sendRemote(ctx, cfg, w, e); err != nil {
		// The rates are stored and the rows stay queued or in the store: the next
		// run sends them first. Said, but not a failure of the poll.
		e.log.Warn("remote write", "err", err)
	}
	tl.end()
	failed, samples, requests := 0, 0, 0
	for _, r := range rs {
		samples += len(r.Samples)
		requests += r.Requests
		if r.Err != nil {
			failed++
		}
	}
	e.log.Info("poll done", "devices", len(rs), "failed", failed, "samples", samples, "requests", requests,
		"poll", polled.Sub(began).Round(time.Microsecond), "commit", committed.Sub(polled).Round(time.Microsecond),
		"alerts", time.Since(committed).Round(time.Microsecond))
	switch {
	case len(rs) > 0 && failed == len(rs):
		return withCode(exitAllFailed, fmt.Errorf("no device answered (%d devices)", failed))
	case failed > 0:
		return withCode(exitSomeFailed, fmt.Errorf("%d of %d devices failed", failed, len(rs)))
	}
	return nil
}

// onceHeap is the heap a one-shot poll grows to before it collects garbage.
const onceHeap = 512 << 20

// onceGC sets the collector up for a process that polls once and exits, which frees
// everything at its exit: collecting garbage before then is work a cron run need not
// do. Unless GOGC or GOMEMLIMIT say otherwise, the collector runs only when the heap
// nears onceHeap: a poll of 1,000 interfaces allocates about 10 MB and never collects
// (the default collected once or twice, and GOGC=200 once, 2-5 ms of CPU time each),
// and a poll large enough to reach it collects as often as it must to stay there.
func onceGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(onceHeap)
	debug.SetGCPercent(-1)
}

// startTrace writes a Go execution trace to path until the returned function is called.
func startTrace(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("--trace: %w", err))
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--trace: %w", err)
	}
	return func() {
		trace.Stop()
		f.Close()
	}, nil
}

// storeEvents opens the event log, hands a Desk over it to f, and waits for the alert
// commands it started.
func storeEvents(cfg *config.Config, e *env, f func(*pipeline.Desk) error) error {
	evlog, err := daemon.OpenEvents(cfg)
	if err != nil {
		return err
	}
	defer evlog.Close()
	alerts := pipeline.NewAlerter(cfg, e.log)
	defer alerts.Close()
	desk, err := pipeline.NewDesk(cfg, evlog, alerts, e.log, time.Now())
	if err != nil {
		return err
	}
	return f(desk)
}

// sendRemote queues the rows this run completed for [remote_write] and sends what is
// queued, for at most its flush timeout; what is left waits for the next run.
func sendRemote(ctx context.Context, cfg *config.Config, w *daemon.Writer, e *env) error {
	r, err := daemon.OpenRemote(cfg, w.DB, e.log)
	if err != nil || r == nil {
		return err
	}
	defer r.Close()
	r.Export()
	err = r.Flush(ctx)
	st := r.Stats()
	e.log.Info("remote write", "sent", st.Sent, "queued", st.Queue.Samples)
	return err
}
