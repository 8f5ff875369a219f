package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mrtgo/mrtgo/internal/daemon"
	"github.com/mrtgo/mrtgo/internal/progress"
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
	pub := daemon.Publisher(cfg, db, e.log)
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
