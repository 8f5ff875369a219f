package daemon

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/flowtop"
	"github.com/mrtgo/mrtgo/remotewrite"
)

// The flow aggregates of a step: the interface's total and, per list, ten keys and
// the rest, adding up to the total, in bits/s.
func TestFlowSeries(t *testing.T) {
	const step = time.Minute
	top, err := flowtop.Open(filepath.Join(t.TempDir(), "top.db"), &flowtop.Options{Step: step})
	if err != nil {
		t.Fatal(err)
	}
	defer top.Close()
	end := time.Unix(1764400020, 0).Truncate(step)
	var total uint64
	for i := range 25 { // 25 sources, the heaviest first
		f := flow.Flow{Record: flow.Record{Received: end.Add(-time.Second), Src: netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)}),
			Dst: netip.MustParseAddr("192.0.2.80"), Proto: 6, SrcPort: 40000, DstPort: 443, Bytes: uint64(1000 * (30 - i)), Packets: 10},
			Device: "core1", In: "xe-0/0/1"}
		top.Add(&f)
		total += f.Bytes
	}
	if err := top.Commit(end); err != nil {
		t.Fatal(err)
	}
	got, err := flowSeries(top, map[ifaceRef]bool{{"core1", "xe-0/0/1"}: true, {"core1", "quiet"}: true}, end, step,
		[]remotewrite.Label{{Name: "site", Value: "ams"}})
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]float64{}
	keys := map[string]int{}
	var flowTotal float64
	for _, s := range got {
		l := map[string]string{}
		for _, x := range s.Labels {
			l[x.Name] = x.Value
		}
		if l["device"] != "core1" || l["interface"] != "xe-0/0/1" || l["direction"] != "in" || l["site"] != "ams" {
			t.Errorf("series %v", l)
		}
		v := s.Samples[0].Value
		if !s.Samples[0].Time.Equal(end) {
			t.Errorf("%v at %v, want %v", l, s.Samples[0].Time, end)
		}
		switch l["__name__"] {
		case MetricFlowBits:
			flowTotal = v
		case MetricFlowTopBits:
			sums[l["dimension"]] += v
			keys[l["dimension"]]++
			if l["dimension"] == "srcaddr" && l["key"] == "198.51.100.1" && v != 30000*8/60. {
				t.Errorf("heaviest source at %v bits/s, want %v", v, 30000*8/60.)
			}
		}
	}
	want := float64(total) * 8 / 60
	if flowTotal != want {
		t.Errorf("flow total %v bits/s, want %v", flowTotal, want)
	}
	for _, dim := range []string{"srcaddr", "dstaddr", "service"} {
		if d := sums[dim] - want; d > 1e-6 || d < -1e-6 {
			t.Errorf("%s keys add up to %v, want the total %v", dim, sums[dim], want)
		}
	}
	if keys["srcaddr"] != flowTopN+1 || keys["dstaddr"] != 1 || keys["service"] != 1 {
		t.Errorf("keys sent %v: want %d sources and the rest, one destination, one service", keys, flowTopN)
	}
	if s := fmt.Sprint(got); !strings.Contains(s, "tcp/443") || !strings.Contains(s, restKey) {
		t.Errorf("no tcp/443 service or rest key in %v", s)
	}
}
