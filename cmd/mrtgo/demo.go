package main

import (
	"context"

	"github.com/mrtgo/mrtgo/internal/demo"
	"github.com/mrtgo/mrtgo/internal/progress"
)

func runDemo(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "demo", "[--once] [--out DIR] [--listen ADDR]")
	once := fs.Bool("once", false, "build the site and exit")
	out := fs.String("out", "var/demo", "`directory` for the demo's store and site (emptied first)")
	listen := fs.String("listen", defaultListen, "HTTP listen `address`")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	bar := progress.New(e.stderr, 0, "weeks")
	defer bar.Finish()
	reload, stop := e.reloads(ctx) // SIGHUP reloads the demo's targets file, as for run
	defer stop()
	return demo.Run(ctx, demo.Options{
		Out: *out, Once: *once, Listen: *listen, Log: e.log, Stdout: e.stdout,
		Progress: bar.Update, Reload: reload,
	})
}
