package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/mrtgo/mrtgo/internal/daemon"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/rrd"
)

// runForget drops an interface: its series of every kind, its facts, its graphs and
// page; then the site is written again so that no page links to it. It needs the store
// for writing, so it refuses while "mrtgo run" holds it.
func runForget(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "forget", "[-c FILE] DEVICE INTERFACE")
	pos, err := parseArgs(fs, c, e, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return withCode(exitUsage, fmt.Errorf("want a device and an interface, got %d arguments", len(pos)))
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	db, err := openStore(cfg.Data, false)
	if errors.Is(err, rrd.ErrLocked) {
		return fmt.Errorf("%w: stop \"mrtgo run\" (or wait for \"mrtgo poll\") and forget again", err)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	dropped, err := pipeline.Forget(db, cfg.Site, pos[0], pos[1])
	if errors.Is(err, pipeline.ErrUnknownInterface) {
		return withCode(exitUsage, err)
	}
	if err != nil {
		return err
	}
	pub := daemon.Publisher(cfg, db, e.log)
	if _, err := pub.Publish(ctx); err != nil {
		return fmt.Errorf("write the site again: %w", err)
	}
	fmt.Fprintf(e.stdout, "forgot %s %s: %d series, its graphs and page\n", pos[0], pos[1], len(dropped))
	return nil
}
