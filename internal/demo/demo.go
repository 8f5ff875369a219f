// Package demo runs mrtgo's whole job on a built-in network: simulated SNMP agents on
// loopback, a year of history back-filled through the real store, then the daemon of
// "mrtgo run" (package daemon) polling, rendering and serving them, and collecting the
// IPFIX flows each simulated device exports of the very traffic its counters count.
// It is the only production path that uses the simulator.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/detect"
	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/internal/daemon"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
	"github.com/mrtgo/mrtgo/rrd"
)

// Options configures a demo run.
type Options struct {
	Out      string        // directory for the store and the site
	Once     bool          // build the site and return
	Listen   string        // HTTP address when not Once
	History  time.Duration // back-filled history; 0 = 366 days
	Step     time.Duration // store step; 0 = 5m
	Interval time.Duration // live poll interval; 0 = 5s
	// FlowInterval is how often, live, each simulated device exports the flows of the
	// time since its last export; 0 = Interval.
	FlowInterval time.Duration
	// FlowHistory is how much flow history is back-filled into the flow store, step
	// by step, so that the pages show top talkers at once; 0 = 2 hours, negative none.
	FlowHistory time.Duration
	// Now is the simulated network's clock; nil = time.Now. A test that moves it by
	// hand knows the traffic of every interval to the octet.
	Now      func() time.Time
	Location *time.Location
	Network  []snmpsim.DeviceConfig // nil = snmpsim.DemoNetwork()
	Log      *slog.Logger
	Stdout   io.Writer
	// Reload delivers a value whenever the demo's targets file is to be read again,
	// as SIGHUP does for "mrtgo run"; nil never.
	Reload <-chan struct{}
	// Progress, when not nil, is called after each simulated week of the back-fill is
	// committed, with the weeks done and the weeks in all.
	Progress func(done, total int)
}

func (o *Options) defaults() {
	if o.History == 0 {
		o.History = 366 * 24 * time.Hour
	}
	if o.Step == 0 {
		o.Step = 5 * time.Minute
	}
	if o.Interval == 0 {
		o.Interval = 5 * time.Second
	}
	if o.FlowHistory == 0 {
		o.FlowHistory = 2 * time.Hour
	}
	if o.FlowInterval == 0 {
		o.FlowInterval = o.Interval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Network == nil {
		o.Network = snmpsim.DemoNetwork()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
}

// Run runs the demo until ctx is done (or, with Once, until the site is written).
func Run(ctx context.Context, o Options) error {
	o.defaults()
	began := time.Now()
	// The demo's history is synthetic: start from an empty store every time.
	dbPath := filepath.Join(o.Out, "mrtgo.db")
	siteDir := filepath.Join(o.Out, "site")
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", o.Out, err)
	}
	for _, p := range []string{dbPath, siteDir, filepath.Join(o.Out, "flows"), filepath.Join(o.Out, "events"), filepath.Join(o.Out, "captures")} {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove old demo output: %w", err)
		}
	}

	// Each device on its own loopback address, as real ones have their own: its flows
	// come from there too, and the daemon tells their exporters apart by it.
	agents, err := snmpsim.StartNetworkOn(ctx, firstAddr, o.Network, &snmpsim.Options{
		Now:      o.Now,
		BootTime: o.Now().Add(-o.History - 30*24*time.Hour),
	})
	if err != nil {
		return fmt.Errorf("start simulated network: %w", err)
	}
	defer func() {
		for _, a := range agents {
			a.Close()
		}
	}()
	// The daemon reads the demo's network from a targets file, as it would any other,
	// and reads it again on a reload.
	file := filepath.Join(o.Out, "targets.toml")
	var collector netip.AddrPort // where the daemon receives flows; none when Once
	if !o.Once {
		if collector, err = freeUDPPort(); err != nil {
			return err
		}
	}
	if err := writeTargets(file, o, agents, collector); err != nil {
		return err
	}
	cfg, err := config.Load(file)
	if err != nil {
		return fmt.Errorf("demo targets: %w", err)
	}
	// The daemon gives a device the flows that come from its host's address, that
	// is from its agent's: no two agents share one.
	for i, d := range cfg.Devices {
		if want := agents[i].Addr().AddrPort().Addr(); d.FlowExporter != want {
			return fmt.Errorf("demo targets: device %s has flow exporter %v, want its agent's address %v", d.Name, d.FlowExporter, want)
		}
	}

	db, err := rrd.Open(cfg.Data, nil)
	if err != nil {
		return err
	}
	w, err := daemon.NewWriter(db, cfg, o.Log)
	if err != nil {
		db.Close()
		return err
	}
	defer w.Close()

	// One real poll resolves every interface (names, indexes, speeds); the back-fill
	// then replays the agents' counters over the past year through the same recorder.
	first := w.Poller.Poll(ctx)
	for _, r := range first {
		if r.Err != nil {
			return fmt.Errorf("poll simulated %s: %w", r.Device, r.Err)
		}
	}
	bf := time.Now()
	n, err := backfill(w.Rec, agents, first, o.History, cfg.Step, o.Progress)
	if err != nil {
		return err
	}
	o.Log.Info("back-filled history", "samples", n, "took", time.Since(bf).Round(time.Millisecond))
	bf = time.Now()
	nf, err := backfillFlows(cfg, agents, first, o.FlowHistory, o.Now(), o.Log)
	if err != nil {
		return err
	}
	o.Log.Info("back-filled flows", "records", nf, "took", time.Since(bf).Round(time.Millisecond))
	if err := w.Rec.Record(w.Poller.Poll(ctx)); err != nil {
		return err
	}
	pub := daemon.Publisher(cfg, db, o.Log)
	pub.Step = o.Interval
	if nf > 0 {
		// The back-filled top talkers on the pages; the daemon takes the store over.
		raw, top, err := daemon.OpenFlowStores(cfg, true)
		if err != nil {
			return err
		}
		raw.Close()
		pub.Flows = &pipeline.FlowPages{Top: top, Log: o.Log}
	}
	st, err := pub.Publish(ctx)
	if pub.Flows != nil {
		pub.Flows.Top.Close()
	}
	if err != nil {
		return err
	}
	o.Log.Info("rendered site", "graphs", st.Graphs*2, "took", st.Duration.Round(time.Millisecond))
	fi, _ := os.Stat(dbPath)
	fmt.Fprintf(o.Stdout, "demo: %d devices, %d interfaces, %d samples back-filled; store %s (%.1f MB); %d graphs; %s\n",
		len(agents), st.Interfaces, n, dbPath, float64(fi.Size())/1e6, st.Graphs*2, time.Since(began).Round(time.Millisecond))
	if o.Once {
		abs, _ := filepath.Abs(filepath.Join(siteDir, "index.html"))
		fmt.Fprintf(o.Stdout, "open file://%s\n", abs)
		return nil
	}

	// From here on the demo is "mrtgo run" on the simulated network, polling every
	// Interval instead of every step so that the graphs move while one watches.
	d, err := daemon.New(cfg, w, daemon.Options{Listen: o.Listen, Interval: o.Interval, Log: o.Log, Reload: o.Reload})
	if err != nil {
		return err
	}
	exps := make([]*snmpsim.FlowExporter, 0, len(agents))
	defer func() {
		for _, e := range exps {
			e.Close()
		}
	}()
	for _, a := range agents {
		var eo *snmpsim.ExportOptions
		if a.Name() == attackDevice {
			index := attackIndex(first)
			eo = &snmpsim.ExportOptions{Extra: func(from, to time.Time) []snmpsim.Flow { return stagedAttacks(index, from, to) }}
		}
		e, err := snmpsim.NewFlowExporter(a, collector, eo)
		if err != nil {
			return err
		}
		exps = append(exps, e)
	}
	fmt.Fprintf(o.Stdout, "serving http://%s/ (polling the simulated network every %s, its devices exporting IPFIX to %s every %s; Ctrl-C stops)\n",
		o.Listen, o.Interval, collector, o.FlowInterval)
	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { exportFlows(fctx, exps, o.Now, o.FlowInterval, o.Log) })
	err = d.Run(ctx)
	stop()
	wg.Wait()
	return err
}

// attackIndex is the ifIndex of the interface the staged attacks come in on.
func attackIndex(first []poller.Result) int {
	for _, r := range first {
		for _, smp := range r.Samples {
			if r.Device == attackDevice && smp.Interface == attackIface {
				return smp.Index
			}
		}
	}
	return 0
}

// firstAddr is the loopback address of the demo's first device; the others follow.
var firstAddr = netip.AddrFrom4([4]byte{127, 0, 10, 1})

// freeUDPPort finds a UDP port free on 127.0.0.1 for the daemon's flow collector (the
// targets file takes no port 0).
func freeUDPPort() (netip.AddrPort, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("find a port for the flow collector: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort(), nil
}

// exportFlows has every device export, every interval, the flows of the time since
// its last export, until ctx is done: the flows of each interval carry exactly the
// octets its counters moved by. The devices export one after another across the
// first half of the interval, as real ones do at their own moments, so that the
// collector's socket buffer never holds the whole network's flows at once.
func exportFlows(ctx context.Context, exps []*snmpsim.FlowExporter, now func() time.Time, every time.Duration, log *slog.Logger) {
	last := now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	gap := every / time.Duration(2*max(len(exps), 1))
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t := now()
		if !t.After(last) {
			continue
		}
		for i, e := range exps {
			if i > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(gap):
				}
			}
			if _, _, err := e.Export(last, t); err != nil {
				log.Warn("demo: export flows", "err", err)
			}
		}
		last = t
	}
}

// writeTargets writes the demo's network as a targets file beside the store, for the
// daemon to read (the ports are the simulator's and change every run), with a [flows]
// table listening on collector unless it is zero. Each device's host is its agent's
// own address, so it is also the device's flow exporter without a flow_exporter key.
func writeTargets(path string, o Options, agents []*snmpsim.Agent, collector netip.AddrPort) error {
	f := config.File{
		Comment: "The demo's network as a targets file; the simulator's ports change every run.\n" +
			"Each device exports its flows from its host address, which makes it its flow_exporter.",
		Step:     o.Step,
		Data:     "mrtgo.db",
		Site:     "site",
		Timezone: o.Location.String(),
	}
	for _, a := range agents {
		s := config.DefaultSNMP()
		s.Port, s.Community = a.Port(), a.Community()
		d := config.FileDevice{Name: a.Name(), Host: a.Addr().AddrPort().Addr().String(), SNMP: s,
			Interfaces: []config.FileInterface{{Key: "*"}}}
		if strings.HasPrefix(a.Name(), "core") {
			// The core routers' pages show packets and errors too.
			d.Counters = &config.Counters{Packets: true, Errors: true}
		}
		f.Devices = append(f.Devices, d)
	}
	b := config.Format(f)
	if collector.IsValid() {
		// config.File has no [flows] yet; a table may follow the devices'. The
		// detector looks at the flows with its defaults.
		b = fmt.Appendf(b, "\n[flows]\nlisten = [%q]\n\n[detect]\n", collector.String())
	}
	return os.WriteFile(path, b, 0o644)
}

// backfill records the agents' counters at every step of the past history, a week per
// commit, and returns the number of samples written. Progress (nil for none) hears of
// each week committed.
func backfill(rec *pipeline.Recorder, agents []*snmpsim.Agent, first []poller.Result, history, step time.Duration, progress func(done, total int)) (int, error) {
	byName := map[string]*snmpsim.Agent{}
	for _, a := range agents {
		byName[a.Name()] = a
	}
	var end time.Time
	for _, r := range first {
		for _, s := range r.Samples {
			if end.IsZero() || s.Time.Before(end) {
				end = s.Time
			}
		}
	}
	start := end.Add(-history).Truncate(step)
	n := 0
	const perCommit = 7 * 24 * time.Hour // a commit (and its fsync) per simulated week
	weeks := int((end.Sub(start) + perCommit - 1) / perCommit)
	done := 0
	for t0 := start; t0.Before(end); t0 = t0.Add(perCommit) {
		batch := make([]poller.Result, 0, len(first))
		for _, r := range first {
			a := byName[r.Device]
			res := poller.Result{Device: r.Device, Samples: make([]poller.Sample, 0, len(r.Samples)*int(perCommit/step))}
			for t := t0; t.Before(t0.Add(perCommit)) && t.Before(end); t = t.Add(step) {
				for _, s := range r.Samples {
					s.In, s.Out = a.Counters(s.Index, t)
					s.Time = t
					s.Discontinuity = false
					if s.Packets != nil || s.Errors != nil {
						s.Packets, s.Errors = backfillGroups(a, s, t.Equal(start))
					}
					res.Samples = append(res.Samples, s)
				}
			}
			n += len(res.Samples)
			batch = append(batch, res)
		}
		if err := rec.Record(batch); err != nil {
			return n, fmt.Errorf("back-fill: %w", err)
		}
		done++
		if progress != nil {
			progress(done, weeks)
		}
	}
	return n, nil
}

// backfillFlows writes the flows of the last history (whole steps up to now) into the
// flow store of cfg, as the daemon would have collected them: every step's flows of
// every agent's interfaces, in the raw segments and the top talkers, the interfaces
// named as the first poll named them. It returns the records written.
func backfillFlows(cfg *config.Config, agents []*snmpsim.Agent, first []poller.Result, history time.Duration, now time.Time, log *slog.Logger) (int, error) {
	if history <= 0 {
		return 0, nil
	}
	raw, top, err := daemon.OpenFlowStores(cfg, false)
	if err != nil {
		return 0, err
	}
	// What the detector finds in them goes to the event log, as the daemon's would.
	detCfg := cfg.Detect.Config
	if !cfg.Detect.Enabled {
		detCfg = detect.Config{Window: cfg.Step}
	}
	det, err := detect.New(detCfg)
	if err != nil {
		return 0, errors.Join(err, raw.Close(), top.Close())
	}
	evlog, err := daemon.OpenEvents(cfg)
	if err != nil {
		return 0, errors.Join(err, raw.Close(), top.Close())
	}
	defer evlog.Close()
	alerts := pipeline.NewAlerter(cfg, log)
	defer alerts.Close()
	desk, err := pipeline.NewDesk(cfg, evlog, alerts, log, now)
	if err != nil {
		return 0, errors.Join(err, raw.Close(), top.Close())
	}
	names := map[string]map[int]string{}
	for _, r := range first {
		m := map[int]string{}
		for _, s := range r.Samples {
			m[s.Index] = s.Interface
		}
		names[r.Device] = m
	}
	exporters := map[string]netip.Addr{}
	for _, d := range cfg.Devices {
		exporters[d.Name] = d.FlowExporter
	}
	stepS := int64(cfg.Step / time.Second)
	end := time.Unix(now.Unix()/stepS*stepS, 0)
	n := 0
	var batch []flow.Flow
	for t := end.Add(-history).Add(cfg.Step); !t.After(end); t = t.Add(cfg.Step) {
		batch = batch[:0]
		for _, a := range agents {
			byIndex := names[a.Name()]
			fs := a.Flows(t.Add(-cfg.Step), t, 0)
			if a.Name() == attackDevice {
				fs = append(fs, stagedAttacks(attackIndex(first), t.Add(-cfg.Step), t)...)
			}
			for _, f := range fs {
				fl := flow.Flow{Record: flow.Record{Received: f.End, Start: f.Start, End: f.End, Kind: flow.IPFIX,
					Exporter: exporters[a.Name()], SamplingRate: 1, InIf: uint32(f.InIf), OutIf: uint32(f.OutIf),
					Src: f.Src, Dst: f.Dst, SrcPort: f.SrcPort, DstPort: f.DstPort, Proto: f.Proto, TCPFlags: f.TCPFlags,
					Bytes: f.Bytes, Packets: f.Packets}, Device: a.Name()}
				if f.InIf != 0 {
					fl.In = byIndex[f.InIf]
				}
				if f.OutIf != 0 {
					fl.Out = byIndex[f.OutIf]
				}
				if !fl.Received.Before(t) {
					fl.Received = t.Add(-time.Millisecond)
				}
				batch = append(batch, fl)
			}
		}
		if err := raw.Append(batch...); err != nil {
			raw.Close()
			top.Close()
			return n, err
		}
		for i := range batch {
			top.Add(&batch[i])
		}
		if err := top.Commit(t); err != nil {
			raw.Close()
			top.Close()
			return n, err
		}
		for i := range batch {
			det.Add(&batch[i])
		}
		if err := desk.Report(t, det.Step(t)); err != nil {
			raw.Close()
			top.Close()
			return n, err
		}
		n += len(batch)
	}
	return n, errors.Join(raw.Close(), top.Close())
}

// backfillGroups is the packet and error groups of the sample s of agent a at t, as a
// poll would have read them; first marks the first sample of the back-fill, which
// starts each group's series.
func backfillGroups(a *snmpsim.Agent, s poller.Sample, first bool) (packets, errs *poller.Group) {
	pk, er := a.Groups(s.Index, s.Time)
	if s.Packets != nil {
		packets = &poller.Group{Values: pk[:], Bits: 64, Discontinuity: first}
	}
	if s.Errors != nil {
		errs = &poller.Group{Values: er[:], Bits: 32, Discontinuity: first}
	}
	return packets, errs
}
