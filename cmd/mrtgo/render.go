package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/flowtop"
	"github.com/mrtgo/mrtgo/internal/daemon"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/progress"
)

func runRender(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "render", "[-c FILE] [--shard I/N]")
	shardFlag(fs, c)
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	var pub *pipeline.Publisher
	if src, err := daemon.OpenRemoteRead(cfg); err != nil {
		return err
	} else if src != nil {
		// A web node: the pages from the engine the pollers write to.
		pub = daemon.Publisher(cfg, src, e.log)
	} else {
		db, err := openStore(cfg.Data, true)
		if err != nil {
			return err
		}
		defer db.Close()
		pub = daemon.Publisher(cfg, db, e.log)
	}
	if top, err := openTopTalkers(cfg); err != nil {
		e.log.Warn("pages without flows", "err", err)
	} else if top != nil {
		defer top.Close()
		pub.Flows = &pipeline.FlowPages{Top: top, Log: e.log}
	}
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

// openTopTalkers opens the flow store's top talkers for reading, or returns nil when
// there are none: no [flows], or nothing collected yet. A running "mrtgo run" holds
// them (and draws the pages itself).
func openTopTalkers(cfg *config.Config) (*flowtop.Store, error) {
	path := filepath.Join(cfg.Flows.Data, daemon.TopFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return flowtop.Open(path, &flowtop.Options{Step: cfg.Step, ReadOnly: true, Timeout: time.Second})
}
