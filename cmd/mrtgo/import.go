package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/discover"
	"github.com/mrtgo/mrtgo/internal/progress"
	"github.com/mrtgo/mrtgo/mrtgimport"
)

func runImport(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "import", "[-c FILE] [--dry-run] [--offline] [--no-history] mrtg.cfg")
	dry := fs.Bool("dry-run", false, "print the report and the changes to the targets file; write nothing")
	offline := fs.Bool("offline", false, "do not ask agents to map ifIndex, ifDescr, IP or MAC targets to ifNames (such targets are skipped)")
	noHistory := fs.Bool("no-history", false, "translate the configuration only; do not import .log or .rrd history")
	pos, err := parseArgs(fs, c, e, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return withCode(exitUsage, fmt.Errorf("more than one mrtg.cfg given (%q, %q)", pos[0], pos[1]))
	}
	cfgPath := ""
	if len(pos) == 1 {
		cfgPath = pos[0]
	}
	if cfgPath == "" {
		return withCode(exitUsage, fmt.Errorf("no mrtg.cfg given"))
	}
	mc, err := mrtgimport.Load(cfgPath)
	if err != nil {
		var me *mrtgimport.Error
		if errors.As(err, &me) {
			return withCode(exitUsage, err)
		}
		return err
	}
	var agent *mrtgimport.Agent
	if !*offline {
		agent = &mrtgimport.Agent{Walk: discover.Walk, LookupIP: discover.LookupIP}
	}
	found, plans := mrtgimport.Translate(ctx, mc, agent)
	mrtgimport.Report(e.stdout, mc, plans)

	src, err := os.ReadFile(c.config)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read targets: %w", err)
	}
	file := mrtgimport.TargetsFile(mc, found, plans)
	base := src
	if len(strings.TrimSpace(string(src))) == 0 {
		// A new file is written even when nothing was translated: its settings are
		// MRTG's, and the history import below reads it.
		head := file
		head.Devices = nil
		base = config.Format(head)
	}
	out, changes, err := config.Merge(c.config, base, file)
	if err != nil {
		return withCode(exitUsage, err)
	}
	out, _, err = mrtgimport.AppendAggregates(c.config, out, mrtgimport.Aggregates(plans))
	if err != nil {
		return withCode(exitUsage, err)
	}
	for _, ch := range changes {
		for _, k := range ch.SpeedNotWritten {
			fmt.Fprintf(e.stdout, "device %s: speed of %s (AbsMax) not written: add it to the device's speed table\n", ch.Device, k)
		}
	}
	if *dry {
		fmt.Fprint(e.stdout, discover.Diff(c.config, c.config+" (imported)", src, out))
		return nil
	}
	if string(out) != string(src) {
		if err := writeFileAtomic(c.config, out); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", c.config)
	}
	if *noHistory {
		return nil
	}
	cfg, err := config.Load(c.config)
	if err != nil {
		return withCode(exitUsage, err)
	}
	db, err := openStore(cfg.Data, false)
	if err != nil {
		return err
	}
	defer db.Close()
	bar := progress.New(e.stderr, 0, "interfaces")
	ims, err := mrtgimport.ImportHistory(ctx, db, mc, plans, cfg.Step, e.log, bar.Update)
	bar.Finish()
	mrtgimport.ReportHistory(e.stdout, ims)
	return err
}
