package web

import (
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

// counterSite is a device with an interface that is oper down and polls packets and
// errors, and one shut down (admin down) that is gone from the device.
func counterSite() Site {
	loc := time.FixedZone("CET", 3600)
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, loc)
	graphs := func(scale float64) []Graph {
		var gs []Graph
		for _, p := range []string{"day", "week", "month", "year"} {
			gs = append(gs, Graph{Period: p, Width: 500, Height: 135,
				In:       Stats{Max: 81.2e3 * scale, Average: 12.3e3 * scale, Current: 9.87e3 * scale, P95: 45.6e3 * scale, Total: 1.23e9 * scale},
				Out:      Stats{Max: 4.5e3 * scale, Average: 1.2e3 * scale, Current: math.NaN(), P95: 3.3e3 * scale, Total: 9.8e7 * scale},
				P95Basis: "of 5-minute averages over " + p})
		}
		return gs
	}
	return Site{
		Title: "mrtgo", Generated: at.Add(30 * time.Second), Location: loc,
		Devices: []Device{{
			Name: "sw1", Host: "192.0.2.9", LastPoll: at, LastSuccess: at,
			Interfaces: []Interface{
				{Name: "ge-1", Descr: "ge-1", Status: "up", Speed: 1e9, LastUpdate: at, Graphs: graphs(1e3), Admin: 1, Oper: 2,
					Counters: []CounterGraphs{{Kind: CounterPackets, Graphs: graphs(1)}, {Kind: CounterErrors, Graphs: graphs(1e-3)}}},
				{Name: "ge-2", Descr: "ge-2", Alias: "old <uplink>", Speed: 1e9, LastUpdate: at.Add(-2 * time.Hour), Graphs: graphs(1e3),
					Admin: 2, Oper: 2, Gone: at.Add(-time.Hour)},
			},
		}},
	}
}

// The pages of counter groups, interface states and a gone interface, against their
// golden files (go test ./web -update rewrites them).
func TestWriteGoldenCounters(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, counterSite()); err != nil {
		t.Fatal(err)
	}
	got := siteFiles(t, dir)
	if want := []string{"index.html", "sw1/ge-1.html", "sw1/ge-2.html", "sw1/index.html"}; !slices.Equal(got, want) {
		t.Fatalf("files %q, want %q: the gone interface keeps its page", got, want)
	}
	for _, rel := range got {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		golden := goldenName("counters/" + rel)
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
	index, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if strings.Contains(string(index), "ge-2") {
		t.Error("the index shows the gone interface among the active ones")
	}
	dev, _ := os.ReadFile(filepath.Join(dir, "sw1/index.html"))
	if _, inactive, _ := strings.Cut(string(dev), "<h2>Inactive interfaces</h2>"); !strings.Contains(inactive, `<a href="ge-2.html">ge-2</a>`) {
		t.Error("the device page does not list ge-2 as inactive")
	}
}

// The counter graphs, the states and the inactive section in headless Chromium: every
// image decodes at MRTG's size and density, the texts show, nothing is logged.
func TestChromiumCounters(t *testing.T) {
	bin := browsertest.Binary(t)
	dir := t.TempDir()
	s := counterSite()
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	writeTestPNGs(t, dir, s)
	for _, d := range s.Devices {
		for _, ifc := range d.Interfaces {
			for _, c := range ifc.Counters {
				for _, g := range c.Graphs {
					for _, scale := range []int{1, 2} {
						b, err := os.ReadFile(filepath.Join(dir, GraphFile(d.Name, ifc.Name, g.Period, scale)))
						if err != nil {
							t.Fatal(err)
						}
						if err := WriteFile(dir, CounterGraphFile(d.Name, ifc.Name, c.Kind, g.Period, scale), b); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
	}
	srv := httptest.NewServer(Handler(dir))
	defer srv.Close()
	b := browsertest.Start(t, bin)
	pages := []browsertest.Page{
		{Name: "index", Path: "index.html", Images: 1, Text: []string{"ge-1", "oper down"}},
		{Name: "device", Path: DevicePage("sw1"), Images: 1, Text: []string{"oper down", "Inactive interfaces", "old <uplink>",
			"gone since 2026-03-14 14:09:26 CET"}},
		{Name: "counters", Path: InterfacePage("sw1", "ge-1"), Images: 12, Text: []string{"oper down",
			"Packets: 'Daily' Graph (5 Minute Average)", "Errors and discards: 'Yearly' Graph (1 Day Average)", "81.2 kpkt/s", "9.87 err/s"}},
		{Name: "gone", Path: InterfacePage("sw1", "ge-2"), Images: 4, Text: []string{"admin down", "gone since 2026-03-14 14:09:26 CET"}},
	}
	sources := []browsertest.Source{
		{Name: "http", Base: srv.URL + "/", Scale: 1},
		{Name: "http-2x", Base: srv.URL + "/", Scale: 2},
		{Name: "file", Base: "file://" + filepath.ToSlash(dir) + "/", Scale: 1},
	}
	b.CheckSite(t, sources, pages, browsertest.ScreenshotDir(t))
}
