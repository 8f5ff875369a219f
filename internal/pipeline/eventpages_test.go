package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/events"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/web"
)

// render's plot at scale 1: rateup's 400 columns from column 81, 100 rows from
// row 14.
const (
	plotLeft  = 81
	plotWidth = 400
	plotTop   = 14
	plotRows  = 100
)

// markColumns returns the columns of the plot of a PNG at scale 1 that hold col on
// most of the plot's height: the marks of that colour.
func markColumns(t *testing.T, file, col string) []int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var want color.RGBA
	fmt.Sscanf(col, "#%02x%02x%02x", &want.R, &want.G, &want.B)
	want.A = 0xff
	var cols []int
	for x := plotLeft; x < plotLeft+plotWidth; x++ {
		n := 0
		for y := plotTop; y < plotTop+plotRows; y++ {
			if color.RGBAModel.Convert(img.At(x, y)) == want {
				n++
			}
		}
		if n > plotRows*9/10 {
			cols = append(cols, x)
		}
	}
	return cols
}

// dayColumn is the column of the day graph drawn at now that holds t: the graph
// ends at the start of the row holding now (graphEnd).
func dayColumn(t, now time.Time, step time.Duration) int {
	span := render.Day.SpanFor(step)
	end := now.Truncate(render.Day.ResolutionFor(step))
	return plotLeft + int(float64(t.Sub(end.Add(-span)))/float64(span)*plotWidth)
}

// modTimes returns the modification time of each file of a site but the render state.
func modTimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") { // the render state, spares
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = fi.ModTime()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ddos is a flood on r1's ge-0/0/0 that began at start.
func ddos(start time.Time, sev string) events.Event {
	return events.Event{Kind: "ddos-udp", Severity: sev, State: events.Active, Start: start, End: start.Add(5 * time.Minute),
		Device: "r1", Interface: "ge-0/0/0", Sources: []netip.Addr{netip.MustParseAddr("198.51.100.1")}, SourceCount: 300,
		Targets: []netip.Addr{netip.MustParseAddr("192.0.2.7")}, TargetCount: 1, Proto: 17, PPS: 50000, BPS: 4e8,
		Evidence: []events.Evidence{{Measure: "pps", Value: 50000, Threshold: 10000}}, BPF: "udp and dst host 192.0.2.7"}
}

// A new event of an interface draws that interface's day and week graphs again, with
// a line of its severity's colour in the column where it began, and rewrites the pages
// that list it; an unchanged log draws nothing and rewrites nothing; an event that
// ends changes the pages, not the graphs; one that escalates changes its colour; a
// fresh publisher (the next cron run) knows the marks drawn.
func TestPublishEvents(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	ifaces := []string{"ge-0/0/0", "ge-0/0/1"}
	counters := map[string][2]uint64{}
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	history(t, rec, "r1", ifaces, t0.Add(-2*24*time.Hour), t0, step, counters, steady)

	now := t0.Add(10 * time.Second)
	clock := func() time.Time { return now }
	logDir := t.TempDir()
	w, err := events.Open(logDir, events.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := events.Open(logDir, events.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	newPub := func() *Publisher {
		return &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: clock, Events: r}
	}
	pub := newPub()
	publish := func(p *Publisher, what string, want int) {
		t.Helper()
		st, err := p.Publish(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if st.Drawn != want {
			t.Errorf("%s: drew %d graphs, want %d", what, st.Drawn, want)
		}
	}
	read := func(rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// rewritten checks which files changed since before.
	rewritten := func(what string, before map[string]time.Time, want ...string) {
		t.Helper()
		after := modTimes(t, dir)
		var got []string
		for f, m := range after {
			if !m.Equal(before[f]) {
				got = append(got, f)
			}
		}
		for _, f := range want {
			if !after[f].After(before[f]) && !before[f].IsZero() {
				t.Errorf("%s: %s not rewritten", what, f)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: rewrote %q, want %q", what, got, want)
		}
	}
	// Files are rewritten within the same second: age them, so that a rewrite shows.
	age := func() map[string]time.Time {
		t.Helper()
		old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		for f := range modTimes(t, dir) {
			if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(f)), old, old); err != nil {
				t.Fatal(err)
			}
		}
		return modTimes(t, dir)
	}

	publish(pub, "first publish, no events", 8)
	if p := read(web.EventsPage); !strings.Contains(p, "<p>No events.</p>") {
		t.Errorf("events page of an empty log:\n%s", p)
	}
	if !strings.Contains(read("index.html"), `<a class="navev" href="events.html">Events</a>`) {
		t.Errorf("index does not link the events page")
	}
	before := age()
	publish(pub, "unchanged log", 0)
	rewritten("unchanged log", before)

	// A critical flood on ge-0/0/0, an hour ago.
	began := t0.Add(-time.Hour)
	flood := ddos(began, events.Critical)
	if err := w.Put(&flood); err != nil {
		t.Fatal(err)
	}
	before = age()
	publish(pub, "a new event", 2) // ge-0/0/0's day and week
	rewritten("a new event", before, web.EventsPage, "index.html", web.DevicePage("r1"), web.InterfacePage("r1", "ge-0/0/0"),
		web.GraphFile("r1", "ge-0/0/0", "day", 1), web.GraphFile("r1", "ge-0/0/0", "day", 2),
		web.GraphFile("r1", "ge-0/0/0", "week", 1), web.GraphFile("r1", "ge-0/0/0", "week", 2))
	crit := web.SeverityColor(events.Critical)
	day := filepath.Join(dir, web.GraphFile("r1", "ge-0/0/0", "day", 1))
	if got, want := markColumns(t, day, crit), dayColumn(began, now, step); len(got) != 1 || got[0] != want {
		t.Errorf("day graph: columns %v of the critical colour, want %d", got, want)
	}
	if got := markColumns(t, filepath.Join(dir, web.GraphFile("r1", "ge-0/0/0", "week", 1)), crit); len(got) != 1 {
		t.Errorf("week graph: columns %v of the critical colour, want one", got)
	}
	for _, f := range []string{web.GraphFile("r1", "ge-0/0/0", "month", 1), web.GraphFile("r1", "ge-0/0/1", "day", 1)} {
		if got := markColumns(t, filepath.Join(dir, f), crit); len(got) != 0 {
			t.Errorf("%s: columns %v of the critical colour, want none", f, got)
		}
	}
	page := read(web.InterfacePage("r1", "ge-0/0/0"))
	for _, want := range []string{"198.51.100.1 and 299 more → 192.0.2.7", `<tr class="sev-critical active"`,
		"The vertical line marks where an event of this interface began", `href="../events.html?device=r1"`} {
		if !strings.Contains(page, want) {
			t.Errorf("interface page lacks %q", want)
		}
	}
	if !strings.Contains(read("index.html"), `<span class="sev">1 critical</span>`) {
		t.Errorf("index does not count the event going on")
	}
	if strings.Contains(read(web.InterfacePage("r1", "ge-0/0/1")), "<h2>Events</h2>") {
		t.Errorf("ge-0/0/1's page lists ge-0/0/0's event")
	}

	before = age()
	publish(pub, "unchanged log again", 0)
	rewritten("unchanged log again", before)

	// It ends: the pages say so; the graphs mark the same start in the same colour.
	flood.State, flood.End = events.Ended, t0.Add(-30*time.Minute)
	if err := w.Put(&flood); err != nil {
		t.Fatal(err)
	}
	before = age()
	publish(pub, "the event ended", 0)
	rewritten("the event ended", before, web.EventsPage, "index.html", web.DevicePage("r1"), web.InterfacePage("r1", "ge-0/0/0"))
	if strings.Contains(read("index.html"), "Events going on") {
		t.Errorf("index counts an event that ended")
	}

	// A graver colour: drawn again. The least grave event in the same column
	// (a warning a minute later) is covered by it.
	flood.Severity = events.Major
	warn := ddos(began.Add(time.Minute), events.Warning)
	warn.Targets = []netip.Addr{netip.MustParseAddr("192.0.2.8")}
	if err := w.Put(&flood, &warn); err != nil {
		t.Fatal(err)
	}
	publish(pub, "another colour", 2)
	if got := markColumns(t, day, web.SeverityColor(events.Major)); len(got) != 1 || got[0] != dayColumn(began, now, step) {
		t.Errorf("day graph: columns %v of the major colour, want %d", got, dayColumn(began, now, step))
	}
	if got := markColumns(t, day, crit); len(got) != 0 {
		t.Errorf("day graph: the critical colour is still drawn at %v", got)
	}
	if !strings.Contains(read(web.InterfacePage("r1", "ge-0/0/0")), "The vertical lines mark where 2 events of this interface began") {
		t.Errorf("interface page does not explain two marks")
	}

	// A new step draws the day graphs again, with the mark; a fresh publisher (the
	// next cron run) knows what was drawn.
	now = now.Add(step)
	history(t, rec, "r1", ifaces, t0, t0.Add(step), step, counters, steady)
	publish(pub, "one new step", 2)
	if got := markColumns(t, day, web.SeverityColor(events.Major)); len(got) != 1 || got[0] != dayColumn(began, now, step) {
		t.Errorf("day graph after a step: columns %v of the major colour, want %d", got, dayColumn(began, now, step))
	}
	publish(newPub(), "fresh publisher", 0)

	// Without the log the graphs lose their marks and the pages their events.
	plain := newPub()
	plain.Events = nil
	publish(plain, "no event log", 2) // ge-0/0/0's day and week, in a fresh publisher
	if _, err := os.Stat(filepath.Join(dir, web.EventsPage)); err != nil {
		t.Errorf("the events page of an earlier publish is gone: %v", err)
	}
	for _, rel := range []string{"index.html", web.InterfacePage("r1", "ge-0/0/0")} {
		if p := read(rel); strings.Contains(p, "events.html") || strings.Contains(p, "Events") {
			t.Errorf("%s mentions events without an event log", rel)
		}
	}
	if got := markColumns(t, day, web.SeverityColor(events.Major)); len(got) != 0 {
		t.Errorf("day graph without events: columns %v of the major colour", got)
	}
}

// The reader reads the log only when its files changed, and then only what was
// appended to them, and gives what a fresh reader (one that reads the log whole) gives
// through every way a log changes: new events, updated ones, a new month, a torn
// line, a month pruned.
func TestEventReaderIncremental(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	w, err := events.Open(dir, events.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := events.Open(dir, events.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var rd eventReader
	from := func() time.Time { return now.Add(-EventsPageSpan) }
	key := func(es []events.Event) string {
		var b strings.Builder
		for _, e := range es {
			fmt.Fprintf(&b, "%d %s %s %s|", e.ID, e.Severity, e.State, e.Start.Format(time.RFC3339))
		}
		return b.String()
	}
	check := func(what string, want int) []events.Event {
		t.Helper()
		got, err := rd.read(r, from())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var fresh eventReader
		all, err := fresh.read(r, from())
		if err != nil {
			t.Fatal(err)
		}
		if key(got) != key(all) || len(got) != want {
			t.Errorf("%s: read %d events %s, a fresh reader %s, want %d", what, len(got), key(got), key(all), want)
		}
		for _, f := range rd.files {
			if f.off != f.size {
				t.Errorf("%s: %s read to %d of %d bytes", what, f.name, f.off, f.size)
			}
		}
		return got
	}
	put := func(es ...*events.Event) {
		t.Helper()
		if err := w.Put(es...); err != nil {
			t.Fatal(err)
		}
	}
	check("empty log", 0)
	a := ddos(now.Add(-time.Hour), events.Warning)
	put(&a)
	first := check("one event", 1)
	if again := check("unchanged", 1); &again[0] != &first[0] {
		t.Errorf("an unchanged log was read again")
	}
	a.Severity, a.State = events.Critical, events.Ended
	b := ddos(now.Add(-30*time.Minute), events.Major)
	b.Targets = []netip.Addr{netip.MustParseAddr("192.0.2.8")}
	put(&a, &b)
	got := check("an update and a new event", 2)
	if got[1].ID != a.ID || got[1].Severity != events.Critical || got[1].State != events.Ended {
		t.Errorf("the update is not read: %+v", got[1])
	}
	// A torn line (a writer that crashed mid-line) is not read, nor is the offset
	// moved past it.
	month := filepath.Join(dir, "2026-11.jsonl")
	f, err := os.OpenFile(month, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":99,"kind":"ddos-udp","sta`)
	f.Close()
	if _, err := rd.read(r, from()); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(month); rd.files[0].off >= fi.Size() {
		t.Errorf("read past a torn line: offset %d of %d", rd.files[0].off, fi.Size())
	}
	// The writer opens the log again (it cuts the torn line) and goes on.
	w.Close()
	if w, err = events.Open(dir, events.Options{Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	c := ddos(now.Add(-10*time.Minute), events.Warning)
	c.Targets = []netip.Addr{netip.MustParseAddr("192.0.2.9")}
	put(&c)
	check("after a torn line was cut", 3)
	// A new month: b goes on in it.
	now = now.AddDate(0, 1, 0)
	b.End = now
	put(&b)
	check("a new month", 3)
	// Two months on, the first month's file is out of reach; b and c are still
	// active.
	now = now.AddDate(0, 1, 0)
	check("the first month out of reach", 2)
	// A file pruned and the log written afresh.
	if err := os.Remove(filepath.Join(dir, "2026-12.jsonl")); err != nil {
		t.Fatal(err)
	}
	d := ddos(now.Add(-time.Minute), events.Info)
	put(&d)
	check("a file pruned", 3) // b and c, active (from active.json), and d
}

// The capture of an event on the events page is put into the site (a hard link to the
// file in the capture directory) and linked; a capture that is not a plain file of
// that directory is not; the captures of events no longer listed leave the site.
func TestPublishCaptures(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	history(t, rec, "r1", []string{"ge-0/0/0"}, t0.Add(-2*time.Hour), t0, step, map[string][2]uint64{}, steady)

	captures := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.pcap")
	for name, body := range map[string]string{"flood.pcap": "pcap of the flood", outside: "not for the site"} {
		if !filepath.IsAbs(name) {
			name = filepath.Join(captures, name)
		}
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(captures, "link.pcap")); err != nil {
		t.Fatal(err)
	}
	var clockNs atomic.Int64
	clockNs.Store(t0.Add(10 * time.Second).UnixNano())
	clock := func() time.Time { return time.Unix(0, clockNs.Load()).UTC() }
	logDir := t.TempDir()
	w, err := events.Open(logDir, events.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var evs []events.Event
	for _, c := range []string{"flood.pcap", "link.pcap", "../" + filepath.Base(outside), "missing.pcap", ""} {
		e := ddos(t0.Add(-time.Hour), events.Major)
		e.State, e.Capture = events.Ended, c
		e.Targets = []netip.Addr{netip.AddrFrom4([4]byte{192, 0, 2, byte(len(evs) + 1)})}
		evs = append(evs, e)
	}
	for i := range evs {
		if err := w.Put(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	r, err := events.Open(logDir, events.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub := &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: clock, Events: r, Captures: captures}
	if _, err := pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := readSite(t, filepath.Join(dir, web.CapturesDir()))
	if len(got) != 1 || got["flood.pcap"] != "pcap of the flood" {
		t.Errorf("captures in the site: %q, want flood.pcap alone", got)
	}
	src, _ := os.Stat(filepath.Join(captures, "flood.pcap"))
	if dst, err := os.Stat(filepath.Join(dir, web.CaptureFile("flood.pcap"))); err != nil || !os.SameFile(src, dst) {
		t.Errorf("flood.pcap in the site is not a hard link of the capture (%v)", err)
	}
	page, err := os.ReadFile(filepath.Join(dir, web.EventsPage))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), `download>pcap</a>`); n != 1 || !strings.Contains(string(page), `<a href="captures/flood.pcap" download>pcap</a>`) {
		t.Errorf("events page has %d capture links, want the one to captures/flood.pcap", n)
	}
	// Served by the site's handler, as "mrtgo serve" and "mrtgo run" serve it.
	srv := httptest.NewServer(web.Handler(dir))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/" + web.CaptureFile("flood.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "pcap of the flood" {
		t.Errorf("GET the capture: %d %q", resp.StatusCode, body)
	}

	// Two months on, the events have left the page, and their captures the site.
	clockNs.Store(t0.AddDate(0, 2, 0).UnixNano())
	if _, err := pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := readSite(t, filepath.Join(dir, web.CapturesDir())); len(got) != 0 {
		t.Errorf("captures of events no longer listed stay in the site: %q", got)
	}
	if _, err := os.Stat(filepath.Join(captures, "flood.pcap")); err != nil {
		t.Errorf("the capture directory lost its file: %v", err)
	}
}

// Where the site is on another file system, a capture is copied, with its time.
func TestCopyCapture(t *testing.T) {
	captures, site := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(captures, "a.pcap"), []byte("packets"), 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(captures, "a.pcap"), at, at); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(captures)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	dst := filepath.Join(site, "a.pcap")
	if err := copyCapture(root, "a.pcap", filepath.Join(site, ".a.pcap.tmp"), dst); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dst)
	b, _ := os.ReadFile(dst)
	if err != nil || string(b) != "packets" || !fi.ModTime().Equal(at) {
		t.Errorf("copy %q, %v, %v", b, fi, err)
	}
	src, _ := os.Stat(filepath.Join(captures, "a.pcap"))
	if os.SameFile(src, fi) {
		t.Errorf("a copy is the same file")
	}
	// A copy of the same size and time is current: linkCapture leaves it.
	if err := linkCapture(root, captures, "a.pcap", site, "a.pcap"); err != nil {
		t.Fatal(err)
	}
	if fi2, _ := os.Stat(dst); !os.SameFile(fi, fi2) {
		t.Errorf("a current copy was replaced")
	}
}

// A site too large to draw every graph each step draws a graph with the marks of the
// last Publish when somebody asks for it.
func TestHandlerDrawsMarks(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	history(t, rec, "r1", []string{"ge-0/0/0", "ge-0/0/1"}, t0.Add(-2*24*time.Hour), t0, step, map[string][2]uint64{}, steady)
	now := t0.Add(10 * time.Second)
	clock := func() time.Time { return now }
	logDir := t.TempDir()
	w, err := events.Open(logDir, events.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := events.Open(logDir, events.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub := &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: clock, Events: r, DrawUpTo: 1}
	if _, err := pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(pub.Handler(web.Handler(dir)))
	defer srv.Close()
	get := func(rel string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/" + rel)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", rel, resp.StatusCode)
		}
	}
	rel := web.GraphFile("r1", "ge-0/0/0", "day", 1)
	get(rel)
	if pub.DrawnOnRequest() != 1 {
		t.Fatalf("%d graphs drawn on request, want 1", pub.DrawnOnRequest())
	}
	began := t0.Add(-3 * time.Hour)
	e := ddos(began, events.Critical)
	if err := w.Put(&e); err != nil {
		t.Fatal(err)
	}
	// Before a Publish has read it the graph is current; after, it is drawn again.
	get(rel)
	if pub.DrawnOnRequest() != 1 {
		t.Errorf("drawn again before a Publish read the event")
	}
	st, err := pub.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Summarized != 2 {
		t.Errorf("Publish after a new event summarized %d graphs, want ge-0/0/0's day and week", st.Summarized)
	}
	get(rel)
	if pub.DrawnOnRequest() != 2 {
		t.Errorf("%d graphs drawn on request after the event, want 2", pub.DrawnOnRequest())
	}
	if got, want := markColumns(t, filepath.Join(dir, rel), web.SeverityColor(events.Critical)), dayColumn(began, now, step); len(got) != 1 || got[0] != want {
		t.Errorf("graph drawn on request: columns %v of the critical colour, want %d", got, want)
	}
}

// BenchmarkEvents measures what Publish spends on the event log of n events, each
// written three times (began, updated, ended) over the last month: reading it whole
// (a fresh process), reading it again unchanged (its files looked at), reading it
// after a line was appended (the daemon's usual step: that line parsed, the list
// sorted again), and arranging the events over a site of 1,000 interfaces.
func BenchmarkEvents(b *testing.B) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	site := web.Site{}
	for d := range 20 {
		dev := web.Device{Name: fmt.Sprintf("sw%02d", d)}
		for i := range 50 {
			dev.Interfaces = append(dev.Interfaces, web.Interface{Name: fmt.Sprintf("ge-0/0/%d", i)})
		}
		site.Devices = append(site.Devices, dev)
	}
	for _, n := range []int{1000, 10000} {
		dir := b.TempDir()
		at := now.Add(-30 * 24 * time.Hour)
		w, err := events.Open(dir, events.Options{Now: func() time.Time { return at }})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			at = now.Add(-30 * 24 * time.Hour).Add(time.Duration(i) * (30 * 24 * time.Hour / time.Duration(n)))
			e := ddos(at, events.Warning)
			e.Device, e.Interface = fmt.Sprintf("sw%02d", i%20), fmt.Sprintf("ge-0/0/%d", i%50)
			e.Targets = []netip.Addr{netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})}
			if err := w.Put(&e); err != nil {
				b.Fatal(err)
			}
			e.Severity = events.Major
			if err := w.Put(&e); err != nil {
				b.Fatal(err)
			}
			e.State = events.Ended
			if err := w.Put(&e); err != nil {
				b.Fatal(err)
			}
		}
		w.Close()
		r, err := events.Open(dir, events.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		from := now.Add(-eventsRead(5 * time.Minute))
		b.Run(fmt.Sprintf("changed/events=%d", n), func(b *testing.B) {
			for b.Loop() {
				var rd eventReader // nothing read yet: the whole log is parsed
				if evs, err := rd.read(r, from); err != nil || len(evs) != n {
					b.Fatalf("%d events, %v", len(evs), err)
				}
			}
		})
		var rd eventReader
		evs, err := rd.read(r, from)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("unchanged/events=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := rd.read(r, from); err != nil {
					b.Fatal(err)
				}
			}
		})
		// Before anything is appended, so that the size is n in every run.
		b.Run(fmt.Sprintf("arrange/events=%d", len(evs)), func(b *testing.B) {
			for b.Loop() {
				s := site
				arrange(evs, now).fill(&s)
			}
		})
		// The daemon's usual step: a line appended to the month's file.
		month := filepath.Join(dir, "2026-11.jsonl")
		next := uint64(n)
		b.Run(fmt.Sprintf("appended/events=%d", n), func(b *testing.B) {
			for b.Loop() {
				next++
				e := ddos(now.Add(-time.Minute), events.Warning)
				e.ID, e.State = next, events.Ended
				line, err := json.Marshal(e)
				if err != nil {
					b.Fatal(err)
				}
				f, err := os.OpenFile(month, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				f.Write(append(line, '\n'))
				f.Close()
				if evs, err := rd.read(r, from); err != nil || len(evs) != int(next) {
					b.Fatalf("%d events, %v", len(evs), err)
				}
			}
		})
	}
}
