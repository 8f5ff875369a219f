package mrtgimport

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mrtgo/mrtgo/config"
)

// Error is a mistake in mrtg.cfg that stops the import. Its text names file and line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Note is something of mrtg.cfg that the translation changes or leaves out, and why.
type Note struct {
	File string
	Line int
	Key  string // the keyword as written, e.g. "Options[r1_eth0]"
	Msg  string
}

func (n Note) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", n.File, n.Line, n.Key, n.Msg)
}

// Config is a parsed mrtg.cfg.
type Config struct {
	File      string
	WorkDir   string        // directory of logs, graphs and pages
	LogDir    string        // overrides WorkDir for logs when set
	Interval  time.Duration // MRTG's Interval; 5 minutes when absent
	LogFormat string        // "rateup" (native .log files) or "rrdtool"
	Targets   []*Target     // in the order first seen
	Notes     []Note        // global keywords that are not translated

	read  func(string) ([]byte, error)
	names map[string]string // OID names: MRTG's table and what LoadMIBs adds; nil for the table
}

// Ref says how a Target names its interface.
type Ref int

// How MRTG targets name interfaces.
const (
	RefIndex Ref = iota // 2:community@host — ifIndex
	RefName             // #ge-0/0/0:... — ifName
	RefDescr            // \GigabitEthernet0/1:... — ifDescr
	RefIP               // /192.0.2.1:... — the interface holding the address
	RefMAC              // !00-11-22-33-44-55:... — ifPhysAddress
	RefType             // %6:... — the first interface of that ifType
)

func (r Ref) String() string {
	return [...]string{"ifIndex", "ifName", "ifDescr", "IP address", "MAC address", "ifType"}[r]
}

// Target is one MRTG target with the keywords mrtgo uses.
type Target struct {
	Name string // as written; MRTG's file names are its lower case
	File string
	Line int    // line of Target[]
	Raw  string // Target[] value

	// Form is what the target reads. FormSum's forms are in Terms, each a Target of
	// its own form (with Swap for a "-" before it).
	Form  Form
	Terms []*Target
	Swap  bool

	// The agent and interface of FormInterface; the agent of FormOIDs.
	Ref       Ref    // explicit in/out octet OIDs of one ifIndex become RefIndex
	Key       string // ifIndex number, name, description, address or MAC
	Community string
	Host      string
	Port      int
	Timeout   time.Duration // 0: not given
	Retries   int           // -1: not given
	Version   string        // "1", "2c" or "3"
	HC        bool          // 64-bit counters (SNMPv2c and NoHC not set)
	// SNMPv3 settings from SnmpOptions[], in targets.toml's names.
	V3 V3

	// FormOIDs: the OIDs of in and out, numeric, without the leading dot. An OID
	// whose instance names an interface other than by ifIndex ("ifInErrors.#eth0")
	// holds its column here and the interface in OIDRef and OIDKey (then not "").
	OIDs   [2]string
	OIDRef [2]Ref
	OIDKey [2]string
	// FormCommand: the program and its arguments.
	Command []string

	// How the values are kept and shown, from Options[] (gauge, absolute, derive,
	// perminute, perhour, bits), Factor[], the legends, kMG[] and Unscaled[]: what a
	// [[device.target]] keeps of them.
	Kind, Per                          string
	Factor                             float64
	Unit, YLegend, LegendIn, LegendOut string
	KMG                                []string
	Unscaled                           string

	Title       string
	MaxBytes    uint64 // bytes/s
	MaxBytes1   uint64 // in, when set apart from out
	MaxBytes2   uint64
	AbsMax      uint64
	Options     []string
	Directory   string // Directory[]: logs in a subdirectory of WorkDir/LogDir
	SnmpOptions string

	snmpOptionsLine int
	snmpOptionsKey  string
	names           map[string]string // OID names Target[] may use (Config.names)

	// Skip says why the target cannot be polled by mrtgo at all ("" if it can).
	Skip  string
	Notes []Note
}

// LogBase is the path of the target's logs without extension.
func (t *Target) LogBase(c *Config) string {
	dir := c.WorkDir
	if c.LogDir != "" {
		dir = c.LogDir
	}
	return filepath.Join(dir, t.Directory, strings.ToLower(t.Name))
}

func (t *Target) note(line int, key, format string, args ...any) {
	t.Notes = append(t.Notes, Note{File: t.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// V3 is the SNMPv3 user of a target, with protocols named as targets.toml names them.
type V3 struct {
	Username, SecurityLevel, AuthProtocol, AuthPassword, PrivProtocol, PrivPassword, Context string
}

// Load reads the mrtg.cfg at path, following Include: lines.
func Load(path string) (*Config, error) {
	return Parse(path, os.ReadFile)
}

type line struct {
	file string
	no   int
	text string
}

// Parse reads the configuration named path through read (os.ReadFile in production).
func Parse(path string, read func(string) ([]byte, error)) (*Config, error) {
	var lines []line
	if err := readLines(path, path, read, &lines, 0); err != nil {
		return nil, err
	}
	return parseLines(path, lines, read)
}

func readLines(top, path string, read func(string) ([]byte, error), out *[]line, depth int) error {
	if depth > 10 {
		return &Error{File: path, Msg: "Include: nested more than 10 deep (a loop?)"}
	}
	src, err := read(path)
	if err != nil {
		return fmt.Errorf("read mrtg config: %w", err)
	}
	for i, t := range strings.Split(string(src), "\n") {
		t = strings.TrimSuffix(t, "\r")
		if m := includeRe().FindStringSubmatch(t); m != nil {
			inc := m[1]
			if !filepath.IsAbs(inc) {
				if _, err := read(inc); err != nil {
					inc = filepath.Join(filepath.Dir(top), inc) // MRTG's fallback: beside the main file
				}
			}
			if err := readLines(top, inc, read, out, depth+1); err != nil {
				var e *Error
				if !errors.As(err, &e) {
					return &Error{File: path, Line: i + 1, Msg: fmt.Sprintf("Include: %v", errors.Unwrap(err))}
				}
				return err
			}
			continue
		}
		*out = append(*out, line{file: path, no: i + 1, text: t})
	}
	return nil
}

// lazyRegexp compiles expr on first use: the importer's expressions would otherwise be
// compiled at the start of every mrtgo process, a cron poll included.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

var (
	includeRe = lazyRegexp(`(?i)^include:\s*(.*?\S)\s*$`)
	targetKw  = lazyRegexp(`^([A-Za-z0-9*]+)\[(\S+)\]\s*:\s*(.*?)\s*$`)
	globalKw  = lazyRegexp(`^(\S+):\s*(.*?)\s*$`)
)

type entry struct {
	kw, target string // lower-case keyword; target name as written ("" global)
	written    string // the keyword as written
	value      string
	file       string
	line       int
}

func parseLines(path string, lines []line, read func(string) ([]byte, error)) (*Config, error) {
	// Pass 1: join continuation lines, split keyword, target and value.
	var ents []*entry
	for _, l := range lines {
		t := strings.TrimRight(strings.ReplaceAll(l.text, "\t", " "), " ")
		if strings.HasPrefix(strings.TrimLeft(t, " "), "#") || strings.TrimSpace(t) == "" {
			continue
		}
		if t[0] == ' ' {
			if len(ents) == 0 {
				return nil, &Error{File: l.file, Line: l.no, Msg: "continuation line (starts with a space) before any keyword"}
			}
			e := ents[len(ents)-1]
			sep := " "
			if e.target == "" || e.target == "^" || e.target == "$" || e.target == "_" {
				sep = "\n"
			}
			e.value += sep + strings.TrimSpace(t)
			continue
		}
		if m := targetKw().FindStringSubmatch(t); m != nil {
			ents = append(ents, &entry{kw: strings.ToLower(m[1]), written: m[1], target: m[2], value: m[3], file: l.file, line: l.no})
			continue
		}
		if m := globalKw().FindStringSubmatch(t); m != nil {
			ents = append(ents, &entry{kw: strings.ToLower(m[1]), written: m[1], value: m[2], file: l.file, line: l.no})
			continue
		}
		return nil, &Error{File: l.file, Line: l.no, Msg: fmt.Sprintf("%q does not make sense: want \"Keyword: value\" or \"Keyword[target]: value\"", t)}
	}

	c := &Config{File: path, Interval: 5 * time.Minute, LogFormat: "rateup", read: read}
	defaults := map[string]*entry{} // Keyword[_]
	prefix := map[string]*entry{}   // Keyword[^]
	suffix := map[string]*entry{}   // Keyword[$]
	byName := map[string]*Target{}
	seen := map[string]int{}
	// Per-target keyword values, with where they were written.
	vals := map[*Target]map[string]*entry{}

	for _, e := range ents {
		if e.target == "" {
			if err := c.global(e); err != nil {
				return nil, err
			}
			continue
		}
		if _, ok := targetKeywords[e.kw]; !ok {
			return nil, &Error{File: e.file, Line: e.line, Msg: fmt.Sprintf("unknown keyword %q%s", e.written+"["+e.target+"]", suggestKw(e.kw))}
		}
		switch e.target {
		case "_":
			defaults[e.kw] = e
			if e.value == "" {
				delete(defaults, e.kw)
			}
			continue
		case "^":
			prefix[e.kw] = e
			if e.value == "" {
				delete(prefix, e.kw)
			}
			continue
		case "$":
			suffix[e.kw] = e
			if e.value == "" {
				delete(suffix, e.kw)
			}
			continue
		}
		name := strings.ToLower(e.target) // MRTG lower-cases target names
		key := e.kw + "[" + name + "]"
		if first, dup := seen[key]; dup {
			return nil, &Error{File: e.file, Line: e.line, Msg: fmt.Sprintf("duplicate %s[%s] (first at line %d)", e.written, e.target, first)}
		}
		seen[key] = e.line
		t := byName[name]
		if t == nil {
			t = &Target{Name: e.target, File: e.file, Line: e.line, Retries: -1}
			byName[name] = t
			c.Targets = append(c.Targets, t)
			vals[t] = map[string]*entry{}
			// Defaults and prefixes spring into existence when a target is first named.
			for kw, d := range defaults {
				vals[t][kw] = &entry{kw: kw, written: d.written, target: e.target, value: d.value, file: d.file, line: d.line}
			}
			for kw, p := range prefix {
				v := p.value + " "
				if old := vals[t][kw]; old != nil {
					v += old.value
				}
				vals[t][kw] = &entry{kw: kw, written: p.written, target: e.target, value: v, file: p.file, line: p.line}
			}
		}
		v := *e
		if old := vals[t][e.kw]; old != nil && prefix[e.kw] != nil && old.line == prefix[e.kw].line {
			v.value = prefix[e.kw].value + " " + e.value
		}
		if s := suffix[e.kw]; s != nil {
			v.value += " " + s.value
		}
		vals[t][e.kw] = &v
	}

	for _, t := range c.Targets {
		if err := c.target(t, vals[t]); err != nil {
			return nil, err
		}
	}
	if c.WorkDir == "" && c.LogDir == "" {
		return nil, &Error{File: path, Msg: "no WorkDir (MRTG requires WorkDir or LogDir: where the logs are)"}
	}
	return c, nil
}

func (c *Config) noteGlobal(e *entry, format string, args ...any) {
	c.Notes = append(c.Notes, Note{File: e.file, Line: e.line, Key: keyName(e), Msg: fmt.Sprintf(format, args...)})
}

func keyName(e *entry) string {
	kw := e.written
	if kw == "" {
		kw = e.kw
	}
	if e.target == "" {
		return kw
	}
	return kw + "[" + e.target + "]"
}

func (c *Config) global(e *entry) error {
	bad := func(format string, args ...any) error {
		return &Error{File: e.file, Line: e.line, Msg: keyName(e) + ": " + fmt.Sprintf(format, args...)}
	}
	switch e.kw {
	case "workdir":
		if e.value == "" {
			return bad("empty directory")
		}
		c.WorkDir = e.value
	case "logdir":
		if e.value == "" {
			return bad("empty directory")
		}
		c.LogDir = e.value
	case "interval":
		m := intervalRe().FindStringSubmatch(e.value)
		if m == nil {
			return bad("%q is not MM or MM:SS", e.value)
		}
		mins, _ := strconv.Atoi(m[1])
		secs := 0
		if m[2] != "" {
			secs, _ = strconv.Atoi(m[2])
		}
		d := time.Duration(mins)*time.Minute + time.Duration(secs)*time.Second
		if d < time.Second || d > time.Hour {
			return bad("%s is outside 1 second to 60 minutes", d)
		}
		c.Interval = d
	case "logformat":
		switch v := strings.ToLower(e.value); v {
		case "rateup", "rrdtool":
			c.LogFormat = v
		default:
			return bad("%q is neither rateup nor rrdtool", e.value)
		}
	case "htmldir", "imagedir", "icondir", "refresh", "writeexpires", "language", "pathadd", "libadd",
		"forks", "runasdaemon", "nodetach", "enableipv6", "maxage", "nospacechar", "rrdcached":
		c.noteGlobal(e, "not needed by mrtgo (pages, graphs and daemon are configured in targets.toml and on the command line)")
	case "enablesnmpv3":
		c.noteGlobal(e, "not needed: targets of SNMP version 3 take their user from SnmpOptions[]")
	case "snmpoptions":
		c.noteGlobal(e, "Perl SNMP session options are not translated")
	case "loadmibs":
		if c.names == nil {
			c.names = maps.Clone(mibNames())
		}
		for _, f := range strings.FieldsFunc(e.value, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
			b, err := c.read(f)
			if err != nil {
				c.noteGlobal(e, "cannot read %s (%v): OID names from it are not translated", f, errors.Unwrap(err))
				continue
			}
			readMIB(string(b), c.names)
		}
	case "nomib2", "singlerequest", "ipv4only":
		c.noteGlobal(e, "not needed: mrtgo polls IF-MIB by numeric OID")
	case "conversioncode":
		c.noteGlobal(e, "Perl conversion code cannot be translated")
	case "sendtographite":
		c.noteGlobal(e, "sending to Graphite is not part of mrtgo")
	case "userrdtool":
		return bad("not valid any more (MRTG itself rejects it): use LogFormat: rrdtool")
	default:
		if strings.Contains(e.kw, "*") {
			c.noteGlobal(e, "a setting for another tool reading mrtg.cfg: not translated")
			return nil
		}
		return &Error{File: e.file, Line: e.line, Msg: fmt.Sprintf("unknown keyword %q%s", e.written, suggestKw(e.kw))}
	}
	return nil
}

var intervalRe = lazyRegexp(`^(\d+)(?::(\d+))?$`)

// targetKeywords lists MRTG's per-target keywords (MRTG_lib.pm's rules) and what mrtgo does
// with the ones it does not translate.
var targetKeywords = map[string]string{
	"target": "", "title": "", "maxbytes": "", "maxbytes1": "", "maxbytes2": "", "absmax": "",
	"options": "", "directory": "", "snmpoptions": "", "nohc": "", "ipv4only": "",
	"routeruptime":   "mrtgo reads the uptime of the polled agent itself",
	"routername":     "mrtgo shows the device name from targets.toml",
	"setenv":         "environment for external scripts: not needed",
	"clonedirectory": "not translated", "extension": "page file extension: not translated",
	"rrdrowcount":    "retention is set by the store (31 days of 5-minute rows and more)",
	"rrdrowcount30m": "retention is set by the store", "rrdrowcount2h": "retention is set by the store",
	"rrdrowcount1d": "retention is set by the store",
	"rrdhwrras":     "Holt-Winters archives are not part of mrtgo",
	"threshmini":    "thresholds and alerts are not part of mrtgo", "threshmaxi": "thresholds and alerts are not part of mrtgo",
	"threshmino": "thresholds and alerts are not part of mrtgo", "threshmaxo": "thresholds and alerts are not part of mrtgo",
	"threshdesc": "thresholds and alerts are not part of mrtgo", "threshprogi": "thresholds and alerts are not part of mrtgo",
	"threshprogo": "thresholds and alerts are not part of mrtgo", "threshprogoki": "thresholds and alerts are not part of mrtgo",
	"threshprogoko": "thresholds and alerts are not part of mrtgo", "threshmailaddress": "thresholds and alerts are not part of mrtgo",
	"threshdir": "thresholds and alerts are not part of mrtgo", "threshmailserver": "thresholds and alerts are not part of mrtgo",
	"threshmailsender": "thresholds and alerts are not part of mrtgo",
	"pagetop":          "page layout is mrtgo's own", "pagefoot": "page layout is mrtgo's own", "addhead": "page layout is mrtgo's own",
	"bodytag": "page layout is mrtgo's own", "background": "graph colours are mrtgo's own", "colours": "graph colours are mrtgo's own",
	"textcolor": "graph colours are mrtgo's own", "xsize": "graph size is mrtgo's own", "ysize": "graph size is mrtgo's own",
	"xscale": "graph size is mrtgo's own", "yscale": "graph size is mrtgo's own", "xzoom": "graph size is mrtgo's own",
	"yzoom": "graph size is mrtgo's own", "ytics": "graph axes are mrtgo's own", "yticsfactor": "graph axes are mrtgo's own",
	"factor": "graph axes are mrtgo's own", "step": "graph resolution follows the store's step",
	"unscaled": "graph scaling is mrtgo's own", "withpeak": "mrtgo draws peaks on week, month and year graphs",
	"suppress": "mrtgo draws all four periods", "kilo": "mrtgo uses SI units (1000)", "kmg": "mrtgo uses SI prefixes",
	"ylegend": "legends are mrtgo's own", "shortlegend": "legends are mrtgo's own", "legend1": "legends are mrtgo's own",
	"legend2": "legends are mrtgo's own", "legend3": "legends are mrtgo's own", "legend4": "legends are mrtgo's own",
	"legend5": "legends are mrtgo's own", "legendi": "legends are mrtgo's own", "legendo": "legends are mrtgo's own",
	"pngtitle": "graph titles are mrtgo's own", "timezone": "mrtgo uses one time zone for all graphs (timezone in targets.toml)",
	"weekformat": "mrtgo numbers weeks by ISO 8601", "timestrpos": "graph layout is mrtgo's own",
	"timestrfmt": "graph layout is mrtgo's own", "colors": "graph colours are mrtgo's own",
}

var canonical = map[string]string{
	"target": "Target", "title": "Title", "maxbytes": "MaxBytes", "absmax": "AbsMax", "options": "Options",
	"workdir": "WorkDir", "logdir": "LogDir", "interval": "Interval", "logformat": "LogFormat",
	"snmpoptions": "SnmpOptions", "directory": "Directory", "maxbytes1": "MaxBytes1", "maxbytes2": "MaxBytes2",
	"nohc": "NoHC", "pagetop": "PageTop", "setenv": "SetEnv", "routeruptime": "RouterUptime",
}

func suggestKw(kw string) string {
	best, bd := "", 3
	all := []string{"workdir", "logdir", "interval", "logformat", "htmldir", "imagedir"}
	for k := range targetKeywords {
		all = append(all, k)
	}
	slices.Sort(all)
	for _, w := range all {
		if d := config.EditDistance(kw, w); d < bd {
			best, bd = w, d
		}
	}
	if best == "" {
		return ""
	}
	if c, ok := canonical[best]; ok {
		best = c
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}
