package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func runVersion(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "version", "")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	v, goVersion := version, "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && v == "dev" {
				v = "dev-" + s.Value[:min(12, len(s.Value))]
			}
		}
	}
	fmt.Fprintf(e.stdout, "mrtgo %s (%s)\n", v, goVersion)
	return nil
}
