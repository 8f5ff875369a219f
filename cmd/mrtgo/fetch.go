package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
)

func runFetch(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "fetch", "--device D (--interface I | --target T) [--period day|week|month|year] [--format csv|json] [--shard I/N]")
	shardFlag(fs, c)
	device := fs.String("device", "", "device `name` (required)")
	iface := fs.String("interface", "", "interface `name` (this or --target)")
	target := fs.String("target", "", "target `name` of the device (its values in its unit, factor and per applied)")
	period := fs.String("period", "day", "`period`: day, week, month or year")
	format := fs.String("format", "csv", "output `format`: csv or json")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	if *device == "" || (*iface == "") == (*target == "") {
		return withCode(exitUsage, fmt.Errorf("--device and one of --interface and --target are required"))
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
