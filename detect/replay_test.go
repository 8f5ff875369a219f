package detect

// Labelled scenarios as captures written here, exported by softflowd as IPFIX (the
// way an exporter no one here wrote sees them) into a flow.Collector that feeds a
// Detector. Each scenario's first window is a normal mix, which raises nothing and
// gives the targets their baselines; its second window is the mix with the scenario
// in it; a third window follows with no traffic. The attack must be reported as the
// right kind, source(s) and target within the second and third windows, and nothing
// else may be.
//
// softflowd 1.1.0 reading a capture needs "-c none" (see flow/exporters_test.go: it
// blocks for ever on its control socket otherwise). Its IPFIX records carry the
// capture's flows with start and end times of the export, in whole seconds, so rates
// here are taken over the Detector's minimum span.

import (
	"context"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/internal/flowtest"
	"github.com/mrtgo/mrtgo/internal/testneed"
)

// replay exports the capture with softflowd as IPFIX into a Collector feeding d, and
// returns once every record is in: softflowd has ended and no record came for a while.
func replay(t *testing.T, softflowd string, ps []flowtest.Packet, d *Detector) int {
	t.Helper()
	dir := t.TempDir()
	capture := filepath.Join(dir, "capture.pcap")
	flowtest.WritePcap(t, capture, ps)
	var mu sync.Mutex
	records := 0
	col, err := flow.Listen([]string{"127.0.0.1:0"}, func(r flow.Record) {
		d.Add(&flow.Flow{Record: r, Device: "edge1", In: "ge-0/0/0"})
		mu.Lock()
		records++
		mu.Unlock()
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- col.Run(ctx) }()
	defer func() { stop(); <-ran }()
	flowtest.Softflowd(t, softflowd, capture, col.Addrs()[0].String())
	last, since := -1, time.Now()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := records
		mu.Unlock()
		if n != last {
			last, since = n, time.Now()
		} else if n > 0 && time.Since(since) > 300*time.Millisecond {
			return n
		}
	}
	t.Fatalf("records still arriving, or none (%d)", last)
	return 0
}

func TestScenariosThroughSoftflowd(t *testing.T) {
	sfd := testneed.Program(t, "softflowd", "apt-get install softflowd")
	base := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	for _, sc := range flowtest.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			d := newDetector(t, Config{})
			n := replay(t, sfd, flowtest.NormalMix(), d)
			if es := d.Step(base.Add(5 * time.Minute)); len(es) != 0 {
				t.Errorf("normal mix (%d records): %v", n, es)
			}
			attack := sc.Attack()
			n = replay(t, sfd, append(flowtest.NormalMix(), attack...), d)
			es := d.Step(base.Add(10 * time.Minute))
			es = append(es, d.Step(base.Add(15*time.Minute))...)
			t.Logf("%d packets, %d records: %d events", len(attack)+len(flowtest.NormalMix()), n, len(es))
			for _, e := range es {
				t.Logf("%v", e)
			}
			if sc.Kind == "" {
				if len(es) != 0 {
					t.Errorf("events %v, want none", es)
				}
				return
			}
			if len(es) != 1 {
				t.Fatalf("%d events, want one %s", len(es), sc.Kind)
			}
			e := es[0]
			if string(e.Kind) != sc.Kind {
				t.Errorf("kind %s, want %s", e.Kind, sc.Kind)
			}
			if sc.Target != "" && !slices.Equal(e.Targets, []netip.Addr{netip.MustParseAddr(sc.Target)}) {
				t.Errorf("targets %v, want %s", e.Targets, sc.Target)
			}
			if p, err := netip.ParsePrefix(sc.Source); err == nil {
				for _, s := range e.Sources {
					if !p.Contains(s) {
						t.Errorf("source %v is not an attacker", s)
					}
				}
				if len(e.Sources) == 0 || e.SourceCount < 180 || e.SourceCount > 220 {
					t.Errorf("%d sources (%v), want about 200", e.SourceCount, e.Sources)
				}
			} else if !slices.Equal(e.Sources, []netip.Addr{netip.MustParseAddr(sc.Source)}) {
				t.Errorf("sources %v, want %s", e.Sources, sc.Source)
			}
			if e.PPS <= 0 || e.BPS <= 0 || e.FlowsPerSec <= 0 || e.Packets == 0 || e.Flows == 0 {
				t.Errorf("rates %v pps %v bps %v flows/s, %d packets %d flows", e.PPS, e.BPS, e.FlowsPerSec, e.Packets, e.Flows)
			}
			if e.Device != "edge1" || e.Interface != "ge-0/0/0" || e.Start.IsZero() || e.End.Before(e.Start) {
				t.Errorf("where/when: %q %q %v %v", e.Device, e.Interface, e.Start, e.End)
			}
		})
	}
}
