package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/browsertest"
	"github.com/mrtgo/mrtgo/internal/daemon"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/receivertest"
	"github.com/mrtgo/mrtgo/internal/syncbuf"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// TestWebNodeDrawsFromEngine: a poller's store of ten days, sent to victoria-metrics
// as it was written; a web node with no store of its own ([remote_read], a data path
// that does not exist) draws the site from the engine. Its graphs are the poller's,
// file for file and pixel for pixel, and the pages it serves are checked in Chromium.
func TestWebNodeDrawsFromEngine(t *testing.T) {
	recv := receivertest.VictoriaMetrics(t)
	end := time.Now().UTC().Truncate(5 * time.Minute)
	db := receivertest.History(t, recv, end)
	store := db.Path()
	db.Close()
	recv.Flush()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const devices = `
[[device]]
name = "core1"
host = "127.0.0.1"
interfaces = ["xe-0/0/0", "xe-0/0/1", "ge-0/0/2"]
`
	poller := write("poller.toml", fmt.Sprintf("step = \"5m\"\ntimezone = \"UTC\"\ndata = %q\n", store)+devices)
	node := write("node.toml", fmt.Sprintf("step = \"5m\"\ntimezone = \"UTC\"\ndata = \"no-store/mrtgo.db\"\nsite = \"node-site\"\n\n[remote_read]\nurl = %q\nlabels = { site = \"ams\" }\n", recv.BaseURL)+devices)
	if code, out, errs := runCmd(t, "render", "-c", node); code != exitOK {
		t.Fatalf("render -c %s: exit %d: %s%s", node, code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "no-store")); err == nil {
		t.Error("the web node made a store")
	}
	// The graphs of both, drawn at one instant (two renders a second apart may place
	// the day graph's right edge a pixel apart).
	now := time.Now()
	for _, c := range []struct{ file, site string }{{poller, "cmp-poller"}, {node, "cmp-node"}} {
		cfg, err := config.Load(c.file)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Site = filepath.Join(dir, c.site)
		var src pipeline.Store
		if cfg.RemoteRead.URL != "" {
			if src, err = daemon.OpenRemoteRead(cfg); err != nil {
				t.Fatal(err)
			}
		} else {
			db, err := rrd.Open(cfg.Data, &rrd.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			src = db
		}
		pub := daemon.Publisher(cfg, src, slog.New(slog.DiscardHandler))
		pub.Now = func() time.Time { return now }
		if _, err := pub.Publish(context.Background()); err != nil {
			t.Fatalf("%s: %v", c.site, err)
		}
	}
	// Every graph the poller drew, the web node drew alike.
	graphs := 0
	err := filepath.WalkDir(filepath.Join(dir, "cmp-poller"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".png") {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(dir, "cmp-poller"), p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(dir, "cmp-node", rel))
		if err != nil {
			t.Errorf("web node: %v", err)
			return nil
		}
		graphs++
		// The store keeps its 30-minute and longer rows in single precision, the
		// engine has double: a line may move by a pixel here and there.
		if n, total := differingPixels(t, got, want); n*1000 > total {
			t.Errorf("%s: %d of %d pixels of the web node's graph differ from the poller's", rel, n, total)
		} else if n > 0 {
			t.Logf("%s: %d of %d pixels differ", rel, n, total)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if graphs < 3*4 {
		t.Errorf("%d graphs compared, want the day, week, month and year graphs of three interfaces", graphs)
	}

	// The web node serving, as a user meets it.
	bin := browsertest.Binary(t)
	listen := freeTCPAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "-c", node, "--listen", listen}, io.Discard, &stderr) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(get(t, "http://"+listen+"/index.html"), "core1") {
		if time.Now().After(deadline) {
			t.Fatalf("web node not serving after 30s:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	b := browsertest.Start(t, bin)
	pages := []browsertest.Page{
		{Name: "index", Path: "index.html", Images: 3, Text: []string{"core1", "xe-0/0/1"}},
		{Name: "device", Path: web.DevicePage("core1"), Images: 3, Text: []string{"link xe-0/0/0", "10 Gb/s"}},
		// Its packet and error graphs too, four each, from the engine.
		{Name: "interface", Path: web.InterfacePage("core1", "xe-0/0/0"), Images: 12, Text: []string{"link xe-0/0/0", "95th percentile"}},
	}
	b.CheckSite(t, []browsertest.Source{{Name: "http", Base: "http://" + listen + "/", Scale: 1}}, pages, browsertest.ScreenshotDir(t))
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("serve exited %d:\n%s", code, stderr.String())
	}
}

// differingPixels decodes two PNG files and counts the pixels that differ.
func differingPixels(t *testing.T, a, b []byte) (n, total int) {
	t.Helper()
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds() != ib.Bounds() {
		return ia.Bounds().Dx() * ia.Bounds().Dy(), ia.Bounds().Dx() * ia.Bounds().Dy()
	}
	r := ia.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := ia.At(x, y).RGBA()
			r2, g2, b2, a2 := ib.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				n++
			}
		}
	}
	return n, r.Dx() * r.Dy()
}
