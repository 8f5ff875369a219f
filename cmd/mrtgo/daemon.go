package main

import (
	"context"
	"log/slog"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/daemon"
)

func runDaemon(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "run", "[-c FILE] [--listen ADDR] [--shard I/N]")
	shardFlag(fs, c)
	listen := fs.String("listen", defaultListen, "HTTP listen `address`")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	w, err := openWriter(cfg, e)
	if err != nil {
		return err
	}
	defer func() { w.Close() }()
	reload, stop := e.reloads(ctx)
	defer stop()
	d, err := daemon.New(cfg, w, daemon.Options{Listen: *listen, Log: e.log, Reload: reload, Load: reloader(e.log, c.shard)})
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// reloader loads the targets file for a reload as the commands load it at start,
// warning about secrets readable by others.
func reloader(log *slog.Logger, shard string) func(string) (*config.Config, error) {
	return func(file string) (*config.Config, error) {
		cfg, err := config.Load(file)
		if err != nil {
			return nil, err
		}
		warnExposedSecrets(cfg, log)
		if shard == "" {
			return cfg, nil
		}
		return forShard(cfg, shard, log)
	}
}

// reloads turns the environment's hang-ups (SIGHUP in main) into the daemon's reload
// requests, one pending at most, until ctx is done or stop is called; nil when the
// environment has none.
func (e *env) reloads(ctx context.Context) (<-chan struct{}, func()) {
	if e.hangups == nil {
		return nil, func() {}
	}
	sig, stop := e.hangups()
	ch := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
			}
			select {
			case ch <- struct{}{}:
			default: // a reload is already pending
			}
		}
	}()
	return ch, stop
}
