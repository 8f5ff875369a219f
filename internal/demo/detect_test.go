package demo

import (
	"io"
	"log/slog"
	"path/filepath"

	"context"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/events"

	"github.com/mrtgo/mrtgo/detect"
	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

// A day of the demo network's ordinary traffic (QUIC, DNS and NTP clients, uploads,
// busy servers with many clients) through the detector with its defaults raises
// nothing: what the demo shows as attacks are the ones it stages.
func TestDemoTrafficRaisesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("a day of a simulated network's flows")
	}
	now := time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC) // a weekday's busy evening first
	agents, err := snmpsim.StartNetworkOn(context.Background(), firstAddr, snmpsim.DemoNetwork(),
		&snmpsim.Options{Now: func() time.Time { return now }, BootTime: now.Add(-40 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, a := range agents {
			a.Close()
		}
	}()
	d, err := detect.New(detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const step = 5 * time.Minute
	n := 0
	for end := now.Add(-24 * time.Hour); !end.After(now); end = end.Add(step) {
		for _, a := range agents {
			for _, f := range a.Flows(end.Add(-step), end, 0) {
				d.Add(&flow.Flow{Record: flow.Record{Start: f.Start, End: f.End, Src: f.Src, Dst: f.Dst,
					SrcPort: f.SrcPort, DstPort: f.DstPort, Proto: f.Proto, TCPFlags: f.TCPFlags,
					Bytes: f.Bytes, Packets: f.Packets, Kind: flow.IPFIX, SamplingRate: 1}, Device: a.Name()})
				n++
			}
		}
		for _, e := range d.Step(end) {
			t.Errorf("%s: %v", end.Format("Mon 15:04"), e)
		}
	}
	t.Logf("%d flows", n)
}

// The demo stages attacks on core1's transit link; its back-filled flows carry them,
// and the event log holds them with their kinds, sources and targets, and nothing else.
func TestDemoStagedAttacks(t *testing.T) {
	out := t.TempDir()
	// 130 minutes up to 10:50 hold the scans of 09:12 and 10:12, the reflection of
	// 09:37 and the SYN flood of 10:37 (that of 08:37 ended before the range).
	now := time.Date(2026, 11, 29, 10, 50, 0, 0, time.UTC)
	err := Run(context.Background(), Options{
		Out: out, Once: true, History: 2 * 24 * time.Hour, FlowHistory: 130 * time.Minute, Location: time.UTC,
		Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	log, err := events.Open(filepath.Join(out, "events"), events.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := log.Find(events.Query{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"vertical-scan":   {"203.0.113.66", "10.1.20.10"},
		"syn-flood":       {"198.51.100.23", "10.1.20.80"},
		"ddos-reflection": {"", "10.1.20.99"},
	}
	seen := map[string]int{}
	for _, e := range evs {
		t.Logf("%s %s", e.Start.Format("15:04"), e.Summary())
		w, ok := want[e.Kind]
		switch {
		case !ok:
			t.Errorf("not staged: %s", e.Summary())
			continue
		case w[0] != "" && (len(e.Sources) != 1 || e.Sources[0].String() != w[0]):
			t.Errorf("sources: %s", e.Summary())
		case len(e.Targets) != 1 || e.Targets[0].String() != w[1]:
			t.Errorf("targets: %s", e.Summary())
		case e.Device != attackDevice || e.Interface != attackIface:
			t.Errorf("seen on %s %s, want %s %s", e.Device, e.Interface, attackDevice, attackIface)
		}
		seen[e.Kind]++
	}
	if seen["vertical-scan"] != 2 || seen["syn-flood"] != 1 || seen["ddos-reflection"] != 1 {
		t.Errorf("events by kind %v; want two scans, a SYN flood and a reflection", seen)
	}
}
