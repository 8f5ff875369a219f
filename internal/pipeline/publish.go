package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mrtgo/mrtgo/events"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// Publisher writes the static site from the store.
//
// It is incremental: a graph is drawn again only when its period has moved on since
// it was last drawn, that is when the store has a new row of the period's resolution
// (the day graph every step, the week graph every 6 steps, the month graph every 24,
// the year graph every 288) or the clock has passed into a new row (so that a device
// that stopped answering shows a growing gap), or when anything else it shows changed
// (speed, time zone, step, the marks of the interface's events). A graph shows its
// period up to the start of the row holding the clock (graphEnd), so that what it
// shows, its numbers included, follows from those alone: the site an incremental
// Publish leaves is the one a full Publish at the same time writes, file for file.
// What was drawn is kept in memory between calls and in a
// small state file in the site directory (stateFile), so a fresh process, such as
// "mrtgo render" from cron, redraws only what changed too. Graphs are drawn on all
// cores; every file is written to a temporary name and renamed. A page is written
// only when its content, apart from its generation time, changed (web.Pages).
//
// Above DrawUpTo interfaces (the daemon's setting) Publish keeps only the pages'
// numbers current, and Handler draws a graph when it is asked for: the cost of
// drawing follows what people look at rather than the size of the network.
type Publisher struct {
	DB       Store
	Dir      string         // site directory
	Location *time.Location // labels and day boundaries
	Step     time.Duration  // page refresh
	Order    []string       // device order (from the targets file); others follow by name
	Hosts    map[string]string
	Log      *slog.Logger
	Now      func() time.Time
	Workers  int // graphs drawn at once; 0 = GOMAXPROCS
	// Alerts are the thresholds each series (by series.Name) is over, from the daemon's
	// Watcher; nil when nobody evaluates thresholds ("mrtgo render").
	Alerts map[string][]web.Alert
	// Progress, when not nil, is called after each graph drawn with the number drawn so
	// far and the number due in this Publish, one call at a time ("mrtgo render" shows it
	// on a terminal).
	Progress func(done, total int)
	// DrawUpTo, when above 0, makes Publish draw the graphs of a site of at most that
	// many interfaces only. On a larger site Publish summarizes the graphs that are due
	// (the pages' numbers stay current) without drawing them, and Handler draws a graph
	// when somebody asks for it. 0 draws every graph ("mrtgo render").
	DrawUpTo int
	// Flows, when not nil, adds what flow records say to the pages (see FlowPages).
	Flows *FlowPages
	// Events, when not nil, is the event log the site shows (read only, also while
	// the daemon writes it): the events page (web.EventsPage) with the events going
	// on in the last EventsPageSpan, the newest EventsPageLimit; each device's and
	// interface's latest EventsPerPage on its page; the number going on, by
	// severity, on the index; and on an interface's day and week graphs a vertical
	// line where each of its events began, in its severity's colour
	// (web.SeverityColor). Publish reads only what was appended to the log since
	// its last read.
	// A graph whose marks changed is drawn again, by Publish or by Handler. nil shows
	// no events anywhere, and the site is as it was without them.
	Events *events.Log
	// Captures, with Events, is the directory of the events' packet captures
	// (Event.Capture names a file in it). The capture of each event on the events
	// page is put into the site (web.CaptureFile: a hard link, or a copy where the
	// site is on another file system) and linked from its row; the captures of
	// events no longer listed are removed from the site. "" links none.
	Captures string
	// Targets are the targets that are not interfaces and the aggregates the site
	// shows (targetpages.go).
	Targets Targets

	mu   sync.Mutex // one Publish at a time
	bufs sync.Pool  // *bytes.Buffer for encoded PNGs

	// stateMu guards what Publish shares with Handler.
	stateMu   sync.Mutex
	drawn     drawnGraphs               // nil until loaded from the state file
	loc       *time.Location            // Location as of the last Publish; nil before it
	flights   map[graphID]chan struct{} // graphs being drawn on request, closed when done
	unsaved   bool                      // graphs were drawn on request since the state was saved
	onRequest int                       // graphs drawn on request
	published int                       // Publish calls begun
	index     graphIndex                // Handler's map of file names to series
	pages     web.Pages                 // remembers the pages written: unchanged ones are left alone
	files     siteFiles                 // the site's files, listed once per Publish
	marks     map[string][]render.Mark  // by series, as of the last Publish (for Handler)

	eventLog eventReader // Events as last read

	targetDrawn map[string][2]int64 // targets' graphs drawn, by file: the clock's and the data's row
}

// PublishStats says what one Publish did.
type PublishStats struct {
	Interfaces int
	Graphs     int // graphs on the pages: Interfaces × 4
	Drawn      int // graphs drawn again (each as two PNGs, 1x and 2x); the rest were current
	Summarized int // graphs whose numbers were taken again without drawing them (DrawUpTo)
	Duration   time.Duration
}

// Publish draws the graphs whose period has new data and writes every page (a page
// whose content did not change is left alone).
func (p *Publisher) Publish(ctx context.Context) (PublishStats, error) {
	began := time.Now()
	now := p.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	loc := p.Location
	p.stateMu.Lock()
	if p.drawn == nil {
		p.drawn = loadDrawn(p.Dir, p.Log)
	}
	p.loc = loc
	p.published++
	p.stateMu.Unlock()
	p.files = siteFiles{dir: p.Dir}

	site, specs, err := p.site(now)
	if err != nil {
		return PublishStats{}, err
	}
	var evs siteEvents
	if p.Events != nil {
		evs = p.events(&site, specs, now)
	}

	// Plan first: which graphs of each interface are due. Kept graphs fill their slots
	// of the site at once.
	var jobs []*ifaceJob
	drawing := p.DrawUpTo <= 0 || len(specs) <= p.DrawUpTo
	p.stateMu.Lock()
	p.marks = evs.marks
	for di := range site.Devices {
		dev := &site.Devices[di]
		for ii := range dev.Interfaces {
			ifc := &dev.Interfaces[ii]
			name := series.Name(dev.Name, ifc.Name)
			jobs = append(jobs, p.plan(dev.Name, ifc, specs[name], evs.marks[name], now, loc, drawing))
		}
	}
	p.stateMu.Unlock()

	// Interfaces whose week and month are both due read their base-step rows (for the
	// percentiles) together, a batch at a time; then every interface is drawn, one job
	// per batch or interface, on all cores. Each job fills its own slots of the site.
	g, gctx := errgroup.WithContext(ctx)
	workers := p.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g.SetLimit(workers)
	var (
		drawn int
		due   int
	)
	for _, j := range jobs {
		due += len(j.due)
	}
	drawJob := func(j *ifaceJob) error {
		for _, i := range j.due {
			var st drawnGraph
			var err error
			if drawing {
				st, err = p.draw(j.device, j.ifc, render.Periods[i], j.want[i], j.ring, loc, j.marks[i])
				if err == nil {
					err = p.drawGroups(j.device, j.ifc, render.Periods[i], i, st, loc)
				}
			} else {
				st, err = summarize(p.DB, series.Name(j.device, j.ifc.Name), render.Periods[i], j.want[i], j.ring)
			}
			if err != nil {
				return err
			}
			j.ifc.Graphs[i] = st.graph(render.Periods[i])
			j.ifc.Graphs[i].Marks = len(j.marks[i])
			p.stateMu.Lock()
			p.drawn[graphKey(j.series, render.Periods[i])] = st
			if drawing {
				drawn++
			}
			if p.Progress != nil && drawing {
				p.Progress(drawn, due)
			}
			p.stateMu.Unlock()
		}
		if now.Sub(j.ifc.LastUpdate) > j.spec.Heartbeat {
			// As Summary says: a silent series has no current rate (kept graphs were
			// summarized while it spoke).
			for i := range j.ifc.Graphs {
				j.ifc.Graphs[i].In.Current, j.ifc.Graphs[i].Out.Current = math.NaN(), math.NaN()
			}
			for _, c := range j.ifc.Counters {
				for i := range c.Graphs {
					c.Graphs[i].In.Current, c.Graphs[i].Out.Current = math.NaN(), math.NaN()
				}
			}
		}
		return nil
	}
	var shared []*ifaceJob
	for _, j := range jobs {
		if j.ringSpan > 0 {
			shared = append(shared, j)
			continue
		}
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			return drawJob(j)
		})
	}
	for lo := 0; lo < len(shared); lo += ringBatch {
		batch := shared[lo:min(lo+ringBatch, len(shared))]
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			if err := p.fetchRings(batch); err != nil {
				return err
			}
			for _, j := range batch {
				if err := drawJob(j); err != nil {
					return err
				}
				j.ring = nil // a month of rows: keep only a batch's at a time
			}
			return nil
		})
	}
	n := len(jobs)
	if err := g.Wait(); err != nil {
		return PublishStats{}, err
	}
	p.stateMu.Lock()
	var serr error
	if due > 0 || p.unsaved {
		serr = saveDrawn(p.Dir, p.drawn)
		p.unsaved = false
	}
	p.stateMu.Unlock()
	if serr != nil {
		return PublishStats{}, serr
	}
	if err := p.targetPages(&site, now, loc); err != nil {
		return PublishStats{}, err
	}
	if p.Flows != nil {
		p.Flows.fill(&site, p.DB, p.Dir, now, loc, drawing)
	}
	p.pages.Dir = p.Dir
	if err := p.pages.Write(site); err != nil {
		return PublishStats{}, fmt.Errorf("write site: %w", err)
	}
	st := PublishStats{Interfaces: n, Graphs: n * len(render.Periods), Drawn: drawn, Duration: time.Since(began)}
	if !drawing {
		st.Summarized = due
	}
	return st, nil
}

// ifaceJob is one interface's share of a Publish: the graphs due and what they will
// be drawn from.
type ifaceJob struct {
	device, series string
	ifc            *web.Interface
	spec           rrd.Spec
	due            []int           // indexes into render.Periods
	want           []drawnGraph    // by period
	marks          [][]render.Mark // by period: the events' marks
	ringSpan       time.Duration   // with ringEnd, the base-step rows of the week and month (0: none shared)
	ringEnd        time.Time
	ring           *ringRows
}

// plan decides which graphs of an interface are due and fills the slots of the others
// from what they were drawn with. When drawing, a graph is due unless its PNGs are on
// disk and current (its marks, of the interface's events, among what it shows);
// when only summarizing, unless its numbers are. The caller holds stateMu.
func (p *Publisher) plan(device string, ifc *web.Interface, spec rrd.Spec, marks []render.Mark, now time.Time, loc *time.Location, drawing bool) *ifaceJob {
	j := &ifaceJob{device: device, series: series.Name(device, ifc.Name), ifc: ifc, spec: spec,
		want: make([]drawnGraph, len(render.Periods)), marks: make([][]render.Mark, len(render.Periods))}
	ifc.Graphs = make([]web.Graph, len(render.Periods))
	if !drawing {
		ifc.Counters = nil // drawn only with the octets' graphs (countergraphs.go)
	}
	for i, period := range render.Periods {
		j.marks[i] = marksIn(marks, period, spec.Step, now)
		j.want[i] = wantState(spec, ifc, period, now, loc, j.marks[i])
		old, ok := p.drawn[graphKey(j.series, period)]
		if ok && old.current(j.want[i]) && (!drawing || !old.Pending && p.filesExist(device, ifc.Name, period) &&
			p.groupsCurrent(device, ifc, period, i, j.want[i])) {
			ifc.Graphs[i] = old.graph(period)
			ifc.Graphs[i].Marks = len(j.marks[i])
			continue
		}
		j.due = append(j.due, i)
	}
	// When both the week and the month are drawn, their percentiles share one fetch of
	// the base-step rows, reaching from the month's first to the week's last.
	if slices.Contains(j.due, int(render.Week)) && slices.Contains(j.due, int(render.Month)) {
		wEnd, mEnd := graphEnd(j.want[render.Week]), graphEnd(j.want[render.Month])
		wFine := fineSpan(spec, render.Week.SpanFor(spec.Step), wEnd, keyedLast(ifc.LastUpdate, render.Week.ResolutionFor(spec.Step), spec.Step))
		mFine := fineSpan(spec, render.Month.SpanFor(spec.Step), mEnd, keyedLast(ifc.LastUpdate, render.Month.ResolutionFor(spec.Step), spec.Step))
		if mFine > 0 {
			from := mEnd.Add(-mFine)
			if wFine > 0 && wEnd.Add(-wFine).Before(from) {
				from = wEnd.Add(-wFine)
			}
			j.ringEnd = mEnd
			if wEnd.After(mEnd) {
				j.ringEnd = wEnd
			}
			j.ringSpan = j.ringEnd.Sub(from)
		}
	}
	return j
}

// graphEnd is the right edge of a graph keyed by st: the start of the period's row
// that holds the clock (wantState's Clock). The row still filling is left out, so
// that a graph and its numbers follow from its key alone: a graph kept because its
// key has not changed is the one a full render would draw at the same time.
func graphEnd(st drawnGraph) time.Time { return time.Unix(st.Clock, 0).UTC() }

// fetchRings reads the base-step rows of a batch of interfaces with one store read per
// step size and end (see fetchRings in rates.go).
func (p *Publisher) fetchRings(batch []*ifaceJob) error {
	type stepEnd struct {
		step time.Duration
		end  time.Time
	}
	byStep := map[stepEnd][]*ifaceJob{}
	for _, j := range batch {
		k := stepEnd{j.spec.Step, j.ringEnd}
		byStep[k] = append(byStep[k], j)
	}
	for k, js := range byStep {
		names := make([]string, len(js))
		spans := make([]time.Duration, len(js))
		for i, j := range js {
			names[i], spans[i] = j.series, j.ringSpan
		}
		rings, err := fetchRings(p.DB, names, spans, k.end, k.step)
		if err != nil {
			return err
		}
		for i, j := range js {
			j.ring = rings[i]
		}
	}
	return nil
}

// site is the site's model without the graphs (devices, their health, interfaces),
// and the spec of every series in it.
func (p *Publisher) site(now time.Time) (web.Site, map[string]rrd.Spec, error) {
	all, err := p.DB.Series()
	if err != nil {
		return web.Site{}, nil, fmt.Errorf("list series: %w", err)
	}
	specs := make(map[string]rrd.Spec, len(all))
	groups := groupsOf(all)
	byDevice := map[string][]string{}
	for _, s := range all {
		if d, _, ok := series.Split(s); ok {
			byDevice[d] = append(byDevice[d], s)
		}
	}
	for d := range p.Targets.Devices {
		if _, ok := byDevice[d]; !ok {
			byDevice[d] = nil // a device of targets only
		}
	}
	site := web.Site{Title: "mrtgo", Generated: now, Location: p.Location, Refresh: p.Step}
	for _, name := range p.deviceOrder(byDevice) {
		dev := web.Device{Name: name, Host: p.Hosts[name]}
		h, polled, err := Health(p.DB, name)
		if err != nil {
			return web.Site{}, nil, err
		}
		if polled {
			if dev.Host == "" {
				dev.Host = h.Host
			}
			dev.LastPoll, dev.LastSuccess, dev.PollDuration, dev.PollError = h.LastPoll, h.LastSuccess, h.Duration, h.Error
			dev.Requests, dev.Retries, dev.Missing = h.Requests, h.Retries, h.Missing
			if h.Error == "" {
				dev.Uptime = h.Uptime
			}
		}
		names := byDevice[name]
		sort.Strings(names)
		for _, s := range names {
			_, iface, _ := series.Split(s)
			info, err := series.Interface(p.DB, s)
			if err != nil {
				return web.Site{}, nil, err
			}
			spec, last, err := p.DB.Info(s)
			if err != nil {
				return web.Site{}, nil, fmt.Errorf("read %s: %w", s, err)
			}
			specs[s] = spec
			rf, err := RefusalsOf(p.DB, s)
			if err != nil {
				return web.Site{}, nil, err
			}
			dev.Interfaces = append(dev.Interfaces, web.Interface{
				Name: iface, Descr: info.Descr, Alias: info.Alias, Speed: info.Speed, LastUpdate: last,
				Status:     status(iface, last, now, spec.Heartbeat, h, polled),
				Alerts:     p.Alerts[s],
				AboveSpeed: [2]int64{rf.In, rf.Out}, AboveSpeedLast: rf.Last,
				Admin: info.Admin, Oper: info.Oper, Gone: info.Gone,
			})
			for _, kind := range groups[s] {
				ifc := &dev.Interfaces[len(dev.Interfaces)-1]
				ifc.Counters = append(ifc.Counters, web.CounterGraphs{Kind: kind, Graphs: make([]web.Graph, len(render.Periods))})
			}
		}
		site.Devices = append(site.Devices, dev)
	}
	return site, specs, nil
}

// status says whether an interface is being recorded: "up" when its last sample is
// within the heartbeat, "not found" when the device answered without it, else "no data".
// (Whether the interface is up on the device is its facts' Admin and Oper, shown apart.)
func status(iface string, last, now time.Time, heartbeat time.Duration, h DeviceHealth, polled bool) string {
	if polled {
		for _, m := range h.Missing {
			if m == iface {
				return "not found"
			}
		}
	}
	if now.Sub(last) <= heartbeat {
		return "up"
	}
	return "no data"
}

// wantState is what a graph drawn now with marks would be keyed by.
func wantState(spec rrd.Spec, ifc *web.Interface, period render.Period, now time.Time, loc *time.Location, marks []render.Mark) drawnGraph {
	res := period.ResolutionFor(spec.Step)
	return drawnGraph{
		Clock:  now.Truncate(res).Unix(),
		Data:   ifc.LastUpdate.Truncate(res).Unix(),
		Inputs: inputs(ifc.Speed, loc, spec.Step, marks),
	}
}

// summarize fetches one period of a series and returns the numbers its graph would
// show, without drawing it (Pending).
func summarize(db Store, series string, period render.Period, st drawnGraph, ring *ringRows) (drawnGraph, error) {
	r, err := graphRates(db, series, period, st, ring)
	if err != nil {
		return drawnGraph{}, err
	}
	st.In, st.Out = Summary(r)
	st.P95Basis = p95Basis(r)
	st.Pending = true
	st.Band = len(r.BandLo) > 0
	return st, nil
}

// draw fetches one period of an interface up to graphEnd(st), draws it at both
// scales with marks and returns what was drawn.
func (p *Publisher) draw(device string, ifc *web.Interface, period render.Period, st drawnGraph, ring *ringRows, loc *time.Location, marks []render.Mark) (drawnGraph, error) {
	series := series.Name(device, ifc.Name)
	end := graphEnd(st)
	r, err := graphRates(p.DB, series, period, st, ring)
	if err != nil {
		return drawnGraph{}, err
	}
	st.In, st.Out = Summary(r)
	st.P95Basis = p95Basis(r)
	st.Pending = false
	st.Band = len(r.BandLo) > 0
	buf, _ := p.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer p.bufs.Put(buf)
	for _, scale := range []int{1, 2} {
		g := render.Graph{
			Period: period, Span: r.Span, Start: r.Start, Step: r.Step, End: end, Location: loc,
			In: r.In, Out: r.Out, MaxIn: r.MaxIn, MaxOut: r.MaxOut,
			BandLo: r.BandLo, BandHi: r.BandHi, OutBandLo: r.OutBandLo, OutBandHi: r.OutBandHi,
			Failures: eitherFailed(r.Failures, r.OutFailures),
			Speed:    ifc.Speed, Scale: scale, Marks: marks,
		}
		if period != render.Year {
			g.P95In, g.P95Out = st.In.P95, st.Out.P95
		}
		buf.Reset()
		if err := render.PNG(buf, g); err != nil {
			return drawnGraph{}, fmt.Errorf("draw %s %s: %w", series, period, err)
		}
		if err := web.WriteFile(p.Dir, web.GraphFile(device, ifc.Name, period.String(), scale), buf.Bytes()); err != nil {
			return drawnGraph{}, err
		}
	}
	return st, nil
}

// events reads the event log (again only if it changed) and puts its events on
// site: the lists of the pages, the captures linked into the site; it returns them
// with the marks of each interface's graphs. A log that cannot be read is logged and
// the events last read are shown.
func (p *Publisher) events(site *web.Site, specs map[string]rrd.Spec, now time.Time) siteEvents {
	step := p.Step
	for _, sp := range specs {
		step = max(step, sp.Step)
	}
	evs, err := p.eventLog.read(p.Events, now.Add(-eventsRead(step)))
	if err != nil {
		p.Log.Warn("read event log; showing the events last read", "dir", p.Events.Dir(), "err", err)
	}
	se := arrange(evs, now)
	if p.Captures != "" {
		se.page.Captures = linkCaptures(p.Captures, p.Dir, se.page.List, p.Log)
	}
	se.fill(site)
	return se
}

func (p *Publisher) deviceOrder(byDevice map[string][]string) []string {
	var order []string
	seen := map[string]bool{}
	for _, d := range p.Order {
		if _, ok := byDevice[d]; ok && !seen[d] {
			order = append(order, d)
			seen[d] = true
		}
	}
	var rest []string
	for d := range byDevice {
		if !seen[d] {
			rest = append(rest, d)
		}
	}
	sort.Strings(rest)
	return append(order, rest...)
}
