package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/events"
	"github.com/mrtgo/mrtgo/internal/flowtest"
	"github.com/mrtgo/mrtgo/internal/testneed"
)

// The labelled scenarios, written as captures and exported by Debian's softflowd into
// "mrtgo run" one after another: every attack is found by the daemon's detector at the
// end of the step its records arrived in (or the next, when they straddle a step's
// end), kept in the event log with the right kind, source(s), target and device, and
// listed by "mrtgo events"; the normal mix and the flash crowd raise nothing, and the
// alert command runs for each event with it in its environment.
func TestEventsFromSoftflowd(t *testing.T) {
	sfd := testneed.Program(t, "softflowd", "apt-get install softflowd")
	dir := t.TempDir()
	flowPort, snmpPort := closedUDPPort(t), closedUDPPort(t)
	alerts := filepath.Join(dir, "alerts")
	cfgPath := filepath.Join(dir, "targets.toml")
	cfg := fmt.Sprintf(`step = "5s"
timezone = "UTC"

[flows]
listen = ["127.0.0.1:%d"]

[detect]
scan_window = "10s"

[events]
command = 'echo "$MRTGO_KIND $MRTGO_CHANGE $MRTGO_SOURCES > $MRTGO_TARGETS on $MRTGO_DEVICE" >> %s'
kinds = ["vertical-scan", "icmp-sweep", "syn-flood", "ddos-udp", "ddos-syn"]

# Nothing answers SNMP here: the device is there to claim the exporter.
[[device]]
name = "edge1"
host = "127.0.0.1"
port = %d
timeout = "200ms"
retries = 0
flow_exporter = "127.0.0.1"
interfaces = ["*"]
`, flowPort, alerts, snmpPort)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startDaemon(t, cfgPath)
	h.waitFor("flow socket", func() bool {
		bound, _, ok := udpSocket(flowPort)
		return bound || !ok
	})
	list := func(t *testing.T, args ...string) []events.Event {
		t.Helper()
		code, out, errs := runCmd(t, append([]string{"events", "-c", cfgPath, "--last", "1h", "--format", "json"}, args...)...)
		if code != exitOK {
			t.Fatalf("mrtgo events: exit %d: %s", code, errs)
		}
		var evs []events.Event
		if err := json.Unmarshal([]byte(out), &evs); err != nil {
			t.Fatalf("mrtgo events: %v\n%s", err, out)
		}
		return evs
	}

	// The harmless first, so that an attack's event cannot hide a false one.
	order := map[string]int{"normal mix": 0, "flash crowd": 1}
	scs := flowtest.Scenarios()
	slices.SortStableFunc(scs, func(a, b flowtest.Scenario) int {
		oa, ok := order[a.Name]
		if !ok {
			oa = 2
		}
		ob, ok := order[b.Name]
		if !ok {
			ob = 2
		}
		return oa - ob
	})
	var attacks []flowtest.Scenario
	for _, sc := range scs {
		capture := filepath.Join(dir, strings.ReplaceAll(sc.Name, " ", "-")+".pcap")
		flowtest.WritePcap(t, capture, append(flowtest.NormalMix(), sc.Attack()...))
		flowtest.Softflowd(t, sfd, capture, fmt.Sprintf("127.0.0.1:%d", flowPort))
		if sc.Kind == "" {
			continue
		}
		attacks = append(attacks, sc)
		h.waitFor(sc.Name+" in the event log", func() bool { return len(list(t, "--kind", sc.Kind)) > 0 })
	}
	// Two steps more: whatever the harmless traffic would have raised has been.
	n := h.cycles()
	h.waitFor("two more steps", func() bool { return h.cycles() >= n+2 })

	found := list(t)
	if len(found) != len(attacks) {
		for _, e := range found {
			t.Logf("%s", e.Summary())
		}
		t.Fatalf("%d events, want one for each of %d attacks", len(found), len(attacks))
	}
	for _, sc := range attacks {
		i := slices.IndexFunc(found, func(e events.Event) bool { return e.Kind == sc.Kind })
		if i < 0 {
			t.Errorf("%s: no %s event", sc.Name, sc.Kind)
			continue
		}
		e := found[i]
		t.Logf("%s: %s", sc.Name, e.Summary())
		if sc.Target != "" && !slices.Equal(e.Targets, []netip.Addr{netip.MustParseAddr(sc.Target)}) {
			t.Errorf("%s: targets %v, want %s", sc.Name, e.Targets, sc.Target)
		}
		if p, err := netip.ParsePrefix(sc.Source); err == nil {
			for _, s := range e.Sources {
				if !p.Contains(s) {
					t.Errorf("%s: source %v is not an attacker", sc.Name, s)
				}
			}
			if e.SourceCount < 150 {
				t.Errorf("%s: %d sources, want about 200", sc.Name, e.SourceCount)
			}
		} else if !slices.Equal(e.Sources, []netip.Addr{netip.MustParseAddr(sc.Source)}) {
			t.Errorf("%s: sources %v, want %s", sc.Name, e.Sources, sc.Source)
		}
		if e.Device != "edge1" || e.ID == 0 || e.Start.IsZero() || e.PPS <= 0 || len(e.Evidence) == 0 {
			t.Errorf("%s: event %+v", sc.Name, e)
		}
	}

	// The table and CSV forms, and a filter by device.
	code, out, errs := runCmd(t, "events", "-c", cfgPath, "--last", "1h", "--device", "edge1", "--kind", "syn-flood")
	if code != exitOK || !strings.Contains(out, "syn-flood") || !strings.Contains(out, "203.0.113.68") || strings.Count(out, "\n") != 2 {
		t.Errorf("table: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCmd(t, "events", "-c", cfgPath, "--last", "1h", "--format", "csv", "--device", "nowhere")
	if code != exitOK || strings.TrimSpace(out) != strings.Join(eventColumns, ",") {
		t.Errorf("csv for a device without events: exit %d\n%s", code, out)
	}
	if code, _, errs := runCmd(t, "events", "-c", cfgPath, "--kind", "ddos"); code != exitUsage || !strings.Contains(errs, "kinds are") {
		t.Errorf("unknown kind: exit %d: %s", code, errs)
	}
	metrics := h.scrape()
	for _, sc := range attacks {
		if !strings.Contains(metrics, fmt.Sprintf(`mrtgo_events_total{kind=%q,`, sc.Kind)) {
			t.Errorf("/metrics does not count %s", sc.Kind)
		}
	}
	h.stop()

	b, err := os.ReadFile(alerts)
	if err != nil {
		t.Fatalf("the alert command never ran: %v", err)
	}
	for _, sc := range attacks {
		want := sc.Kind + " began "
		if !strings.Contains(string(b), want) {
			t.Errorf("no %q in the alert command's lines:\n%s", want, b)
		}
	}
	if !strings.Contains(string(b), "syn-flood began 203.0.113.68 > 192.0.2.80 on edge1") {
		t.Errorf("alert command's environment:\n%s", b)
	}
}
