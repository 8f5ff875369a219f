package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/browsertest"
	"github.com/mrtgo/mrtgo/internal/daemon"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/receivertest"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/internal/syncbuf"
	"github.com/mrtgo/mrtgo/internal/testsnmpd"
	"github.com/mrtgo/mrtgo/promread"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// TestWebNodeTargetPages: a poller ("mrtgo run", one-second steps) reads targets from
// a real snmpd — its memory (the memory preset, a gauge of two values), its process
// count (a gauge of one value) and lo's octets as a counter shown in bits per minute
// — sums them in aggregates (of the memory target and itself swapped; of lo, in
// bits/s) and writes to a real engine. A web node with the same targets file and no
// store of its own draws the target and aggregate pages from the engine: every graph
// is the poller's, pixel for pixel but for a rare one, the numbers on the pages are
// the poller's, and Chromium opens the web node's pages.
func TestWebNodeTargetPages(t *testing.T) {
	t.Parallel() // most of it is waiting for the next second
	agent := testsnmpd.Start(t, "webnode-targets", "")
	for i, start := range []func(testing.TB) *receivertest.Receiver{receivertest.VictoriaMetrics, receivertest.Prometheus} {
		recv := start(t)
		t.Run(recv.Kind, func(t *testing.T) {
			dir := t.TempDir()
			body := fmt.Sprintf(`
[snmp]
community = %q
port = %d

[[device]]
name = "srv"
host = "127.0.0.1"
interfaces = ["lo"]
speed = { lo = "100G" }

[[device.target]]
name = "mem"
preset = "memory"

[[device.target]]
name = "procs"
oids = ["1.3.6.1.2.1.25.1.6.0"]
kind = "gauge"
unit = "procs"
max = 100000

[[device.target]]
name = "lo-octets"
oids = ["1.3.6.1.2.1.31.1.1.1.6.1", "1.3.6.1.2.1.31.1.1.1.10.1"]
factor = 8
per = "minute"
unit = "b"
legend_in = "received"
legend_out = "sent"

[[aggregate]]
name = "mem-both"
sum = ["srv:mem", "-srv:mem"]

[[aggregate]]
name = "loop"
sum = ["srv/lo"]
`, agent.Community, agent.Port)
			write := func(name, text string) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			head := "step = \"1s\"\ntimezone = \"UTC\"\n"
			poller := write("poller.toml", head+"data = \"poller/mrtgo.db\"\nsite = \"poller-site\"\n"+
				fmt.Sprintf("\n[remote_write]\nurl = %q\nflush_timeout = \"5s\"\nlabels = { poller = \"p1\" }\n", recv.WriteURL)+body)
			node := write("node.toml", head+"data = \"no-store/mrtgo.db\"\nsite = \"node-site\"\n"+
				fmt.Sprintf("\n[remote_read]\nurl = %q\nlabels = { poller = \"p1\" }\n", recv.BaseURL)+body)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stderr syncbuf.Buffer
			done := make(chan int, 1)
			pollerListen := freeTCPAddr(t)
			go func() { done <- run(ctx, []string{"run", "-c", poller, "--listen", pollerListen}, io.Discard, &stderr) }()
			deadline := time.Now().Add(90 * time.Second)
			for strings.Count(stderr.String(), "cycle done") < 20 {
				if time.Now().After(deadline) {
					t.Fatalf("fewer than 20 cycles in 90s:\n%s", stderr.String())
				}
				select {
				case code := <-done:
					t.Fatalf("run exited early with %d:\n%s", code, stderr.String())
				case <-time.After(100 * time.Millisecond):
				}
			}
			cancel()
			if code := <-done; code != exitOK {
				t.Fatalf("run exited %d:\n%s", code, stderr.String())
			}
			recv.Flush()

			// Both sites drawn at one instant, just after the poller's last sample (as a
			// web node draws a step after the pollers), each from its own source.
			pcfg, err := config.Load(poller)
			if err != nil {
				t.Fatal(err)
			}
			db, err := rrd.Open(pcfg.Data, &rrd.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			targets := pipeline.TargetsOf(pcfg).RemoteTargets(pcfg.Step, series.Archives(pcfg.Step, pcfg.Retention))
			var last time.Time
			for name := range targets {
				_, l, err := db.Info(name)
				if err != nil {
					t.Fatalf("the poller's store: %v", err)
				}
				if l.After(last) {
					last = l
				}
			}
			now := last.Add(200 * time.Millisecond)
			// A web node draws a while after the pollers sent (serve: a tenth of a step
			// after the boundary; with five-minute steps, 30 s). victoria-metrics answers
			// a range whose last point is within about a second of its clock with the
			// sample before for that point, so the engine is asked a few seconds on.
			time.Sleep(time.Until(now.Add(3 * time.Second)))
			for _, c := range []struct {
				file string
				src  pipeline.Store
			}{{poller, db}, {node, nil}} {
				cfg, err := config.Load(c.file)
				if err != nil {
					t.Fatal(err)
				}
				if c.src == nil {
					// The web node's source as OpenRemoteRead makes it (serve below reads
					// through that), on the clock of this drawing.
					c.src, err = promread.New(promread.Options{URL: cfg.RemoteRead.URL, Step: cfg.Step, Retention: cfg.Retention,
						Labels: cfg.RemoteRead.Labels, Targets: pipeline.TargetsOf(cfg), Now: func() time.Time { return now }})
					if err != nil {
						t.Fatal(err)
					}
				}
				pub := daemon.Publisher(cfg, c.src, slog.New(slog.DiscardHandler))
				pub.Now = func() time.Time { return now }
				if _, err := pub.Publish(context.Background()); err != nil {
					t.Fatalf("publish from %s: %v", c.file, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "no-store")); err == nil {
				t.Error("the web node made a store")
			}
			graphs, pages := 0, 0
			for name := range targets {
				dev, _, tname, _ := series.Parse(name)
				for _, period := range []string{"day", "week", "month", "year"} {
					for _, scale := range []int{1, 2} {
						f := web.TargetGraphFile(dev, tname, period, scale)
						want, err := os.ReadFile(filepath.Join(dir, "poller-site", f))
						if err != nil {
							t.Fatalf("the poller's graph: %v", err)
						}
						got, err := os.ReadFile(filepath.Join(dir, "node-site", f))
						if err != nil {
							t.Errorf("the web node's graph: %v", err)
							continue
						}
						graphs++
						if n, total := differingPixels(t, got, want); n*1000 > total {
							t.Errorf("%s: %d of %d pixels of the web node's graph differ from the poller's", f, n, total)
						} else if n > 0 {
							t.Logf("%s: %d of %d pixels differ", f, n, total)
						}
					}
				}
				page := web.TargetPage(dev, tname)
				want, err := os.ReadFile(filepath.Join(dir, "poller-site", page))
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(filepath.Join(dir, "node-site", page))
				if err != nil {
					t.Errorf("the web node's page: %v", err)
					continue
				}
				pages++
				sameStats(t, page, targets[name].Unit, string(got), string(want))
			}
			if graphs != 5*4*2 || pages != 5 {
				t.Errorf("%d graphs and %d pages compared, want the 8 graphs and the page of each of 3 targets and 2 aggregates", graphs, pages)
			}
			if i > 0 {
				return // the pages in Chromium once
			}
			// serve draws its own site, from its own source (OpenRemoteRead's).
			if err := os.RemoveAll(filepath.Join(dir, "node-site")); err != nil {
				t.Fatal(err)
			}
			listen := freeTCPAddr(t)
			sctx, scancel := context.WithCancel(context.Background())
			defer scancel()
			var serr syncbuf.Buffer
			served := make(chan int, 1)
			go func() { served <- run(sctx, []string{"serve", "-c", node, "--listen", listen}, io.Discard, &serr) }()
			aggPage := web.TargetPage("", "mem-both")
			deadline = time.Now().Add(30 * time.Second)
			for !strings.Contains(get(t, "http://"+listen+"/"+aggPage), "Sum of") {
				if time.Now().After(deadline) {
					t.Fatalf("web node not serving the aggregate's page after 30s:\n%s", serr.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			b := browsertest.Start(t, browsertest.Binary(t))
			b.CheckSite(t, []browsertest.Source{{Name: "http", Base: "http://" + listen + "/", Scale: 1}, {Name: "http2x", Base: "http://" + listen + "/", Scale: 2}},
				[]browsertest.Page{
					{Name: "target", Path: web.TargetPage("srv", "lo-octets"), Images: 4, Text: []string{"lo-octets", "rate per minute, in b", "received", "sent"}},
					{Name: "aggregate", Path: aggPage, Images: 4, Text: []string{"mem-both", "Sum of", "srv:mem", "-srv:mem"}},
				}, browsertest.ScreenshotDir(t))
			scancel()
			if code := <-served; code != exitOK {
				t.Errorf("serve exited %d:\n%s", code, serr.String())
			}
		})
	}
}

// statsCell is a cell of a target's statistics table.
var statsCell = regexp.MustCompile(`<td>([^<]*)</td>`)

// sameStats compares the statistics tables of a target's page drawn from the engine
// (got) with the poller's (want), cell by cell. The poller's store keeps its rows in
// single precision, the engine has double: a number may differ in its last shown
// digit ("42" and "42.00" are the same number), no more.
func sameStats(t *testing.T, page, unit, got, want string) {
	t.Helper()
	tables := func(s string) []string {
		var cells []string
		for _, tb := range strings.Split(s, `<table class="stats">`)[1:] {
			tb, _, _ = strings.Cut(tb, "</table>")
			for _, m := range statsCell.FindAllStringSubmatch(tb, -1) {
				cells = append(cells, m[1])
			}
		}
		return cells
	}
	g, w := tables(got), tables(want)
	if len(g) != len(w) || len(w) == 0 {
		t.Errorf("%s: %d statistics from the engine, %d from the poller's store", page, len(g), len(w))
		return
	}
	for i := range w {
		if g[i] == w[i] {
			continue
		}
		gv, gok := statsNumber(g[i], unit)
		wv, wok := statsNumber(w[i], unit)
		if !gok || !wok || math.Abs(gv-wv) > 0.01*math.Abs(wv)+0.01 {
			t.Errorf("%s: statistic %d is %q from the engine, %q from the poller's store", page, i, g[i], w[i])
		}
	}
}

// statsNumber reads a number as the pages write it ("1.25 kb", "-3", "42 procs (0.04%)").
func statsNumber(s, unit string) (float64, bool) {
	s, _, _ = strings.Cut(s, " (")
	num, suffix, _ := strings.Cut(s, " ")
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !strings.HasSuffix(suffix, unit) {
		return 0, false
	}
	mult := map[string]float64{"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}[strings.TrimSuffix(suffix, unit)]
	return v * mult, mult != 0
}
