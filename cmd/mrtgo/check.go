package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mrtgo/mrtgo/config"
)

// lookupTimeout bounds the resolution of one host name by check.
const lookupTimeout = 2 * time.Second

func runCheck(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "check", "[-c FILE]")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	for _, w := range unresolved(ctx, cfg, e.resolver) {
		fmt.Fprintf(e.stderr, "mrtgo check: %v\n", w)
	}
	n, targets := 0, 0
	for _, d := range cfg.Devices {
		n += len(d.Interfaces)
		targets += len(d.Targets)
	}
	more := ""
	if targets+len(cfg.Aggregates) > 0 {
		more = fmt.Sprintf(", %d targets, %d aggregates", targets, len(cfg.Aggregates))
	}
	fmt.Fprintf(e.stdout, "%s: ok: %d devices, %d interface entries%s, step %s, store %s, site %s\n",
		cfg.File, len(cfg.Devices), n, more, cfg.Step, cfg.Data, cfg.Site)
	return nil
}

// unresolved looks up every host name of cfg — a lookup only, nothing is sent to the
// devices — and returns a warning for each that does not resolve here, in file order.
// A name that does not resolve where check runs may still resolve where mrtgo polls,
// so these do not fail the check.
func unresolved(ctx context.Context, cfg *config.Config, r *net.Resolver) []error {
	if r == nil {
		r = net.DefaultResolver
	}
	warns := make([]error, len(cfg.Devices))
	var g errgroup.Group
	g.SetLimit(8)
	for i, d := range cfg.Devices {
		if !config.IsName(d.Host) {
			continue
		}
		g.Go(func() error {
			ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
			defer cancel()
			if _, err := r.LookupHost(ctx, d.Host); err != nil {
				warns[i] = &config.Error{File: cfg.File, Line: d.HostLine, Key: fmt.Sprintf("device[%d].host", i+1),
					Msg: fmt.Sprintf("warning: host name %q does not resolve here (%v); polling it will fail until it does", d.Host, err)}
			}
			return nil
		})
	}
	_ = g.Wait()
	var out []error
	for _, w := range warns {
		if w != nil {
			out = append(out, w)
		}
	}
	return out
}
