package web

import (
	_ "embed"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/events"
)

// Events is what the site shows of what mrtgo found (package events): the rows of
// the events page, and the events going on, which the index counts.
type Events struct {
	// List is the events page's rows, newest first: the events going on at some time
	// since Since, the newest of them when there were more than the page holds
	// (Omitted says how many older ones were left out).
	List    []events.Event
	Since   time.Time
	Omitted int
	// Active counts the events going on, by severity, those older than Since
	// included.
	Active map[string]int
	// Captures maps the ID of an event whose packet capture was put into the site to
	// the capture's path there (CaptureFile).
	Captures map[uint64]string
}

// EventsPage is the path of the events page relative to the site directory.
const EventsPage = "events.html"

// CaptureFile is the path, relative to the site directory, of the copy of an
// event's capture file (Event.Capture, a name in the capture directory):
// "captures/NAME" with NAME made safe as Slug makes it. No device's pages are
// in that directory (see DevicePage).
func CaptureFile(name string) string { return capturesDir + "/" + Slug(name) }

// capturesDir is the directory of the site that holds the capture files the
// events page links.
const capturesDir = "captures"

// CapturesDir is the directory, relative to the site directory, that CaptureFile's
// paths are in: whoever puts captures into the site owns it.
func CapturesDir() string { return capturesDir }

// severityColors are the colours of the severities, least grave first: of the marks
// on the graphs (render.Mark) and of the severities on the pages (style.css's .sev-*
// classes, which TestSeverityColors holds to these).
var severityColors = []struct{ severity, color string }{
	{events.Info, "#808080"},
	{events.Warning, "#e6b800"},
	{events.Major, "#ff6600"},
	{events.Critical, "#cc00cc"},
}

// SeverityColor is the colour, as "#rrggbb", that marks an event of severity sev on
// the graphs and the pages; an unknown severity gets info's.
func SeverityColor(sev string) string {
	for _, c := range severityColors {
		if c.severity == sev {
			return c.color
		}
	}
	return severityColors[0].color
}

//go:embed templates/events.js
var eventsJS string

// eventsScript is the events page's one script: it filters the rows by kind and
// device (select boxes, and ?kind=...&device=... in the URL). The page shows every
// row without it. Handler's Content-Security-Policy allows exactly this script, by
// its hash.
var eventsScript = template.HTML("<script>" + eventsJS + "</script>")

// EventsHref is the link, relative to the site directory, to the events page
// showing the events of device only (when the page's script runs).
func EventsHref(device string) string {
	return EventsPage + "?device=" + url.QueryEscape(device)
}

type (
	// eventView is one event as a row of a table of events.
	eventView struct {
		Class, Kind, Severity, State string
		Start, End                   string
		Device, DeviceHref           string
		Interface, InterfaceHref     string
		Direction                    string
		Who, Ports, Peak             string
		Evidence                     []string
		BPF, Capture                 string
	}

	// eventTable is a table of events; ID names the events page's, which its script
	// filters.
	eventTable struct {
		ID   string
		Rows []eventView
	}

	// eventsView is the events page.
	eventsView struct {
		Table          eventTable
		Since, Omitted string
		Kinds, Devices []string
		Script         template.HTML
	}

	// activeView is one severity's count of the events going on.
	activeView struct {
		Severity string
		Count    int
	}
)

// siteNames says which devices and interfaces have pages, so that an event links
// only to pages that exist.
type siteNames map[string]map[string]bool

func namesOf(s Site) siteNames {
	n := make(siteNames, len(s.Devices))
	for _, d := range s.Devices {
		ifs := make(map[string]bool, len(d.Interfaces))
		for _, i := range d.Interfaces {
			ifs[i.Name] = true
		}
		n[d.Name] = ifs
	}
	return n
}

// eventData formats e for a table of events on a page that links through link.
func eventData(e events.Event, names siteNames, captures map[uint64]string, loc *time.Location, link linker) eventView {
	v := eventView{
		Kind: e.Kind, Severity: e.Severity, State: e.State,
		Start: formatTime(e.Start, loc), End: formatTime(e.End, loc),
		Device: e.Device, Interface: e.Interface, Direction: e.Direction,
		Who: who(e), Ports: ports(e), Peak: peak(e), Evidence: evidence(e),
		BPF: e.BPF,
	}
	sev := e.Severity
	if events.SeverityRank(sev) == 0 {
		sev = events.Info
	}
	v.Class = "sev-" + sev
	if e.State == events.Active {
		v.Class += " active"
	}
	if ifs, ok := names[e.Device]; ok {
		v.DeviceHref = link(DevicePage(e.Device))
		if ifs[e.Interface] {
			v.InterfaceHref = link(InterfacePage(e.Device, e.Interface))
		}
	}
	if c, ok := captures[e.ID]; ok {
		v.Capture = link(c)
	}
	return v
}

// who is an event's sources and targets: "198.51.100.1, 198.51.100.2 and 198 more →
// 192.0.2.7"; "" when it names neither.
func who(e events.Event) string {
	if len(e.Sources) == 0 && len(e.Targets) == 0 {
		return ""
	}
	list := func(as []string, n int) string {
		if len(as) == 0 {
			if n > 0 {
				return strconv.Itoa(n) + " hosts"
			}
			return "?"
		}
		s := strings.Join(as, ", ")
		if n > len(as) {
			s += " and " + strconv.Itoa(n-len(as)) + " more"
		}
		return s
	}
	src := make([]string, len(e.Sources))
	for i, a := range e.Sources {
		src[i] = a.String()
	}
	dst := make([]string, len(e.Targets))
	for i, a := range e.Targets {
		dst[i] = a.String()
	}
	return list(src, e.SourceCount) + " → " + list(dst, e.TargetCount)
}

// protoNames are the IP protocols the detector's events name.
var protoNames = map[uint8]string{1: "icmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 58: "icmp6", 132: "sctp"}

// ports is an event's protocol and ports: "udp 53, 123 (18 in all)".
func ports(e events.Event) string {
	var parts []string
	if e.Proto != 0 {
		name, ok := protoNames[e.Proto]
		if !ok {
			name = "proto " + strconv.Itoa(int(e.Proto))
		}
		parts = append(parts, name)
	}
	if len(e.Ports) > 0 {
		ps := make([]string, len(e.Ports))
		for i, p := range e.Ports {
			ps[i] = strconv.Itoa(int(p))
		}
		s := strings.Join(ps, ", ")
		if e.PortCount > len(e.Ports) {
			s += " (" + strconv.Itoa(e.PortCount) + " in all)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// peak is an event's highest rates: "20.0 kpkt/s, 100 Mb/s".
func peak(e events.Event) string {
	var parts []string
	if e.PPS > 0 {
		parts = append(parts, formatSI(e.PPS, "pkt/s"))
	}
	if e.BPS > 0 {
		parts = append(parts, formatBits(e.BPS))
	}
	return strings.Join(parts, ", ")
}

// evidence is what an event was measured at against its threshold, a line a measure.
func evidence(e events.Event) []string {
	switch e.Kind {
	case events.Threshold:
		rel := "above"
		if e.Bound == "min" {
			rel = "below"
		}
		return []string{fmt.Sprintf("%s %s, %s %s", e.Direction, formatBits(e.Value), rel, formatBits(e.Threshold))}
	case events.Anomaly:
		return []string{fmt.Sprintf("%s %s, outside its usual band", e.Direction, formatBits(e.Value))}
	}
	out := make([]string, 0, len(e.Evidence))
	for _, ev := range e.Evidence {
		out = append(out, fmt.Sprintf("%s %s (threshold %s)", ev.Measure, measure(ev.Measure, ev.Value), measure(ev.Measure, ev.Threshold)))
	}
	return out
}

// measure formats a value of one of the detector's measures: packets or bits per
// second with their unit, a ratio with "×", a count as it is.
func measure(name string, v float64) string {
	switch {
	case strings.Contains(name, "/"):
		return strconv.FormatFloat(v, 'f', 1, 64) + "×"
	case name == "bps" || strings.HasSuffix(name, " bps"):
		return formatBits(v)
	case name == "pps" || strings.HasSuffix(name, " pps"):
		return formatSI(v, "pkt/s")
	case v == float64(int64(v)):
		return strconv.FormatInt(int64(v), 10)
	}
	return formatSI(v, "")
}

// eventsPage is the data of the events page.
func eventsPage(ev *Events, names siteNames, loc *time.Location) eventsView {
	v := eventsView{Table: eventTable{ID: "events"}, Script: eventsScript, Kinds: events.Kinds, Since: formatTime(ev.Since, loc)}
	if ev.Omitted > 0 {
		v.Omitted = strconv.Itoa(ev.Omitted)
	}
	devices := map[string]bool{}
	for _, e := range ev.List {
		v.Table.Rows = append(v.Table.Rows, eventData(e, names, ev.Captures, loc, fromRoot))
		if e.Device != "" && !devices[e.Device] {
			devices[e.Device] = true
			v.Devices = append(v.Devices, e.Device)
		}
	}
	slices.Sort(v.Devices)
	return v
}

// activeData is the index's count of the events going on, gravest first.
func activeData(ev *Events) []activeView {
	if ev == nil {
		return nil
	}
	var out []activeView
	for i := len(severityColors) - 1; i >= 0; i-- {
		sev := severityColors[i].severity
		if n := ev.Active[sev]; n > 0 {
			out = append(out, activeView{Severity: sev, Count: n})
		}
	}
	return out
}

// eventRows formats the events of a device or interface page.
func eventRows(es []events.Event, ev *Events, names siteNames, loc *time.Location, link linker) []eventView {
	if len(es) == 0 {
		return nil
	}
	out := make([]eventView, len(es))
	for i, e := range es {
		out[i] = eventData(e, names, ev.Captures, loc, link)
	}
	return out
}

// marksNote explains the marks on a graph: n events began in its time.
func marksNote(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "The vertical line marks where an event of this interface began, in the colour of its severity"
	}
	return "The vertical lines mark where " + strconv.Itoa(n) + " events of this interface began, each in the colour of its severity"
}
