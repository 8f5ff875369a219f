package pipeline

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/capture"
	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/detect"
	"github.com/mrtgo/mrtgo/events"
	"github.com/mrtgo/mrtgo/internal/syncbuf"
)

// The detector's reports of a lasting flood become one event that begins, lasts and
// ends, kept in the log with one ID across a restart of the process, and the [events]
// command runs for the kinds it lists with the event in its environment.
func TestDeskFlowEvents(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "alerts")
	src := fmt.Sprintf(`
step = "1m"
[flows]
listen = ["127.0.0.1:2055"]
[detect]
[events]
command = 'echo "$MRTGO_EVENT_ID $MRTGO_KIND $MRTGO_CHANGE $MRTGO_STATE $MRTGO_SEVERITY [$MRTGO_SOURCES] [$MRTGO_TARGETS] $MRTGO_SOURCE_COUNT $MRTGO_PPS $MRTGO_CAPTURE ${MRTGO_BPF%%%% or *}" >> %s'
kinds = ["ddos-udp"]
`, out)
	cfg, err := config.Parse("targets.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var logBuf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	logDir := filepath.Join(dir, "events")
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	open := func(now time.Time) (*Desk, *events.Log, *Alerter) {
		store, err := events.Open(logDir, events.Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		a := NewAlerter(cfg, log)
		d, err := NewDesk(cfg, store, a, log, now)
		if err != nil {
			t.Fatal(err)
		}
		d.Capture = func(e events.Event, f capture.Filter) string { return fmt.Sprintf("%d.pcap", e.ID) }
		return d, store, a
	}
	ddos := func(at time.Time, pps float64, sev detect.Severity) detect.Event {
		return detect.Event{Kind: detect.DDoSUDP, Severity: sev, Start: at.Add(-50 * time.Second), End: at.Add(-time.Second),
			Sources: []netip.Addr{netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")}, SourceCount: 200,
			Targets: []netip.Addr{netip.MustParseAddr("192.0.2.7")}, TargetCount: 1, Proto: 17, PPS: pps, Packets: uint64(pps * 50),
			Evidence: []detect.Evidence{{Measure: "pps", Value: pps, Threshold: 10000}}}
	}
	scan := detect.Event{Kind: detect.VerticalScan, Severity: detect.Warning, Start: t0, End: t0,
		Sources: []netip.Addr{netip.MustParseAddr("203.0.113.9")}, SourceCount: 1, Targets: []netip.Addr{netip.MustParseAddr("192.0.2.8")}, TargetCount: 1,
		Ports: []uint16{22, 23}, PortCount: 40}

	d, store, a := open(t0)
	if err := d.Report(t0, []detect.Event{ddos(t0, 20000, detect.Warning), scan}); err != nil {
		t.Fatal(err)
	}
	// The process ends; the next one takes the flood up where it was.
	a.Close()
	store.Close()
	t1 := t0.Add(time.Minute)
	d, store, a = open(t1)
	if err := d.Report(t1, []detect.Event{ddos(t1, 200000, detect.Critical)}); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 7; i++ { // a scan lingers its scan window and a step
		if err := d.Report(t0.Add(time.Duration(i)*time.Minute), nil); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	defer store.Close()

	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("command never ran: %v\n%s", err, logBuf.String())
	}
	want := []string{
		"1 ddos-udp began active warning [198.51.100.1 198.51.100.2] [192.0.2.7] 200 20000 1.pcap ip and ip dst host 192.0.2.7 and ip proto 17",
		"1 ddos-udp escalated active critical [198.51.100.1 198.51.100.2] [192.0.2.7] 200 200000 1.pcap ip and ip dst host 192.0.2.7 and ip proto 17",
		"1 ddos-udp ended ended critical [198.51.100.1 198.51.100.2] [192.0.2.7] 200 200000 1.pcap ip and ip dst host 192.0.2.7 and ip proto 17",
	}
	if got := strings.TrimSpace(string(b)); got != strings.Join(want, "\n") {
		t.Errorf("commands ran with:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	logged, err := store.Find(events.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) != 2 {
		t.Fatalf("log holds %d events, want the flood and the scan: %+v", len(logged), logged)
	}
	for _, e := range logged {
		if e.State != events.Ended {
			t.Errorf("%s still %s", e.Kind, e.State)
		}
		if e.Kind == string(detect.DDoSUDP) && (e.ID != 1 || e.Packets != 20000*50+200000*50 || !e.Start.Equal(t0.Add(-50*time.Second))) {
			t.Errorf("flood as logged: %+v", e)
		}
	}
}
