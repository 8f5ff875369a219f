// Package daemon is mrtgo's long-running job, "mrtgo run": poll the configured devices
// on every interval, check the thresholds, store the cycle (with the thresholds' state
// when a limit was crossed), run the alert command, re-render the site off the polling
// path, serve it with /metrics, collect flow exports where [flows] says (counted per
// exporter and per interface on /metrics, kept in the flow store's raw segments and
// top talkers, shown on the pages), and load the targets file again on request
// between two cycles without losing a step. The command line parses flags and wires;
// the demo runs the same daemon on the simulated network.
package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mrtgo/mrtgo/capture"
	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/detect"
	"github.com/mrtgo/mrtgo/events"
	"github.com/mrtgo/mrtgo/internal/metrics"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/promread"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// Options configures a daemon.
type Options struct {
	// Listen is the HTTP address of the site and /metrics; "" serves nothing.
	Listen string
	// Interval is the time between two polls; 0 means the configured step. The demo
	// polls its simulated network every few seconds into a store of five-minute steps.
	Interval time.Duration
	Log      *slog.Logger
	// Reload delivers a value whenever the targets file is to be loaded again (SIGHUP):
	// the cycle in flight finishes, and the next starts with the new devices. Nil never
	// reloads.
	Reload <-chan struct{}
	// Load reads the targets file for a reload; nil means config.Load.
	Load func(file string) (*config.Config, error)
}

// Writer is what polling needs open: the store, the Recorder that fills it and the
// Poller of the configured devices, which remembers what the last committed cycle
// learnt (see pipeline.RestorePoller). "mrtgo poll --once" uses it for one cycle.
type Writer struct {
	DB     *rrd.DB
	Rec    *pipeline.Recorder
	Poller *poller.Poller
}

// NewWriter builds the recorder and poller of cfg over the open store db, and takes
// over db: Close closes it.
func NewWriter(db *rrd.DB, cfg *config.Config, log *slog.Logger) (*Writer, error) {
	w := &Writer{DB: db}
	if err := w.configure(cfg, log); err != nil {
		return nil, err
	}
	return w, nil
}

// configure swaps in a recorder and a poller for cfg. Spread only matters to
// poller.Run: devices start evenly over the first half of each step instead of all at
// once. The new poller takes up where the last committed cycle left off (the interface
// mapping, clocks and counters), as a new process would, so cron, a restarted daemon
// and a reload all decide alike.
func (w *Writer) configure(cfg *config.Config, log *slog.Logger) error {
	rec := pipeline.NewRecorder(w.DB, cfg.Step, Hosts(cfg), log)
	rec.SetRetention(cfg.Retention)
	rec.SetTargets(cfg)
	p := poller.New(cfg.Devices, poller.Options{Logger: log, Now: time.Now, Spread: true})
	if err := pipeline.RestorePoller(w.DB, p, log); err != nil {
		if w.Poller == nil {
			p.Close()
			return err
		}
		// A reload goes on: its devices start afresh, their first samples distrusted.
		log.Warn("reload: poller memory unreadable; devices start afresh", "err", err)
	}
	if w.Poller != nil {
		w.Poller.Close()
	}
	w.Rec, w.Poller = rec, p
	return nil
}

// Close ends the SNMP sessions (SNMPv3 clients live across cycles) and the store.
func (w *Writer) Close() error {
	w.Poller.Close()
	return w.DB.Close()
}

// Hosts maps each device's name to its configured host, for the pages.
func Hosts(cfg *config.Config) map[string]string {
	m := make(map[string]string, len(cfg.Devices))
	for _, d := range cfg.Devices {
		m[d.Name] = d.Host
	}
	return m
}

// DeviceOrder is the devices' names in the order of the targets file.
func DeviceOrder(cfg *config.Config) []string {
	names := make([]string, len(cfg.Devices))
	for i, d := range cfg.Devices {
		names[i] = d.Name
	}
	return names
}

// Publisher is the site writer of cfg over db.
func Publisher(cfg *config.Config, db pipeline.Store, log *slog.Logger) *pipeline.Publisher {
	p := &pipeline.Publisher{
		DB:       db,
		Dir:      cfg.Site,
		Location: cfg.Location,
		Step:     cfg.Step,
		Order:    DeviceOrder(cfg),
		Hosts:    Hosts(cfg),
		Log:      log,
		Now:      time.Now,
		// What was found, read as it is written: thresholds and anomalies in every
		// installation, the flow detector's events with [detect].
		Events:  events.OpenReader(cfg.Events.Data),
		Targets: pipeline.TargetsOf(cfg),
	}
	if cfg.Detect.Capture.Interface != "" {
		p.Captures = cfg.Detect.Capture.Dir
	}
	return p
}

// SiteMux routes /metrics to metrics and everything else to the site in dir.
func SiteMux(dir string, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.Handle("/", web.Handler(dir))
	return mux
}

// Daemon is a running "mrtgo run": the configuration in force and what was built from
// it. Only the polling goroutine changes it after Run starts, so a reload happens
// between cycles.
type Daemon struct {
	cfg      *config.Config
	o        Options
	log      *slog.Logger
	w        *Writer
	pub      *pipeline.Publisher
	metrics  *metrics.Metrics
	watch    *pipeline.Watcher // thresholds, evaluated on each committed cycle
	alerts   *pipeline.Alerter // runs the alert command off the polling path
	evlog    *events.Log       // what was found
	capturer *capture.Capturer // [detect.capture]; nil without
	desk     *pipeline.Desk    // turns reports into the log's events and alerts
	flows    *flows            // nil without [flows]
	remote   *Remote           // [remote_write]; nil without
	interval time.Duration

	// Rendering runs in its own goroutine so that a slow render never delays a poll:
	// each committed cycle asks for one, and requests made while one is drawn fold
	// into the next. mu guards the fields the render goroutine reads.
	mu        sync.Mutex
	renderCfg *config.Config         // configuration the next render uses
	began     time.Time              // interval boundary of the newest cycle asking for a render
	over      map[string][]web.Alert // thresholds crossed, by series, for the pages
	want      chan struct{}          // capacity 1: a render is pending
}

// New builds a daemon for cfg over w, whose store holds the thresholds' last state.
func New(cfg *config.Config, w *Writer, o Options) (*Daemon, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Load == nil {
		o.Load = config.Load
	}
	// The thresholds take up where the last committed cycle left them, as cron does.
	watch, err := pipeline.LoadWatcher(w.DB, cfg, o.Log)
	if err != nil {
		return nil, err
	}
	evlog, err := OpenEvents(cfg)
	if err != nil {
		return nil, err
	}
	// The pages come from the local store, or with [remote_read] from the engine the
	// pollers write to, as a web node draws them (the local store still takes every
	// commit, for cron's decisions, thresholds and the remote-write queue).
	var pages pipeline.Store = w.DB
	src, err := OpenRemoteRead(cfg)
	if err != nil {
		evlog.Close()
		return nil, err
	}
	if src != nil {
		pages = src
	}
	d := &Daemon{cfg: cfg, o: o, log: o.Log, w: w, pub: Publisher(cfg, pages, o.Log), metrics: metrics.New(),
		watch: watch, alerts: pipeline.NewAlerter(cfg, o.Log), evlog: evlog, interval: o.Interval,
		renderCfg: cfg, want: make(chan struct{}, 1)}
	fail := func(err error) (*Daemon, error) {
		d.alerts.Close()
		evlog.Close()
		if d.capturer != nil {
			d.capturer.Close()
		}
		if d.remote != nil {
			d.remote.Close()
		}
		return nil, err
	}
	if d.remote, err = OpenRemote(cfg, w.DB, o.Log); err != nil {
		return fail(err)
	}
	if d.remote != nil {
		if err := d.metrics.RegisterRemote(d.remote.Stats); err != nil {
			return fail(err)
		}
	}
	if d.desk, err = pipeline.NewDesk(cfg, evlog, d.alerts, o.Log, time.Now()); err != nil {
		return fail(err)
	}
	d.desk.OnUpdate = d.metrics.ObserveEvent
	if d.interval <= 0 {
		d.interval = cfg.Step
	}
	d.pub.Step = d.interval                  // pages refresh as often as they can change
	d.pub.DrawUpTo = pipeline.DaemonDrawUpTo // larger networks: graphs drawn on request (Run)
	if d.flows, err = newFlows(cfg, o.Log); err != nil {
		return fail(err)
	}
	if d.flows != nil {
		closeFlows := func() {
			d.flows.col.Close()
			d.flows.raw.Close()
			d.flows.top.Close()
		}
		if cfg.Detect.Enabled {
			det, err := detect.New(cfg.Detect.Config)
			if err != nil {
				closeFlows()
				return fail(err)
			}
			if cp := cfg.Detect.Capture; cp.Interface != "" {
				if d.capturer, err = capture.New(capture.Options{Interface: cp.Interface, Dir: cp.Dir,
					Duration: cp.Duration, MaxBytes: cp.MaxBytes, Keep: cp.Keep}, o.Log); err != nil {
					closeFlows()
					return fail(fmt.Errorf("[detect.capture]: %w", err))
				}
				d.desk.Capture = d.capture
				if err := d.metrics.RegisterCapture(d.capturer.Stats); err != nil {
					closeFlows()
					return fail(err)
				}
			}
			d.flows.det = det
			d.flows.report = d.report
			if err := d.metrics.RegisterDetect(det.Stats); err != nil {
				closeFlows()
				return fail(err)
			}
		}
		if d.remote != nil {
			d.flows.remote, d.flows.labels, d.flows.active = d.remote.Put, d.remote.Labels(), map[ifaceRef]bool{}
		}
		d.pub.Flows = &pipeline.FlowPages{Top: d.flows.top, Exporters: d.flows.exporters, Log: o.Log}
		if err := d.metrics.RegisterFlows(d.flows.snapshot); err != nil {
			closeFlows()
			return fail(err)
		}
	}
	return d, nil
}

// OpenEvents opens cfg's event log for writing.
func OpenEvents(cfg *config.Config) (*events.Log, error) {
	return events.Open(cfg.Events.Data, events.Options{Keep: cfg.Events.Keep, Timeout: eventLockWait})
}

// eventLockWait is how long a process waits for another to let the event log go (a
// cron poll in flight).
const eventLockWait = 10 * time.Second

// capture starts a capture of a new event's packets; a capture that cannot start
// (too many at once, the interface gone) is logged and costs the event its file.
func (d *Daemon) capture(e events.Event, f capture.Filter) string {
	file, err := d.capturer.Start(fmt.Sprintf("%d-%s", e.ID, e.Kind), f)
	if err != nil {
		d.log.Warn("capture not started", "id", e.ID, "kind", e.Kind, "err", err)
		return ""
	}
	d.log.Info("capturing", "id", e.ID, "kind", e.Kind, "file", file, "filter", f.String())
	return file
}

// report takes the flow detector's events of the step that ended at end. An event log
// that cannot be written is logged and costs the events, never the collection.
func (d *Daemon) report(end time.Time, evs []detect.Event) {
	if err := d.desk.Report(end, evs); err != nil {
		d.log.Error("events", "err", err)
	}
}

// Metrics is the daemon's /metrics registry.
func (d *Daemon) Metrics() *metrics.Metrics { return d.metrics }

// Run publishes what the store holds, then polls, stores, alerts and re-renders on
// every interval, and serves the site, until ctx is done. It returns the first error
// that stops it (a store that cannot be written, an address that cannot be listened
// on); devices that do not answer never stop it.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.evlog.Close()
	if d.remote != nil {
		defer d.remote.Close()
	}
	if d.capturer != nil {
		defer d.capturer.Close()
	}
	defer d.alerts.Close()
	// Publish what the store holds before the first poll, so the server has pages.
	if _, err := d.pub.Publish(ctx); err != nil {
		d.log.Warn("initial render", "err", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	if d.o.Listen != "" {
		g.Go(func() error {
			return web.ServeHandler(gctx, d.o.Listen, d.pub.Handler(SiteMux(d.cfg.Site, d.metrics.Handler())), d.log)
		})
	}
	if d.flows != nil {
		g.Go(func() error { return d.flows.run(gctx) })
	}
	g.Go(func() error { return d.poll(gctx) })
	g.Go(func() error { d.render(gctx); return nil })
	if d.remote != nil {
		g.Go(func() error { d.remote.Run(gctx); return nil })
	}
	err := g.Wait()
	if d.remote != nil {
		// A clean stop sends what it can; the rest waits in the queue for the
		// next start.
		fctx, cancel := context.WithTimeout(context.Background(), flushAtExit)
		if ferr := d.remote.w.Flush(fctx); ferr != nil {
			d.log.Warn("remote write: left queued at exit", "err", ferr)
		}
		cancel()
	}
	return err
}

// requestRender asks the render goroutine to publish; it never blocks.
func (d *Daemon) requestRender(began time.Time) {
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
func (d *Daemon) render(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.want:
		}
		d.mu.Lock()
		cfg, began, over := d.renderCfg, d.began, d.over
		d.mu.Unlock()
		d.pub.Order, d.pub.Hosts, d.pub.Location = DeviceOrder(cfg), Hosts(cfg), cfg.Location
		d.pub.Targets = pipeline.TargetsOf(cfg)
		d.pub.Alerts = over
		if src, ok := d.pub.DB.(*promread.Source); ok {
			src.SetTargets(d.pub.Targets)
			d.settle(ctx)
		}
		// Shutting down abandons a render in flight: every file is written whole (to
		// a temporary name, then renamed), and the next start redraws what is stale.
		st, err := d.pub.Publish(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.log.Error("render", "err", err)
			continue
		}
		d.metrics.ObserveRender(st.Duration, st.Drawn, time.Since(began))
		d.log.Info("render done", "interfaces", st.Interfaces, "drawn", st.Drawn, "render", st.Duration.Round(time.Millisecond))
	}
}

// settle waits, before a render drawn from the engine, until this poller's queue has
// been sent (the commit's rows are in the engine), for at most half an interval: a
// receiver that is down delays the pages by that much, never the polls.
func (d *Daemon) settle(ctx context.Context) {
	if d.remote == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, d.interval/2)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for d.remote.Stats().Queue.Records > 0 {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// poll polls on the interval until ctx is done. A value on Options.Reload makes it
// finish the cycle in flight, load the targets file again and go on with the new
// devices from the next interval boundary; the store stays open throughout, so no
// step is lost.
func (d *Daemon) poll(ctx context.Context) error {
	for {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		p := d.w.Poller
		go func() { done <- p.Run(rctx, d.interval, d.cycle) }()
		select {
		case err := <-done:
			cancel()
			return err
		case <-d.o.Reload:
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
func (d *Daemon) cycle(ctx context.Context, rs []poller.Result) error {
	began := time.Now().Truncate(d.interval) // the boundary the cycle started on
	d.metrics.ObservePoll(rs)
	if d.flows != nil {
		d.flows.learn(rs)
	}
	crossed := d.watch.Observe(rs)
	// The crossed limits are stored with the cycle that crossed them, so that a restart
	// neither forgets them nor alerts again. (Cron stores the state every run; the
	// daemon keeps its previous samples in memory and spares large networks writing
	// them every step.)
	var facts map[string][]byte
	if len(crossed) > 0 {
		state, err := d.watch.Save()
		if err != nil {
			return err
		}
		facts = map[string][]byte{pipeline.WatcherStateKey: state}
	}
	t := time.Now()
	err := d.w.Rec.RecordWith(rs, facts)
	// What the commit's Holt-Winters detectors found, also when err lists samples the
	// store skipped (the rest was committed).
	if begun, ended := d.w.Rec.Anomalies(); len(begun)+len(ended) > 0 {
		if err := d.desk.Anomalies(begun, ended); err != nil {
			d.log.Error("events", "err", err)
		}
	}
	if err != nil {
		return err
	}
	commit := time.Since(t)
	d.metrics.ObserveCommit(commit)
	if d.remote != nil {
		d.remote.Export()
	}
	d.metrics.ObserveRefused(d.w.Rec.LastRefused())
	if err := d.desk.Thresholds(crossed); err != nil {
		d.log.Error("events", "err", err)
	}
	for _, ev := range crossed {
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
	d.log.Info("cycle done", "interfaces", n, "devices", len(rs), "failed", failed, "commit", commit.Round(time.Millisecond))
	d.requestRender(began)
	return nil
}

// reload loads the targets file again and, if it is valid, swaps in a poller and a
// recorder for the new devices. An invalid file leaves everything as it was.
func (d *Daemon) reload() {
	log := d.log
	cfg, err := d.o.Load(d.cfg.File)
	if err != nil {
		d.metrics.ObserveReload(false)
		log.Error("reload: targets file rejected; the running configuration stays", "err", err)
		return
	}
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
	if !slices.Equal(old.Flows.Listen, cfg.Flows.Listen) {
		log.Warn("reload: [flows] listen changed; restart mrtgo run to apply it", "running", old.Flows.Listen, "file", cfg.Flows.Listen)
		cfg.Flows.Listen = old.Flows.Listen
	}
	if d.flows != nil {
		d.flows.configure(cfg) // exporters follow the devices
	}
	added, removed, changed := DiffDevices(old.Devices, cfg.Devices)
	_ = d.w.configure(cfg, log) // fails only when there is no poller yet
	d.mu.Lock()
	d.renderCfg = cfg
	d.mu.Unlock()
	d.metrics.Retain(DeviceOrder(cfg))
	before := d.watch.Alerts()
	d.watch.Configure(cfg)
	after := d.watch.Alerts()
	// A limit the new file no longer has is no longer exceeded (the metrics of removed
	// devices are gone already).
	for name, as := range before {
		dev, iface, _ := series.Split(name)
		if !slices.Contains(DeviceOrder(cfg), dev) {
			continue
		}
		for _, a := range as {
			if !slices.ContainsFunc(after[name], func(b web.Alert) bool { return b.Direction == a.Direction && b.Bound == a.Bound }) {
				d.metrics.SetThreshold(dev, iface, a.Direction, a.Bound, false)
			}
		}
	}
	if !reflect.DeepEqual(old.Detect, cfg.Detect) {
		log.Warn("reload: [detect] changed; restart mrtgo run to apply it")
		cfg.Detect = old.Detect
	}
	if !reflect.DeepEqual(old.RemoteWrite, cfg.RemoteWrite) {
		log.Warn("reload: [remote_write] changed; restart mrtgo run to apply it")
		cfg.RemoteWrite = old.RemoteWrite
	}
	if !reflect.DeepEqual(old.RemoteRead, cfg.RemoteRead) {
		log.Warn("reload: [remote_read] changed; restart mrtgo run to apply it")
		cfg.RemoteRead = old.RemoteRead
	}
	if old.Events.Data != cfg.Events.Data || old.Events.Keep != cfg.Events.Keep {
		log.Warn("reload: [events] data or keep changed; restart mrtgo run to apply it")
		cfg.Events.Data, cfg.Events.Keep = old.Events.Data, old.Events.Keep
	}
	d.alerts.Configure(cfg)
	d.desk.Configure(cfg)
	if d.remote != nil {
		d.remote.x.SetTargets(pipeline.TargetsOf(cfg)) // reload runs between cycles, as Export
	}

	d.cfg = cfg
	d.metrics.ObserveReload(true)
	log.Info("reloaded targets file", "file", cfg.File, "devices", len(cfg.Devices),
		"added", added, "removed", removed, "changed", changed)
}

// DiffDevices names the devices added, removed and changed between two configurations.
func DiffDevices(was, now []config.Device) (added, removed, changed []string) {
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
