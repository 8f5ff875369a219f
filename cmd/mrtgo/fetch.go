package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
)

func runFetch(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "fetch", "--device D --interface I [--period day|week|month|year] [--format csv|json] [--shard I/N]")
	shardFlag(fs, c)
	device := fs.String("device", "", "device `name` (required)")
	iface := fs.String("interface", "", "interface `name` (required)")
	period := fs.String("period", "day", "`period`: day, week, month or year")
	format := fs.String("format", "csv", "output `format`: csv or json")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	if *device == "" || *iface == "" {
		return withCode(exitUsage, fmt.Errorf("--device and --interface are required"))
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
	r, err := pipeline.FetchRates(db, series.Name(*device, *iface), p, time.Now())
	if err != nil {
		return err
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
			"device": *device, "interface": *iface, "period": p.String(),
			"step_seconds": r.Step.Seconds(), "unit": "bits/s", "rows": rows,
		})
	}
	w := csv.NewWriter(e.stdout)
	w.Write([]string{"time", "in_bps", "out_bps"})
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
