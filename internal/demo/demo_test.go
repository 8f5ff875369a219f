package demo

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/web"
)

// The demo, once, produces an index page and four decodable, non-blank graphs per
// interface, from a store filled through the real update path.
func TestDemoOnce(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	var calls [][2]int
	err := Run(context.Background(), Options{
		Out: out, Once: true, History: 15 * 24 * time.Hour, FlowHistory: 20 * time.Minute, Location: time.UTC,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: &stdout,
		Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	// Fifteen days and a few minutes are three weeks of back-fill, one call each.
	if want := [][2]int{{1, 3}, {2, 3}, {3, 3}}; fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("back-fill progress calls %v, want %v", calls, want)
	}
	if !strings.Contains(stdout.String(), "open file://") {
		t.Errorf("stdout %q does not say what to open", stdout.String())
	}
	index, err := os.ReadFile(filepath.Join(out, "site", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"core1", "access1"} {
		if !bytes.Contains(index, []byte(dev)) {
			t.Errorf("index.html does not mention %s", dev)
		}
	}
	// The back-filled flows are on the pages, equal to the counters.
	page, err := os.ReadFile(filepath.Join(out, "site", filepath.FromSlash(web.InterfacePage("core1", "ge-0/0/0"))))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Who and what, from flow records", "<caption>Top sources</caption>", "<caption>Top services</caption>",
		`by SNMP: <span class="ok">1.00</span>`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("core1 ge-0/0/0's page lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "site", filepath.FromSlash(web.FlowGraphFile("core1", "ge-0/0/0", "day", 2)))); err != nil {
		t.Errorf("services graph: %v", err)
	}
	// The targets file left beside the store describes the network polled.
	cfg, err := config.Load(filepath.Join(out, "targets.toml"))
	if err != nil {
		t.Fatalf("the demo's targets file does not load: %v", err)
	}
	var names []string
	hosts := map[string]bool{}
	for _, d := range cfg.Devices {
		names = append(names, d.Name)
		a, err := netip.ParseAddr(d.Host)
		if err != nil || !a.IsLoopback() || hosts[d.Host] || d.SNMP.Port == 161 || !d.AllInterfaces() {
			t.Errorf("targets file device %+v, want its own loopback address at the simulator's port, every interface", d)
		}
		hosts[d.Host] = true
		if d.FlowExporter != a {
			t.Errorf("device %s has flow exporter %v, want its host %v", d.Name, d.FlowExporter, a)
		}
	}
	if len(cfg.Flows.Listen) != 0 {
		t.Errorf("the demo built once listens for flows on %v", cfg.Flows.Listen)
	}
	for _, dev := range []string{"core1", "access1"} {
		if !slices.Contains(names, dev) {
			t.Errorf("targets file devices %q lack %s", names, dev)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(out, "site", "*", "*.png"))
	pages, _ := filepath.Glob(filepath.Join(out, "site", "*", "*.html"))
	// Each interface page has day, week, month and year graphs at two scales.
	if len(pngs) == 0 || len(pngs) < 8*(len(pages)-5) {
		t.Fatalf("%d PNGs for %d pages", len(pngs), len(pages))
	}
	for _, p := range pngs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 100 {
			t.Errorf("%s is %dx%d", p, b.Dx(), b.Dy())
		}
	}
	// A day graph of an up interface carries the in colour (#00cc00) somewhere.
	day := filepath.Join(out, "site", web.GraphFile("core1", "ge-0/0/0", "day", 1))
	f, err := os.Open(day)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	green := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 0 && g>>8 == 0xcc && b>>8 == 0 {
				green++
			}
		}
	}
	if green < 1000 {
		t.Errorf("%s has %d in-traffic pixels, want a filled area", day, green)
	}
}

// BenchmarkDemoOnce is the whole demo: a year of back-fill for the demo network and the
// full site.
func BenchmarkDemoOnce(b *testing.B) {
	for b.Loop() {
		err := Run(context.Background(), Options{
			Out: b.TempDir(), Once: true, Location: time.UTC,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// Live, the demo is the daemon of "mrtgo run" on the simulated network: it serves the
// site and /metrics, polls on its interval, records and re-renders, and reloads its
// targets file when told to.
func TestDemoLive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	reload := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Out: t.TempDir(), Listen: addr, History: 2 * 24 * time.Hour, FlowHistory: -1, Interval: 200 * time.Millisecond,
			Location: time.UTC, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Reload: reload,
		})
	}()
	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return ""
		}
		return string(b)
	}
	// The poll counter of core1 as /metrics shows it; -1 before the first cycle.
	polls := func() float64 {
		for _, line := range strings.Split(get("/metrics"), "\n") {
			if rest, ok := strings.CutPrefix(line, `mrtgo_poll_requests_total{device="core1"} `); ok {
				v, err := strconv.ParseFloat(rest, 64)
				if err == nil {
					return v
				}
			}
		}
		return -1
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !ok() {
			select {
			case err := <-done:
				t.Fatalf("demo stopped waiting for %s: %v", what, err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within a minute", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("site served", func() bool { return strings.Contains(get("/"), "core1") })
	waitFor("a daemon cycle", func() bool { return polls() > 0 })
	first := polls()
	waitFor("more cycles", func() bool { return polls() > first })
	reload <- struct{}{}
	waitFor("a reload", func() bool {
		return strings.Contains(get("/metrics"), `mrtgo_config_reloads_total{result="ok"} 1`)
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop")
	}
}
