package main

import (
	"context"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/daemon"
	"github.com/mrtgo/mrtgo/internal/metrics"
	"github.com/mrtgo/mrtgo/internal/pipeline"
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
	src, err := daemon.OpenRemoteRead(cfg)
	if err != nil {
		return err
	}
	if src != nil {
		return serveRemote(ctx, e, cfg, src, *listen)
	}
	// No poller here: /metrics shows what the store holds, read on each scrape.
	m := metrics.StoreHandler(cfg.Data, lockWait/2, e.log)
	return web.ServeHandler(ctx, *listen, daemon.SiteMux(cfg.Site, m), e.log)
}

// serveRemote is a web node: it draws the pages from the engine the pollers write to
// ([remote_read]) at once and then every step, serves them, and draws a graph when
// it is asked for and older than the engine's data (above pipeline.DaemonDrawUpTo
// interfaces only then, as the daemon does). It keeps no data of its own: the site
// directory is its cache.
func serveRemote(ctx context.Context, e *env, cfg *config.Config, src pipeline.Store, listen string) error {
	pub := daemon.Publisher(cfg, src, e.log)
	pub.DrawUpTo = pipeline.DaemonDrawUpTo
	publish := func() {
		st, err := pub.Publish(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("render from the engine", "url", cfg.RemoteRead.URL, "err", err)
			}
			return
		}
		e.log.Info("render done", "interfaces", st.Interfaces, "drawn", st.Drawn, "render", st.Duration.Round(time.Millisecond))
	}
	publish()
	// The drawing goroutine ends before serve returns: a render abandoned mid-way
	// must not write into the site after the command has finished.
	ctx, cancel := context.WithCancel(ctx)
	drawn := make(chan struct{})
	go func() {
		defer close(drawn)
		for {
			next := time.Now().Truncate(cfg.Step).Add(cfg.Step + cfg.Step/10) // after the pollers' commit and send
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(next)):
				publish()
			}
		}
	}()
	err := web.ServeHandler(ctx, listen, pub.Handler(daemon.SiteMux(cfg.Site, metrics.New().Handler())), e.log)
	cancel()
	<-drawn
	return err
}
