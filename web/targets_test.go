package web

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/browsertest"
)

func targetSite() Site {
	gen := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	graphs := func(in, out Stats) []Graph {
		var gs []Graph
		for _, p := range []string{"day", "week", "month", "year"} {
			gs = append(gs, Graph{Period: p, Width: 500, Height: 135, In: in, Out: out})
		}
		return gs
	}
	return Site{
		Title: "mrtgo", Generated: gen,
		Devices: []Device{{
			Name: "srv1", Host: "192.0.2.9", LastPoll: gen,
			Targets: []Target{
				{Name: "cpu", Title: "CPU load", Unit: "%", KMG: []string{""}, YLegend: "busy %",
					LegendIn: "all processors", Max: 100, Status: "up", LastUpdate: gen,
					Graphs: graphs(Stats{Max: 97.5, Average: 12.25, Current: 8}, Stats{Max: math.NaN(), Average: math.NaN(), Current: math.NaN()})},
				{Name: "mem", Title: "Memory", Unit: "B", LegendIn: "used", LegendOut: "total", HasOut: true,
					Status: "up", LastUpdate: gen,
					Graphs: graphs(Stats{Max: 2.5e9, Average: 2.1e9, Current: 2.2e9}, Stats{Max: 8e9, Average: 8e9, Current: 8e9})},
				{Name: "mails", Unit: "msg", Rate: "per minute", HasOut: true, Status: "no data", LastUpdate: gen,
					Graphs: graphs(Stats{Max: 1500, Average: 120, Current: math.NaN()}, Stats{Max: 3, Average: 0.5, Current: math.NaN()})},
			},
		}},
		Aggregates: []Target{{Name: "customer-a", Unit: "b/s", HasOut: true, Rate: "per second", Status: "up", LastUpdate: gen,
			Members: []Member{{Text: "srv1/eth0", Device: "srv1", Interface: "eth0"}, {Text: "-srv1:mails", Device: "srv1", Target: "mails"}},
			Graphs:  graphs(Stats{Max: 1.5e9, Average: 2e8, Current: 1e8}, Stats{Max: 2e7, Average: 1e6, Current: 5e5})}},
	}
}

// A device of targets only, and an aggregate: the index lists the aggregate in its
// own section and the device's targets, the device page lists them, and each has a
// page of its graphs with its numbers in its own unit.
func TestWriteTargetsGolden(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, targetSite()); err != nil {
		t.Fatal(err)
	}
	got := siteFiles(t, dir)
	want := []string{"=aggregate/customer-a.html", "index.html", "srv1/=t-cpu.html", "srv1/=t-mails.html", "srv1/=t-mem.html", "srv1/index.html"}
	if !slices.Equal(got, want) {
		t.Fatalf("files = %q, want %q", got, want)
	}
	for _, rel := range []string{"srv1/=t-cpu.html", "srv1/=t-mem.html", "=aggregate/customer-a.html"} {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		golden := goldenName("targets/" + rel)
		if *update {
			if err := os.WriteFile(golden, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("read golden (regenerate with go test ./web -update): %v", err)
		}
		if string(b) != string(want) {
			kept := keepPage(t, rel, b)
			t.Errorf("%s differs from %s; kept as %s:\n%s", rel, golden, kept, firstDiff(string(b), string(want)))
		}
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	index, device, cpu, mails := read("index.html"), read("srv1/index.html"), read("srv1/=t-cpu.html"), read("srv1/=t-mails.html")
	for _, w := range []string{`<h2>Aggregates</h2>`, `href="=aggregate/customer-a.html"`, `href="srv1/=t-cpu.html"`, `src="srv1/=t-mem-day.png"`} {
		if !strings.Contains(index, w) {
			t.Errorf("index lacks %s", w)
		}
	}
	for _, w := range []string{`<h2>Targets</h2>`, `<a href="=t-cpu.html">cpu</a></td><td>CPU load</td><td>up</td><td>8 %</td>`, `<td>2.20 GB</td><td>8 GB</td>`} {
		if !strings.Contains(device, w) {
			t.Errorf("device page lacks %s", w)
		}
	}
	if strings.Contains(device, "No interfaces.") {
		t.Error("a device of targets only says it has no interfaces")
	}
	// Values in the unit and share of max, not bits/s; gauges have no rate.
	for _, w := range []string{"<td>97.5 % (97.5%)</td>", "value, in %", `src="=t-cpu-week.png"`} {
		if !strings.Contains(cpu, w) {
			t.Errorf("cpu page lacks %s", w)
		}
	}
	if strings.Contains(cpu, "b/s") || strings.Contains(cpu, "total") {
		t.Error("cpu page shows bits or an out value it has not")
	}
	if !strings.Contains(mails, "<td>1.50 kmsg</td>") || !strings.Contains(mails, "rate per minute") {
		t.Errorf("mails page lacks its rate per minute with kMG:\n%s", mails)
	}
}

func TestFormatKMG(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		unit string
		kmg  []string
		want string
	}{
		{12.26, "%", []string{""}, "12.3 %"},
		{123456, "%", []string{""}, "123456 %"},
		{2.5e9, "B", nil, "2.50 GB"},
		{0.15, "", nil, "0.15"},
		{1500, "", []string{"", "k"}, "1.50 k"},
		{-3, "°C", nil, "-3 °C"},
		{math.NaN(), "%", nil, unknown},
	} {
		if got := formatKMG(tt.v, tt.unit, tt.kmg); got != tt.want {
			t.Errorf("formatKMG(%v, %q, %q) = %q, want %q", tt.v, tt.unit, tt.kmg, got, tt.want)
		}
	}
}

// The pages of targets and aggregates in headless Chromium, over HTTP at 1x and 2x and
// from a file:// URL: every image decodes, nothing is logged as an error, and the
// numbers show in their units.
func TestChromiumTargets(t *testing.T) {
	bin := browsertest.Binary(t)
	dir := t.TempDir()
	s := targetSite()
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	var pngs []string
	for _, d := range s.Devices {
		for _, tg := range d.Targets {
			for _, g := range tg.Graphs {
				pngs = append(pngs, TargetGraphFile(d.Name, tg.Name, g.Period, 1), TargetGraphFile(d.Name, tg.Name, g.Period, 2))
			}
		}
	}
	for _, g := range s.Aggregates[0].Graphs {
		pngs = append(pngs, TargetGraphFile("", "customer-a", g.Period, 1), TargetGraphFile("", "customer-a", g.Period, 2))
	}
	for _, f := range pngs {
		scale := 1
		if strings.Contains(f, "@2x") {
			scale = 2
		}
		img := image.NewNRGBA(image.Rect(0, 0, 500*scale, 135*scale))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(dir, f, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(Handler(dir)) // listens on 127.0.0.1
	defer srv.Close()
	b := browsertest.Start(t, bin)
	pages := []browsertest.Page{
		{Name: "index", Path: "index.html", Images: 4, Text: []string{"Aggregates", "customer-a", "CPU load"}},
		{Name: "device", Path: DevicePage("srv1"), Images: 3, Text: []string{"Targets", "8 %", "2.20 GB", "8 GB"}},
		{Name: "target", Path: TargetPage("srv1", "cpu"), Images: 4, Text: []string{"CPU load", "97.5 % (97.5%)", "value, in %", "all processors"}},
		{Name: "aggregate", Path: TargetPage("", "customer-a"), Images: 4, Text: []string{"Sum of", "-srv1:mails", "1.50 Gb/s"}},
	}
	sources := []browsertest.Source{
		{Name: "http", Base: srv.URL + "/", Scale: 1},
		{Name: "http-2x", Base: srv.URL + "/", Scale: 2},
		{Name: "file", Base: "file://" + filepath.ToSlash(dir) + "/", Scale: 1},
	}
	b.CheckSite(t, sources, pages, browsertest.ScreenshotDir(t))
}
