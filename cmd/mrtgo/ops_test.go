package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/promtooltest"
	"github.com/mrtgo/mrtgo/internal/syncbuf"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
	"github.com/mrtgo/mrtgo/rrd"
)

// deviceBlock is a [[device]] table for a simulated agent.
func deviceBlock(a *snmpsim.Agent) string {
	return fmt.Sprintf("[[device]]\nname = %q\nhost = \"127.0.0.1\"\nport = %d\ncommunity = %q\ninterfaces = [\"*\"]\n",
		a.Name(), a.Port(), a.Community())
}

// daemonHarness runs "mrtgo run" in-process with a reload channel the test holds.
type daemonHarness struct {
	t      *testing.T
	cfg    string
	listen string
	hup    chan os.Signal
	stderr *syncbuf.Buffer
	done   chan int
	cancel context.CancelFunc
}

func startDaemon(t *testing.T, cfgPath string, extra ...string) *daemonHarness {
	t.Helper()
	h := &daemonHarness{t: t, cfg: cfgPath, listen: freeTCPAddr(t), hup: make(chan os.Signal, 1),
		stderr: &syncbuf.Buffer{}, done: make(chan int, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	e := &env{stdout: io.Discard, stderr: h.stderr, hangups: func() (<-chan os.Signal, func()) { return h.hup, func() {} }}
	args := append([]string{"run", "-c", cfgPath, "--listen", h.listen}, extra...)
	go func() { h.done <- runEnv(ctx, e, args) }()
	t.Cleanup(h.stop)
	return h
}

func (h *daemonHarness) stop() {
	h.cancel()
	select {
	case code := <-h.done:
		if code != exitOK {
			h.t.Errorf("run exited %d:\n%s", code, h.stderr.String())
		}
		h.done <- code // stop is idempotent
	case <-time.After(20 * time.Second):
		h.t.Fatal("run did not stop within 20s")
	}
}

// waitFor polls cond until it holds, failing after 30 s.
func (h *daemonHarness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("no %s after 30s; log:\n%s", what, h.stderr.String())
		}
		select {
		case code := <-h.done:
			h.done <- code
			h.t.Fatalf("run exited early with %d:\n%s", code, h.stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (h *daemonHarness) scrape() string { return get(h.t, "http://"+h.listen+"/metrics") }

func (h *daemonHarness) cycles() int { return strings.Count(h.stderr.String(), "cycle done") }

// "mrtgo run" serves /metrics beside the site: its own health and every interface's
// counters, in a form promtool accepts.
func TestRunMetrics(t *testing.T) {
	agents, err := snmpsim.StartNetwork(context.Background(), "127.0.0.1:0", snmpsim.DemoNetwork()[:1], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer agents[0].Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	if err := os.WriteFile(cfgPath, []byte("step = \"1s\"\n"+deviceBlock(agents[0])), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startDaemon(t, cfgPath)
	h.waitFor("two cycles", func() bool { return h.cycles() >= 2 })
	body := h.scrape()
	dev := agents[0].Name()
	for _, want := range []string{
		`mrtgo_poll_duration_seconds_bucket{device="` + dev + `"`,
		`mrtgo_poll_requests_total{device="` + dev + `"}`,
		`mrtgo_poll_timeouts_total{device="` + dev + `"} 0`,
		`mrtgo_poll_errors_total{device="` + dev + `"} 0`,
		`mrtgo_device_up{device="` + dev + `"} 1`,
		`mrtgo_poll_last_success_timestamp_seconds{device="` + dev + `"}`,
		`mrtgo_store_commit_duration_seconds_count`,
		`mrtgo_render_duration_seconds_count`,
		`mrtgo_interface_in_octets_total{description=`,
		`mrtgo_interface_out_octets_total{description=`,
		`mrtgo_interface_speed_bytes{description=`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Every polled interface is there, labelled with its device.
	m := regexp.MustCompile(`cycle done" interfaces=(\d+)`).FindStringSubmatch(h.stderr.String())
	if m == nil {
		t.Fatalf("no interface count in the log:\n%s", h.stderr.String())
	}
	for _, name := range []string{"mrtgo_interface_in_octets_total{", "mrtgo_interface_out_octets_total{", "mrtgo_interface_speed_bytes{"} {
		if got := strings.Count(body, name); fmt.Sprint(got) != m[1] {
			t.Errorf("%d %s series in /metrics, want one per polled interface (%s)", got, name, m[1])
		}
	}
	if strings.Contains(body, agents[0].Community()) {
		t.Error("/metrics shows the community")
	}
	// The site is served next to it.
	h.waitFor("device page", func() bool {
		return strings.Contains(get(t, "http://"+h.listen+"/"+dev+"/index.html"), ".png")
	})
	h.waitFor("render counted", func() bool {
		b := h.scrape()
		return strings.Contains(b, "mrtgo_render_duration_seconds_count") && !strings.Contains(b, "mrtgo_render_duration_seconds_count 0")
	})
	promtooltest.Check(t, body)
}

// "mrtgo serve" has no poller: its /metrics shows what the store holds.
func TestServeMetrics(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	cfg := "step = \"1m\"\ndata = \"mrtgo.db\"\n[[device]]\nname = \"r1\"\nhost = \"127.0.0.1\"\ninterfaces = [\"eth0\"]\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Three cycles a step apart at 1000 octets/s in, written as "mrtgo poll" would.
	db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := pipeline.NewRecorder(db, time.Minute, nil, slog.New(slog.DiscardHandler))
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	for i := range 3 {
		when := t0.Add(time.Duration(i) * time.Minute)
		err := rec.Record([]poller.Result{{Device: "r1", LastSuccess: when, Samples: []poller.Sample{
			{Device: "r1", Interface: "eth0", Index: 2, Time: when, In: uint64(i) * 60000, Out: 0, Bits: 64, Speed: 1e9, Alias: "uplink"},
		}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	listen := freeTCPAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "-c", cfgPath, "--listen", listen}, io.Discard, &stderr) }()
	defer func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("serve exited %d:\n%s", code, stderr.String())
		}
	}()
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for body = get(t, "http://"+listen+"/metrics"); body == "" && time.Now().Before(deadline); body = get(t, "http://"+listen+"/metrics") {
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{
		"mrtgo_store_up 1",
		`mrtgo_device_up{device="r1"} 1`,
		`mrtgo_poll_last_success_timestamp_seconds{device="r1"}`,
		`mrtgo_interface_speed_bytes{description="uplink",device="r1",interface="eth0"} 1.25e+08`,
		`mrtgo_interface_in_bytes_per_second{description="uplink",device="r1",interface="eth0"} 1000`,
		`mrtgo_interface_out_bytes_per_second{description="uplink",device="r1",interface="eth0"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	promtooltest.Check(t, body)
}

// SIGHUP makes "mrtgo run" read the targets file again between cycles: a new device is
// polled, a removed one is not, and an invalid file is rejected with the loader's own
// message while polling goes on with what ran before.
func TestRunReload(t *testing.T) {
	agents, err := snmpsim.StartNetwork(context.Background(), "127.0.0.1:0", snmpsim.DemoNetwork()[:2], nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		defer a.Close()
	}
	a, b := agents[0], agents[1]
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("step = \"1s\"\n" + deviceBlock(a))
	h := startDaemon(t, cfgPath)
	polls := func(dev string) bool {
		return strings.Contains(h.scrape(), `mrtgo_interface_in_octets_total{description=`) &&
			strings.Contains(h.scrape(), `interface_in_octets_total{description="`) &&
			strings.Contains(h.scrape(), `device="`+dev+`",interface=`)
	}
	h.waitFor("first device polled", func() bool { return polls(a.Name()) })
	if polls(b.Name()) {
		t.Fatalf("%s polled before it was configured", b.Name())
	}

	// Add a device.
	write("step = \"1s\"\n" + deviceBlock(a) + deviceBlock(b))
	h.hup <- syscall.SIGHUP
	h.waitFor("added device polled", func() bool { return polls(b.Name()) })
	if !strings.Contains(h.stderr.String(), "added="+"["+b.Name()+"]") {
		t.Errorf("reload log does not name the added device:\n%s", h.stderr.String())
	}

	// An invalid file: rejected with the loader's message, both devices still polled.
	write("step = \"1s\"\n" + deviceBlock(a) + deviceBlock(b) + "[[device]]\nname = \"x\"\n")
	_, loadErr := config.Load(cfgPath)
	var cfgErr *config.Error
	if !errors.As(loadErr, &cfgErr) {
		t.Fatalf("config.Load = %v, want a *config.Error", loadErr)
	}
	h.hup <- syscall.SIGHUP
	h.waitFor("rejection logged", func() bool { return strings.Contains(h.stderr.String(), "targets file rejected") })
	if !strings.Contains(h.stderr.String(), loadErr.Error()) && !strings.Contains(h.stderr.String(), fmt.Sprintf("%q", loadErr.Error())) {
		t.Errorf("log does not carry the loader's message %q:\n%s", loadErr, h.stderr.String())
	}
	n := h.cycles()
	h.waitFor("two more cycles", func() bool { return h.cycles() >= n+2 })
	if !polls(a.Name()) || !polls(b.Name()) {
		t.Errorf("devices not polled after a rejected reload")
	}
	if !strings.Contains(h.scrape(), `mrtgo_config_reloads_total{result="error"} 1`) {
		t.Errorf("rejected reload not counted")
	}

	// Remove the first device.
	write("step = \"1s\"\n" + deviceBlock(b))
	h.hup <- syscall.SIGHUP
	h.waitFor("removed device gone", func() bool { return !polls(a.Name()) })
	n = h.cycles()
	h.waitFor("two more cycles", func() bool { return h.cycles() >= n+2 })
	if polls(a.Name()) || !polls(b.Name()) {
		t.Errorf("after removing %s: polled a=%v b=%v", a.Name(), polls(a.Name()), polls(b.Name()))
	}
	if strings.Contains(h.scrape(), `mrtgo_device_up{device="`+a.Name()+`"}`) {
		t.Errorf("removed device still has health metrics")
	}
	if !strings.Contains(h.scrape(), `mrtgo_config_reloads_total{result="ok"} 2`) {
		t.Errorf("reloads not counted:\n%s", h.scrape())
	}
}
