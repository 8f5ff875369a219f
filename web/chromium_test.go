package web

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/mrtgo/mrtgo/internal/browsertest"
)

// writeTestPNGs stands in for render: a 1x and a 2x PNG for every graph
// of s, with an MRTG-ish green area and blue line.
func writeTestPNGs(t *testing.T, dir string, s Site) {
	t.Helper()
	for _, d := range s.Devices {
		for _, ifc := range d.Interfaces {
			for _, g := range ifc.Graphs {
				for _, scale := range []int{1, 2} {
					w, h := 500*scale, 135*scale
					img := image.NewNRGBA(image.Rect(0, 0, w, h))
					for y := range h {
						for x := range w {
							c := color.NRGBA{255, 255, 255, 255}
							level := h/2 + int(float64(h/4)*float64(x%97)/97)
							switch {
							case y == h-level/2:
								c = color.NRGBA{0, 0, 255, 255}
							case y > h-level/3:
								c = color.NRGBA{0, 204, 0, 255}
							}
							img.SetNRGBA(x, y, c)
						}
					}
					var buf bytes.Buffer
					if err := png.Encode(&buf, img); err != nil {
						t.Fatal(err)
					}
					if err := WriteFile(dir, GraphFile(d.Name, ifc.Name, g.Period, scale), buf.Bytes()); err != nil {
						t.Fatal(err)
					}
					if g.Flows != nil && g.Flows.Stack {
						if err := WriteFile(dir, FlowGraphFile(d.Name, ifc.Name, g.Period, scale), buf.Bytes()); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
	}
}

// TestChromium loads the index, a device page and an interface page in
// headless Chromium, from Handler over HTTP at 1x and 2x pixel density
// and from a file:// URL, and checks every image decodes, nothing is
// logged as an error, and a hostile ifAlias shows as text.
func TestChromium(t *testing.T) {
	bin := browsertest.Binary(t)
	dir := t.TempDir()
	s := sampleSite()
	if err := Write(dir, s); err != nil {
		t.Fatalf("Write: %v", err)
	}
	writeTestPNGs(t, dir, s)
	srv := httptest.NewServer(Handler(dir)) // listens on 127.0.0.1
	defer srv.Close()

	b := browsertest.Start(t, bin)
	const alias = "<script>alert(1)</script>"
	pages := []browsertest.Page{
		{Name: "index", Path: "index.html", Images: 3, Text: []string{alias, "core1", "edge 2", "No graph yet.",
			"Flow exporters", "203.0.113.9", "no device claims it"}},
		{Name: "device", Path: DevicePage("core1"), Images: 3, Text: []string{alias, `Juniper <b>MX</b> & "friends"`, "12 days, 3:04:05",
			"Flows against SNMP, last day", "out 97.0 GB by flows, 197 GB by SNMP: 0.49"}},
		{Name: "interface", Path: InterfacePage("core1", "ge-0/0/0"), Images: 5,
			Text: []string{alias, "'Daily' Graph (5 Minute Average)", "'Yearly' Graph (1 Day Average)", "95th percentile", "203 Mb/s (20.3%)",
				"Who and what, from flow records", "Top sources", "2001:db8::7", "30.0 Mb/s", "52.0%", "<b>x</b>", "tcp/443",
				"in 1.21 TB by flows, 1.23 TB by SNMP: 0.98"}},
	}
	sources := []browsertest.Source{
		{Name: "http", Base: srv.URL + "/", Scale: 1},
		{Name: "http-2x", Base: srv.URL + "/", Scale: 2},
		{Name: "file", Base: "file://" + filepath.ToSlash(dir) + "/", Scale: 1},
	}
	b.CheckSite(t, sources, pages, browsertest.ScreenshotDir(t))
	// The checks must catch a broken page: a test-only page with a missing
	// image and an inline script (which the Content-Security-Policy blocks).
	// It comes last so its errors cannot spill into another page's.
	broken := "<!DOCTYPE html><title>broken</title><link rel=\"icon\" href=\"data:,\"><img src=\"missing.png\"><script>console.error('ran')</script>"
	if err := os.WriteFile(filepath.Join(dir, "broken.html"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, errs := b.Load(t, srv.URL+"/broken.html", 1)
	if len(errs) == 0 {
		t.Errorf("broken page: no errors reported, want the 404 and the blocked script")
	}
	if len(rep.Images) != 1 || rep.Images[0].Width != 0 {
		t.Errorf("broken page: images %+v, want one undecoded image", rep.Images)
	}
	t.Logf("broken page errors, as expected: %q", errs)
}
