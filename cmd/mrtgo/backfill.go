package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/daemon"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/progress"
)

const backfillSynopsis = "[-c FILE] [--from T] [--to T] [--again] [--queue-only] [--shard I/N] [DEVICE [INTERFACE]]"

// runBackfill sends the store's history (imported from MRTG, or kept from before
// [remote_write] was set) to the engine, through the queue and sender a poller uses,
// up to where the live export of each device began.
func runBackfill(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "backfill", backfillSynopsis)
	shardFlag(fs, c)
	from := fs.String("from", "", "send rows ending after `time` (RFC 3339, or \"2026-11-29 10:00\" in the configured zone); default: the oldest")
	to := fs.String("to", "", "send rows ending at or before `time`; default: up to where the live export began")
	again := fs.Bool("again", false, "send again what earlier back-fills sent (the engine stores a sample sent twice once)")
	queueOnly := fs.Bool("queue-only", false, "queue the history and leave the sending to the next \"poll --once\" or \"run\"")
	pos, err := parseArgs(fs, c, e, args)
	if err != nil {
		return err
	}
	if len(pos) > 2 {
		return withCode(exitUsage, fmt.Errorf("unexpected argument %q (want DEVICE [INTERFACE])", pos[2]))
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	if cfg.RemoteWrite.URL == "" {
		return withCode(exitUsage, fmt.Errorf("%s has no [remote_write] url: nowhere to send the history", cfg.File))
	}
	o := pipeline.BackfillOptions{Again: *again}
	if len(pos) > 0 {
		o.Device = pos[0]
		if !slices.ContainsFunc(cfg.Devices, func(d config.Device) bool { return d.Name == o.Device }) {
			e.log.Warn("back-fill: the device is not in the targets file; its stored history is sent all the same", "device", o.Device, "file", cfg.File)
		}
	}
	if len(pos) > 1 {
		o.Interface = pos[1]
	}
	for _, f := range []struct {
		flag, val string
		dst       *time.Time
	}{{"--from", *from, &o.From}, {"--to", *to, &o.To}} {
		if f.val == "" {
			continue
		}
		t, err := parseFlowTime(f.val, cfg.Location)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("%s: %w", f.flag, err))
		}
		*f.dst = t
	}
	if !o.From.IsZero() && !o.To.IsZero() && !o.From.Before(o.To) {
		return withCode(exitUsage, fmt.Errorf("--from %s is not before --to %s", *from, *to))
	}
	db, err := openStore(cfg.Data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := daemon.OpenRemote(cfg, db, e.log)
	if err != nil {
		return err
	}
	defer r.Close()

	bar := progress.New(e.stderr, 0, "series")
	o.Progress = bar.Update
	if !*queueOnly {
		// A long history is sent as it is queued, a quarter of the queue's cap at a
		// time: past the cap the queue would drop its oldest records.
		limit := cfg.RemoteWrite.MaxQueueSize / 4
		o.Queued = func() error {
			if r.Stats().Queue.Bytes < limit {
				return nil
			}
			return r.SendAll(ctx)
		}
	}
	st, err := r.Backfill(o)
	bar.Finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "queued %d samples of %d series", st.Samples, st.Series)
	if len(st.ByRow) > 0 {
		var rows []string
		for _, d := range slices.Sorted(maps.Keys(st.ByRow)) {
			rows = append(rows, fmt.Sprintf("%d of %s rows", st.ByRow[d], rowName(d)))
		}
		fmt.Fprintf(e.stdout, " (%s)", strings.Join(rows, ", "))
	}
	if st.Positions > 0 {
		fmt.Fprintf(e.stdout, "; %d devices new to the queue go on live from the end of their history", st.Positions)
	}
	fmt.Fprintln(e.stdout)
	if *queueOnly {
		if d := r.Stats().Queue.Dropped; d > 0 {
			return fmt.Errorf("the queue dropped %d samples past max_queue_size: raise it, or back-fill without --queue-only", d)
		}
		return nil
	}
	return sendAll(ctx, r, e)
}

// sendAll sends what the queue holds until it is empty, showing the samples sent on a
// terminal; what an interrupt leaves queued is sent by the next poll or run, first.
func sendAll(ctx context.Context, r *daemon.Remote, e *env) error {
	start := r.Stats()
	total := start.Queue.Samples
	bar := progress.New(e.stderr, total, "samples")
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				st := r.Stats()
				bar.Update(int(st.Sent+st.Dropped), total)
			}
		}
	}()
	err := r.SendAll(ctx)
	close(done)
	bar.Finish()
	st := r.Stats()
	fmt.Fprintf(e.stdout, "sent %d samples (remote-write %s)", st.Sent, st.Protocol)
	if st.Dropped > 0 {
		fmt.Fprintf(e.stdout, "; %d refused by the receiver and dropped (%s)", st.Dropped, st.LastError)
	}
	if st.Queue.Samples > 0 {
		fmt.Fprintf(e.stdout, "; %d stay queued for the next poll or run", st.Queue.Samples)
	}
	fmt.Fprintln(e.stdout)
	if err == nil && st.Queue.Dropped > 0 {
		err = fmt.Errorf("the queue dropped %d samples past max_queue_size: raise it, then run again with --again", st.Queue.Dropped)
	}
	if err == nil && st.Dropped > 0 {
		err = fmt.Errorf("the receiver refused %d samples: %s", st.Dropped, st.LastError)
		if strings.Contains(st.LastError, "out of bounds") || strings.Contains(st.LastError, "out of order") {
			err = fmt.Errorf("%w (prometheus takes samples older than its head only with storage.tsdb.out_of_order_time_window set in prometheus.yml; set it, then run again with --again)", err)
		}
	}
	return err
}

// rowName writes a row length as the archives are known: 5m, 30m, 2h, 24h.
func rowName(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
