package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// Rates is one interface's traffic over one period, as the pages show it and as
// "mrtgo fetch" prints it: bits per second, NaN for unknown.
type Rates struct {
	Period        render.Period
	Span          time.Duration // time the period covers
	Start         time.Time     // end of the first row's interval
	Step          time.Duration
	In, Out       []float64
	MaxIn, MaxOut []float64 // peaks, from the MAX archives (nil on the day period)
}

// Time returns the end of row i's interval.
func (r Rates) Time(i int) time.Time { return r.Start.Add(time.Duration(i) * r.Step) }

// FetchRates reads a period of a series ending at end. The period's span and resolution
// follow the series' step (MRTG's 5 minutes gives 33 hours of 5-minute rows on the day graph).
func FetchRates(db *rrd.DB, series string, p render.Period, end time.Time) (Rates, error) {
	spec, _, err := db.Info(series)
	if err != nil {
		return Rates{}, err
	}
	start := end.Add(-p.SpanFor(spec.Step))
	res := p.ResolutionFor(spec.Step)
	avg, err := db.Fetch(series, rrd.Average, start, end, res)
	if err != nil {
		return Rates{}, fmt.Errorf("fetch %s %s: %w", series, p, err)
	}
	r := Rates{Period: p, Span: p.SpanFor(spec.Step), Start: avg.Time(0), Step: avg.Step}
	r.In, r.Out = bitsColumns(avg)
	if p != render.Day {
		mx, err := db.Fetch(series, rrd.Max, start, end, res)
		if err != nil {
			return Rates{}, fmt.Errorf("fetch %s %s peaks: %w", series, p, err)
		}
		r.MaxIn, r.MaxOut = bitsColumns(mx)
	}
	return r, nil
}

// bitsColumns turns octets/s rows into two bits/s columns.
func bitsColumns(res rrd.Result) (in, out []float64) {
	in = make([]float64, len(res.Rows))
	out = make([]float64, len(res.Rows))
	for i, row := range res.Rows {
		in[i], out[i] = row[0]*8, row[1]*8
	}
	return in, out
}

// Summary returns the stats the pages show for a period: rates in bits/s, Total in bytes.
func Summary(r Rates) (in, out web.Stats) {
	return stats(r.In, r.Step), stats(r.Out, r.Step)
}

func stats(bits []float64, step time.Duration) web.Stats {
	s := rrd.Summarize(bits, step)
	return web.Stats{Max: s.Max, Average: s.Average, Current: s.Current, P95: s.P95, Total: s.Total / 8}
}

// Publisher writes the static site from the store.
type Publisher struct {
	DB       *rrd.DB
	Dir      string         // site directory
	Location *time.Location // labels and day boundaries
	Step     time.Duration  // page refresh
	Order    []string       // device order (from the targets file); others follow by name
	Hosts    map[string]string
	Log      *slog.Logger
	Now      func() time.Time
	Workers  int // graphs drawn at once; 0 = GOMAXPROCS
}

// PublishStats says what one Publish did.
type PublishStats struct {
	Interfaces, Graphs int
	Duration           time.Duration
}

// Publish draws every graph and writes every page.
func (p *Publisher) Publish(ctx context.Context) (PublishStats, error) {
	began := time.Now()
	now := p.Now()
	series, err := p.DB.Series()
	if err != nil {
		return PublishStats{}, fmt.Errorf("list series: %w", err)
	}
	byDevice := map[string][]string{}
	for _, s := range series {
		if d, _, ok := SplitSeries(s); ok {
			byDevice[d] = append(byDevice[d], s)
		}
	}
	site := web.Site{Title: "mrtgo", Generated: now, Location: p.Location, Refresh: p.Step}
	for _, name := range p.deviceOrder(byDevice) {
		dev := web.Device{Name: name, Host: p.Hosts[name]}
		if h, ok := Health(p.DB, name); ok {
			if dev.Host == "" {
				dev.Host = h.Host
			}
			dev.LastPoll, dev.PollDuration, dev.PollError = h.LastPoll, h.Duration, h.Error
			if h.Error == "" {
				dev.Uptime = h.Uptime
			}
		}
		names := byDevice[name]
		sort.Strings(names)
		for _, s := range names {
			_, iface, _ := SplitSeries(s)
			info, err := Interface(p.DB, s)
			if err != nil {
				return PublishStats{}, fmt.Errorf("read facts of %s: %w", s, err)
			}
			_, last, err := p.DB.Info(s)
			if err != nil {
				return PublishStats{}, fmt.Errorf("read %s: %w", s, err)
			}
			dev.Interfaces = append(dev.Interfaces, web.Interface{
				Name: iface, Descr: info.Descr, Alias: info.Alias, Speed: info.Speed, LastUpdate: last,
			})
		}
		site.Devices = append(site.Devices, dev)
	}

	// Fetch and draw on all cores; each job fills its own slot of the site.
	g, gctx := errgroup.WithContext(ctx)
	workers := p.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g.SetLimit(workers)
	n := 0
	for di := range site.Devices {
		dev := &site.Devices[di]
		for ii := range dev.Interfaces {
			ifc := &dev.Interfaces[ii]
			ifc.Graphs = make([]web.Graph, len(render.Periods))
			n++
			g.Go(func() error {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				return p.drawInterface(dev.Name, ifc, now)
			})
		}
	}
	if err := g.Wait(); err != nil {
		return PublishStats{}, err
	}
	if err := web.Write(p.Dir, site); err != nil {
		return PublishStats{}, fmt.Errorf("write site: %w", err)
	}
	return PublishStats{Interfaces: n, Graphs: n * len(render.Periods), Duration: time.Since(began)}, nil
}

func (p *Publisher) drawInterface(device string, ifc *web.Interface, now time.Time) error {
	series := SeriesName(device, ifc.Name)
	for i, period := range render.Periods {
		r, err := FetchRates(p.DB, series, period, now)
		if err != nil {
			return err
		}
		in, out := Summary(r)
		ifc.Graphs[i] = web.Graph{Period: period.String(), Width: render.Width, Height: render.Height, In: in, Out: out}
		for _, scale := range []int{1, 2} {
			g := render.Graph{
				Period: period, Span: r.Span, Start: r.Start, Step: r.Step, End: now, Location: p.Location,
				In: r.In, Out: r.Out, MaxIn: r.MaxIn, MaxOut: r.MaxOut,
				Speed: ifc.Speed, Scale: scale,
			}
			if period != render.Year {
				g.P95In, g.P95Out = in.P95, out.P95
			}
			var buf bytes.Buffer
			if err := render.PNG(&buf, g); err != nil {
				return fmt.Errorf("draw %s %s: %w", series, period, err)
			}
			if err := web.WriteFile(p.Dir, web.GraphFile(device, ifc.Name, period.String(), scale), buf.Bytes()); err != nil {
				return err
			}
		}
	}
	return nil
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
