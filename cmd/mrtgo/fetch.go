package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
)

func runFetch(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "fetch", "--device D (--interface I [--counters packets|errors] | --target T) [--period day|week|month|year] [--format csv|json] [--shard I/N]")
	shardFlag(fs, c)
	device := fs.String("device", "", "device `name` (required)")
	iface := fs.String("interface", "", "interface `name` (this or --target)")
	target := fs.String("target", "", "target `name` of the device (its values in its unit, factor and per applied)")
	counters := fs.String("counters", "", "the interface's counter `group` instead of its octets: packets or errors (per second, by type and direction)")
	period := fs.String("period", "day", "`period`: day, week, month or year")
	format := fs.String("format", "csv", "output `format`: csv or json")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	if *device == "" || (*iface == "") == (*target == "") {
		return withCode(exitUsage, fmt.Errorf("--device and one of --interface and --target are required"))
	}
	group, ok := groupKinds[*counters]
	if !ok || group != "" && *iface == "" {
		return withCode(exitUsage, fmt.Errorf("--counters %q: use packets or errors, with --interface", *counters))
	}
	p, err := render.ParsePeriod(*period)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if *format != "csv" && *format != "json" {
		return withCode(exitUsage, fmt.Errorf("--format %q: use csv or json", *format))
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	db, err := openStore(cfg.Data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if group != "" {
		return fetchGroup(db, e, cfg, *device, *iface, group, p, *format)
	}
	name, unit, kind, what, col := series.Name(*device, *iface), "bits/s", "interface", *iface, "bps"
	scale := 1.0
	if *target != "" {
		t, ok := targetOf(cfg, *device, *target)
		if !ok {
			return withCode(exitUsage, fmt.Errorf("--target %q: device %q has no such target in %s", *target, *device, cfg.File))
		}
		name, unit, kind, what, col = series.KindName(*device, series.KindTarget, *target), t.Unit, "target", *target, "value"
		scale = pipeline.TargetScale(t)
	}
	r, err := pipeline.FetchRates(db, name, p, time.Now())
	if err != nil {
		return err
	}
	for i := range r.In {
		r.In[i] *= scale
		r.Out[i] *= scale
	}
	if *format == "json" {
		type row struct {
			Time time.Time `json:"time"`
			In   *float64  `json:"in"`
			Out  *float64  `json:"out"`
		}
		rows := make([]row, len(r.In))
		for i := range r.In {
			rows[i] = row{Time: r.Time(i).In(cfg.Location), In: jsonNum(r.In[i]), Out: jsonNum(r.Out[i])}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"device": *device, kind: what, "period": p.String(),
			"step_seconds": r.Step.Seconds(), "unit": unit, "rows": rows,
		})
	}
	w := csv.NewWriter(e.stdout)
	w.Write([]string{"time", "in_" + col, "out_" + col})
	for i := range r.In {
		w.Write([]string{r.Time(i).In(cfg.Location).Format(time.RFC3339), csvNum(r.In[i]), csvNum(r.Out[i])})
	}
	w.Flush()
	return w.Error()
}

func jsonNum(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

func csvNum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// targetOf finds a device's target in cfg.
func targetOf(cfg *config.Config, device, name string) (config.Target, bool) {
	for _, d := range cfg.Devices {
		if d.Name == device {
			return d.Target(name)
		}
	}
	return config.Target{}, false
}

// groupKinds are the --counters values: the series kinds of an interface's counter
// groups ("" is the octets).
var groupKinds = map[string]string{"": "", "packets": series.KindPackets, "errors": series.KindErrors}

// fetchGroup prints a period of an interface's counter group: each data source's
// stored rate per second, named by its type and direction as remote write labels it
// (unicast_in, discards_out), so that what is sent is what fetch prints.
func fetchGroup(db *rrd.DB, e *env, cfg *config.Config, device, iface, kind string, p render.Period, format string) error {
	name := series.KindName(device, kind, iface)
	spec, _, err := db.Info(name)
	if errors.Is(err, rrd.ErrNoSeries) {
		return withCode(exitUsage, fmt.Errorf("--counters %s: the store has none of %s %s (its device is polled without counters = [%q])", kind, device, iface, kind))
	}
	if err != nil {
		return err
	}
	end := time.Now()
	res, err := db.Fetch(name, rrd.Average, end.Add(-p.SpanFor(spec.Step)), end, p.ResolutionFor(spec.Step))
	if err != nil {
		return err
	}
	cols := make([]string, len(res.DS))
	for i, ds := range res.DS {
		typ, dir, _ := strings.Cut(ds, "_")
		cols[i] = pipeline.RemoteTypes[typ] + "_" + dir
	}
	if format == "json" {
		rows := make([]map[string]any, len(res.Rows))
		for i, row := range res.Rows {
			r := map[string]any{"time": res.Time(i).In(cfg.Location)}
			for d, v := range row {
				r[cols[d]] = jsonNum(v)
			}
			rows[i] = r
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"device": device, "interface": iface, "counters": kind, "period": p.String(),
			"step_seconds": res.Step.Seconds(), "unit": kind + "/s", "rows": rows,
		})
	}
	w := csv.NewWriter(e.stdout)
	w.Write(append([]string{"time"}, cols...))
	for i, row := range res.Rows {
		rec := []string{res.Time(i).In(cfg.Location).Format(time.RFC3339)}
		for _, v := range row {
			rec = append(rec, csvNum(v))
		}
		w.Write(rec)
	}
	w.Flush()
	return w.Error()
}
