package pipeline

// The graphs of an interface's counter groups (packets, errors and discards): drawn
// with the octets' graph of the same period, whenever that one is due or their own
// are missing, in the octets' look with their own unit. Each graph sums its group's
// data sources per direction: all packets in and out, errors and discards in and out.

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// groupKinds are the counter groups drawn, in the order of the page.
var groupKinds = []string{series.KindPackets, series.KindErrors}

// groupLegends are the units up the left edge of their graphs.
var groupLegends = map[string]string{
	series.KindPackets: "Packets per Second",
	series.KindErrors:  "Errors per Second",
}

// groupsOf lists, by interface series, the counter group kinds the store has a
// series of.
func groupsOf(all []string) map[string][]string {
	out := map[string][]string{}
	for _, s := range all {
		dev, kind, iface, ok := series.Parse(s)
		if !ok || (kind != series.KindPackets && kind != series.KindErrors) {
			continue
		}
		name := series.Name(dev, iface)
		out[name] = append(out[name], kind)
	}
	for name, kinds := range out {
		var ordered []string
		for _, k := range groupKinds {
			for _, have := range kinds {
				if have == k {
					ordered = append(ordered, k)
				}
			}
		}
		out[name] = ordered
	}
	return out
}

// groupsCurrent reports whether every counter graph of the interface for the period
// is on disk and shows what want would, filling the interface's slots from what they
// were drawn with. The caller holds stateMu.
func (p *Publisher) groupsCurrent(device string, ifc *web.Interface, period render.Period, i int, want drawnGraph) bool {
	ok := true
	for k := range ifc.Counters {
		c := &ifc.Counters[k]
		name := series.KindName(device, c.Kind, ifc.Name)
		old, drawn := p.drawn[graphKey(name, period)]
		if !drawn || !old.current(want) || old.Pending || !p.counterFilesExist(device, ifc.Name, c.Kind, period) {
			ok = false
			continue
		}
		c.Graphs[i] = old.graph(period)
	}
	return ok
}

func (p *Publisher) counterFilesExist(device, iface, kind string, period render.Period) bool {
	for _, scale := range []int{1, 2} {
		if !p.files.has(web.CounterGraphFile(device, iface, kind, period.String(), scale)) {
			return false
		}
	}
	return true
}

// drawGroups draws the interface's counter graphs of the period and fills their slots;
// st is what the octets' graph was drawn with (its clock and data), and they end where
// it ends (graphEnd).
func (p *Publisher) drawGroups(device string, ifc *web.Interface, period render.Period, i int, st drawnGraph, loc *time.Location) error {
	end := graphEnd(st)
	for k := range ifc.Counters {
		c := &ifc.Counters[k]
		name := series.KindName(device, c.Kind, ifc.Name)
		r, err := fetchGroupRates(p.DB, name, period, end)
		if err != nil {
			return err
		}
		g := drawnGraph{Clock: st.Clock, Data: st.Data, Inputs: st.Inputs}
		g.In, g.Out = groupSummary(r)
		g.P95Basis = p95Basis(r)
		var buf bytes.Buffer
		for _, scale := range []int{1, 2} {
			rg := render.Graph{
				Period: period, Span: r.Span, Start: r.Start, Step: r.Step, End: end, Location: loc,
				In: r.In, Out: r.Out, MaxIn: r.MaxIn, MaxOut: r.MaxOut, Scale: scale, YLegend: groupLegends[c.Kind],
			}
			if period != render.Year {
				rg.P95In, rg.P95Out = g.In.P95, g.Out.P95
			}
			buf.Reset()
			if err := render.PNG(&buf, rg); err != nil {
				return fmt.Errorf("draw %s %s: %w", name, period, err)
			}
			if err := web.WriteFile(p.Dir, web.CounterGraphFile(device, ifc.Name, c.Kind, period.String(), scale), buf.Bytes()); err != nil {
				return err
			}
		}
		c.Graphs[i] = g.graph(period)
		p.stateMu.Lock()
		p.drawn[graphKey(name, period)] = g
		p.stateMu.Unlock()
	}
	return nil
}

// fetchGroupRates reads a period of a counter group series: per row, the sum of its
// data sources in and out (the even ones in, the odd ones out), per second.
func fetchGroupRates(db Store, name string, p render.Period, end time.Time) (Rates, error) {
	spec, last, err := db.Info(name)
	if err != nil {
		return Rates{}, err
	}
	span := p.SpanFor(spec.Step)
	start := end.Add(-span)
	avg, err := db.Fetch(name, rrd.Average, start, end, p.ResolutionFor(spec.Step))
	if err != nil {
		return Rates{}, fmt.Errorf("fetch %s %s: %w", name, p, err)
	}
	r := Rates{Period: p, Span: span, Start: avg.Time(0), Step: avg.Step, End: end, Last: last, heartbeat: spec.Heartbeat}
	r.In, r.Out = directionSums(avg)
	if p != render.Day {
		mx, err := db.Fetch(name, rrd.Max, start, end, p.ResolutionFor(spec.Step))
		if err != nil {
			return Rates{}, fmt.Errorf("fetch %s %s peaks: %w", name, p, err)
		}
		// The sum of the peaks: each data source's peak may fall on another
		// base step of the row, so this bounds the row's peak from above.
		r.MaxIn, r.MaxOut = directionSums(mx)
	}
	r.P95Step, r.P95Span = r.Step, span
	r.P95In = rrd.Summarize(r.In, r.Step).P95
	r.P95Out = rrd.Summarize(r.Out, r.Step).P95
	return r, nil
}

// directionSums adds each row's data sources per direction: in are the even ones,
// out the odd ones (series.PacketDS, series.ErrorDS). A row with a known data source
// of a direction is known in that direction (a counter the agent lacks is unknown
// throughout and adds nothing).
func directionSums(res rrd.Result) (in, out []float64) {
	in = make([]float64, len(res.Rows))
	out = make([]float64, len(res.Rows))
	for i, row := range res.Rows {
		in[i], out[i] = math.NaN(), math.NaN()
		for d, v := range row {
			if math.IsNaN(v) {
				continue
			}
			at := &in[i]
			if d%2 == 1 {
				at = &out[i]
			}
			if math.IsNaN(*at) {
				*at = 0
			}
			*at += v
		}
	}
	return in, out
}

// groupSummary is Summary for counts per second: Total is a count, not bytes.
func groupSummary(r Rates) (in, out web.Stats) {
	in, out = Summary(r)
	in.Total *= 8
	out.Total *= 8
	return in, out
}
