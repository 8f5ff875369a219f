package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mrtgo/mrtgo/config"
)

// Exit codes, documented in usage and the README.
const (
	exitOK          = 0 // success
	exitError       = 1 // a runtime error (store, file system, network listener)
	exitUsage       = 2 // bad command line or configuration
	exitSomeFailed  = 3 // poll: some devices did not answer
	exitAllFailed   = 4 // poll: no device answered
	exitLocked      = 5 // the store is in use by another mrtgo process
	defaultConfig   = "targets.toml"
	defaultListen   = "127.0.0.1:8080"
	defaultLogLevel = "info"
	defaultLogFmt   = "text"
)

const usage = `mrtgo — MRTG-style interface traffic graphs from SNMP, in one binary.

Usage: mrtgo COMMAND [flags]

Commands:
  demo      run the whole job on a built-in simulated network (--once to build and exit)
  run       daemon: poll every step, re-render the site and serve it
  poll      poll every device once (--once, for cron) and store the rates
  render    write the static site from the store
  serve     serve the static site over HTTP
  fetch     print one interface's stored rates as CSV or JSON
  forget    drop an interface's history, graphs and page (DEVICE INTERFACE)
  flows     who and what: top talkers and raw flow records, filtered (nfdump-like)
  events    what was found: attacks, scans, threshold crossings, anomalies
  check     validate the targets file and exit
  discover  walk SNMP agents and write or merge their interfaces into the targets file
  import    translate an MRTG mrtg.cfg into the targets file and import its history
  backfill  send the store's history to [remote_write] (imported, or from before it was set)
  version   print the version

Every command takes -c FILE (default ./targets.toml), -log-level debug|info|warn|error
and -log-format text|json. "mrtgo COMMAND -h" lists its flags.

Exit codes:
  0  success
  1  runtime error (store, files, listener)
  2  bad command line or configuration
  3  poll: some devices failed
  4  poll: all devices failed
  5  the store is locked by another mrtgo process
`

// exitError carries an exit code through a command's error return.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codeError{code: code, err: err}
}

type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: output streams and a logger.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	// hangups returns the channel on which "mrtgo run" is told to reload its targets
	// file (SIGHUP in main) and a function that stops the delivery.
	hangups func() (<-chan os.Signal, func())
	// resolver looks up host names for check; nil is net.DefaultResolver.
	resolver *net.Resolver
}

// sighup delivers SIGHUP, for the commands that reload on it; the others keep its
// default action.
func sighup() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch, func() { signal.Stop(ch) }
}

func commands() map[string]command {
	return map[string]command{
		"check":    {"validate the targets file", runCheck},
		"poll":     {"poll every device once", runPoll},
		"render":   {"write the static site", runRender},
		"serve":    {"serve the static site", runServe},
		"run":      {"daemon: poll, render, serve", runDaemon},
		"fetch":    {"print stored rates", runFetch},
		"forget":   {"drop an interface's history, graphs and page", runForget},
		"flows":    {"query the flow store", runFlows},
		"events":   {"list what was found", runEvents},
		"demo":     {"built-in simulated network", runDemo},
		"discover": {"walk agents and write targets.toml", runDiscover},
		"import":   {"import an MRTG configuration and its history", runImport},
		"backfill": {"send the store's history to [remote_write]", runBackfill},
		"version":  {"print the version", runVersion},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runEnv(ctx, &env{stdout: stdout, stderr: stderr, hangups: sighup}, args)
}

// runEnv is run with the environment given, so that tests can send reloads.
func runEnv(ctx context.Context, e *env, args []string) int {
	stdout, stderr := e.stdout, e.stderr
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "mrtgo: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	e.log = slog.New(slog.NewTextHandler(stderr, nil))
	err := cmd.run(ctx, e, args[1:])
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	// Every mistake in a targets file on its own line, each with the command's prefix.
	var all config.Errors
	if errors.As(err, &all) && err.Error() == all.Error() {
		for _, e := range all {
			fmt.Fprintf(stderr, "mrtgo %s: %v\n", args[0], e)
		}
	} else {
		fmt.Fprintf(stderr, "mrtgo %s: %v\n", args[0], err)
	}
	var ce *codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		return exitUsage
	}
	return exitError
}

// common holds the flags every subcommand shares: -c and the logging flags.
type common struct {
	config    string
	logLevel  string
	logFormat string
	shard     string // --shard I/N where the command takes it: one poller's part of the file
}

// shardFlag gives a command --shard: the command works on one poller's part of a
// targets file shared by several, and on that poller's store, site and queues.
func shardFlag(fs *flag.FlagSet, c *common) {
	fs.StringVar(&c.shard, "shard", "", "`I/N`: this poller's part of a targets file shared by N (its devices, and its store under shard-I-of-N/)")
}

func newFlags(e *env, name, synopsis string) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c := &common{}
	fs.StringVar(&c.config, "c", defaultConfig, "targets `file`")
	fs.StringVar(&c.logLevel, "log-level", defaultLogLevel, "log `level`: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", defaultLogFmt, "log `format`: text or json")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: mrtgo %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs, c
}

// parse parses args and applies the logging flags to e.
func parse(fs *flag.FlagSet, c *common, e *env, args []string) error {
	pos, err := parseArgs(fs, c, e, args)
	if err == nil && len(pos) > 0 {
		err = withCode(exitUsage, fmt.Errorf("unexpected argument %q", pos[0]))
	}
	return err
}

// parseArgs is parse for commands that take arguments: flags may come before, between
// and after them. It returns the arguments.
func parseArgs(fs *flag.FlagSet, c *common, e *env, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, withCode(exitUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	log, err := newLogger(e.stderr, c.logLevel, c.logFormat)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	e.log = log
	return pos, nil
}

// newLogger builds the logger the logging flags ask for.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("bad -log-level %q (want debug, info, warn or error)", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("bad -log-format %q (want text or json)", format)
}

func loadConfig(c *common, e *env) (*config.Config, error) {
	cfg, err := config.Load(c.config)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, withCode(exitUsage, fmt.Errorf("%w (use -c FILE, or run \"mrtgo demo\" to try it without one)", err))
		}
		return nil, withCode(exitUsage, err)
	}
	warnExposedSecrets(cfg, e.log)
	if c.shard == "" {
		return cfg, nil
	}
	return forShard(cfg, c.shard, e.log)
}

// forShard cuts cfg down to the shard "I/N". A shard without devices is said, not an
// error: devices may be added, or pinned elsewhere, while every poller keeps running.
func forShard(cfg *config.Config, shard string, log *slog.Logger) (*config.Config, error) {
	s, err := config.ParseShard(shard)
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("--shard: %w", err))
	}
	out, err := cfg.ForShard(s)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	if len(out.Devices) == 0 {
		log.Warn("this shard has no devices", "shard", s.String(), "devices in file", len(cfg.Devices))
	}
	return out, nil
}

// warnExposedSecrets warns when the targets file holds secrets (a community other
// than "public", SNMPv3 passwords) and others than its owner may read it.
func warnExposedSecrets(cfg *config.Config, log *slog.Logger) {
	if !hasSecrets(cfg) {
		return
	}
	fi, err := os.Stat(cfg.File)
	if err != nil {
		return
	}
	if mode := fi.Mode().Perm(); mode&0o044 != 0 {
		log.Warn("targets file holds SNMP secrets and is readable by group or others; chmod 600 it",
			"file", cfg.File, "mode", fmt.Sprintf("%04o", mode))
	}
}

func hasSecrets(cfg *config.Config) bool {
	secret := func(s config.SNMP) bool {
		return (s.Community != "" && s.Community != "public") || s.AuthPassword != "" || s.PrivPassword != ""
	}
	if secret(cfg.SNMP) {
		return true
	}
	for _, d := range cfg.Devices {
		if secret(d.SNMP) {
			return true
		}
	}
	return false
}
