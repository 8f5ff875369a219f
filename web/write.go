package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"hash/maphash"
	"html/template"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed templates/style.css
var styleCSS string

// eventsCSS styles what the pages show of events; only a site with events has it,
// so that the pages of one without are as they were.
//
//go:embed templates/events.css
var eventsCSS string

// parseTemplates parses the embedded page templates. Each page template
// is cloned from the shared layout so their names do not clash.
func parseTemplates() (map[string]*template.Template, error) {
	base, err := template.ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"index", "device", "interface", "events", "target"} {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("clone layout: %w", err)
		}
		t, err = t.ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse %s template: %w", name, err)
		}
		pages[name] = t.Lookup(name + ".html")
	}
	return pages, nil
}

// contentSecurityPolicy allows nothing but the site's own images, its
// embedded style sheets and the events page's one script (each by its hash), so
// text that slipped past escaping still could not run. It is sent by Handler;
// file:// readers rely on escaping alone.
func contentSecurityPolicy() string {
	return "default-src 'none'; img-src 'self' data:; style-src " + hashSource(styleCSS) + " " + hashSource(eventsCSS) +
		"; script-src " + hashSource(eventsJS) + "; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
}

// hashSource is a Content-Security-Policy source that allows the inline style or
// script whose text is s.
func hashSource(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// Page data handed to the templates: every value already formatted, so the
// templates only place and escape strings.
type (
	crumb struct{ Name, Href string }

	page struct {
		Title       string
		Site        string
		Refresh     int // seconds; 0 = no refresh
		RefreshText string
		Style       template.CSS
		Generated   string
		Crumbs      []crumb

		Devices   []deviceView // index
		Device    *deviceView  // device and interface pages
		Interface *ifaceView   // interface page
		Target    *targetView  // target page
		// Aggregates are the index's section of sums (targets.go).
		Aggregates []targetView
		Exporters  []exporterView

		// A site with events: their style, the link to the events page (on every
		// page but that one), the index's count of those going on and the events
		// page itself.
		EventsStyle template.CSS
		EventsHref  string
		Active      []activeView
		Events      *eventsView
	}

	deviceView struct {
		Name, Host, Descr, Href        string
		Uptime, LastPoll, PollDuration string
		LastSuccess, Requests, Retries string
		PollError                      string
		Missing                        []string
		Interfaces                     []ifaceView
		Inactive                       []ifaceView // gone from the device; their history kept
		Targets                        []targetView
		Flows                          *deviceFlowsView
		Events                         eventTable // its latest events (device and interface pages)
		EventsHref                     string     // the events page showing its events
	}

	ifaceView struct {
		Name, Descr, Alias, Status, Href string
		Speed, LastUpdate, InNow, OutNow string
		Alerts                           []string
		AboveSpeed                       string // refused rates, explained; empty = none
		Day                              *graphView
		Graphs                           []graphView
		Events                           eventTable // its latest events (its own page)
		State, Gone                      string     // "admin down", "oper down"; "gone since ..."
		Counters                         []counterView
	}

	graphView struct {
		Title, Alt, Link string
		Src, Srcset      string
		P95Basis         string
		Band             bool
		Width, Height    int
		StatsTable       template.HTML // In and Out: see statsTable; interface pages only
		Flows            *flowsView    // interface pages only
		MarksNote        string        // explains the marks of events; interface pages only
	}

	statsRow struct {
		Class, Label string
		Rates        []rateCell // Max, Average, Current, 95th percentile
		Total        string
	}

	rateCell struct{ Value, Pct string }
)

// view builds the page data shared by all pages of s.
func view(s Site, css string) page {
	p := page{
		Title:     s.Title,
		Site:      s.Title,
		Style:     template.CSS(css),
		Generated: formatTime(s.Generated, location(s)),
	}
	if p.Site == "" {
		p.Site = "mrtgo"
		p.Title = "mrtgo"
	}
	if s.Refresh > 0 {
		secs := int((s.Refresh + time.Second - 1) / time.Second)
		p.Refresh = secs
		p.RefreshText = formatInterval(s.Refresh)
	}
	return p
}

func location(s Site) *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// linker turns a path relative to the site root into one relative to the
// page being written, so links also work from file:// URLs.
type linker func(rootPath string) string

func fromRoot(p string) string { return p }

// fromDevice links from a page in device's directory.
func fromDevice(device string) linker {
	dir := deviceDir(device) + "/"
	return func(p string) string {
		if rest, ok := strings.CutPrefix(p, dir); ok {
			return rest
		}
		return "../" + p
	}
}

func deviceData(d Device, loc *time.Location, link linker) deviceView {
	return deviceDataAt(d, time.Time{}, loc, link)
}

// deviceDataAt is deviceData with its flow overview, as of now.
func deviceDataAt(d Device, now time.Time, loc *time.Location, link linker) deviceView {
	dv := deviceView{
		Name:         d.Name,
		Host:         d.Host,
		Descr:        d.Descr,
		Href:         link(DevicePage(d.Name)),
		Uptime:       formatUptime(d.Uptime),
		LastPoll:     formatTime(d.LastPoll, loc),
		PollDuration: formatDuration(d.PollDuration),
		LastSuccess:  formatTime(d.LastSuccess, loc),
		Requests:     formatCount(d.Requests, !d.LastPoll.IsZero()),
		Retries:      formatCount(d.Retries, !d.LastPoll.IsZero()),
		PollError:    d.PollError,
		Missing:      d.Missing,
		Flows:        deviceFlowsData(d.Name, d.Flows, now, loc, link),
	}
	for _, ifc := range d.Interfaces {
		if !ifc.Gone.IsZero() {
			dv.Inactive = append(dv.Inactive, ifaceData(d.Name, ifc, loc, link))
			continue
		}
		dv.Interfaces = append(dv.Interfaces, ifaceData(d.Name, ifc, loc, link))
	}
	for _, t := range d.Targets {
		dv.Targets = append(dv.Targets, targetData(d.Name, t, loc, link, false, nil))
	}
	return dv
}

func ifaceData(device string, ifc Interface, loc *time.Location, link linker) ifaceView {
	iv := ifaceView{
		Name:       ifc.Name,
		Descr:      ifc.Descr,
		Alias:      ifc.Alias,
		Status:     ifc.Status,
		Href:       link(InterfacePage(device, ifc.Name)),
		Speed:      formatSpeed(ifc.Speed),
		LastUpdate: formatTime(ifc.LastUpdate, loc),
		InNow:      unknown,
		OutNow:     unknown,
		State:      stateText(ifc),
		Gone:       goneText(ifc.Gone, loc),
	}
	for _, a := range ifc.Alerts {
		iv.Alerts = append(iv.Alerts, a.String())
	}
	if in, out := ifc.AboveSpeed[0], ifc.AboveSpeed[1]; in+out > 0 {
		iv.AboveSpeed = fmt.Sprintf("%d steps in and %d out were faster than %s and are stored as unknown (the last ended %s)",
			in, out, iv.Speed, formatTime(ifc.AboveSpeedLast, loc))
	}
	for _, g := range ifc.Graphs {
		if g.Period == "day" {
			day := graphData(device, ifc, g, link, false)
			iv.Day = &day
			iv.InNow = formatBits(g.In.Current)
			iv.OutNow = formatBits(g.Out.Current)
			break
		}
	}
	return iv
}

// ifacePage is an interface as its own page shows it: ifaceData with every graph
// and its numbers, which the lists of the index and device pages leave out (at
// 100,000 interfaces, formatting them for the index cost more than its template).
func ifacePage(device string, ifc Interface, loc *time.Location, link linker) ifaceView {
	iv := ifaceData(device, ifc, loc, link)
	iv.Graphs = make([]graphView, len(ifc.Graphs))
	for i, g := range ifc.Graphs {
		iv.Graphs[i] = graphData(device, ifc, g, link, true)
		if g.Period == "day" && iv.Day != nil {
			iv.Day = &iv.Graphs[i]
		}
	}
	iv.Counters = counterData(device, ifc, link)
	return iv
}

// graphData is a graph's image, and with stats its numbers as a table.
func graphData(device string, ifc Interface, g Graph, link linker, stats bool) graphView {
	title := g.Title
	if title == "" {
		title = PeriodTitle(g.Period)
	}
	src := link(GraphFile(device, ifc.Name, g.Period, 1))
	src2 := link(GraphFile(device, ifc.Name, g.Period, 2))
	gv := graphView{
		Title:    title,
		Alt:      title + " for " + ifc.Name + " on " + device,
		Link:     link(InterfacePage(device, ifc.Name)),
		Src:      src,
		Srcset:   src + " 1x, " + src2 + " 2x",
		P95Basis: g.P95Basis,
		Band:     g.Band,
		Width:    g.Width,
		Height:   g.Height,
	}
	if stats {
		gv.StatsTable = statsTable([]statsRow{
			statsData("in", "In", g.In, ifc.Speed),
			statsData("out", "Out", g.Out, ifc.Speed),
		})
		gv.Flows = flowsData(device, ifc.Name, g.Period, g.Flows, link)
		gv.MarksNote = marksNote(g.Marks)
	}
	return gv
}

// statsTable writes the stats table of a graph as html/template would from
//
//	<table class="stats">
//	<tr><th></th><th>Max</th>…<th>Total</th></tr>
//	{{- range .}}
//	<tr class="{{.Class}}"><td><span class="key"></span>{{.Label}}</td>
//	{{- range .Rates}}<td>{{.Value}}{{if .Pct}} <span class="pct">({{.Pct}})</span>{{end}}</td>{{end -}}
//	<td>{{.Total}}</td></tr>
//	{{- end}}
//	</table>
//
// (TestStatsTable holds the two together): the table is most of an interface
// page's fields, and a template spends a reflective call on escaping each one,
// which made it the largest cost of writing a large site's pages.
func statsTable(rows []statsRow) template.HTML {
	var b strings.Builder
	b.Grow(512)
	b.WriteString("<table class=\"stats\">\n<tr><th></th><th>Max</th><th>Average</th><th>Current</th><th>95th percentile</th><th>Total</th></tr>")
	for _, r := range rows {
		b.WriteString("\n<tr class=\"")
		escapeText(&b, r.Class)
		b.WriteString("\"><td><span class=\"key\"></span>")
		escapeText(&b, r.Label)
		b.WriteString("</td>")
		for _, c := range r.Rates {
			b.WriteString("<td>")
			escapeText(&b, c.Value)
			if c.Pct != "" {
				b.WriteString(" <span class=\"pct\">(")
				escapeText(&b, c.Pct)
				b.WriteString(")</span>")
			}
			b.WriteString("</td>")
		}
		b.WriteString("<td>")
		escapeText(&b, r.Total)
		b.WriteString("</td></tr>")
	}
	b.WriteString("\n</table>")
	return template.HTML(b.String())
}

// escapeText escapes s as html/template does text and quoted attribute values.
func escapeText(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case 0:
			rep = "\uFFFD"
		case '"':
			rep = "&#34;"
		case '&':
			rep = "&amp;"
		case '\'':
			rep = "&#39;"
		case '+':
			rep = "&#43;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(rep)
		last = i + 1
	}
	b.WriteString(s[last:])
}

func statsData(class, label string, st Stats, speed float64) statsRow {
	cell := func(v float64) rateCell { return rateCell{formatBits(v), formatPercent(v, speed)} }
	return statsRow{
		Class: class,
		Label: label,
		Rates: []rateCell{cell(st.Max), cell(st.Average), cell(st.Current), cell(st.P95)},
		Total: formatBytes(st.Total),
	}
}

// Write writes the site for s into dir: index.html, DevicePage for every
// device and InterfacePage for every interface. Each file is written to a
// temporary name and renamed, so a reader never sees half a page; a file
// whose content is unchanged, apart from the time it was generated, is left
// alone, keeping its modification time (and so Handler's ETag) stable. Pages
// of devices or interfaces no longer in s are not removed. Two devices, or
// two interfaces of one device, with the same name are an error.
//
// Write compares each page with the file on disk; Pages, which remembers
// what it wrote, spares a process that writes the site again and again the
// reading back.
func Write(dir string, s Site) error {
	return (&Pages{Dir: dir}).Write(s)
}

// Pages writes the site into Dir again and again (every step of a daemon),
// as Write does, remembering a digest of each page it wrote without its
// "Generated" stamp: a page whose digest did not change is neither rendered
// to disk nor read back, so it keeps the stamp of when its content last
// changed; a page whose digest changed is written without reading the old
// one (and a page removed behind its back comes back when its content next
// changes). The zero value, with Dir set, is ready; Write may not be called
// concurrently with itself.
type Pages struct {
	Dir string

	mu   sync.Mutex
	seed maphash.Seed
	sums map[string]uint64 // by page (as rel), digest of its content as last written
}

// generatedMark stands for the generation time while a page is rendered, so
// that its digest leaves the time out. The footer is the page's last text,
// so the mark's last occurrence is the footer's even if a name contained it.
const generatedMark = "mrtgo-generated-at-7f3a9c"

// templates are the parsed page templates, parsed once per process: html/template
// may execute one template on many goroutines at once.
var templates = sync.OnceValues(parseTemplates)

// ifaceBatch is how many interface pages one task of Write writes: enough that a
// task's set-up is nothing beside its pages, few enough that a device of a thousand
// interfaces keeps every core busy.
const ifaceBatch = 32

// Write writes s into p.Dir (see Write and Pages).
func (p *Pages) Write(s Site) error {
	pages, err := templates()
	if err != nil {
		return err
	}
	dir := p.Dir
	css := styleCSS
	if err := checkNames(s); err != nil {
		return fmt.Errorf("write site %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	p.mu.Lock()
	if p.sums == nil {
		p.sums, p.seed = map[string]uint64{}, maphash.MakeSeed()
	}
	p.mu.Unlock()
	loc := location(s)
	stamp, err := escapedText(formatTime(s.Generated, loc))
	if err != nil {
		return err
	}
	w := &pageWriter{pages: p, stamp: stamp}
	if s.Events != nil {
		w.names = namesOf(s)
	}

	// Pages are independent: write them on all cores. First the index, the events
	// page and every device's page, which its interfaces' pages show a part of; then
	// the interface pages, a batch at a time, so that the interfaces of one large
	// device are spread over the cores too.
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	g.Go(func() error {
		var buf bytes.Buffer
		index := w.view(s, css, fromRoot)
		index.Crumbs = []crumb{{Name: index.Site}}
		for _, d := range s.Devices {
			index.Devices = append(index.Devices, deviceData(d, loc, fromRoot))
		}
		for _, a := range s.Aggregates {
			index.Aggregates = append(index.Aggregates, targetData("", a, loc, fromRoot, false, nil))
		}
		index.Exporters = exportersData(s.Exporters, loc)
		index.Active = activeData(s.Events)
		return w.write("index.html", pages["index"], index, &buf)
	})
	if s.Events != nil {
		g.Go(func() error {
			var buf bytes.Buffer
			ep := w.view(s, css, fromRoot)
			ep.Title = "Events – " + ep.Site
			ep.Crumbs = []crumb{{Name: ep.Site, Href: "index.html"}, {Name: "Events"}}
			ep.EventsHref = "" // this page
			ev := eventsPage(s.Events, w.names, loc)
			ep.Events = &ev
			return w.write(EventsPage, pages["events"], ep, &buf)
		})
	}
	dvs := make([]deviceView, len(s.Devices))
	for i, d := range s.Devices {
		g.Go(func() error {
			dv, err := w.writeDevice(s, d, pages, css, loc)
			dvs[i] = dv
			return err
		})
	}
	g.Go(func() error { return w.writeTargets(s, "", nil, s.Aggregates, pages["target"], css, loc) })
	if err := g.Wait(); err != nil {
		return err
	}
	for i, d := range s.Devices {
		for lo := 0; lo < len(d.Interfaces); lo += ifaceBatch {
			batch := d.Interfaces[lo:min(lo+ifaceBatch, len(d.Interfaces))]
			g.Go(func() error { return w.writeInterfaces(s, d, &dvs[i], batch, pages["interface"], css, loc) })
		}
	}
	return g.Wait()
}

// view is the page data shared by all pages of s, on a page that links through
// link, with what a site with events adds to each.
func (w *pageWriter) view(s Site, css string, link linker) page {
	p := view(s, css)
	if s.Events != nil {
		p.EventsStyle = template.CSS(eventsCSS)
		p.EventsHref = link(EventsPage)
	}
	return p
}

// pageWriter is one Pages.Write: where the pages go, the generation time as
// the templates would have escaped it, and on a site with events the pages
// they may link to.
type pageWriter struct {
	pages *Pages
	stamp []byte
	names siteNames
}

// escapedText is text as html/template writes it in an element's content.
func escapedText(text string) ([]byte, error) {
	var b bytes.Buffer
	if err := textTemplate().Execute(&b, text); err != nil {
		return nil, fmt.Errorf("escape %q: %w", text, err)
	}
	return b.Bytes(), nil
}

// textTemplate is parsed on first use, as templates are: every command links the pages.
var textTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("text").Parse("{{.}}"))
})

// writeDevice writes the page of d and the pages of its targets, and returns the
// device as its interfaces' pages show it (writeInterfaces).
func (w *pageWriter) writeDevice(s Site, d Device, pages map[string]*template.Template, css string, loc *time.Location) (deviceView, error) {
	if err := os.MkdirAll(filepath.Join(w.pages.Dir, deviceDir(d.Name)), 0o755); err != nil {
		return deviceView{}, fmt.Errorf("write site: %w", err)
	}
	var buf bytes.Buffer
	link := fromDevice(d.Name)
	dv := deviceDataAt(d, s.Generated, loc, link)
	if s.Events != nil {
		dv.Events = eventTable{Rows: eventRows(d.Events, s.Events, w.names, loc, link)}
		dv.EventsHref = link(EventsHref(d.Name))
	}
	dp := w.view(s, css, link)
	dp.Title = d.Name + " – " + dp.Site
	dp.Crumbs = []crumb{{Name: dp.Site, Href: "../index.html"}, {Name: d.Name}}
	dp.Device = &dv
	if err := w.write(DevicePage(d.Name), pages["device"], dp, &buf); err != nil {
		return dv, err
	}
	return dv, w.writeTargets(s, d.Name, &dv, d.Targets, pages["target"], css, loc)
}

// writeInterfaces writes the pages of ifcs, interfaces of d, which dv is as
// writeDevice returned it. Tasks of one device may run at once: dv is only read.
func (w *pageWriter) writeInterfaces(s Site, d Device, dv *deviceView, ifcs []Interface, tmpl *template.Template, css string, loc *time.Location) error {
	var buf bytes.Buffer
	link := fromDevice(d.Name)
	for _, ifc := range ifcs {
		ip := w.view(s, css, link)
		ip.Title = ifc.Name + " on " + d.Name + " – " + ip.Site
		ip.Crumbs = []crumb{{Name: ip.Site, Href: "../index.html"}, {Name: d.Name, Href: "index.html"}, {Name: ifc.Name}}
		ip.Device = dv
		iv := ifacePage(d.Name, ifc, loc, link)
		if s.Events != nil {
			iv.Events = eventTable{Rows: eventRows(ifc.Events, s.Events, w.names, loc, link)}
		}
		ip.Interface = &iv
		if err := w.write(InterfacePage(d.Name, ifc.Name), tmpl, ip, &buf); err != nil {
			return err
		}
	}
	return nil
}

func checkNames(s Site) error {
	devices := map[string]string{}
	for _, d := range s.Devices {
		dir := deviceDir(d.Name)
		if prev, ok := devices[dir]; ok {
			return fmt.Errorf("devices %q and %q share directory %q", prev, d.Name, dir)
		}
		devices[dir] = d.Name
		pages := map[string]string{}
		for _, ifc := range d.Interfaces {
			p := InterfacePage(d.Name, ifc.Name)
			if prev, ok := pages[p]; ok {
				return fmt.Errorf("device %q: interfaces %q and %q share page %q", d.Name, prev, ifc.Name, p)
			}
			pages[p] = ifc.Name
		}
	}
	return nil
}

// write executes t with data and writes the result to rel, unless the page
// is the same as the one on disk apart from the generation time.
func (w *pageWriter) write(rel string, t *template.Template, data page, buf *bytes.Buffer) error {
	buf.Reset()
	data.Generated = generatedMark
	if err := t.Execute(buf, data); err != nil {
		return fmt.Errorf("render %s: %w", rel, err)
	}
	b := buf.Bytes()
	at := bytes.LastIndex(b, []byte(generatedMark))
	if at < 0 {
		return fmt.Errorf("render %s: no generation time in the page", rel)
	}
	sum := maphash.Bytes(w.pages.seed, b)
	w.pages.mu.Lock()
	old, known := w.pages.sums[rel]
	w.pages.mu.Unlock()
	if known && old == sum {
		return nil
	}
	pre, suf := b[:at], b[at+len(generatedMark):]
	name := filepath.Join(w.pages.Dir, filepath.FromSlash(rel))
	if !known && sameBut(name, pre, suf) {
		w.pages.remember(rel, sum)
		return nil
	}
	page := make([]byte, 0, len(b)+len(w.stamp))
	page = append(append(append(page, pre...), w.stamp...), suf...)
	if err := replaceFile(name, page); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	w.pages.remember(rel, sum)
	return nil
}

func (p *Pages) remember(rel string, sum uint64) {
	p.mu.Lock()
	p.sums[rel] = sum
	p.mu.Unlock()
}

// sameBut reports whether the file name holds pre, a generation time and suf.
func sameBut(name string, pre, suf []byte) bool {
	old, err := os.ReadFile(name)
	if err != nil || len(old) < len(pre)+len(suf) {
		return false
	}
	stamp := old[len(pre) : len(old)-len(suf)]
	return bytes.HasPrefix(old, pre) && bytes.HasSuffix(old, suf) && len(stamp) < 100 && bytes.IndexByte(stamp, '<') < 0
}
