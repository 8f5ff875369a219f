package web

// Pages of targets that are not interfaces (a device's OIDs and commands) and of
// aggregates: listed on their device's page (aggregates on the index, in a section of
// their own), each with a page of its four graphs and a table of its values in its
// own unit.

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Target is one graphed series that is not an interface's octets: a device's target
// or, in Site.Aggregates, a sum of interfaces and targets.
type Target struct {
	Name  string // configured name; names its files
	Title string // page title; Name when empty
	// Unit follows every value shown ("%", "B"); KMG are its prefixes for powers of
	// 1000 from 1 (nil: "", k, M, G, T, P).
	Unit string
	KMG  []string
	// YLegend, LegendIn and LegendOut are MRTG's YLegend, LegendI and LegendO; the
	// legends default to "In" and "Out".
	YLegend, LegendIn, LegendOut string
	HasOut                       bool    // the target has a second value
	Max                          float64 // the graphs' 100 %, in the unit; 0 or NaN none
	Rate                         string  // "per second" etc. for rates; "" for values (gauges)
	Status                       string
	LastUpdate                   time.Time
	Graphs                       []Graph // day, week, month, year; Stats in the unit, Total unused
	// Members are an aggregate's summands, as written ("-edge1/ge-0/0/3").
	Members []Member
}

// Member is one summand of an aggregate, linked to its page.
type Member struct {
	Text                      string // as written in the targets file
	Device, Interface, Target string // one of Interface and Target is set
}

// aggregatesDir holds the aggregates' pages: "=" followed by a letter is no slug.
const aggregatesDir = "=aggregate"

// targetBase is the stem of a target's files in its directory: "=t-" followed by a
// letter or digit is no slug of an interface (a slug's "=" is followed by two
// upper-case hex digits).
func targetBase(device, name string) string {
	if device == "" {
		return aggregatesDir + "/" + Slug(name)
	}
	return deviceDir(device) + "/=t-" + Slug(name)
}

// TargetPage is the path of a target's page relative to the site directory:
// "srv1/=t-cpu.html"; with device "" an aggregate's, "=aggregate/customer-a.html".
func TargetPage(device, name string) string { return targetBase(device, name) + ".html" }

// TargetGraphFile is the path of a target's PNG for a period, as GraphFile.
func TargetGraphFile(device, name, period string, scale int) string {
	f := targetBase(device, name) + "-" + Slug(period)
	if scale > 1 {
		f += "@" + strconv.Itoa(scale) + "x"
	}
	return f + ".png"
}

// targetView is a target as the pages show it; the fields the "graphs" template
// reads are those of ifaceView.
type targetView struct {
	Name, Alias, Title, Href, Status, LastUpdate string
	State                                        string // an interface's "admin down"; a target has none
	Alerts                                       []string
	InNow, OutNow, Max, Rate, Unit               string
	LegendIn, LegendOut                          string
	HasOut                                       bool
	Day                                          *graphView
	Graphs                                       []graphView
	Members                                      []memberView
}

type memberView struct{ Text, Href string }

// targetData is t as its pages show it; with all, every graph with its numbers.
// Members are linked to their pages where pages has them (nil: always).
func targetData(device string, t Target, loc *time.Location, link linker, all bool, pages map[string]bool) targetView {
	tv := targetView{
		Name: t.Name, Title: t.Title, Href: link(TargetPage(device, t.Name)), Status: t.Status,
		LastUpdate: formatTime(t.LastUpdate, loc), InNow: unknown, OutNow: unknown,
		Rate: t.Rate, Unit: t.Unit, HasOut: t.HasOut,
		LegendIn: or(t.LegendIn, "In"), LegendOut: or(t.LegendOut, "Out"),
	}
	if tv.Title == "" {
		tv.Title = t.Name
	}
	if tv.Title != t.Name {
		tv.Alias = tv.Title
	}
	if t.Max > 0 {
		tv.Max = formatKMG(t.Max, t.Unit, t.KMG)
	}
	for _, m := range t.Members {
		page := ""
		switch {
		case m.Target != "":
			page = TargetPage(m.Device, m.Target)
		case m.Interface != "":
			page = InterfacePage(m.Device, m.Interface)
		}
		href := ""
		if page != "" && (pages == nil || pages[page]) {
			href = link(page)
		}
		tv.Members = append(tv.Members, memberView{m.Text, href})
	}
	for _, g := range t.Graphs {
		gv := targetGraph(device, t, g, link, all)
		if g.Period == "day" {
			tv.InNow = formatKMG(g.In.Current, t.Unit, t.KMG)
			tv.OutNow = formatKMG(g.Out.Current, t.Unit, t.KMG)
			day := gv
			tv.Day = &day
		}
		if all {
			tv.Graphs = append(tv.Graphs, gv)
		}
	}
	return tv
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// targetGraph is a target's graph and, with stats, its numbers in the target's unit:
// maximum, average and current, with the share of Max where it has one.
func targetGraph(device string, t Target, g Graph, link linker, stats bool) graphView {
	title := g.Title
	if title == "" {
		title = PeriodTitle(g.Period)
	}
	src := link(TargetGraphFile(device, t.Name, g.Period, 1))
	src2 := link(TargetGraphFile(device, t.Name, g.Period, 2))
	name := or(t.Title, t.Name)
	gv := graphView{
		Title: title, Alt: title + " of " + name, Link: link(TargetPage(device, t.Name)),
		Src: src, Srcset: src + " 1x, " + src2 + " 2x", Width: g.Width, Height: g.Height,
	}
	if !stats {
		return gv
	}
	row := func(class, label string, st Stats) []string {
		cell := func(v float64) string {
			s := formatKMG(v, t.Unit, t.KMG)
			if p := formatPercent(v, t.Max); p != "" && t.Max > 0 {
				s += " (" + p + ")"
			}
			return s
		}
		return []string{class, label, cell(st.Max), cell(st.Average), cell(st.Current)}
	}
	rows := [][]string{row("in", or(t.LegendIn, "In"), g.In)}
	if t.HasOut {
		rows = append(rows, row("out", or(t.LegendOut, "Out"), g.Out))
	}
	var b strings.Builder
	b.WriteString("<table class=\"stats\">\n<tr><th></th><th>Max</th><th>Average</th><th>Current</th></tr>")
	for _, r := range rows {
		b.WriteString("\n<tr class=\"")
		escapeText(&b, r[0])
		b.WriteString("\"><td><span class=\"key\"></span>")
		escapeText(&b, r[1])
		b.WriteString("</td>")
		for _, c := range r[2:] {
			b.WriteString("<td>")
			escapeText(&b, c)
			b.WriteString("</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("\n</table>")
	gv.StatsTable = template.HTML(b.String())
	return gv
}

// formatKMG formats v as MRTG does with kMG prefixes: three significant digits, the
// prefix of its power of 1000 and the unit ("1.25 k%", "3.40 GB"). Past the last
// prefix the number grows.
func formatKMG(v float64, unit string, kmg []string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return unknown
	}
	if len(kmg) == 0 {
		kmg = []string{"", "k", "M", "G", "T", "P"}
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	p := 0
	for v >= 999.5 && p < len(kmg)-1 {
		v /= 1000
		p++
	}
	var num string
	switch {
	case v == math.Trunc(v):
		num = strconv.FormatFloat(v, 'f', 0, 64)
	case v < 9.995:
		num = strconv.FormatFloat(v, 'f', 2, 64)
	case v < 99.95:
		num = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		num = strconv.FormatFloat(v, 'f', 0, 64)
	}
	suffix := kmg[p] + unit
	if suffix == "" {
		return sign + num
	}
	return sign + num + " " + suffix
}

// writeTargets writes the pages of a device's targets (device "" for aggregates).
func (w *pageWriter) writeTargets(s Site, device string, dv *deviceView, ts []Target, tmpl *template.Template, css string, loc *time.Location) error {
	if len(ts) == 0 {
		return nil
	}
	dir := aggregatesDir
	link := fromDir(aggregatesDir)
	crumbs := []crumb{{Name: or(s.Title, "mrtgo"), Href: "../index.html"}}
	if device != "" {
		dir, link = deviceDir(device), fromDevice(device)
		crumbs = append(crumbs, crumb{Name: device, Href: "index.html"})
	}
	if err := os.MkdirAll(filepath.Join(w.pages.Dir, dir), 0o755); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	var buf bytes.Buffer
	for _, t := range ts {
		tp := w.view(s, css, link)
		tv := targetData(device, t, loc, link, true, sitePages(s))
		tp.Title = tv.Title + " – " + tp.Site
		if device != "" {
			tp.Title = tv.Title + " on " + device + " – " + tp.Site
		}
		tp.Crumbs = append(append([]crumb{}, crumbs...), crumb{Name: t.Name})
		tp.Device = dv
		tp.Target = &tv
		if err := w.write(TargetPage(device, t.Name), tmpl, tp, &buf); err != nil {
			return err
		}
	}
	return nil
}

// fromDir links from a page in the site directory dir.
func fromDir(dir string) linker {
	prefix := dir + "/"
	return func(p string) string {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			return rest
		}
		return "../" + p
	}
}

// sitePages are the interface and target pages Write writes for s, which an
// aggregate's members link to (a member not polled yet has none).
func sitePages(s Site) map[string]bool {
	pages := map[string]bool{}
	for _, d := range s.Devices {
		for _, ifc := range d.Interfaces {
			pages[InterfacePage(d.Name, ifc.Name)] = true
		}
		for _, t := range d.Targets {
			pages[TargetPage(d.Name, t.Name)] = true
		}
	}
	return pages
}
