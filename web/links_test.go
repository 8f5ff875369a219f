package web

import (
	"fmt"
	"html"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var linkRE = regexp.MustCompile(`(href|src|srcset)="([^"]*)"`)

// TestLinksResolve follows every link and image reference on every page,
// of a site without events and of one with them, and checks it names a page
// Write wrote (a query, such as the events page's ?device=, aside), a PNG
// named by GraphFile or a capture file put into the site.
func TestLinksResolve(t *testing.T) {
	t.Run("plain", func(t *testing.T) { linksResolve(t, sampleSite()) })
	t.Run("events", func(t *testing.T) { linksResolve(t, eventsSite(t)) })
	t.Run("targets", func(t *testing.T) { linksResolve(t, targetSite()) })
}

func linksResolve(t *testing.T, s Site) {
	dir := t.TempDir()
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	if s.Events != nil {
		for _, c := range s.Events.Captures {
			if err := WriteFile(dir, c, []byte("pcap")); err != nil {
				t.Fatal(err)
			}
		}
	}
	pngs := map[string]bool{}
	for _, d := range s.Devices {
		for _, ifc := range d.Interfaces {
			for _, g := range ifc.Graphs {
				pngs[GraphFile(d.Name, ifc.Name, g.Period, 1)] = true
				pngs[GraphFile(d.Name, ifc.Name, g.Period, 2)] = true
				if g.Flows != nil && g.Flows.Stack {
					pngs[FlowGraphFile(d.Name, ifc.Name, g.Period, 1)] = true
					pngs[FlowGraphFile(d.Name, ifc.Name, g.Period, 2)] = true
				}
			}
		}
	}
	for _, d := range s.Devices {
		for _, tg := range d.Targets {
			for _, g := range tg.Graphs {
				pngs[TargetGraphFile(d.Name, tg.Name, g.Period, 1)] = true
				pngs[TargetGraphFile(d.Name, tg.Name, g.Period, 2)] = true
			}
		}
	}
	for _, a := range s.Aggregates {
		for _, g := range a.Graphs {
			pngs[TargetGraphFile("", a.Name, g.Period, 1)] = true
			pngs[TargetGraphFile("", a.Name, g.Period, 2)] = true
		}
	}
	seenPNG := map[string]bool{}
	for _, page := range siteFiles(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range linkRE.FindAllStringSubmatch(string(b), -1) {
			refs := []string{html.UnescapeString(m[2])}
			if m[1] == "srcset" {
				refs = nil
				for _, c := range strings.Split(html.UnescapeString(m[2]), ",") {
					refs = append(refs, strings.Fields(c)[0])
				}
			}
			for _, ref := range refs {
				if strings.HasPrefix(ref, "data:") {
					continue
				}
				if strings.Contains(ref, ":") || strings.HasPrefix(ref, "/") {
					t.Errorf("%s: %s=%q is not a relative link", page, m[1], ref)
					continue
				}
				ref, _, _ = strings.Cut(ref, "?")
				target := path.Join(path.Dir(page), ref)
				switch {
				case strings.HasSuffix(target, ".png"):
					if !pngs[target] {
						t.Errorf("%s: image %q resolves to %q, not a GraphFile", page, ref, target)
					}
					seenPNG[target] = true
				default:
					if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(target))); err != nil {
						t.Errorf("%s: link %q: %v", page, ref, err)
					}
				}
			}
		}
	}
	for p := range pngs {
		if !seenPNG[p] {
			t.Errorf("graph %s is never shown", p)
		}
	}
}

// benchSite is a site of n interfaces spread over devices of 50.
func benchSite(n int) Site {
	loc := time.FixedZone("CET", 3600)
	at := time.Date(2026, 3, 14, 15, 0, 0, 0, loc)
	s := Site{Title: "mrtgo", Generated: at, Location: loc, Refresh: 5 * time.Minute}
	for i := 0; i < n; i++ {
		if i%50 == 0 {
			s.Devices = append(s.Devices, Device{
				Name: fmt.Sprintf("sw%03d", i/50), Host: "127.0.0.1",
				Descr: "bench switch", Uptime: time.Hour, LastPoll: at, PollDuration: time.Second,
			})
		}
		d := &s.Devices[len(s.Devices)-1]
		ifc := Interface{Name: fmt.Sprintf("ge-0/0/%d", i%50), Alias: "port", Speed: 1e9, LastUpdate: at}
		for _, p := range []string{"day", "week", "month", "year"} {
			st := Stats{Max: 1e8, Average: 5e7, Current: 4e7, P95: 9e7, Total: 1e12}
			ifc.Graphs = append(ifc.Graphs, Graph{Period: p, Width: 500, Height: 135, In: st, Out: Stats{Max: math.NaN()}})
		}
		d.Interfaces = append(d.Interfaces, ifc)
	}
	return s
}

// BenchmarkWrite1000 writes a site of 1,000 interfaces whose pages all
// changed (every interface's current rate moved), as after every poll step.
func BenchmarkWrite1000(b *testing.B) {
	dir := b.TempDir()
	s := benchSite(1000)
	steady(b, func() error {
		moveRates(s)
		return Write(dir, s)
	})
	for b.Loop() {
		s.Generated = s.Generated.Add(time.Second)
		moveRates(s)
		if err := Write(dir, s); err != nil {
			b.Fatal(err)
		}
	}
}

// moveRates changes the current rate of every interface's day graph.
func moveRates(s Site) {
	for _, d := range s.Devices {
		for _, ifc := range d.Interfaces {
			ifc.Graphs[0].In.Current += 1e6
		}
	}
}

// BenchmarkWrite1000Unchanged writes the same site again: every page is
// rendered and compared, none rewritten.
func BenchmarkWrite1000Unchanged(b *testing.B) {
	dir := b.TempDir()
	s := benchSite(1000)
	if err := Write(dir, s); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := Write(dir, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPages1000 is BenchmarkWrite1000 through one Pages, as the daemon and
// Publish write: "moved" after every interface's current rate moved, "unchanged"
// after only the generation time did.
func BenchmarkPages1000(b *testing.B) {
	for _, moved := range []bool{true, false} {
		name := "unchanged"
		if moved {
			name = "moved"
		}
		b.Run(name, func(b *testing.B) {
			p := &Pages{Dir: b.TempDir()}
			s := benchSite(1000)
			steady(b, func() error {
				moveRates(s)
				return p.Write(s)
			})
			for b.Loop() {
				s.Generated = s.Generated.Add(time.Second)
				if moved {
					moveRates(s)
				}
				if err := p.Write(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
