package daemon

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/receivertest"
	"github.com/mrtgo/mrtgo/rrd"
)

// "mrtgo run" with [remote_read] draws its pages from the engine, as a web node does.
// The engine holds ten days of core1 that this poller's own store never had (core1
// does not answer it), and the daemon's page of each interface shows the monthly
// maxima that the history's own store gives; a daemon without [remote_read] has no
// page of them at all.
func TestRunDrawsPagesFromEngine(t *testing.T) {
	recv := receivertest.VictoriaMetrics(t)
	end := time.Now().UTC().Truncate(5 * time.Minute)
	hist := receivertest.History(t, recv, end)
	recv.Flush()

	// A port nothing answers on.
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.LocalAddr().(*net.UDPAddr).Port
	probe.Close()
	const ifaces = `["xe-0/0/0", "xe-0/0/1", "ge-0/0/2"]`
	run := func(remoteRead bool) string {
		dir := t.TempDir()
		src := "step = \"5m\"\ntimezone = \"UTC\"\ndata = \"mrtgo.db\"\nsite = \"site\"\n"
		if remoteRead {
			src += fmt.Sprintf("\n[remote_read]\nurl = %q\nlabels = { site = \"ams\" }\n", recv.BaseURL)
		}
		src += fmt.Sprintf("\n[[device]]\nname = \"core1\"\nhost = \"127.0.0.1\"\nport = %d\ntimeout = \"200ms\"\nretries = 0\ninterfaces = %s\n", port, ifaces)
		file := filepath.Join(dir, "targets.toml")
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		db, err := rrd.Open(cfg.Data, nil)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(db, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		d, err := New(cfg, w, Options{Interval: time.Second, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- d.Run(ctx) }()
		// The render before the first poll, and one after a failed poll.
		deadline := time.Now().Add(30 * time.Second)
		for {
			rec := httptest.NewRecorder()
			d.Metrics().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			if strings.Contains(rec.Body.String(), "mrtgo_render_duration_seconds_count 1") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no render after a cycle within 30 s")
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
		return cfg.Site
	}

	engine := run(true)
	local := run(false)
	// The same pages drawn from the history's own store.
	cfg := &config.Config{Step: 5 * time.Minute, Location: time.UTC, Site: filepath.Join(t.TempDir(), "site"),
		Devices: []config.Device{{Name: "core1", Host: "127.0.0.1"}}}
	if _, err := Publisher(cfg, hist, slog.New(slog.DiscardHandler)).Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"xe-0_0_0.html", "xe-0_0_1.html", "ge-0_0_2.html"} {
		want := monthlyMax(t, findPage(t, cfg.Site, name))
		if want == "" {
			t.Fatalf("the history's %s has no monthly maxima", name)
		}
		if got := monthlyMax(t, findPage(t, engine, name)); got != want {
			t.Errorf("%s from the engine: monthly maxima %q, want %q (as the history's store)", name, got, want)
		}
		if p := findPage(t, local, name); p != "" {
			t.Errorf("without [remote_read], a page of an interface the store never had: %s", p)
		}
	}
}

// findPage is the path of the page file name under site; "" when there is none.
func findPage(t *testing.T, site, name string) string {
	t.Helper()
	var found string
	err := filepath.WalkDir(site, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Name() == name {
			found = p
		}
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return found
}

var monthlyRe = regexp.MustCompile(`(?s)Monthly.*?<tr class="in"><td>.*?</td><td>(.*?)</td>.*?<tr class="out"><td>.*?</td><td>(.*?)</td>`)

// monthlyMax is the in and out maxima of the page's monthly table; "" when the page
// or the table is missing.
func monthlyMax(t *testing.T, page string) string {
	t.Helper()
	if page == "" {
		return ""
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	m := monthlyRe.FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1]) + " / " + string(m[2])
}
