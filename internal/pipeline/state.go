package pipeline

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path"
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
// that every graph is drawn again after an upgrade. Version 1 was encoding/gob, whose
// package set-up alone cost every mrtgo process (a cron poll included) about a
// millisecond; version 2 had no Pending; version 3's day graphs had the in rate's
// Holt-Winters band only; version 4's graphs ended at the clock, not at the start of
// its row (graphEnd).
const stateVersion = 5

// stateMagic begins the state file.
const stateMagic = "mrtgo-graphs"

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
	Inputs      uint64 // hash of everything else drawn (speed, zone, step, marks)
	In, Out     web.Stats
	P95Basis    string
	// Pending says the numbers are current but the PNGs on disk are older (see
	// Publisher.DrawUpTo): a Publish that draws draws them, and a daemon that
	// restarts does not summarize them again.
	Pending bool
	// Band says the graph shows a Holt-Winters confidence band, which its page
	// explains.
	Band bool
}

// current reports whether a graph drawn as d still shows what want would.
func (d drawnGraph) current(want drawnGraph) bool {
	return d.Clock == want.Clock && d.Data == want.Data && d.Inputs == want.Inputs
}

func (d drawnGraph) graph(p render.Period) web.Graph {
	return web.Graph{Period: p.String(), Width: render.Width, Height: render.Height, In: d.In, Out: d.Out, P95Basis: d.P95Basis, Band: d.Band}
}

type drawnGraphs map[graphID]drawnGraph

// encode lays d out as stateMagic, the version and the number of graphs (uvarints),
// then per graph: series (uvarint length and bytes), period (uvarint), Clock and Data
// (varints), Inputs (8 bytes), In and Out (five float64 each, 8 bytes), P95Basis
// (uvarint length and bytes) and flags (uvarint: flagPending). Integers are
// little-endian.
func (d drawnGraphs) encode() []byte {
	b := make([]byte, 0, 16+len(d)*128)
	b = append(b, stateMagic...)
	b = binary.AppendUvarint(b, stateVersion)
	b = binary.AppendUvarint(b, uint64(len(d)))
	for id, g := range d {
		b = binary.AppendUvarint(b, uint64(len(id.Series)))
		b = append(b, id.Series...)
		b = binary.AppendUvarint(b, uint64(id.Period))
		b = binary.AppendVarint(b, g.Clock)
		b = binary.AppendVarint(b, g.Data)
		b = binary.LittleEndian.AppendUint64(b, g.Inputs)
		for _, st := range []web.Stats{g.In, g.Out} {
			for _, f := range []float64{st.Max, st.Average, st.Current, st.P95, st.Total} {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
			}
		}
		b = binary.AppendUvarint(b, uint64(len(g.P95Basis)))
		b = append(b, g.P95Basis...)
		var flags uint64
		if g.Pending {
			flags |= flagPending
		}
		if g.Band {
			flags |= flagBand
		}
		b = binary.AppendUvarint(b, flags)
	}
	return b
}

// flagPending marks a Pending graph in the state file's flags, flagBand one with a
// Holt-Winters band.
const (
	flagPending = 1
	flagBand    = 2
)

// errState is a state file that is not one this version wrote.
var errState = errors.New("not a render state of this version")

// decodeDrawn reads what encode wrote; anything else is errState.
func decodeDrawn(b []byte) (drawnGraphs, error) {
	r := stateReader{b: b}
	if !bytes.HasPrefix(b, []byte(stateMagic)) {
		return nil, errState
	}
	r.b = r.b[len(stateMagic):]
	if r.uvarint() != stateVersion {
		return nil, errState
	}
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) { // every graph takes more than a byte
		return nil, errState
	}
	d := make(drawnGraphs, n)
	for range n {
		var id graphID
		var g drawnGraph
		id.Series = r.str()
		id.Period = render.Period(r.uvarint())
		g.Clock, g.Data = r.varint(), r.varint()
		g.Inputs = r.uint64()
		for _, st := range []*web.Stats{&g.In, &g.Out} {
			for _, f := range []*float64{&st.Max, &st.Average, &st.Current, &st.P95, &st.Total} {
				*f = math.Float64frombits(r.uint64())
			}
		}
		g.P95Basis = r.str()
		flags := r.uvarint()
		g.Pending, g.Band = flags&flagPending != 0, flags&flagBand != 0
		if r.bad || flags&^(flagPending|flagBand) != 0 {
			return nil, errState
		}
		d[id] = g
	}
	if len(r.b) != 0 {
		return nil, errState
	}
	return d, nil
}

// stateReader takes values off the front of b; bad is set at the first that is not
// there whole.
type stateReader struct {
	b   []byte
	bad bool
}

func (r *stateReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *stateReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *stateReader) uint64() uint64 {
	if len(r.b) < 8 {
		r.bad, r.b = true, nil
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *stateReader) str() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// inputs hashes what a graph shows besides its data: the speed, the zone, the step
// and the marks of events (none hash as before there were marks).
func inputs(speed float64, loc *time.Location, step time.Duration, marks []render.Mark) uint64 {
	h := fnv.New64a()
	name := "UTC"
	if loc != nil {
		name = loc.String()
	}
	fmt.Fprintf(h, "%v|%s|%d", speed, name, step)
	hashMarks(h, marks)
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
	d, err := decodeDrawn(b)
	if err != nil {
		log.Info("render state unusable; drawing every graph", "file", filepath.Join(dir, stateFile), "err", err)
		return drawnGraphs{}
	}
	return d
}

// saveDrawn writes the state file through a temporary file and a rename.
func saveDrawn(dir string, d drawnGraphs) error {
	return web.WriteFile(dir, stateFile, d.encode())
}

// filesExist reports whether both PNGs of a graph are on disk (someone may have
// removed them since they were drawn).
func (p *Publisher) filesExist(device, iface string, period render.Period) bool {
	for _, scale := range []int{1, 2} {
		if !p.files.has(web.GraphFile(device, iface, period.String(), scale)) {
			return false
		}
	}
	return true
}

// siteFiles answers whether files of the site exist from one listing of each
// directory asked about, where a stat per graph would cost a system call for
// each of a site's thousands of PNGs every Publish. A listing is taken once per
// Publish, before any graph of it is drawn.
type siteFiles struct {
	dir   string
	lists map[string]map[string]bool // by directory (slash-separated, relative)
}

func (f *siteFiles) has(rel string) bool {
	dir, base := path.Split(rel)
	names, ok := f.lists[dir]
	if !ok {
		names = map[string]bool{}
		entries, _ := os.ReadDir(filepath.Join(f.dir, filepath.FromSlash(dir)))
		for _, e := range entries {
			if e.Type().IsRegular() {
				names[e.Name()] = true
			}
		}
		if f.lists == nil {
			f.lists = map[string]map[string]bool{}
		}
		f.lists[dir] = names
	}
	return names[base]
}
