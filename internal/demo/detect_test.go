package demo

import (
	"context"
	"testing"
	"time"

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
