package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/discover"
	"github.com/mrtgo/mrtgo/internal/atomicfile"
	"github.com/mrtgo/mrtgo/internal/progress"
)

// rules is a repeatable --include/--exclude flag.
type rules []discover.Rule

func (r *rules) String() string { return fmt.Sprint(*r) }
func (r *rules) Set(s string) error {
	x, err := discover.ParseRule(s)
	if err != nil {
		return err
	}
	*r = append(*r, x)
	return nil
}

func runDiscover(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "discover", "[-c FILE] [flags] [community@]HOST[:port]...")
	dry := fs.Bool("dry-run", false, "print the changes to the targets file as a diff; write nothing")
	community := fs.String("community", "", "SNMP `community` (default: the file's [snmp] community, else public)")
	version := fs.String("snmp-version", "", "SNMP `version`: 1, 2c or 3 (default: the file's, else 2c)")
	v3 := map[string]*string{}
	for _, f := range []struct{ name, usage string }{
		{"username", "SNMPv3 user `name`"},
		{"security-level", "SNMPv3 `level`: noAuthNoPriv, authNoPriv or authPriv"},
		{"auth-protocol", "SNMPv3 authentication `protocol`: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512"},
		{"auth-password", "SNMPv3 authentication `password` (better kept in the file's [snmp] table)"},
		{"priv-protocol", "SNMPv3 privacy `protocol`: DES, AES, AES-192, AES-256, AES-192C, AES-256C"},
		{"priv-password", "SNMPv3 privacy `password` (better kept in the file's [snmp] table)"},
		{"context", "SNMPv3 context `name`"},
	} {
		v3[f.name] = fs.String(f.name, "", f.usage+" (default: the file's)")
	}
	port := fs.Int("port", 0, "UDP `port` (default: the file's, else 161)")
	timeout := fs.Duration("timeout", 0, "per-request `timeout` (default: the file's, else 2s)")
	retries := fs.Int("retries", -1, "retries per request (default: the file's, else 1)")
	name := fs.String("name", "", "device `name` in the targets file (one HOST only; default sysName)")
	key := fs.String("key", "ifName", "name interfaces by `key`: ifName, ifDescr, ifAlias, mac or ifIndex (written as interface_key)")
	var sel discover.Select
	fs.BoolVar(&sel.AdminDown, "admin-down", false, "include administratively down interfaces")
	fs.BoolVar(&sel.OperDown, "oper-down", false, "include operationally down interfaces")
	fs.BoolVar(&sel.Loopback, "loopback", false, "include loopback interfaces")
	fs.BoolVar(&sel.ZeroSpeed, "zero-speed", false, "include interfaces reporting speed 0")
	var inc, exc rules
	fs.Var(&inc, "include", "keep only interfaces matching `[field=]regexp` (field: name, descr, alias, type); repeatable")
	fs.Var(&exc, "exclude", "drop interfaces matching `[field=]regexp`; repeatable")

	hosts, err := parseArgs(fs, c, e, args)
	if err != nil {
		return err
	}
	if len(hosts) == 0 {
		return withCode(exitUsage, fmt.Errorf("no HOST given"))
	}
	if *name != "" && len(hosts) > 1 {
		return withCode(exitUsage, fmt.Errorf("--name needs exactly one HOST, got %d", len(hosts)))
	}
	k, err := discover.ParseKey(*key)
	if err != nil {
		return withCode(exitUsage, err)
	}
	sel.Key, sel.Include, sel.Exclude = k, inc, exc

	src, err := os.ReadFile(c.config)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read targets: %w", err)
	}
	base := discover.Target{SNMP: config.DefaultSNMP()}
	if len(strings.TrimSpace(string(src))) > 0 {
		cfg, err := config.Parse(c.config, src)
		if err != nil {
			return withCode(exitUsage, err)
		}
		base = discover.Target{SNMP: cfg.SNMP}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "community":
			base.Community = *community
		case "snmp-version":
			base.Version = *version
		case "port":
			base.Port = *port
		case "timeout":
			base.Timeout = *timeout
		case "retries":
			base.Retries = *retries
		case "username":
			base.Username = *v3[f.Name]
		case "security-level":
			base.SecurityLevel = *v3[f.Name]
			for _, l := range []string{config.NoAuthNoPriv, config.AuthNoPriv, config.AuthPriv} {
				if strings.EqualFold(l, base.SecurityLevel) {
					base.SecurityLevel = l
				}
			}
		case "auth-protocol":
			base.AuthProtocol = strings.ToUpper(*v3[f.Name])
		case "auth-password":
			base.AuthPassword = *v3[f.Name]
		case "priv-protocol":
			base.PrivProtocol = strings.ToUpper(*v3[f.Name])
		case "priv-password":
			base.PrivPassword = *v3[f.Name]
		case "context":
			base.Context = *v3[f.Name]
		}
	})
	if base.Version != "1" && base.Version != "2c" && base.Version != "3" {
		return withCode(exitUsage, fmt.Errorf("--snmp-version %q: use 1, 2c or 3", base.Version))
	}
	targets := make([]discover.Target, len(hosts))
	for i, h := range hosts {
		if targets[i], err = discover.ParseHost(h, base); err != nil {
			return withCode(exitUsage, err)
		}
	}

	start := time.Now()
	bar := progress.New(e.stderr, 0, "agents")
	devs, errs := discover.WalkAll(ctx, targets, 16, bar.Update)
	bar.Finish()
	var found []discover.Found
	failed := 0
	for i, d := range devs {
		if errs[i] != nil {
			failed++
			e.log.Error("discover", "host", hosts[i], "err", errs[i])
			continue
		}
		f := discover.Found{Name: discover.DeviceName(d), Target: d.Target, All: map[string]bool{}, Key: k, Presets: d.Presets}
		if *name != "" {
			f.Name = *name
		}
		f.Keep, f.Skip = sel.Choose(d)
		for _, ifc := range d.Interfaces {
			f.All[sel.KeyOf(ifc)] = true
		}
		found = append(found, f)
	}
	e.log.Debug("walked", "hosts", len(hosts), "failed", failed, "took", time.Since(start))
	if len(found) > 0 {
		out, changes, err := discover.Merge(c.config, src, found)
		if err != nil {
			return withCode(exitUsage, err)
		}
		discover.Report(e.stdout, found, changes)
		if *dry {
			fmt.Fprint(e.stdout, discover.Diff(c.config, c.config+" (discovered)", src, out))
		} else if string(out) != string(src) {
			if err := writeFileAtomic(c.config, out); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote %s\n", c.config)
		}
	}
	switch {
	case failed == len(hosts):
		return withCode(exitAllFailed, fmt.Errorf("no host answered (%d hosts)", failed))
	case failed > 0:
		return withCode(exitSomeFailed, fmt.Errorf("%d of %d hosts failed", failed, len(hosts)))
	}
	return nil
}

// writeFileAtomic replaces path with data (atomicfile.Write), keeping the old file's
// permissions, and makes its directory if need be.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory of %s: %w", path, err)
	}
	return atomicfile.Write(path, data, 0o644)
}
