package pipeline

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/web"
)

// DaemonDrawUpTo is the DrawUpTo of "mrtgo run": it draws every graph each step for a
// network of up to 1,000 interfaces (about 4 CPU-seconds a 5-minute step at 1,000 for
// the day graphs and the pages, and the site directory stays a complete static site),
// and above that draws a graph only when somebody asks for it, so that the cost of
// drawing follows what people look at rather than the size of the network.
const DaemonDrawUpTo = 1000

// Handler serves the site through next (web.Handler of the site directory), first
// drawing a graph that is asked for (a name web.GraphFile gives) if the store has
// newer data than its PNG on disk, or a newer clock row, or the events read by the
// last Publish mark it otherwise than it was drawn: the graph is drawn at both
// scales, as Publish would, written into the site and recorded in the render state,
// so the file on disk is the cache and next answers with its ETag (and 304 to a
// matching If-None-Match). Requests for a graph being drawn wait for that drawing
// instead of drawing it again. Anything else, and every graph before the first
// Publish, is left to next.
func (p *Publisher) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasSuffix(r.URL.Path, ".png") {
			if g, ok := p.lookupGraph(strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")); ok {
				if err := p.ensureDrawn(g); err != nil {
					p.Log.Error("draw on request", "series", g.series, "period", g.period, "err", err)
					http.Error(w, "graph not available", http.StatusInternalServerError)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// DrawnOnRequest is the number of graphs Handler has drawn.
func (p *Publisher) DrawnOnRequest() int {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return p.onRequest
}

// graphRef is a graph a file name stands for.
type graphRef struct {
	device, iface, series string
	period                render.Period
}

// graphIndex maps the stem of graph file names ("core1/ge-0_0_0") to series. It is
// built from the store's catalog, and again when a name is not in it and a Publish
// (which links the graphs of new series) has happened since: names that are not the
// site's cost no more than a map lookup.
type graphIndex struct {
	mu    sync.Mutex
	stems map[string]string
	built int // the Publish it was built after (Publisher.published)
}

// lookupGraph resolves a site path such as "core1/ge-0_0_0-day@2x.png".
func (p *Publisher) lookupGraph(rel string) (graphRef, bool) {
	stem, ok := strings.CutSuffix(rel, ".png")
	if !ok {
		return graphRef{}, false
	}
	stem, _ = strings.CutSuffix(stem, "@2x")
	dash := strings.LastIndexByte(stem, '-')
	if dash < 0 {
		return graphRef{}, false
	}
	period, err := render.ParsePeriod(stem[dash+1:])
	if err != nil {
		return graphRef{}, false
	}
	stem = stem[:dash]
	ix := &p.index
	ix.mu.Lock()
	defer ix.mu.Unlock()
	name, ok := ix.stems[stem]
	if !ok {
		p.stateMu.Lock()
		published := p.published
		p.stateMu.Unlock()
		if ix.stems != nil && ix.built == published {
			return graphRef{}, false
		}
		all, err := p.DB.Series()
		if err != nil {
			return graphRef{}, false
		}
		ix.stems, ix.built = make(map[string]string, len(all)), published
		for _, s := range all {
			if d, i, ok := series.Split(s); ok {
				ix.stems[strings.TrimSuffix(web.GraphFile(d, i, "day", 1), "-day.png")] = s
			}
		}
		if name, ok = ix.stems[stem]; !ok {
			return graphRef{}, false
		}
	}
	d, i, _ := series.Split(name)
	return graphRef{device: d, iface: i, series: name, period: period}, true
}

// ensureDrawn draws g unless its PNGs on disk are current, or waits for a drawing of
// it already under way.
func (p *Publisher) ensureDrawn(g graphRef) error {
	id := graphKey(g.series, g.period)
	for {
		p.stateMu.Lock()
		loc, published := p.loc, p.drawn != nil && p.loc != nil
		p.stateMu.Unlock()
		if !published {
			return nil
		}
		spec, last, err := p.DB.Info(g.series)
		if err != nil {
			return err
		}
		info, err := series.Interface(p.DB, g.series)
		if err != nil {
			return err
		}
		now := p.Now()
		ifc := web.Interface{Name: g.iface, Speed: info.Speed, LastUpdate: last}
		p.stateMu.Lock()
		marks := marksIn(p.marks[g.series], g.period, spec.Step, now)
		want := wantState(spec, &ifc, g.period, now, loc, marks)
		old, ok := p.drawn[id]
		if ok && old.current(want) && !old.Pending && p.onDisk(g) {
			p.stateMu.Unlock()
			return nil
		}
		if wait, busy := p.flights[id]; busy {
			p.stateMu.Unlock()
			<-wait
			continue // look again: the data may have moved on meanwhile
		}
		done := make(chan struct{})
		if p.flights == nil {
			p.flights = map[graphID]chan struct{}{}
		}
		p.flights[id] = done
		p.stateMu.Unlock()

		st, err := p.draw(g.device, &ifc, g.period, want, nil, loc, marks)

		p.stateMu.Lock()
		if err == nil {
			p.drawn[id] = st
			p.unsaved = true
			p.onRequest++
		}
		delete(p.flights, id)
		close(done)
		p.stateMu.Unlock()
		return err
	}
}

// onDisk reports whether both PNGs of g are in the site directory.
func (p *Publisher) onDisk(g graphRef) bool {
	for _, scale := range []int{1, 2} {
		if _, err := os.Stat(filepath.Join(p.Dir, filepath.FromSlash(web.GraphFile(g.device, g.iface, g.period.String(), scale)))); err != nil {
			return false
		}
	}
	return true
}
