package main

import (
	"context"
	"github.com/mrtgo/mrtgo/internal/daemon"

	"github.com/mrtgo/mrtgo/internal/metrics"
	"github.com/mrtgo/mrtgo/web"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "serve", "[-c FILE] [--listen ADDR] [--shard I/N]")
	shardFlag(fs, c)
	listen := fs.String("listen", defaultListen, "HTTP listen `address`")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	// No poller here: /metrics shows what the store holds, read on each scrape.
	m := metrics.StoreHandler(cfg.Data, lockWait/2, e.log)
	return web.ServeHandler(ctx, *listen, daemon.SiteMux(cfg.Site, m), e.log)
}
