package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/progress"
	"github.com/mrtgo/mrtgo/rrd"
)

func runRender(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "render", "[-c FILE]")
	if err := parse(fs, c, e, args); err != nil {
		return err
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
	pub := publisher(cfg, db, e)
	bar := progress.New(e.stderr, 0, "graphs")
	pub.Progress = bar.Update
	st, err := pub.Publish(ctx)
	bar.Finish()
	if err != nil {
		return err
	}
	// Graphs whose period has no new data since they were drawn are kept.
	fmt.Fprintf(e.stdout, "drew %d of %d graphs for %d interfaces in %s (%s)\n",
		st.Drawn, st.Graphs, st.Interfaces, cfg.Site, st.Duration.Round(time.Millisecond))
	return nil
}

func publisher(cfg *config.Config, db *rrd.DB, e *env) *pipeline.Publisher {
	return &pipeline.Publisher{
		DB:       db,
		Dir:      cfg.Site,
		Location: cfg.Location,
		Step:     cfg.Step,
		Order:    deviceOrder(cfg),
		Hosts:    hosts(cfg),
		Log:      e.log,
		Now:      time.Now,
	}
}
