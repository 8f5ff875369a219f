package metrics

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/promtooltest"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/rrd"
)

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

var t0 = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

// cycle is one poll of device r1 (two interfaces) at t0+i steps, at 1000 and 2000
// octets/s on eth0 and a fixed counter on lo.
func cycle(i int, step time.Duration, fail bool) poller.Result {
	when := t0.Add(time.Duration(i) * step)
	secs := uint64(time.Duration(i) * step / time.Second)
	r := poller.Result{Device: "r1", Duration: 20 * time.Millisecond, Requests: 3, Retries: 1, Timeouts: 1}
	if fail {
		r.Err = errors.New("timeout")
		return r
	}
	r.LastSuccess = when
	r.Samples = []poller.Sample{
		{Device: "r1", Interface: "eth0", Index: 2, Time: when, In: 1e6 + 1000*secs, Out: 2000 * secs, Bits: 64, Speed: 1e9, Descr: "eth0", Alias: "to \"core\""},
		{Device: "r1", Interface: "lo", Index: 1, Time: when, In: 5, Out: 5, Bits: 64, Descr: "lo"},
	}
	return r
}

func TestObservePoll(t *testing.T) {
	m := New()
	m.ObservePoll([]poller.Result{cycle(0, time.Minute, false), {Device: "r2", Err: errors.New("timeout"), Timeouts: 2}})
	m.ObservePoll([]poller.Result{cycle(1, time.Minute, false), {Device: "r2", Err: errors.New("timeout"), Timeouts: 2}})
	m.ObserveCommit(3 * time.Millisecond)
	m.ObserveRender(time.Second, 8, 2*time.Second)
	m.ObserveReload(false)
	m.SetThreshold("r1", "eth0", "in", "max", true)
	body := scrape(t, m.Handler())
	for _, want := range []string{
		`mrtgo_interface_in_octets_total{description="to \"core\"",device="r1",interface="eth0"} 1.06e+06`,
		`mrtgo_interface_out_octets_total{description="to \"core\"",device="r1",interface="eth0"} 120000`,
		`mrtgo_interface_speed_bytes{description="to \"core\"",device="r1",interface="eth0"} 1.25e+08`,
		`mrtgo_interface_in_octets_total{description="lo",device="r1",interface="lo"} 5`,
		`mrtgo_poll_duration_seconds_count{device="r1"} 2`,
		`mrtgo_poll_requests_total{device="r1"} 6`,
		`mrtgo_poll_retries_total{device="r1"} 2`,
		`mrtgo_poll_timeouts_total{device="r2"} 4`,
		`mrtgo_poll_errors_total{device="r2"} 2`,
		`mrtgo_poll_errors_total{device="r1"} 0`,
		`mrtgo_device_up{device="r1"} 1`,
		`mrtgo_device_up{device="r2"} 0`,
		`mrtgo_poll_last_success_timestamp_seconds{device="r1"} 1.79576646e+09`,
		`mrtgo_store_commit_duration_seconds_count 1`,
		`mrtgo_render_duration_seconds_sum 1`,
		`mrtgo_render_graphs_drawn_total 8`,
		`mrtgo_cycle_lag_seconds 2`,
		`mrtgo_config_reloads_total{result="error"} 1`,
		`mrtgo_config_reloads_total{result="ok"} 0`,
		`mrtgo_threshold_exceeded{bound="max",device="r1",direction="in",interface="eth0"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(body, `mrtgo_poll_last_success_timestamp_seconds{device="r2"}`) {
		t.Error("a device that never answered has a last success time")
	}
	promtooltest.Check(t, body)

	// A failed cycle drops the device's interfaces; Retain drops removed devices.
	m.ObservePoll([]poller.Result{cycle(2, time.Minute, true)})
	if body := scrape(t, m.Handler()); strings.Contains(body, `interface="eth0"} 1.06e+06`) || strings.Contains(body, "mrtgo_interface_in_octets_total{") {
		t.Error("interfaces of a device that did not answer are still exported")
	}
	m.Retain([]string{"r1"})
	body = scrape(t, m.Handler())
	if strings.Contains(body, `device="r2"`) {
		t.Error("removed device r2 still exported")
	}
	if !strings.Contains(body, `mrtgo_device_up{device="r1"} 0`) {
		t.Error("kept device r1 lost its metrics")
	}
}

func TestStoreHandler(t *testing.T) {
	const step = time.Minute
	path := filepath.Join(t.TempDir(), "mrtgo.db")
	db, err := rrd.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := pipeline.NewRecorder(db, step, map[string]string{"r1": "192.0.2.1"}, slog.New(slog.DiscardHandler))
	for i := range 4 {
		if err := rec.Record([]poller.Result{cycle(i, step, false)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	h := StoreHandler(path, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	body := scrape(t, h)
	for _, want := range []string{
		"mrtgo_store_up 1",
		`mrtgo_interface_in_bytes_per_second{description="to \"core\"",device="r1",interface="eth0"} 1000`,
		`mrtgo_interface_out_bytes_per_second{description="to \"core\"",device="r1",interface="eth0"} 2000`,
		`mrtgo_interface_speed_bytes{description="to \"core\"",device="r1",interface="eth0"} 1.25e+08`,
		`mrtgo_interface_in_bytes_per_second{description="lo",device="r1",interface="lo"} 0`,
		`mrtgo_interface_last_update_timestamp_seconds{description="lo",device="r1",interface="lo"} 1.79576658e+09`,
		`mrtgo_device_up{device="r1"} 1`,
		`mrtgo_poll_last_duration_seconds{device="r1"} 0.02`,
		`mrtgo_poll_last_success_timestamp_seconds{device="r1"} 1.79576658e+09`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	promtooltest.Check(t, body)

	// A store held by a writer is reported, not waited on forever.
	w, err := rrd.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	h = StoreHandler(path, 50*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if body := scrape(t, h); !strings.Contains(body, "mrtgo_store_up 0") {
		t.Errorf("locked store not reported as down")
	}
}

// Rates refused for exceeding the interface speed are counted on both handlers: the
// daemon's from each cycle, serve's from the store.
func TestRefusedRates(t *testing.T) {
	const step = time.Minute
	path := filepath.Join(t.TempDir(), "mrtgo.db")
	db, err := rrd.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := newBare()
	rec := pipeline.NewRecorder(db, step, nil, slog.New(slog.DiscardHandler))
	for i := range 4 {
		r := cycle(i, step, false)
		if i == 2 {
			r.Samples[0].In += 1e12 // far above 1 Gb/s
		}
		if err := rec.Record([]poller.Result{r}); err != nil {
			t.Fatal(err)
		}
		m.ObserveRefused(rec.LastRefused())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	daemon := scrape(t, m.Handler())
	serve := scrape(t, StoreHandler(path, time.Second, slog.New(slog.DiscardHandler)))
	for name, body := range map[string]string{"daemon": daemon, "serve": serve} {
		// The burst's step only: after it the counter comes back down, and a 64-bit
		// counter going back is a reset, not a refused rate.
		if want := `mrtgo_interface_rates_refused_total{device="r1",direction="in",interface="eth0"} 1`; !strings.Contains(body, want) {
			t.Errorf("%s scrape lacks %s", name, want)
		}
		promtooltest.Check(t, body)
	}
}

// The flow collector's counts, as promtool reads them.
func TestFlowMetrics(t *testing.T) {
	m := New()
	if err := m.RegisterFlows(func() FlowSnapshot {
		return FlowSnapshot{
			Exporters: []FlowExporter{{Addr: "192.0.2.1", Device: "r1", Datagrams: 10, Records: 300, LastSeen: time.Unix(1764400000, 500e6)},
				{Addr: "192.0.2.7", Datagrams: 2, Records: 1, Errors: 1}},
			Errors:      map[string]uint64{"template missing": 4},
			Interfaces:  []FlowInterface{{Device: "r1", Interface: "ge-0/0/0", Direction: "in", Octets: 1500, Packets: 1}},
			SocketDrops: 3, DropsKnown: true,
		}
	}); err != nil {
		t.Fatal(err)
	}
	body := scrape(t, m.Handler())
	for _, want := range []string{
		`mrtgo_flow_datagrams_total{device="r1",exporter="192.0.2.1"} 10`,
		`mrtgo_flow_records_total{device="",exporter="192.0.2.7"} 1`,
		`mrtgo_flow_datagram_errors_total{device="",exporter="192.0.2.7"} 1`,
		`mrtgo_flow_exporter_last_seen_timestamp_seconds{device="r1",exporter="192.0.2.1"} 1.7644000005e+09`,
		`mrtgo_flow_unknown_exporters 1`,
		`mrtgo_flow_socket_drops_total 3`,
		`mrtgo_flow_decode_errors_total{reason="template missing"} 4`,
		`mrtgo_flow_interface_octets_total{device="r1",direction="in",interface="ge-0/0/0"} 1500`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	promtooltest.Check(t, body)
}

// Packets and errors where a device polls them: the daemon's counters as the agent
// gave them and serve's last stored rates, one series per type and direction as
// remote write labels them; a counter the agent lacks is left out, and an interface
// polled without them has none.
func TestCounterGroups(t *testing.T) {
	const step = time.Minute
	groups := func(i int) poller.Result {
		r := cycle(i, step, false)
		secs := uint64(i) * 60
		r.Samples[0].Packets = &poller.Group{Values: []uint64{10 * secs, 20 * secs, 3 * secs, 4 * secs, 100, 0}, Absent: 1 << 5, Bits: 64, Discontinuity: i == 0}
		r.Samples[0].Errors = &poller.Group{Values: []uint64{secs, 0, 2 * secs, 7}, Bits: 64, Discontinuity: i == 0}
		return r
	}
	const eth0 = `description="to \"core\"",device="r1",`
	m := New()
	m.ObservePoll([]poller.Result{groups(1)})
	body := scrape(t, m.Handler())
	for _, want := range []string{
		`mrtgo_interface_packets_total{` + eth0 + `direction="in",interface="eth0",type="unicast"} 600`,
		`mrtgo_interface_packets_total{` + eth0 + `direction="out",interface="eth0",type="unicast"} 1200`,
		`mrtgo_interface_packets_total{` + eth0 + `direction="in",interface="eth0",type="multicast"} 180`,
		`mrtgo_interface_packets_total{` + eth0 + `direction="out",interface="eth0",type="multicast"} 240`,
		`mrtgo_interface_packets_total{` + eth0 + `direction="in",interface="eth0",type="broadcast"} 100`,
		`mrtgo_interface_errors_total{` + eth0 + `direction="in",interface="eth0",type="errors"} 60`,
		`mrtgo_interface_errors_total{` + eth0 + `direction="out",interface="eth0",type="errors"} 0`,
		`mrtgo_interface_errors_total{` + eth0 + `direction="in",interface="eth0",type="discards"} 120`,
		`mrtgo_interface_errors_total{` + eth0 + `direction="out",interface="eth0",type="discards"} 7`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	for _, not := range []string{`direction="out",interface="eth0",type="broadcast"`, `interface="lo",type=`} {
		if strings.Contains(body, not) {
			t.Errorf("scrape has a counter with %s", not)
		}
	}
	promtooltest.Check(t, body)

	path := filepath.Join(t.TempDir(), "mrtgo.db")
	db, err := rrd.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := pipeline.NewRecorder(db, step, nil, slog.New(slog.DiscardHandler))
	for i := range 4 {
		if err := rec.Record([]poller.Result{groups(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	body = scrape(t, StoreHandler(path, time.Second, slog.New(slog.DiscardHandler)))
	for _, want := range []string{
		`mrtgo_interface_in_bytes_per_second{` + eth0 + `interface="eth0"} 1000`,
		`mrtgo_interface_packets_per_second{` + eth0 + `direction="in",interface="eth0",type="unicast"} 10`,
		`mrtgo_interface_packets_per_second{` + eth0 + `direction="out",interface="eth0",type="unicast"} 20`,
		`mrtgo_interface_packets_per_second{` + eth0 + `direction="in",interface="eth0",type="multicast"} 3`,
		`mrtgo_interface_packets_per_second{` + eth0 + `direction="out",interface="eth0",type="multicast"} 4`,
		`mrtgo_interface_packets_per_second{` + eth0 + `direction="in",interface="eth0",type="broadcast"} 0`,
		`mrtgo_interface_errors_per_second{` + eth0 + `direction="in",interface="eth0",type="errors"} 1`,
		`mrtgo_interface_errors_per_second{` + eth0 + `direction="out",interface="eth0",type="errors"} 0`,
		`mrtgo_interface_errors_per_second{` + eth0 + `direction="in",interface="eth0",type="discards"} 2`,
		`mrtgo_interface_errors_per_second{` + eth0 + `direction="out",interface="eth0",type="discards"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("store scrape lacks %s", want)
		}
	}
	for _, not := range []string{`direction="out",interface="eth0",type="broadcast"`, `interface="lo",type=`} {
		if strings.Contains(body, not) {
			t.Errorf("store scrape has a rate with %s", not)
		}
	}
	promtooltest.Check(t, body)
}
