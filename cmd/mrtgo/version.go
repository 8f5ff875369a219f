package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func runVersion(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "version", "")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprint(e.stdout, versionText(version, bi))
	return nil
}

// versionText is what "mrtgo version" prints: the version on the first line, then the
// build facts Go recorded (module version, VCS revision and time, Go version, platform).
func versionText(v string, bi *debug.BuildInfo) string {
	goVersion, module := runtime.Version(), ""
	var rev, when, modified string
	if bi != nil {
		goVersion = bi.GoVersion
		module = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	if v == "dev" {
		switch {
		case module != "" && module != "(devel)":
			v = module
		case rev != "":
			v = "dev-" + rev[:min(12, len(rev))]
			if modified == "true" {
				v += "-dirty"
			}
		}
	}
	out := fmt.Sprintf("mrtgo %s\n", v)
	add := func(k, val string) {
		if val != "" {
			out += fmt.Sprintf("  %-9s %s\n", k+":", val)
		}
	}
	add("module", module)
	add("revision", rev)
	add("time", when)
	add("modified", modified)
	add("go", goVersion)
	add("platform", runtime.GOOS+"/"+runtime.GOARCH)
	return out
}
