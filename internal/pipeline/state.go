package pipeline

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/web"
)

// stateFile, in the site directory, records what each graph was drawn from, so that
// the next process redraws only the graphs whose period moved on. Handler does not
// serve names starting with a dot.
const stateFile = ".mrtgo-graphs"

// stateVersion changes whenever the file's layout or the look of the graphs does, so
// that every graph is drawn again after an upgrade.
const stateVersion = 1

// graphID names one graph of the site.
type graphID struct {
	Series string
	Period render.Period
}

func graphKey(series string, p render.Period) graphID { return graphID{series, p} }

// drawnGraph is what a graph was drawn from and the stats shown beside it.
type drawnGraph struct {
	// Clock and Data are the start, in Unix seconds, of the period's row holding the
	// clock and the store's last update when it was drawn.
	Clock, Data int64
	Inputs      uint64 // hash of everything else drawn (speed, zone, step)
	In, Out     web.Stats
	P95Basis    string
}

// current reports whether a graph drawn as d still shows what want would.
func (d drawnGraph) current(want drawnGraph) bool {
	return d.Clock == want.Clock && d.Data == want.Data && d.Inputs == want.Inputs
}

func (d drawnGraph) graph(p render.Period) web.Graph {
	return web.Graph{Period: p.String(), Width: render.Width, Height: render.Height, In: d.In, Out: d.Out, P95Basis: d.P95Basis}
}

type drawnGraphs map[graphID]drawnGraph

type stateFileData struct {
	Version int
	Graphs  drawnGraphs
}

// inputs hashes what a graph shows besides its data.
func inputs(speed float64, loc *time.Location, step time.Duration) uint64 {
	h := fnv.New64a()
	name := "UTC"
	if loc != nil {
		name = loc.String()
	}
	fmt.Fprintf(h, "%v|%s|%d", speed, name, step)
	return h.Sum64()
}

// loadDrawn reads the state file; a missing, unreadable or outdated one means every
// graph is drawn again.
func loadDrawn(dir string, log *slog.Logger) drawnGraphs {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.Warn("read render state; drawing every graph", "err", err)
		}
		return drawnGraphs{}
	}
	var st stateFileData
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil || st.Version != stateVersion || st.Graphs == nil {
		log.Info("render state unusable; drawing every graph", "file", filepath.Join(dir, stateFile), "err", err)
		return drawnGraphs{}
	}
	return st.Graphs
}

// saveDrawn writes the state file through a temporary file and a rename.
func saveDrawn(dir string, d drawnGraphs) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(stateFileData{Version: stateVersion, Graphs: d}); err != nil {
		return fmt.Errorf("encode render state: %w", err)
	}
	return web.WriteFile(dir, stateFile, buf.Bytes())
}

// filesExist reports whether both PNGs of a graph are on disk (someone may have
// removed them since they were drawn).
func (p *Publisher) filesExist(device, iface string, period render.Period) bool {
	for _, scale := range []int{1, 2} {
		if _, err := os.Stat(filepath.Join(p.Dir, filepath.FromSlash(web.GraphFile(device, iface, period.String(), scale)))); err != nil {
			return false
		}
	}
	return true
}
