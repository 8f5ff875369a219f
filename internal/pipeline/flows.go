package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/mrtgo/mrtgo/flowtop"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// FlowPages adds what flow records say to the site Publish writes: on each interface
// page and period, the top sources, destinations, services and protocols, a graph of
// the traffic stacked by service, and the flow totals beside the SNMP totals of the
// same rows; on each device page an overview; on the index the exporters. It reads
// the top talkers (flowtop), never raw records, so its cost follows the number of
// interfaces with flows, not the number of flows; a period's section is worked out
// again only when the period has a new row of top talkers. On a site above the
// publisher's DrawUpTo the interface sections are left out (the exporters and the
// devices' overviews stay).
type FlowPages struct {
	Top *flowtop.Store
	// Exporters lists the exporters heard from (the daemon's collector); nil lists
	// none.
	Exporters func() []web.Exporter
	Log       *slog.Logger

	mu    sync.Mutex
	cache map[flowSection]flowCached
}

// ListLength is how many keys each top list on the pages shows.
const ListLength = 10

// stackKeys is how many services the stacked graph shows by name; the rest is its
// last, grey layer.
const stackKeys = 7

// flowSection names a cached interface section, or with no interface and period a
// device's overview list.
type flowSection struct{ device, iface, period string }

type flowCached struct {
	row   int64 // the period's last row of top talkers, as of this section
	flows *web.Flows
}

// fill adds the flow sections to site; a section that cannot be read is logged and
// left out, never fatal to the site.
func (f *FlowPages) fill(site *web.Site, db Store, dir string, now time.Time, loc *time.Location, drawing bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cache == nil {
		f.cache = map[flowSection]flowCached{}
	}
	log := f.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	step := f.Top.Options().Step
	last := f.Top.Last()
	exporters := map[string]web.Exporter{}
	if f.Exporters != nil {
		site.Exporters = f.Exporters()
		for _, e := range site.Exporters {
			if e.Device != "" {
				exporters[e.Device] = e
			}
		}
	}
	for di := range site.Devices {
		dev := &site.Devices[di]
		var overview *web.DeviceFlows
		for ii := range dev.Interfaces {
			if !drawing {
				// A site too large to draw every step (Publisher.DrawUpTo) gets no
				// per-interface sections either: each costs a few queries of the top
				// talkers a period. "mrtgo flows" answers them.
				break
			}
			ifc := &dev.Interfaces[ii]
			for gi := range ifc.Graphs {
				g := &ifc.Graphs[gi]
				p, err := render.ParsePeriod(g.Period)
				if err != nil {
					continue
				}
				key := flowSection{dev.Name, ifc.Name, g.Period}
				row := last.Unix() / int64(p.ResolutionFor(step)/time.Second)
				c, ok := f.cache[key]
				if !ok || c.row != row {
					fl, err := f.section(db, dir, dev.Name, ifc.Name, p, now, loc, drawing)
					if err != nil {
						log.Warn("flow section", "device", dev.Name, "interface", ifc.Name, "period", g.Period, "err", err)
					}
					c = flowCached{row: row, flows: fl}
					f.cache[key] = c
				}
				g.Flows = c.flows
				if c.flows != nil && p == render.Day {
					if overview == nil {
						overview = &web.DeviceFlows{}
					}
					overview.Interfaces = append(overview.Interfaces, web.InterfaceFlows{Name: ifc.Name,
						FlowBytes: c.flows.FlowBytes, SNMPBytes: c.flows.SNMPBytes})
				}
			}
		}
		e, heard := exporters[dev.Name]
		if overview == nil && !heard {
			continue
		}
		if overview == nil {
			overview = &web.DeviceFlows{}
		}
		overview.Exporter, overview.LastSeen = e.Addr, e.LastSeen
		overview.Datagrams, overview.Records, overview.Errors = e.Datagrams, e.Records, e.Errors
		// The device's top sources change with each step of top talkers, not with
		// each Publish: kept like the sections.
		key := flowSection{device: dev.Name}
		row := last.Unix() / int64(step/time.Second)
		c, ok := f.cache[key]
		if !ok || c.row != row {
			c = flowCached{row: row, flows: &web.Flows{}}
			span := render.Day.SpanFor(step)
			if res, err := f.Top.Top(flowtop.Query{Device: dev.Name, Direction: flowtop.Both, Dimension: flowtop.SrcAddr,
				By: flowtop.Bytes, From: now.Add(-span), To: now, N: ListLength}); err == nil {
				c.flows.Lists = []web.TalkerList{talkers("Top sources, last day", res, step, nil)}
			} else if !errors.Is(err, flowtop.ErrNoSeries) {
				log.Warn("flow overview", "device", dev.Name, "err", err)
			}
			f.cache[key] = c
		}
		overview.Lists = c.flows.Lists
		dev.Flows = overview
	}
}

// section is one interface's flows over one period; nil when it has none.
func (f *FlowPages) section(db Store, dir, device, iface string, p render.Period, now time.Time, loc *time.Location, drawing bool) (*web.Flows, error) {
	step := f.Top.Options().Step
	span := p.SpanFor(step)
	from := now.Add(-span)
	var fb [2][]flowtop.TotalRow
	for i, d := range []flowtop.Direction{flowtop.In, flowtop.Out} {
		rows, err := f.Top.Totals(device, iface, d, from, now)
		if err != nil && !errors.Is(err, flowtop.ErrNoSeries) {
			return nil, err
		}
		fb[i] = rows
	}
	if !recorded(fb[0]) && !recorded(fb[1]) {
		return nil, nil
	}
	out := &web.Flows{}
	// Flows against SNMP over the same rows: those the collector recorded and the
	// store knows the rate of.
	for i := range fb {
		out.FlowBytes[i], out.SNMPBytes[i] = math.NaN(), math.NaN()
	}
	if err := compareSNMP(db, series.Name(device, iface), step, fb, &out.FlowBytes, &out.SNMPBytes); err != nil {
		return nil, err
	}
	q := flowtop.Query{Device: device, Interface: iface, Direction: flowtop.Both, By: flowtop.Bytes, From: from, To: now, N: ListLength}
	for _, l := range []struct {
		title string
		dim   flowtop.Dimension
	}{{"Top sources", flowtop.SrcAddr}, {"Top destinations", flowtop.DstAddr}, {"Protocols", flowtop.Proto}} {
		q.Dimension = l.dim
		res, err := f.Top.Top(q)
		if err != nil {
			return nil, err
		}
		out.Lists = append(out.Lists, talkers(l.title, res, step, nil))
	}
	q.Dimension, q.N = flowtop.Service, stackKeys
	ser, err := f.Top.Series(q)
	if err != nil {
		return nil, err
	}
	services, layers := serviceStack(ser, step)
	out.Lists = append(out.Lists[:2], append([]web.TalkerList{services}, out.Lists[2:]...)...)
	if drawing && len(ser.Rows) > 0 {
		if err := drawStack(dir, device, iface, p, span, ser, layers, now, loc); err != nil {
			return nil, err
		}
		out.Stack = true
	}
	return out, nil
}

func recorded(rows []flowtop.TotalRow) bool {
	for _, r := range rows {
		if r.Steps > 0 {
			return true
		}
	}
	return false
}

// compareSNMP sums, over the rows of top talkers that recorded flows in each of their
// steps and whose rates the store knows, the bytes by flows and by SNMP, in and out.
func compareSNMP(db Store, name string, step time.Duration, fb [2][]flowtop.TotalRow, flowBytes, snmpBytes *[2]float64) error {
	rows := fb[0]
	if len(rows) == 0 {
		rows = fb[1]
	}
	if len(rows) == 0 {
		return nil
	}
	res := rows[0].End.Sub(rows[0].Start)
	r, err := db.Fetch(name, rrd.Average, rows[0].Start, rows[len(rows)-1].End, res)
	if errors.Is(err, rrd.ErrNoSeries) {
		return nil // flows of an interface the poller does not poll
	}
	if err != nil {
		return err
	}
	in, out := bitsColumns(r)
	rate := map[int64][2]float64{}
	for i := range in {
		rate[r.Time(i).Unix()] = [2]float64{in[i], out[i]}
	}
	// Only rows the collector recorded whole: the SNMP rate of a row covers all of it.
	full := uint64(res / step)
	for d := range fb {
		var f, s float64
		n := 0
		for _, row := range fb[d] {
			v, ok := rate[row.End.Unix()]
			if row.Steps < full || !ok || math.IsNaN(v[d]) {
				continue
			}
			f += float64(row.Bytes)
			s += v[d] / 8 * row.End.Sub(row.Start).Seconds()
			n++
		}
		if n > 0 {
			flowBytes[d], snmpBytes[d] = f, s
		}
	}
	return nil
}

// talkers is a top list as the pages show it: average bits/s over the steps that
// recorded flows (an exporter added an hour ago is not averaged over a day).
func talkers(title string, res flowtop.Result, step time.Duration, layer func(i int) int) web.TalkerList {
	secs := float64(res.Steps) * step.Seconds()
	bits := func(v uint64) float64 {
		if secs <= 0 {
			return math.NaN()
		}
		return 8 * float64(v) / secs
	}
	share := func(v uint64) float64 {
		if res.Total == 0 {
			return math.NaN()
		}
		return float64(v) / float64(res.Total)
	}
	l := web.TalkerList{Title: title, Other: web.Talker{Bits: bits(res.Other), Share: share(res.Other)}}
	for i, e := range res.Entries {
		name := e.Key.String()
		if res.Dimension == flowtop.Service && name == "other" {
			name = "no well-known port" // not to be read as the list's remainder
		}
		t := web.Talker{Name: name, Bits: bits(e.Weight), Share: share(e.Weight)}
		if layer != nil {
			t.Layer = layer(i)
		}
		l.Rows = append(l.Rows, t)
	}
	return l
}

// serviceStack is the services list of a stacked series (each row keyed by its
// layer's colour, other grey) and the layers, in bits/s per row: the named services
// padded to stackKeys, then the rest; rows that recorded nothing are unknown.
func serviceStack(ser flowtop.Series, step time.Duration) (web.TalkerList, [][]float64) {
	var res flowtop.Result
	res.Dimension, res.By = ser.Dimension, ser.By
	sums := make([]uint64, len(ser.Keys))
	layers := make([][]float64, stackKeys+1)
	for i := range layers {
		layers[i] = make([]float64, len(ser.Rows))
	}
	for ri, r := range ser.Rows {
		if res.From.IsZero() || r.Start.Before(res.From) {
			res.From = r.Start
		}
		res.To = r.End
		secs := r.End.Sub(r.Start).Seconds()
		for li := range layers {
			layers[li][ri] = math.NaN()
		}
		if r.Steps == 0 {
			continue
		}
		for li := range layers {
			layers[li][ri] = 0
		}
		for k, v := range r.Values {
			sums[k] += v
			layers[k][ri] = 8 * float64(v) / secs
		}
		res.Other += r.Other
		res.Total += r.Total
		res.Steps += r.Steps
		layers[stackKeys][ri] = 8 * float64(r.Other) / secs
	}
	for k, key := range ser.Keys {
		res.Entries = append(res.Entries, flowtop.Entry{Key: key, Weight: sums[k]})
	}
	l := talkers("Top services", res, step, func(i int) int { return i + 1 })
	l.Other.Layer = stackKeys + 1
	return l, layers
}

// drawStack writes the stacked graph of a period at 1x and 2x.
func drawStack(dir, device, iface string, p render.Period, span time.Duration, ser flowtop.Series, layers [][]float64, now time.Time, loc *time.Location) error {
	g := render.Graph{Period: p, Start: ser.Rows[0].End, Step: ser.Step, Stack: layers, End: now, Span: span, Location: loc}
	for _, scale := range []int{1, 2} {
		g.Scale = scale
		var buf bytes.Buffer
		if err := render.PNG(&buf, g); err != nil {
			return fmt.Errorf("services graph of %s on %s: %w", iface, device, err)
		}
		if err := web.WriteFile(dir, web.FlowGraphFile(device, iface, p.String(), scale), buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
