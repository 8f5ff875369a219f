package pipeline

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mrtgo/mrtgo/events"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/web"
)

// What the site shows of the event log (Publisher.Events).
const (
	// EventsPageSpan is how far back the events page lists events: those going on
	// at some time in the last 31 days (as far as the month graph reaches, about).
	EventsPageSpan = 31 * 24 * time.Hour
	// EventsPageLimit is the most events the events page lists, the newest; the
	// page says how many older ones of its span it leaves out. A thousand rows are
	// about a megabyte of HTML.
	EventsPageLimit = 1000
	// EventsPerPage is how many of its latest events (of the page's span) a device's
	// or an interface's page lists.
	EventsPerPage = 10
)

// markedPeriods are the graphs that mark the start of the interface's events: the
// day and the week. A column of the month graph is two hours and of the year graph
// a day, where a network's scans would cover the traffic with lines; the events
// page lists the month.
var markedPeriods = map[render.Period]bool{render.Day: true, render.Week: true}

// eventReader reads the event log for Publish, and keeps what it read: a log nobody
// wrote since is not read again, and of a log written since only the lines appended
// to its newest file are parsed (a month's file is only appended to, and
// active.json, small, is replaced). A change anywhere else (a file pruned, cut or
// rewritten, or a read that reaches back into another month) reads it afresh.
type eventReader struct {
	mu     sync.Mutex
	log    *events.Log // the log read; another is read afresh
	files  []fileSig   // the monthly files read, oldest first, as far as off
	active fileSig     // active.json as read
	byID   map[uint64]events.Event
	list   []events.Event // byID and the active events, newest first
}

// fileSig is one file of the log as read: its size and modification time, and for a
// monthly file the offset after its last whole line read.
type fileSig struct {
	name  string
	size  int64
	mtime time.Time
	off   int64
}

// same reports whether a file still is as it was read.
func (f fileSig) same(g fileSig) bool {
	return f.name == g.name && f.size == g.size && f.mtime.Equal(g.mtime)
}

// read returns the events of the files that may hold events going on since from
// (events.Log.FilesFrom: from the start of from's month) and the active ones, each as
// last written, newest first (by start, then ID), as Find returns them without a
// query; the caller picks those of its time. On an error it returns the events last
// read.
func (r *eventReader) read(l *events.Log, from time.Time) ([]events.Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	last := r.list
	names, err := l.FilesFrom(from)
	if err != nil {
		return last, err
	}
	now := make([]fileSig, 0, len(names))
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(l.Dir(), n))
		if errors.Is(err, fs.ErrNotExist) {
			continue // pruned since it was listed
		}
		if err != nil {
			return last, fmt.Errorf("read event log: %w", err)
		}
		now = append(now, fileSig{name: n, size: fi.Size(), mtime: fi.ModTime()})
	}
	act, err := statSig(filepath.Join(l.Dir(), "active.json"))
	if err != nil {
		return last, err
	}
	changed := false
	if r.log != l || !r.appendedOnly(now) {
		r.log, r.files, r.byID, r.active, r.list = l, nil, map[uint64]events.Event{}, fileSig{}, nil
		changed = true
	}
	for i, f := range now {
		if i < len(r.files) {
			if f.same(r.files[i]) {
				now[i] = r.files[i] // as read, with its offset
				continue
			}
			f.off = r.files[i].off // grown: read on from there
		}
		off, err := l.ReadFrom(f.name, f.off, func(e events.Event) { r.byID[e.ID] = e })
		f.off = off
		if err != nil {
			f.size = -1 // not read whole: read on from off next time
			now[i] = f
			r.files = now[:i+1]
			return last, err
		}
		now[i] = f
		changed = true
	}
	r.files = now
	var active []events.Event
	if !act.same(r.active) || changed {
		if active, err = l.ActiveEvents(); err != nil {
			return last, err
		}
		r.active = act
		changed = true
	}
	if !changed {
		return r.list, nil
	}
	list := make([]events.Event, 0, len(r.byID)+len(active))
	for _, e := range r.byID {
		list = append(list, e)
	}
	// An event going on since before the first file read may not have been written
	// in it.
	for _, e := range active {
		if _, ok := r.byID[e.ID]; !ok {
			list = append(list, e)
		}
	}
	slices.SortFunc(list, func(a, b events.Event) int {
		return cmp.Or(b.Start.Compare(a.Start), cmp.Compare(b.ID, a.ID))
	})
	r.list = list
	return list, nil
}

// appendedOnly reports whether the monthly files now are those read, each the same
// but the last, which may have grown, followed by new ones.
func (r *eventReader) appendedOnly(now []fileSig) bool {
	if r.byID == nil || len(now) < len(r.files) {
		return false
	}
	for i, f := range r.files {
		switch g := now[i]; {
		case g.name != f.name:
			return false
		case i < len(r.files)-1 && !g.same(f):
			return false
		case g.size < f.off:
			return false // cut below what was read
		}
	}
	return true
}

// statSig is a file's signature; a missing file has a zero one.
func statSig(path string) (fileSig, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileSig{}, nil
	}
	if err != nil {
		return fileSig{}, fmt.Errorf("read event log: %w", err)
	}
	return fileSig{name: filepath.Base(path), size: fi.Size(), mtime: fi.ModTime()}, nil
}

// siteEvents is what one Publish shows of the events: the events page and the lists
// of the pages, and the marks on each interface's graphs.
type siteEvents struct {
	page    *web.Events
	devices map[string][]events.Event // by device, newest first
	ifaces  map[string][]events.Event // by series, newest first
	marks   map[string][]render.Mark  // by series, the least grave first
}

// eventsRead is how far back Publish reads the log: the events page's span, or the
// week graph's if that is longer (a step above 18 minutes 36 seconds).
func eventsRead(step time.Duration) time.Duration {
	return max(EventsPageSpan, render.Week.SpanFor(step))
}

// arrange spreads evs (newest first, as Find returns them) over the site: those
// going on since now-EventsPageSpan on the events page (the newest EventsPageLimit)
// and, EventsPerPage at most, on their device's and interface's pages; every one on
// the graphs of its interface (by series name; Publish looks up those it graphs);
// and the active ones counted.
func arrange(evs []events.Event, now time.Time) siteEvents {
	since := now.Add(-EventsPageSpan)
	se := siteEvents{
		page:    &web.Events{Since: since, Active: map[string]int{}},
		devices: map[string][]events.Event{},
		ifaces:  map[string][]events.Event{},
		marks:   map[string][]render.Mark{},
	}
	// Marks: the gravest last, so that it covers a lesser one in the same column.
	type mark struct {
		rank   int
		start  time.Time
		series string
		color  string
	}
	var marks []mark
	se.page.List = make([]events.Event, 0, min(len(evs), EventsPageLimit))
	for i := range evs {
		e := &evs[i]
		if e.State == events.Active {
			se.page.Active[e.Severity]++
		}
		name := series.Name(e.Device, e.Interface)
		if e.Device != "" && e.Interface != "" && !e.Start.After(now) {
			marks = append(marks, mark{events.SeverityRank(e.Severity), e.Start, name, web.SeverityColor(e.Severity)})
		}
		if e.End.Before(since) && e.State != events.Active {
			continue
		}
		if len(se.page.List) < EventsPageLimit {
			se.page.List = append(se.page.List, *e)
		} else {
			se.page.Omitted++
		}
		if e.Device == "" {
			continue
		}
		if len(se.devices[e.Device]) < EventsPerPage {
			se.devices[e.Device] = append(se.devices[e.Device], *e)
		}
		if e.Interface != "" && len(se.ifaces[name]) < EventsPerPage {
			se.ifaces[name] = append(se.ifaces[name], *e)
		}
	}
	slices.SortFunc(marks, func(a, b mark) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), a.start.Compare(b.start), strings.Compare(a.color, b.color))
	})
	for _, m := range marks {
		se.marks[m.series] = append(se.marks[m.series], render.Mark{Time: m.start, Color: m.color})
	}
	return se
}

// fill puts the lists on the site's devices and interfaces.
func (se siteEvents) fill(site *web.Site) {
	site.Events = se.page
	for di := range site.Devices {
		d := &site.Devices[di]
		d.Events = se.devices[d.Name]
		for ii := range d.Interfaces {
			ifc := &d.Interfaces[ii]
			ifc.Events = se.ifaces[series.Name(d.Name, ifc.Name)]
		}
	}
}

// marksIn are the marks of a graph of period drawn at now: those of marks (the
// interface's) from the start of the period's span, counted from the row holding
// now, to now. The set, and so the graph's Inputs, changes only with the row or
// with the events.
func marksIn(marks []render.Mark, period render.Period, step time.Duration, now time.Time) []render.Mark {
	if !markedPeriods[period] || len(marks) == 0 {
		return nil
	}
	from := now.Truncate(period.ResolutionFor(step)).Add(-period.SpanFor(step))
	var out []render.Mark
	for _, m := range marks {
		if m.Time.After(from) && !m.Time.After(now) {
			out = append(out, m)
		}
	}
	return out
}

// hashMarks adds marks to h, the hash of what a graph shows (see inputs): none add
// nothing.
func hashMarks(h io.Writer, marks []render.Mark) {
	for _, m := range marks {
		fmt.Fprintf(h, "|%d %s", m.Time.UnixNano(), m.Color)
	}
}

// linkCaptures puts the capture files of the events the page lists into the site
// (web.CaptureFile), each a hard link to the file in the capture directory or, where
// the site is on another file system, a copy, and removes from the site those of
// events no longer listed: the site holds no more captures than the page links. A
// capture is taken only from the directory itself (a plain name, a regular file, no
// symbolic link out of it). It returns the site path of each capture by event ID;
// what cannot be linked is logged and left without a link.
func linkCaptures(dir, site string, evs []events.Event, log *slog.Logger) map[uint64]string {
	out := map[uint64]string{}
	root, err := os.OpenRoot(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) { // none yet: nothing was captured
			log.Warn("capture directory", "dir", dir, "err", err)
		}
		return out
	}
	defer root.Close()
	inSite := filepath.Join(site, web.CapturesDir())
	keep := map[string]bool{}
	for _, e := range evs {
		name := e.Capture
		if name == "" {
			continue
		}
		if name != filepath.Base(name) || !filepath.IsLocal(name) {
			log.Warn("capture not in the capture directory", "event", e.ID, "capture", name)
			continue
		}
		rel := web.CaptureFile(name)
		base := filepath.Base(filepath.FromSlash(rel))
		if err := linkCapture(root, dir, name, inSite, base); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				log.Warn("put capture into the site", "event", e.ID, "capture", name, "err", err)
			}
			continue
		}
		keep[base] = true
		out[e.ID] = rel
	}
	ents, err := os.ReadDir(inSite)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("list the site's captures", "err", err)
	}
	for _, e := range ents {
		if !keep[e.Name()] {
			if err := os.Remove(filepath.Join(inSite, e.Name())); err != nil {
				log.Warn("remove a capture no longer listed", "file", e.Name(), "err", err)
			}
		}
	}
	return out
}

// linkCapture makes inSite/base the capture name of the capture directory dir
// (open as root), unless it already is: the same file (a hard link), or a copy of
// its size and modification time. A missing capture is fs.ErrNotExist.
func linkCapture(root *os.Root, dir, name, inSite, base string) error {
	src, err := root.Lstat(name)
	if err != nil {
		return err
	}
	if !src.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", name)
	}
	dst := filepath.Join(inSite, base)
	if cur, err := os.Lstat(dst); err == nil && cur.Mode().IsRegular() &&
		(os.SameFile(src, cur) || cur.Size() == src.Size() && cur.ModTime().Equal(src.ModTime())) {
		return nil
	}
	if err := os.MkdirAll(inSite, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(inSite, "."+base+".tmp")
	os.Remove(tmp)
	// A hard link costs nothing and follows a capture still being written; it is
	// taken only if it is the file looked at (link does not follow a symbolic link
	// put there since).
	if err := os.Link(filepath.Join(dir, name), tmp); err == nil {
		if fi, err := os.Lstat(tmp); err == nil && os.SameFile(src, fi) {
			return os.Rename(tmp, dst)
		}
		os.Remove(tmp)
	}
	return copyCapture(root, name, tmp, dst)
}

// copyCapture copies the capture name of root to tmp, gives it the capture's
// modification time and renames it to dst.
func copyCapture(root *os.Root, name, tmp, dst string) error {
	in, err := root.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", name)
	}
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(tmp, fi.ModTime(), fi.ModTime())
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("copy %s: %w", name, err)
	}
	return nil
}
