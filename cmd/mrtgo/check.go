package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mrtgo/mrtgo/config"
)

// lookupTimeout bounds the resolution of one host name by check.
const lookupTimeout = 2 * time.Second

func runCheck(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "check", "[-c FILE] [--shards N]")
	shards := fs.Int("shards", 0, "also show which of `N` pollers (--shard I/N) polls each device")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	if *shards < 0 {
		return withCode(exitUsage, fmt.Errorf("--shards %d: want a number of pollers", *shards))
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	if *shards > 0 {
		if err := cfg.CheckShards(*shards); err != nil {
			return withCode(exitUsage, err)
		}
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
	if *shards > 0 {
		printShards(e.stdout, cfg, *shards)
	}
	return nil
}

// printShards shows who owns what: per shard its devices and interface entries, and
// each device with its shard and why (pinned by its shard key, by its site in
// [shards], or hashed).
func printShards(w io.Writer, cfg *config.Config, n int) {
	type part struct{ devices, entries, all int }
	parts := make([]part, n+1)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "device\tsite\tshard\tby")
	for _, d := range cfg.Devices {
		s := cfg.ShardOf(d, n)
		by := "hash of name"
		switch _, pinned := cfg.Shards[d.Site]; {
		case d.Shard > 0:
			by = "shard key"
		case pinned && d.Site != "":
			by = "[shards] " + d.Site
		case d.Site != "":
			by = "hash of site"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%s\n", d.Name, cmp.Or(d.Site, "-"), s, n, by)
		parts[s].devices++
		if d.AllInterfaces() {
			parts[s].all++
		} else {
			parts[s].entries += len(d.Interfaces)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	for i := 1; i <= n; i++ {
		p := parts[i]
		line := fmt.Sprintf("shard %d/%d: %d devices, %d interface entries", i, n, p.devices, p.entries)
		if p.all > 0 {
			line += fmt.Sprintf(" and %d devices polling every interface", p.all)
		}
		if p.devices == 0 {
			line += " (empty: its poller will have nothing to poll)"
		}
		fmt.Fprintln(w, line)
	}
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
