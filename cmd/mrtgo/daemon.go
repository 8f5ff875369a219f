package main

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/metrics"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/web"
)

func runDaemon(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "run", "[-c FILE] [--listen ADDR]")
	listen := fs.String("listen", defaultListen, "HTTP listen `address`")
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
	defer func() { w.Close() }()
	// The thresholds take up where the last committed cycle left them, as cron does.
	watch, err := pipeline.LoadWatcher(w.db, cfg, e.log)
	if err != nil {
		return err
	}
	d := &daemon{cfg: cfg, e: e, w: w, pub: publisher(cfg, w.db, e), metrics: metrics.New(),
		watch: watch, alerts: pipeline.NewAlerter(cfg.Alert, e.log),
		renderCfg: cfg, want: make(chan struct{}, 1)}
	defer d.alerts.Close()

	// Publish what the store holds before the first poll, so the server has pages.
	if _, err := d.pub.Publish(ctx); err != nil {
		e.log.Warn("initial render", "err", err)
	}
	var hup <-chan struct{}
	if e.hangups != nil {
		sig, stop := e.hangups()
		defer stop()
		ch := make(chan struct{}, 1)
		hup = ch
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-sig:
				}
				select {
				case ch <- struct{}{}:
				default: // a reload is already pending
				}
			}
		}()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return web.ServeHandler(gctx, *listen, siteMux(cfg.Site, d.metrics.Handler()), e.log) })
	g.Go(func() error { return d.run(gctx, hup) })
	g.Go(func() error { d.render(gctx); return nil })
	return g.Wait()
}

// daemon is "mrtgo run": the configuration in force and what was built from it. Only
// the goroutine in run touches it after start, so a reload happens between cycles.
type daemon struct {
	cfg     *config.Config
	e       *env
	w       *writer
	pub     *pipeline.Publisher
	metrics *metrics.Metrics
	watch   *pipeline.Watcher // thresholds, evaluated on each committed cycle
	alerts  *pipeline.Alerter // runs the alert command off the polling path

	// Rendering runs in its own goroutine so that a slow render never delays a poll:
	// each committed cycle asks for one, and requests made while one is drawn fold
	// into the next. mu guards the fields the render goroutine reads.
	mu        sync.Mutex
	renderCfg *config.Config         // configuration the next render uses
	began     time.Time              // step boundary of the newest cycle asking for a render
	over      map[string][]web.Alert // thresholds crossed, by series, for the pages
	want      chan struct{}          // capacity 1: a render is pending
}

// requestRender asks the render goroutine to publish; it never blocks.
func (d *daemon) requestRender(began time.Time) {
	d.mu.Lock()
	d.began = began
	d.mu.Unlock()
	select {
	case d.want <- struct{}{}:
	default:
		d.metrics.ObserveRenderSkipped()
	}
}

// render publishes the site whenever a cycle asks, until ctx is done.
func (d *daemon) render(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.want:
		}
		d.mu.Lock()
		cfg, began, over := d.renderCfg, d.began, d.over
		d.mu.Unlock()
		d.pub.Order, d.pub.Hosts, d.pub.Location = deviceOrder(cfg), hosts(cfg), cfg.Location
		d.pub.Alerts = over
		// Shutting down abandons a render in flight: every file is written whole (to
		// a temporary name, then renamed), and the next start redraws what is stale.
		st, err := d.pub.Publish(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.e.log.Error("render", "err", err)
			continue
		}
		d.metrics.ObserveRender(st.Duration, st.Drawn, time.Since(began))
		d.e.log.Info("render done", "interfaces", st.Interfaces, "drawn", st.Drawn, "render", st.Duration.Round(time.Millisecond))
	}
}

// run polls on the step until ctx is done. A value on reload makes it finish the cycle
// in flight, load the targets file again and go on with the new devices from the next
// step boundary; the store stays open throughout, so no step is lost.
func (d *daemon) run(ctx context.Context, reload <-chan struct{}) error {
	for {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		p := d.w.poller
		go func() { done <- p.Run(rctx, d.cfg.Step, d.cycle) }()
		select {
		case err := <-done:
			cancel()
			return err
		case <-reload:
			cancel()
			if err := <-done; err != nil {
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
			d.reload()
		}
	}
}

// cycle is the poller's sink: check the thresholds, store the results with the
// thresholds' state, alert, then ask for a render.
func (d *daemon) cycle(ctx context.Context, rs []poller.Result) error {
	began := time.Now().Truncate(d.cfg.Step) // the step boundary the cycle started on
	d.metrics.ObservePoll(rs)
	events := d.watch.Observe(rs)
	// The crossed limits are stored with the cycle that crossed them, so that a restart
	// neither forgets them nor alerts again. (Cron stores the state every run; the
	// daemon keeps its previous samples in memory and spares large networks writing
	// them every step.)
	var facts map[string][]byte
	if len(events) > 0 {
		state, err := d.watch.Save()
		if err != nil {
			return err
		}
		facts = map[string][]byte{pipeline.WatcherStateKey: state}
	}
	t := time.Now()
	if err := d.w.rec.RecordWith(rs, facts); err != nil {
		return err
	}
	commit := time.Since(t)
	d.metrics.ObserveCommit(commit)
	d.metrics.ObserveRefused(d.w.rec.LastRefused())
	for _, ev := range events {
		d.alerts.Send(ev)
		d.metrics.SetThreshold(ev.Device, ev.Interface, ev.Direction, ev.Bound, ev.State == pipeline.StateExceeded)
	}
	over := d.watch.Alerts()
	d.mu.Lock()
	d.over = over
	d.mu.Unlock()
	n, failed := 0, 0
	for _, r := range rs {
		n += len(r.Samples)
		if r.Err != nil {
			failed++
		}
	}
	d.e.log.Info("cycle done", "interfaces", n, "devices", len(rs), "failed", failed, "commit", commit.Round(time.Millisecond))
	d.requestRender(began)
	return nil
}

// reload loads the targets file again and, if it is valid, swaps in a poller and a
// recorder for the new devices. An invalid file leaves everything as it was.
func (d *daemon) reload() {
	log := d.e.log
	cfg, err := config.Load(d.cfg.File)
	if err != nil {
		d.metrics.ObserveReload(false)
		log.Error("reload: targets file rejected; the running configuration stays", "err", err)
		return
	}
	warnExposedSecrets(cfg, log)
	old := d.cfg
	// What the open store and site are built on cannot change under a running daemon.
	for _, f := range []struct {
		key      string
		was, now any
		keep     func()
	}{
		{"step", old.Step, cfg.Step, func() { cfg.Step = old.Step }},
		{"data", old.Data, cfg.Data, func() { cfg.Data = old.Data }},
		{"site", old.Site, cfg.Site, func() { cfg.Site = old.Site }},
	} {
		if f.was != f.now {
			log.Warn(fmt.Sprintf("reload: %s changed; restart mrtgo run to apply it", f.key), "running", f.was, "file", f.now)
			f.keep()
		}
	}
	added, removed, changed := diffDevices(old.Devices, cfg.Devices)

	w := d.w
	w.poller.Close()
	w.poller = poller.New(cfg.Devices, poller.Options{Logger: d.e.log, Now: time.Now, Spread: true})
	// The new poller remembers what the old one committed, as a new process would.
	if err := pipeline.RestorePoller(w.db, w.poller, log); err != nil {
		log.Warn("reload: poller memory unreadable; devices start afresh", "err", err)
	}
	w.rec = pipeline.NewRecorder(w.db, cfg.Step, hosts(cfg), d.e.log)
	w.rec.SetRetention(cfg.Retention)
	d.mu.Lock()
	d.renderCfg = cfg
	d.mu.Unlock()
	d.metrics.Retain(deviceOrder(cfg))
	before := d.watch.Alerts()
	d.watch.Configure(cfg)
	after := d.watch.Alerts()
	// A limit the new file no longer has is no longer exceeded (the metrics of removed
	// devices are gone already).
	for series, as := range before {
		dev, iface, _ := pipeline.SplitSeries(series)
		if !slices.Contains(deviceOrder(cfg), dev) {
			continue
		}
		for _, a := range as {
			if !slices.ContainsFunc(after[series], func(b web.Alert) bool { return b.Direction == a.Direction && b.Bound == a.Bound }) {
				d.metrics.SetThreshold(dev, iface, a.Direction, a.Bound, false)
			}
		}
	}
	d.alerts.SetAlert(cfg.Alert)
	d.cfg = cfg
	d.metrics.ObserveReload(true)
	log.Info("reloaded targets file", "file", cfg.File, "devices", len(cfg.Devices),
		"added", added, "removed", removed, "changed", changed)
}

// diffDevices names the devices added, removed and changed between two configurations.
func diffDevices(was, now []config.Device) (added, removed, changed []string) {
	byName := map[string]config.Device{}
	for _, d := range was {
		byName[d.Name] = d
	}
	seen := map[string]bool{}
	for _, d := range now {
		seen[d.Name] = true
		old, ok := byName[d.Name]
		switch {
		case !ok:
			added = append(added, d.Name)
		case !reflect.DeepEqual(old, d):
			changed = append(changed, d.Name)
		}
	}
	for _, d := range was {
		if !seen[d.Name] {
			removed = append(removed, d.Name)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	slices.Sort(changed)
	return added, removed, changed
}
