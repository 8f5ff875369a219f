package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

// series is one interface and direction: device, interface, "in" or "out".
type series [3]string

// demoMetrics is what /metrics says of interface octets (SNMP counters) and of the
// octets the flows carried, and core1's poll count.
type demoMetrics struct {
	snmp, flows map[series]uint64
	polls       float64
}

// parseMetrics reads the lines of the interface and flow octet series. Label values
// of the demo network hold no quotes or commas.
func parseMetrics(t *testing.T, body string) demoMetrics {
	t.Helper()
	m := demoMetrics{snmp: map[series]uint64{}, flows: map[series]uint64{}, polls: -1}
	for line := range strings.SplitSeq(body, "\n") {
		name, rest, ok := strings.Cut(line, "{")
		if !ok {
			continue
		}
		labelText, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		labels := map[string]string{}
		for kv := range strings.SplitSeq(labelText, ",") {
			k, v, _ := strings.Cut(kv, "=")
			labels[k] = strings.Trim(v, `"`)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		if name == "mrtgo_poll_requests_total" && labels["device"] == "core1" {
			m.polls = v
		}
		var dst map[series]uint64
		dir := labels["direction"]
		switch name {
		case "mrtgo_interface_in_octets_total":
			dst, dir = m.snmp, "in"
		case "mrtgo_interface_out_octets_total":
			dst, dir = m.snmp, "out"
		case "mrtgo_flow_interface_octets_total":
			dst = m.flows
		default:
			continue
		}
		// Counters are exact in /metrics' float64 up to 2^53: a month of the demo's
		// busiest link is a tenth of that.
		if v >= 1<<53 || v != math.Trunc(v) {
			t.Fatalf("%s: %v is not an exact count", line, v)
		}
		dst[series{labels["device"], labels["interface"], dir}] = uint64(v)
	}
	return m
}

// Live, the daemon's flow octets per interface and direction equal what its SNMP
// counters moved by since flows began, exactly: the simulated clock stands still
// while the daemon polls, so every poll reads the counters at the instants the
// exports' intervals begin and end. (Under a running clock the two differ by the
// traffic between a device's last export and its last poll: at most one flow
// interval plus one poll interval of it, at either end.)
func TestDemoFlowsMatchSNMP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// Two devices, a core and the WAN router, keep the demo's start (a first render
	// of the whole site) short.
	all := snmpsim.DemoNetwork()
	network := []snmpsim.DeviceConfig{all[0], all[4]}
	began := time.Now()
	clock := snmpsim.NewManualClock(time.Now().Truncate(time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Out: t.TempDir(), Listen: addr, History: time.Hour, FlowHistory: -1, Interval: 200 * time.Millisecond,
			FlowInterval: 100 * time.Millisecond, Now: clock.Now, Location: time.UTC, Network: network,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run after cancel: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("demo did not stop")
		}
	}()
	scrape := func() demoMetrics {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return demoMetrics{polls: -1}
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return parseMetrics(t, string(b))
	}
	var m demoMetrics
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for m = scrape(); !ok(); m = scrape() {
			select {
			case err := <-done:
				t.Fatalf("demo stopped waiting for %s: %v", what, err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within a minute", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	up := 0 // the poller leaves out interfaces that are administratively down
	for _, d := range network {
		for _, ifc := range d.Interfaces {
			if ifc.Up {
				up++
			}
		}
	}
	waitFor("a daemon cycle", func() bool { return m.polls > 0 && len(m.snmp) == 2*up })
	if up < 15 {
		t.Fatalf("%d interfaces up", up)
	}
	start := m.snmp
	t0 := clock.Now()
	t.Logf("first cycle after %v", time.Since(began))
	if len(m.flows) != 0 {
		t.Fatalf("flows counted while the simulated clock stood still: %v", m.flows)
	}
	// mismatches lists the series whose flow octets differ from the SNMP delta.
	mismatches := func() []string {
		var bad []string
		// The attacks the demo stages come in on core1's transit link beside the
		// model's traffic, and are not in its counters.
		var staged uint64
		for _, f := range stagedAttacks(0, t0, clock.Now()) {
			staged += f.Bytes
		}
		for k, v := range m.snmp {
			want := v - start[k]
			if k == (series{attackDevice, attackIface, "in"}) {
				want += staged
			}
			if m.flows[k] != want {
				bad = append(bad, fmt.Sprintf("%v: flows %d, SNMP %d", k, m.flows[k], want))
			}
		}
		for k := range m.flows {
			if _, ok := m.snmp[k]; !ok {
				bad = append(bad, fmt.Sprintf("%v: flows on an interface SNMP does not show", k))
			}
		}
		slices.Sort(bad)
		return bad
	}
	for _, step := range []time.Duration{90 * time.Second, 5*time.Minute + 7*time.Second + 3*time.Millisecond} {
		clock.Advance(step)
		before := scrape().polls
		deadline := time.Now().Add(30 * time.Second)
		for {
			m = scrape()
			if m.polls >= before+2 && len(mismatches()) == 0 {
				break
			}
			if time.Now().After(deadline) {
				bad := mismatches()
				t.Fatalf("%v on: %d of %d series differ, as %q", step, len(bad), len(m.snmp), bad[:min(len(bad), 8)])
			}
			time.Sleep(50 * time.Millisecond)
		}
		var flows, snmp uint64
		for k, v := range m.snmp {
			snmp += v - start[k]
			flows += m.flows[k]
		}
		if snmp == 0 {
			t.Fatalf("%v on: no traffic", step)
		}
		t.Logf("%v on: flows %d octets, SNMP %d (ratio %.6f) over %d series, at %v", step, flows, snmp, float64(flows)/float64(snmp), len(m.snmp), time.Since(began))
	}
}
