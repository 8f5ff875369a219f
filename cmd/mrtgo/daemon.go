package main

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/web"
)

func runDaemon(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "run", "[-c FILE] [--listen ADDR]")
	listen := fs.String("listen", defaultListen, "HTTP listen `address`")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	w, err := openWriter(cfg, e)
	if err != nil {
		return err
	}
	defer w.Close()
	db, rec, p := w.db, w.rec, w.poller
	pub := publisher(cfg, db, e)

	// Publish what the store holds before the first poll, so the server has pages.
	if _, err := pub.Publish(ctx); err != nil {
		e.log.Warn("initial render", "err", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return web.Serve(gctx, *listen, cfg.Site, e.log) })
	g.Go(func() error {
		return p.Run(gctx, cfg.Step, func(ctx context.Context, rs []poller.Result) error {
			if err := rec.Record(rs); err != nil {
				return err
			}
			st, err := pub.Publish(context.WithoutCancel(ctx))
			if err != nil {
				e.log.Error("render", "err", err)
				return nil
			}
			e.log.Info("cycle done", "interfaces", st.Interfaces, "render", st.Duration.Round(time.Millisecond))
			return nil
		})
	})
	e.log.Info("serving", "url", "http://"+*listen+"/")
	return g.Wait()
}
