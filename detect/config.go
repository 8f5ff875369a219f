package detect

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Defaults of Config; see the package documentation for where each comes from.
const (
	DefaultWindow         = 5 * time.Minute // mrtgo's default poll step
	DefaultScanWindow     = 5 * time.Minute // Zeek's scan intervals
	DefaultMinSpan        = 10 * time.Second
	DefaultBaselineAlpha  = 0.1
	DefaultBaselineFactor = 3.0
	DefaultMaxPairs       = 16384
	DefaultMaxSweeps      = 16384
	DefaultMaxTargets     = 16384
)

// DefaultThresholds are the thresholds of a Config that sets none.
var DefaultThresholds = Thresholds{
	ScanPorts:         15,
	SweepHosts:        25,
	SYNFloodPPS:       256,
	DDoSSources:       32,
	DDoSSYNPPS:        256,
	DDoSUDPPPS:        10000,
	DDoSICMPPPS:       1000,
	DDoSReflectionPPS: 1000,
	DDoSBPS:           1e9,
}

// DefaultReflectionPorts are UDP source ports of services abused as amplifiers: chargen
// 19, DNS 53, TFTP 69, portmap 111, NTP 123, NetBIOS 137, SNMP 161, CLDAP 389, SSDP
// 1900, WS-Discovery 3702, ARD 3283, memcached 11211.
var DefaultReflectionPorts = []uint16{19, 53, 69, 111, 123, 137, 161, 389, 1900, 3283, 3702, 11211}

// Thresholds are the levels at which detectors raise events. In a Network's
// Thresholds a zero field takes the Config's value.
type Thresholds struct {
	ScanPorts   int     // distinct ports one source probed on one host, per scan window
	SweepHosts  int     // distinct hosts one source probed on one port (or by ICMP), per scan window
	SYNFloodPPS float64 // SYN-without-ACK packets/s from one source to one host
	DDoSSources int     // distinct sources of one kind to one destination for a DDoS
	DDoSSYNPPS  float64 // SYN-without-ACK packets/s to one destination
	DDoSUDPPPS  float64 // UDP packets/s to one destination (reflection ports excluded)
	DDoSICMPPPS float64 // ICMP packets/s to one destination
	// DDoSReflectionPPS is UDP packets/s from reflection ports to one destination.
	DDoSReflectionPPS float64
	// DDoSBPS is bits/s of one UDP or ICMP kind to one destination: a flood also when
	// its packets are few and large.
	DDoSBPS float64
}

// Network holds settings for the hosts of one prefix. Events take the settings of the
// most specific network that contains their target (for a sweep, its first target).
type Network struct {
	Prefix     netip.Prefix
	Thresholds Thresholds
	// Allow lists sources whose traffic to this network is never examined: its own
	// vulnerability scanner, monitoring, a CDN's origin pulls.
	Allow []netip.Prefix
}

// Config is a Detector's settings. The zero value of a field is its default.
type Config struct {
	// Window is the step between calls to Step, the longest span a rate is taken over.
	Window time.Duration
	// ScanWindow is how long scan evidence accumulates before it starts again.
	ScanWindow time.Duration
	// MinSpan is the shortest span a rate is taken over.
	MinSpan time.Duration
	// Thresholds apply where no Network says otherwise; zero fields are the defaults.
	Thresholds Thresholds
	Networks   []Network
	// Allow lists sources whose traffic is never examined, to any destination.
	Allow []netip.Prefix
	// ReflectionPorts are the UDP source ports that make a flood a reflection;
	// nil is DefaultReflectionPorts.
	ReflectionPorts []uint16
	// BaselineAlpha is the weight of a window's rate in a destination's baseline.
	BaselineAlpha float64
	// BaselineFactor is how many times its baseline a destination's rate must be.
	BaselineFactor float64
	// MaxPairs, MaxSweeps and MaxTargets bound the tables of source-host pairs,
	// source-port sweeps and destinations.
	MaxPairs, MaxSweeps, MaxTargets int
}

// withDefaults returns c with its zero fields set and checked.
func (c Config) withDefaults() (Config, error) {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Window, DefaultWindow)
	def(&c.ScanWindow, DefaultScanWindow)
	def(&c.MinSpan, DefaultMinSpan)
	c.Thresholds = c.Thresholds.inherit(DefaultThresholds)
	for i := range c.Networks {
		c.Networks[i].Thresholds = c.Networks[i].Thresholds.inherit(c.Thresholds)
	}
	if c.ReflectionPorts == nil {
		c.ReflectionPorts = DefaultReflectionPorts
	}
	if c.BaselineAlpha == 0 {
		c.BaselineAlpha = DefaultBaselineAlpha
	}
	if c.BaselineFactor == 0 {
		c.BaselineFactor = DefaultBaselineFactor
	}
	for _, m := range []struct {
		v   *int
		def int
	}{{&c.MaxPairs, DefaultMaxPairs}, {&c.MaxSweeps, DefaultMaxSweeps}, {&c.MaxTargets, DefaultMaxTargets}} {
		if *m.v == 0 {
			*m.v = m.def
		}
	}
	var errs []error
	if c.Window < 0 || c.ScanWindow < 0 || c.MinSpan < 0 {
		errs = append(errs, errors.New("window, scan window and min span must be positive"))
	}
	if c.MinSpan > c.Window {
		errs = append(errs, fmt.Errorf("min span %v longer than the window %v", c.MinSpan, c.Window))
	}
	if c.BaselineAlpha <= 0 || c.BaselineAlpha > 1 {
		errs = append(errs, fmt.Errorf("baseline alpha %v outside (0, 1]", c.BaselineAlpha))
	}
	if c.BaselineFactor < 1 {
		errs = append(errs, fmt.Errorf("baseline factor %v below 1", c.BaselineFactor))
	}
	if c.MaxPairs < 4 || c.MaxSweeps < 4 || c.MaxTargets < 4 {
		errs = append(errs, fmt.Errorf("table bounds %d, %d, %d: each must be at least 4", c.MaxPairs, c.MaxSweeps, c.MaxTargets))
	}
	for _, t := range append([]Thresholds{c.Thresholds}, networkThresholds(c.Networks)...) {
		if t.ScanPorts < 0 || t.SweepHosts < 0 || t.DDoSSources < 0 || t.SYNFloodPPS < 0 || t.DDoSSYNPPS < 0 ||
			t.DDoSUDPPPS < 0 || t.DDoSICMPPPS < 0 || t.DDoSReflectionPPS < 0 || t.DDoSBPS < 0 {
			errs = append(errs, fmt.Errorf("negative threshold in %+v", t))
			break
		}
	}
	for _, n := range c.Networks {
		if !n.Prefix.IsValid() {
			errs = append(errs, errors.New("network without a valid prefix"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("detect config: %w", err)
	}
	return c, nil
}

func networkThresholds(ns []Network) []Thresholds {
	out := make([]Thresholds, len(ns))
	for i, n := range ns {
		out[i] = n.Thresholds
	}
	return out
}

// inherit returns t with its zero fields taken from d.
func (t Thresholds) inherit(d Thresholds) Thresholds {
	pick := func(v *float64, dv float64) {
		if *v == 0 {
			*v = dv
		}
	}
	if t.ScanPorts == 0 {
		t.ScanPorts = d.ScanPorts
	}
	if t.SweepHosts == 0 {
		t.SweepHosts = d.SweepHosts
	}
	if t.DDoSSources == 0 {
		t.DDoSSources = d.DDoSSources
	}
	pick(&t.SYNFloodPPS, d.SYNFloodPPS)
	pick(&t.DDoSSYNPPS, d.DDoSSYNPPS)
	pick(&t.DDoSUDPPPS, d.DDoSUDPPPS)
	pick(&t.DDoSICMPPPS, d.DDoSICMPPPS)
	pick(&t.DDoSReflectionPPS, d.DDoSReflectionPPS)
	pick(&t.DDoSBPS, d.DDoSBPS)
	return t
}
