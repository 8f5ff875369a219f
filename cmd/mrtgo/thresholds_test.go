package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

// Thresholds work from cron too: the first "poll --once" has no rate yet, the second
// crosses the limit and runs the command once, the third (still over) does not run it
// again; the state lives in the store between runs.
func TestPollOnceThresholds(t *testing.T) {
	agent, iface := busyAgent(t)
	dir := t.TempDir()
	alerts := filepath.Join(dir, "alerts")
	cfgPath := filepath.Join(dir, "targets.toml")
	cfg := fmt.Sprintf(`step = "10s"
[thresholds]
in_max = "1k"
command = 'echo "$MRTGO_DEVICE $MRTGO_INTERFACE $MRTGO_DIRECTION $MRTGO_BOUND $MRTGO_STATE" >> %s'

[[device]]
name = %q
host = "127.0.0.1"
port = %d
community = %q
interfaces = [%q]
`, alerts, agent.Name(), agent.Port(), agent.Community(), iface)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	lines := func() []string {
		b, _ := os.ReadFile(alerts)
		return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "_"))
	}
	for i, want := range []int{0, 1, 1} {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond)
		}
		if code, _, errs := runCmd(t, "poll", "--once", "-c", cfgPath); code != exitOK {
			t.Fatalf("poll %d: exit %d: %s", i+1, code, errs)
		}
		if got := lines(); len(got) != want {
			t.Fatalf("after poll %d: commands ran %d times (%v), want %d", i+1, len(got), got, want)
		}
	}
	if got, want := lines()[0], strings.Join([]string{agent.Name(), iface, "in", "max", "exceeded"}, "_"); got != want {
		t.Errorf("command saw %q, want %q", got, want)
	}
}

// busyAgent starts the demo network's first device on a free loopback port and
// returns it with the name of an interface that carries traffic.
func busyAgent(t *testing.T) (*snmpsim.Agent, string) {
	t.Helper()
	dev := snmpsim.DemoNetwork()[0]
	agent, err := snmpsim.Start(context.Background(), "127.0.0.1:0", dev, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Close() })
	for _, ifc := range dev.Interfaces {
		if ifc.Up && ifc.MeanBps > 1e6 {
			return agent, ifc.Name
		}
	}
	t.Fatal("no busy interface in the demo device")
	return nil, ""
}
