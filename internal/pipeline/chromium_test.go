package pipeline

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/browsertest"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/web"
)

// TestSiteInChromium builds a real site (Recorder into the store, Publisher out of it,
// with a hostile ifAlias and a gap) and loads the index, the device page and an
// interface page in headless Chromium over HTTP at 1x and 2x and from a file:// URL:
// every image decodes at the density asked for, nothing logs an error, the alias is
// shown as text, and a screenshot of each page is saved (in MRTGO_SCREENSHOT_DIR if set).
func TestSiteInChromium(t *testing.T) {
	bin := browsertest.Binary(t)
	const alias = "<script>alert(1)</script>"
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, map[string]string{"core1": "192.0.2.1"}, quiet)
	end := time.Date(2026, 3, 29, 16, 0, 0, 0, time.UTC) // the day Berlin's clocks went forward
	ifaces := []string{"ge-0/0/0", "xe-1/0/0"}
	counters := map[string][2]uint64{}
	var rs []poller.Result
	for ti := end.Add(-3 * 24 * time.Hour); !ti.After(end); ti = ti.Add(step) {
		if ti.After(end.Add(-5*time.Hour)) && ti.Before(end.Add(-4*time.Hour)) {
			continue // an hour without answers: a gap
		}
		var ss []poller.Sample
		for _, ifc := range ifaces {
			in, out := rhythm(ifc, ti)
			c := counters[ifc]
			c[0] += uint64(in * step.Seconds())
			c[1] += uint64(out * step.Seconds())
			counters[ifc] = c
			s := sample("core1", ifc, ti, c[0], c[1], 1e9)
			s.Alias = alias
			ss = append(ss, s)
		}
		rs = append(rs, poller.Result{Device: "core1", Samples: ss, Duration: 120 * time.Millisecond, Requests: 2, Uptime: 40 * 24 * time.Hour})
	}
	if err := rec.Record(rs); err != nil {
		t.Fatal(err)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub := &Publisher{DB: db, Dir: dir, Location: berlin, Step: step, Log: quiet, Now: func() time.Time { return end.Add(30 * time.Second) }}
	if _, err := pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler(dir))
	defer srv.Close()
	b := browsertest.Start(t, bin)
	pages := []browsertest.Page{
		{Name: "index", Path: "index.html", Images: 2, Text: []string{alias, "core1", "ge-0/0/0"}},
		{Name: "device", Path: web.DevicePage("core1"), Images: 2, Text: []string{alias, "40 days, 0:00:00", "Last success", "120 ms"}},
		{Name: "interface", Path: web.InterfacePage("core1", "ge-0/0/0"), Images: 4,
			Text: []string{alias, "95th percentile of 5-minute averages", "'Yearly' Graph (1 Day Average)", "1 Gb/s"}},
	}
	sources := []browsertest.Source{
		{Name: "http", Base: srv.URL + "/", Scale: 1},
		{Name: "http-2x", Base: srv.URL + "/", Scale: 2},
		{Name: "file", Base: "file://" + filepath.ToSlash(dir) + "/", Scale: 1},
	}
	b.CheckSite(t, sources, pages, browsertest.ScreenshotDir(t))
}
