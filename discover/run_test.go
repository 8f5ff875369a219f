package discover

import (
	"context"
	"testing"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

// TestWalkAllProgress walks three simulated agents and one target that fails at once,
// two at a time: every walk, answered or not, is reported once, counting up to four.
func TestWalkAllProgress(t *testing.T) {
	var targets []Target
	for _, dev := range snmpsim.Network(3, 4, 7) {
		_, tgt := simAgent(t, dev)
		targets = append(targets, tgt)
	}
	targets = append(targets, Target{Host: "127.0.0.1", SNMP: config.SNMP{Version: "4"}})

	var calls [][2]int
	devs, errs := WalkAll(context.Background(), targets, 2, func(done, total int) {
		calls = append(calls, [2]int{done, total})
	})
	for i := range targets {
		if wantErr := i == 3; (errs[i] != nil) != wantErr || (devs[i] == nil) != wantErr {
			t.Errorf("target %d: device %v, error %v; want an error only for the last", i, devs[i] != nil, errs[i])
		}
	}
	if len(calls) != len(targets) {
		t.Fatalf("%d progress calls %v, want %d", len(calls), calls, len(targets))
	}
	for i, c := range calls {
		if c != [2]int{i + 1, len(targets)} {
			t.Errorf("progress call %d is (%d, %d), want (%d, %d)", i, c[0], c[1], i+1, len(targets))
		}
	}
}
