package main

import (
	"context"
	"fmt"
)

func runCheck(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "check", "[-c FILE]")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	n := 0
	for _, d := range cfg.Devices {
		n += len(d.Interfaces)
	}
	fmt.Fprintf(e.stdout, "%s: ok: %d devices, %d interface entries, step %s, store %s, site %s\n",
		cfg.File, len(cfg.Devices), n, cfg.Step, cfg.Data, cfg.Site)
	return nil
}
