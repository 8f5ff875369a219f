package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A reload that removes a crossed limit sets its mrtgo_threshold_exceeded gauge back
// to 0 (the Watcher forgets the limit, so no recovery would ever do it); a limit the
// new file still has, even written elsewhere, stays at 1 without alerting again.
func TestRunReloadThresholds(t *testing.T) {
	agent, iface := busyAgent(t)
	cfgPath := filepath.Join(t.TempDir(), "targets.toml")
	device := fmt.Sprintf("[[device]]\nname = %q\nhost = \"127.0.0.1\"\nport = %d\ncommunity = %q\ninterfaces = [%q]\n",
		agent.Name(), agent.Port(), agent.Community(), iface)
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte("step = \"1s\"\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("[thresholds]\nin_max = \"1k\"\nout_max = \"1k\"\n\n" + device)
	h := startDaemon(t, cfgPath)

	// gauge returns the value of the interface's gauge for a limit, "" without a series.
	gauge := func(direction string) string {
		prefix := fmt.Sprintf(`mrtgo_threshold_exceeded{bound="max",device=%q,direction=%q,interface=%q} `,
			agent.Name(), direction, iface)
		for line := range strings.SplitSeq(h.scrape(), "\n") {
			if v, ok := strings.CutPrefix(line, prefix); ok {
				return v
			}
		}
		return ""
	}
	want := func(when string, in, out string) {
		t.Helper()
		if got := gauge("in"); got != in {
			t.Errorf("%s: in max gauge %q, want %q", when, got, in)
		}
		if got := gauge("out"); got != out {
			t.Errorf("%s: out max gauge %q, want %q", when, got, out)
		}
	}
	// reload writes body, sends SIGHUP and waits until the reload is counted (the
	// gauges are settled by then) and until two cycles ran on the new file.
	reloads := 0
	reload := func(body string) {
		t.Helper()
		write(body)
		reloads++
		h.hup <- syscall.SIGHUP
		counted := fmt.Sprintf("mrtgo_config_reloads_total{result=\"ok\"} %d\n", reloads)
		h.waitFor(fmt.Sprintf("reload %d counted", reloads), func() bool { return strings.Contains(h.scrape(), counted) })
	}
	settle := func() {
		t.Helper()
		n := h.cycles()
		h.waitFor("two more cycles", func() bool { return h.cycles() >= n+2 })
	}
	exceeded := func(direction string) int {
		return strings.Count(h.stderr.String(), fmt.Sprintf("threshold exceeded\" device=%s interface=%s direction=%s bound=max",
			agent.Name(), iface, direction))
	}

	h.waitFor("both limits crossed", func() bool { return gauge("in") == "1" && gauge("out") == "1" })

	// Drop in_max: its gauge goes to 0 with the reload itself; out_max stays crossed.
	reload("[thresholds]\nout_max = \"1k\"\n\n" + device)
	want("right after dropping in_max", "0", "1")
	settle()
	want("two cycles after dropping in_max", "0", "1")

	// Keep out_max, now as the interface's own limit: still crossed, not alerted again.
	reload(device + fmt.Sprintf("interface_thresholds = { %q = { out_max = \"1k\" } }\n", iface))
	want("right after moving out_max", "0", "1")
	settle()
	want("two cycles after moving out_max", "0", "1")

	// Drop the last limit.
	reload(device)
	want("right after dropping out_max", "0", "0")
	settle()
	want("two cycles after dropping out_max", "0", "0")

	if n := exceeded("in"); n != 1 {
		t.Errorf("in max exceeded %d times in the log, want 1:\n%s", n, h.stderr.String())
	}
	if n := exceeded("out"); n != 1 {
		t.Errorf("out max exceeded %d times in the log, want 1:\n%s", n, h.stderr.String())
	}
}
