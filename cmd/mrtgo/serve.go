package main

import (
	"context"

	"github.com/mrtgo/mrtgo/web"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "serve", "[-c FILE] [--listen ADDR]")
	listen := fs.String("listen", defaultListen, "HTTP listen `address`")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	return web.Serve(ctx, *listen, cfg.Site, e.log)
}
