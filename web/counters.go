package web

// An interface's counters beyond the octets (packets, errors and discards) and its
// state: graphs of their own under the octets' on its page, and marks on every page
// that lists it when it is down or gone from its device.

import (
	"time"
)

// Counter kinds, as CounterGraphs.Kind and the graphs' file names have them.
const (
	CounterPackets = "packets"
	CounterErrors  = "errors"
)

// CounterGraphs are one counter group's graphs of an interface, in the order of
// Interface.Graphs (day, week, month, year). Their Stats are in the group's units per
// second (Total: a count), not bits.
type CounterGraphs struct {
	Kind   string // CounterPackets or CounterErrors
	Graphs []Graph
}

// CounterGraphFile is the path of an interface's PNG of a counter group over a period,
// relative to the site directory: "core1/ge-0_0_0-day-packets.png" at scale 1 and
// "core1/ge-0_0_0-day-packets@2x.png" at scale 2, as GraphFile.
func CounterGraphFile(device, iface, kind, period string, scale int) string {
	return GraphFile(device, iface, period+"-"+kind, scale)
}

// counterTitles head a group's graphs and name its units.
var counterTitles = map[string]struct{ title, unit, total string }{
	CounterPackets: {"Packets", "pkt/s", "pkts"},
	CounterErrors:  {"Errors and discards", "err/s", "errors"},
}

// counterView is one group's graphs as its interface page shows them.
type counterView struct {
	Title  string
	Graphs []graphView
}

// counterData is an interface's counter groups for its page.
func counterData(device string, ifc Interface, link linker) []counterView {
	var out []counterView
	for _, c := range ifc.Counters {
		t, ok := counterTitles[c.Kind]
		if !ok {
			continue
		}
		cv := counterView{Title: t.title}
		for _, g := range c.Graphs {
			title := t.title + ": " + PeriodTitle(g.Period)
			src := link(CounterGraphFile(device, ifc.Name, c.Kind, g.Period, 1))
			src2 := link(CounterGraphFile(device, ifc.Name, c.Kind, g.Period, 2))
			cell := func(v float64) rateCell { return rateCell{Value: formatSI(v, t.unit)} }
			row := func(class, label string, st Stats) statsRow {
				return statsRow{Class: class, Label: label,
					Rates: []rateCell{cell(st.Max), cell(st.Average), cell(st.Current), cell(st.P95)},
					Total: formatSI(st.Total, t.total)}
			}
			cv.Graphs = append(cv.Graphs, graphView{
				Title: title, Alt: title + " for " + ifc.Name + " on " + device,
				Link: link(InterfacePage(device, ifc.Name)), Src: src, Srcset: src + " 1x, " + src2 + " 2x",
				Width: g.Width, Height: g.Height, P95Basis: g.P95Basis,
				StatsTable: statsTable([]statsRow{row("in", "In", g.In), row("out", "Out", g.Out)}),
			})
		}
		out = append(out, cv)
	}
	return out
}

// stateText is what the pages say of an interface that is not passing traffic
// because it is down: "admin down" (shut by its operator), "oper down" (enabled, link
// down); "" otherwise.
func stateText(ifc Interface) string {
	switch {
	case ifc.Admin == statusDown:
		return "admin down"
	case ifc.Oper != 0 && ifc.Oper != statusUp:
		return "oper down"
	}
	return ""
}

// IF-MIB's ifAdminStatus and ifOperStatus values the pages tell apart.
const (
	statusUp   = 1
	statusDown = 2
)

// goneText says since when an interface has been gone from its device, "" while it
// is there.
func goneText(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return "gone since " + formatTime(t, loc)
}
