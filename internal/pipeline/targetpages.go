package pipeline

// The site's targets that are not interfaces and its aggregates: their graphs, drawn
// in the target's unit (factor and per applied, gauges as values, not rates), and the
// numbers their pages show. There are few of them beside the interfaces, so every
// Publish summarizes each period; a graph is drawn again when its period has a new
// row, the clock entered a new one, or its file is missing.

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// Targets are the targets and aggregates a Publisher shows, from the targets file.
type Targets struct {
	Devices    map[string][]config.Target // by device name
	Aggregates []config.Aggregate
}

// TargetsOf takes the targets and aggregates of cfg.
func TargetsOf(cfg *config.Config) Targets {
	t := Targets{Devices: map[string][]config.Target{}, Aggregates: cfg.Aggregates}
	for _, d := range cfg.Devices {
		if len(d.Targets) > 0 {
			t.Devices[d.Name] = d.Targets
		}
	}
	return t
}

// shown is how a series is drawn: its raw stored values times scale, in unit.
type shown struct {
	series, device, name string
	scale                float64 // from the store's bits (8 × the stored value) to the unit
	target               web.Target
	unscaled             string
}

// TargetScale turns what FetchRates returns of a target's series (8 times the stored
// value, as for octets) into the target's unit: factor applied, and for rates per.
func TargetScale(t config.Target) float64 {
	scale := t.Factor / 8
	if t.Kind != config.KindGauge {
		scale *= t.PerSeconds()
	}
	return scale
}

// targetShown is how target t of device is shown.
func targetShown(device string, t config.Target) shown {
	rate := ""
	scale := TargetScale(t)
	if t.Kind != config.KindGauge {
		rate = "per " + t.Per
	}
	max := t.Max
	if math.IsNaN(max) {
		max = 0
	}
	return shown{
		series: series.KindName(device, series.KindTarget, t.Name), device: device, name: t.Name, scale: scale,
		unscaled: t.Unscaled,
		target: web.Target{Name: t.Name, Title: t.Title, Unit: t.Unit, KMG: t.KMG, YLegend: t.YLegend,
			LegendIn: t.LegendIn, LegendOut: t.LegendOut, HasOut: len(t.OIDs) != 1 || t.Swap || t.Used || t.Sensor, Max: max, Rate: rate},
	}
}

// aggregateShown is how aggregate a is shown: in bits/s when it sums interfaces only,
// else in the unit of its first target (members' factors are not applied one by one:
// a sum is of like things).
func (ts Targets) aggregateShown(a config.Aggregate) shown {
	sh := shown{series: series.KindName("", series.KindAggregate, a.Name), name: a.Name, scale: 1,
		target: web.Target{Name: a.Name, HasOut: true, Unit: "b/s", YLegend: "Bits per Second", Rate: "per second"}}
	for _, m := range a.Members {
		sh.target.Members = append(sh.target.Members, web.Member{Text: m.String(), Device: m.Device, Interface: m.Interface, Target: m.Target})
	}
	for _, m := range a.Members {
		if m.Target == "" {
			continue
		}
		for _, t := range ts.Devices[m.Device] {
			if t.Name == m.Target {
				first := targetShown(m.Device, t)
				sh.scale, sh.target.Unit, sh.target.KMG, sh.target.YLegend = first.scale, t.Unit, t.KMG, t.YLegend
				sh.target.Rate = first.target.Rate
				return sh
			}
		}
	}
	return sh
}

// targetPages puts the targets and aggregates on site, drawing the graphs due.
func (p *Publisher) targetPages(site *web.Site, now time.Time, loc *time.Location) error {
	if p.targetDrawn == nil {
		p.targetDrawn = map[string][2]int64{}
	}
	for i := range site.Devices {
		d := &site.Devices[i]
		for _, t := range p.Targets.Devices[d.Name] {
			wt, ok, err := p.targetPage(targetShown(d.Name, t), now, loc)
			if err != nil {
				return err
			}
			if ok {
				d.Targets = append(d.Targets, wt)
			}
		}
	}
	for _, a := range p.Targets.Aggregates {
		wt, ok, err := p.targetPage(p.Targets.aggregateShown(a), now, loc)
		if err != nil {
			return err
		}
		if ok {
			site.Aggregates = append(site.Aggregates, wt)
		}
	}
	return nil
}

// targetPage summarizes (and draws where due) the periods of one series; ok is false
// when the store has no such series yet.
func (p *Publisher) targetPage(sh shown, now time.Time, loc *time.Location) (web.Target, bool, error) {
	spec, last, err := p.DB.Info(sh.series)
	if errors.Is(err, rrd.ErrNoSeries) {
		return web.Target{}, false, nil
	}
	if err != nil {
		return web.Target{}, false, fmt.Errorf("read %s: %w", sh.series, err)
	}
	t := sh.target
	t.LastUpdate = last
	t.Status = "up"
	if now.Sub(last) > spec.Heartbeat {
		t.Status = "no data"
	}
	for _, period := range render.Periods {
		r, err := fetchRates(p.DB, sh.series, period, now, nil)
		if err != nil {
			return web.Target{}, false, err
		}
		for _, col := range [][]float64{r.In, r.Out, r.MaxIn, r.MaxOut} {
			for i := range col {
				col[i] *= sh.scale
			}
		}
		r.P95In, r.P95Out = math.NaN(), math.NaN()
		in, out := Summary(r)
		g := web.Graph{Period: period.String(), Width: render.Width, Height: render.Height, In: in, Out: out}
		t.Graphs = append(t.Graphs, g)
		res := period.ResolutionFor(spec.Step)
		key := web.TargetGraphFile(sh.device, sh.name, period.String(), 1)
		want := [2]int64{now.Truncate(res).Unix(), last.Truncate(res).Unix()}
		if p.targetDrawn[key] == want && p.files.has(key) && p.files.has(web.TargetGraphFile(sh.device, sh.name, period.String(), 2)) {
			continue
		}
		if !t.HasOut {
			r.Out, r.MaxOut = nil, nil
		}
		if err := p.drawTarget(sh, t, r, period, now, loc); err != nil {
			return web.Target{}, false, err
		}
		p.targetDrawn[key] = want
	}
	return t, true, nil
}

// drawTarget draws one period of a target at both scales.
func (p *Publisher) drawTarget(sh shown, t web.Target, r Rates, period render.Period, now time.Time, loc *time.Location) error {
	var buf bytes.Buffer
	unscaled := len(period.String()) > 0 && bytes.IndexByte([]byte(sh.unscaled), period.String()[0]) >= 0
	for _, scale := range []int{1, 2} {
		g := render.Graph{
			Period: period, Span: r.Span, Start: r.Start, Step: r.Step, End: now, Location: loc,
			In: r.In, Out: r.Out, MaxIn: r.MaxIn, MaxOut: r.MaxOut,
			Speed: t.Max, Unscaled: unscaled && t.Max > 0, Scale: scale,
			YLegend: t.YLegend, KMG: t.KMG,
		}
		if g.YLegend == "" {
			g.YLegend = " " // not "Bits per Second": the target has its own unit
		}
		buf.Reset()
		if err := render.PNG(&buf, g); err != nil {
			return fmt.Errorf("draw %s %s: %w", sh.series, period, err)
		}
		if err := web.WriteFile(p.Dir, web.TargetGraphFile(sh.device, sh.name, period.String(), scale), buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
