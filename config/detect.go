package config

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/detect"
	"github.com/mrtgo/mrtgo/events"
)

// Detect configures detection in the flow records of "mrtgo run" ([detect]).
type Detect struct {
	// Enabled is set by a [detect] table; detection needs [flows] too.
	Enabled bool
	// Config is the detector's settings as the file gives them (zero: the defaults of
	// package detect, documented there with their sources); its Window is the step.
	Config detect.Config
	// Capture is [detect.capture]: nothing is captured without it.
	Capture Capture
}

// Capture configures the packet capture an event of the flow detectors starts.
type Capture struct {
	Interface string        // local interface to capture on; "" captures nothing
	Dir       string        // pcap files; "captures" beside the rate store by default
	Duration  time.Duration // how long one capture runs
	MaxBytes  int64         // size cap of one capture file
	Keep      time.Duration // files older than this are deleted
}

// Events configures the event log and the command events run ([events]).
type Events struct {
	// Data is the event log's directory: "events" beside the rate store by default.
	Data string
	// Keep is how long events are kept.
	Keep time.Duration
	// Alert runs for every event of Kinds that begins, escalates or ends. Without a
	// command here, [thresholds] command runs for threshold events alone, as it did
	// before there were other events.
	Alert Alert
	// Kinds are the kinds that run Alert's command; empty is every kind.
	Kinds []string
}

// Defaults of [detect.capture] and [events].
const (
	DefaultCaptureDuration = 30 * time.Second
	DefaultCaptureMaxBytes = 10_000_000
	DefaultCaptureKeep     = 7 * 24 * time.Hour
	DefaultEventKeep       = 800 * 24 * time.Hour
)

// detectFile is [detect] as written.
type detectFile struct {
	detectThresholdsFile
	ScanWindow      *duration           `toml:"scan_window"`
	BaselineFactor  *float64            `toml:"baseline_factor"`
	ReflectionPorts []int               `toml:"reflection_ports"`
	Allow           []string            `toml:"allow"`
	Networks        []detectNetworkFile `toml:"network"`
	Capture         *captureFile        `toml:"capture"`
}

// detectNetworkFile is one [[detect.network]].
type detectNetworkFile struct {
	detectThresholdsFile
	Prefix *string  `toml:"prefix"`
	Allow  []string `toml:"allow"`
}

// detectThresholdsFile are the threshold keys [detect] and [[detect.network]] share.
type detectThresholdsFile struct {
	ScanPorts         *int     `toml:"scan_ports"`
	SweepHosts        *int     `toml:"sweep_hosts"`
	SYNFloodPPS       *float64 `toml:"syn_flood_pps"`
	DDoSSources       *int     `toml:"ddos_sources"`
	DDoSSYNPPS        *float64 `toml:"ddos_syn_pps"`
	DDoSUDPPPS        *float64 `toml:"ddos_udp_pps"`
	DDoSICMPPPS       *float64 `toml:"ddos_icmp_pps"`
	DDoSReflectionPPS *float64 `toml:"ddos_reflection_pps"`
	DDoSBPS           *limit   `toml:"ddos_bps"`
}

type captureFile struct {
	Interface *string   `toml:"interface"`
	Dir       *string   `toml:"dir"`
	Duration  *duration `toml:"duration"`
	MaxBytes  *size     `toml:"max_bytes"`
	Keep      *span     `toml:"keep"`
}

type eventsFile struct {
	Data    *string   `toml:"data"`
	Keep    *span     `toml:"keep"`
	Command *string   `toml:"command"`
	Timeout *duration `toml:"command_timeout"`
	Kinds   []string  `toml:"kinds"`
}

// detect checks [detect] and [events].
func (p *parser) detect(f *file, c *Config) {
	c.Events.Keep = DefaultEventKeep
	c.Events.Alert.Timeout = DefaultAlertTimeout
	p.events(f, c)
	d := f.Detect
	if d == nil {
		return
	}
	c.Detect.Enabled = true
	if len(c.Flows.Listen) == 0 {
		p.bad("", -1, "detect", nil, "[detect] needs flow records: add [flows] listen")
	}
	cfg := &c.Detect.Config
	cfg.Window = c.Step
	// A rate is taken over at least ten seconds, or the step where it is shorter.
	cfg.MinSpan = min(detect.DefaultMinSpan, c.Step)
	if w := d.ScanWindow; w != nil {
		switch {
		case w.err != nil:
			p.bad("detect", -1, "scan_window", nil, "%v", w.err)
		case w.d < c.Step:
			p.bad("detect", -1, "scan_window", nil, "scan_window %s is shorter than the step %s", w.d, c.Step)
		default:
			cfg.ScanWindow = w.d
		}
	}
	cfg.Thresholds = p.detectThresholds("detect", -1, &d.detectThresholdsFile)
	if b := d.BaselineFactor; b != nil {
		if *b < 1 {
			p.bad("detect", -1, "baseline_factor", nil, "baseline_factor %v: want at least 1 (a rate that many times its baseline)", *b)
		} else {
			cfg.BaselineFactor = *b
		}
	}
	if d.ReflectionPorts != nil {
		cfg.ReflectionPorts = []uint16{}
		for _, port := range d.ReflectionPorts {
			if port < 1 || port > 65535 {
				p.bad("detect", -1, "reflection_ports", nil, "port %d is not 1-65535", port)
				continue
			}
			cfg.ReflectionPorts = append(cfg.ReflectionPorts, uint16(port))
		}
	}
	cfg.Allow = p.prefixes("detect", -1, "allow", d.Allow)
	seen := map[netip.Prefix]int{}
	for i, n := range d.Networks {
		table := "detect.network"
		var net detect.Network
		switch {
		case n.Prefix == nil:
			p.bad(table, i, "prefix", nil, "missing: the network these settings are for, as \"192.0.2.0/24\"")
		default:
			pf, err := netip.ParsePrefix(strings.TrimSpace(*n.Prefix))
			if err != nil {
				p.bad(table, i, "prefix", nil, "%q is not a network such as \"192.0.2.0/24\" or \"2001:db8::/32\"", *n.Prefix)
				break
			}
			pf = pf.Masked()
			if j, dup := seen[pf]; dup {
				line, _ := p.loc.line(table, j, "prefix")
				p.bad(table, i, "prefix", nil, "network %s is set already (line %d)", pf, line)
				break
			}
			seen[pf] = i
			net.Prefix = pf
		}
		net.Thresholds = p.detectThresholds(table, i, &n.detectThresholdsFile)
		net.Allow = p.prefixes(table, i, "allow", n.Allow)
		if net.Prefix.IsValid() {
			cfg.Networks = append(cfg.Networks, net)
		}
	}
	p.capture(d.Capture, c)
}

// detectThresholds checks the thresholds of one table; a key not written stays zero
// (the default, or for a network the [detect] value).
func (p *parser) detectThresholds(table string, idx int, in *detectThresholdsFile) detect.Thresholds {
	var t detect.Thresholds
	for _, n := range []struct {
		key string
		v   *int
		dst *int
	}{{"scan_ports", in.ScanPorts, &t.ScanPorts}, {"sweep_hosts", in.SweepHosts, &t.SweepHosts}, {"ddos_sources", in.DDoSSources, &t.DDoSSources}} {
		switch {
		case n.v == nil:
		case *n.v < 1:
			p.bad(table, idx, n.key, nil, "%s %d: want at least 1", n.key, *n.v)
		default:
			*n.dst = *n.v
		}
	}
	for _, n := range []struct {
		key string
		v   *float64
		dst *float64
	}{{"syn_flood_pps", in.SYNFloodPPS, &t.SYNFloodPPS}, {"ddos_syn_pps", in.DDoSSYNPPS, &t.DDoSSYNPPS}, {"ddos_udp_pps", in.DDoSUDPPPS, &t.DDoSUDPPPS},
		{"ddos_icmp_pps", in.DDoSICMPPPS, &t.DDoSICMPPPS}, {"ddos_reflection_pps", in.DDoSReflectionPPS, &t.DDoSReflectionPPS}} {
		switch {
		case n.v == nil:
		case *n.v <= 0:
			p.bad(table, idx, n.key, nil, "%s %v: want packets per second above 0", n.key, *n.v)
		default:
			*n.dst = *n.v
		}
	}
	if b := in.DDoSBPS; b != nil {
		switch {
		case b.err != nil:
			p.bad(table, idx, "ddos_bps", nil, "%v", b.err)
		case b.Percent:
			p.bad(table, idx, "ddos_bps", nil, "ddos_bps is a rate in bits/s, such as \"1G\", not a percentage")
		case b.Value <= 0:
			p.bad(table, idx, "ddos_bps", nil, "ddos_bps must be above 0")
		default:
			t.DDoSBPS = b.Value
		}
	}
	return t
}

// prefixes reads a list of networks or addresses (an address is its host prefix).
func (p *parser) prefixes(table string, idx int, key string, in []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range in {
		s = strings.TrimSpace(s)
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			p.bad(table, idx, key, nil, "%q is not an address or a network such as \"192.0.2.0/24\"", s)
			continue
		}
		out = append(out, pf.Masked())
	}
	return out
}

// capture checks [detect.capture].
func (p *parser) capture(f *captureFile, c *Config) {
	cp := &c.Detect.Capture
	cp.Duration, cp.MaxBytes, cp.Keep = DefaultCaptureDuration, DefaultCaptureMaxBytes, DefaultCaptureKeep
	if f == nil {
		return
	}
	const table = "detect.capture"
	switch {
	case f.Interface == nil || strings.TrimSpace(*f.Interface) == "":
		p.bad(table, -1, "interface", nil, "missing: the local interface to capture on, as \"eth0\"")
	case strings.ContainsAny(*f.Interface, " /\t") || len(*f.Interface) > 15:
		p.bad(table, -1, "interface", nil, "%q is not an interface name", *f.Interface)
	default:
		cp.Interface = strings.TrimSpace(*f.Interface)
	}
	if f.Dir != nil {
		if strings.TrimSpace(*f.Dir) == "" {
			p.bad(table, -1, "dir", nil, "must not be empty")
		} else {
			cp.Dir = *f.Dir
		}
	}
	if d := f.Duration; d != nil {
		switch {
		case d.err != nil:
			p.bad(table, -1, "duration", nil, "%v", d.err)
		case d.d < time.Second || d.d > time.Hour:
			p.bad(table, -1, "duration", nil, "duration %s: want 1s to 1h", d.d)
		default:
			cp.Duration = d.d
		}
	}
	if m := f.MaxBytes; m != nil {
		switch {
		case m.err != nil:
			p.bad(table, -1, "max_bytes", nil, "%v", m.err)
		case m.v < 64<<10:
			p.bad(table, -1, "max_bytes", nil, "max_bytes %d is less than 64KiB", m.v)
		default:
			cp.MaxBytes = m.v
		}
	}
	if k := f.Keep; k != nil {
		switch {
		case k.err != nil:
			p.bad(table, -1, "keep", nil, "%v", k.err)
		case k.d < time.Hour:
			p.bad(table, -1, "keep", nil, "keep %s is shorter than an hour", k.d)
		default:
			cp.Keep = k.d
		}
	}
}

// events checks [events].
func (p *parser) events(f *file, c *Config) {
	e := f.Events
	if e.Data != nil {
		if strings.TrimSpace(*e.Data) == "" {
			p.bad("events", -1, "data", nil, "must not be empty")
		} else {
			c.Events.Data = *e.Data
		}
	}
	if k := e.Keep; k != nil {
		switch {
		case k.err != nil:
			p.bad("events", -1, "keep", nil, "%v", k.err)
		case k.d < 24*time.Hour:
			p.bad("events", -1, "keep", nil, "keep %s is shorter than a day", k.d)
		default:
			c.Events.Keep = k.d
		}
	}
	if e.Command != nil {
		c.Events.Alert.Command = strings.TrimSpace(*e.Command)
	}
	if t := e.Timeout; t != nil {
		switch {
		case t.err != nil:
			p.bad("events", -1, "command_timeout", nil, "%v", t.err)
		case t.d <= 0:
			p.bad("events", -1, "command_timeout", nil, "must be positive")
		default:
			c.Events.Alert.Timeout = t.d
		}
	}
	for _, k := range e.Kinds {
		if !slices.Contains(events.Kinds, k) {
			p.bad("events", -1, "kinds", nil, "unknown kind %q (kinds: %s)", k, strings.Join(events.Kinds, ", "))
			continue
		}
		c.Events.Kinds = append(c.Events.Kinds, k)
	}
}
