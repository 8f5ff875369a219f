package web

import (
	"fmt"
	"math"
	"time"
)

// Flows is what flow records say about an interface over one period: who and what
// filled it, beside the SNMP graph of the same period.
type Flows struct {
	// FlowBytes and SNMPBytes are the bytes the flow records and the SNMP counters
	// account for over the period, in and out; NaN is unknown. Their ratio shows an
	// exporter that under-reports (or a sampling rate applied wrongly).
	FlowBytes, SNMPBytes [2]float64
	// Lists are the top talkers, in the order shown: sources, destinations, services,
	// protocols, and so on.
	Lists []TalkerList
	// Stack says the period's traffic stacked by service was drawn, at 1x and 2x as
	// FlowGraphFile names them.
	Stack bool
}

// TalkerList is one top list: its heaviest keys and the rest, so that the rows and
// Other add up to the total seen.
type TalkerList struct {
	Title string // "Top sources", "Top services", …
	Rows  []Talker
	Other Talker // what the rows leave out; its Name is not shown
}

// Talker is one row of a top list.
type Talker struct {
	Name  string  // an address, "tcp/443", a conversation, …
	Bits  float64 // average bits/s over the period
	Share float64 // of the list's total, 0 to 1
	// Layer, when not 0, is the row's layer in the stacked graph beside the list
	// (1 is the bottom one): the row shows that layer's colour, render.StackColors[Layer-1].
	Layer int
}

// DeviceFlows is a device's flow overview: its exporter's health and, over the last
// day, the flows against the SNMP octets of each interface and its top talkers.
type DeviceFlows struct {
	Exporter                   string // source address of its exports
	LastSeen                   time.Time
	Datagrams, Records, Errors uint64
	Interfaces                 []InterfaceFlows
	Lists                      []TalkerList // over all its interfaces, in
}

// InterfaceFlows is one interface in a device's flow overview.
type InterfaceFlows struct {
	Name                 string
	FlowBytes, SNMPBytes [2]float64 // in, out, over the last day
}

// Exporter is one flow exporter as the index lists it; one that no device claims has
// an empty Device, and its records are counted but merged nowhere.
type Exporter struct {
	Addr                       string
	Device                     string
	LastSeen                   time.Time
	Datagrams, Records, Errors uint64
}

type (
	flowsView struct {
		Ratio []ratioView
		Lists []listView
		Stack *graphView
	}

	ratioView struct {
		Direction, Flow, SNMP, Ratio string
		Off                          bool // well away from 1
		None                         bool // nothing to compare yet
	}

	listView struct {
		Title string
		Rows  []talkerView
		Other talkerView
	}

	talkerView struct {
		Name, Bits, Share string
		Layer             int
	}

	deviceFlowsView struct {
		Exporter, LastSeen          string
		Datagrams, Records, Errors  string
		Interfaces                  []ifaceFlowsView
		Lists                       []listView
		ExporterSilent, HasExporter bool
	}

	ifaceFlowsView struct {
		Name, Href string
		Ratio      []ratioView
	}

	exporterView struct {
		Addr, Device, DeviceHref, LastSeen string
		Datagrams, Records, Errors         string
	}
)

// stackLayers is how many layer colours style.css has (.l1 to .l8), those of
// render.StackColors.
const stackLayers = 8

// ratioOff is how far from 1 a flow/SNMP ratio may be before the page marks it: a
// sampled exporter's estimate strays by a few percent; a wrong rate by a factor.
const ratioOff = 0.2

func ratios(flowBytes, snmpBytes [2]float64) []ratioView {
	var out []ratioView
	for i, dir := range []string{"in", "out"} {
		r := ratioView{Direction: dir, Flow: formatBytes(flowBytes[i]), SNMP: formatBytes(snmpBytes[i]), Ratio: unknown,
			None: math.IsNaN(flowBytes[i]) && math.IsNaN(snmpBytes[i])}
		if f, s := flowBytes[i], snmpBytes[i]; !math.IsNaN(f) && !math.IsNaN(s) && s > 0 {
			q := f / s
			r.Ratio = fmt.Sprintf("%.2f", q)
			r.Off = math.Abs(q-1) > ratioOff
		}
		out = append(out, r)
	}
	return out
}

func lists(ls []TalkerList) []listView {
	out := make([]listView, 0, len(ls))
	for _, l := range ls {
		lv := listView{Title: l.Title, Other: talkerData(l.Other)}
		for _, t := range l.Rows {
			lv.Rows = append(lv.Rows, talkerData(t))
		}
		out = append(out, lv)
	}
	return out
}

func talkerData(t Talker) talkerView {
	share := unknown
	if !math.IsNaN(t.Share) {
		share = fmt.Sprintf("%.1f%%", 100*t.Share)
	}
	return talkerView{Name: t.Name, Bits: formatBits(t.Bits), Share: share, Layer: min(max(t.Layer, 0), stackLayers)}
}

func flowsData(device, iface, period string, f *Flows, link linker) *flowsView {
	if f == nil {
		return nil
	}
	v := &flowsView{Ratio: ratios(f.FlowBytes, f.SNMPBytes), Lists: lists(f.Lists)}
	if f.Stack {
		src := link(FlowGraphFile(device, iface, period, 1))
		v.Stack = &graphView{Src: src, Srcset: src + " 1x, " + link(FlowGraphFile(device, iface, period, 2)) + " 2x",
			Alt: "Traffic by service for " + iface + " on " + device}
	}
	return v
}

// silentAfter is how long an exporter may say nothing before the pages mark it.
const silentAfter = 15 * time.Minute

func deviceFlowsData(device string, f *DeviceFlows, now time.Time, loc *time.Location, link linker) *deviceFlowsView {
	if f == nil {
		return nil
	}
	v := &deviceFlowsView{
		Exporter: f.Exporter, HasExporter: f.Exporter != "", LastSeen: formatTime(f.LastSeen, loc),
		Datagrams: fmt.Sprint(f.Datagrams), Records: fmt.Sprint(f.Records), Errors: fmt.Sprint(f.Errors),
		ExporterSilent: !now.IsZero() && (f.LastSeen.IsZero() || now.Sub(f.LastSeen) > silentAfter),
		Lists:          lists(f.Lists),
	}
	for _, i := range f.Interfaces {
		v.Interfaces = append(v.Interfaces, ifaceFlowsView{Name: i.Name, Href: link(InterfacePage(device, i.Name)),
			Ratio: ratios(i.FlowBytes, i.SNMPBytes)})
	}
	return v
}

func exportersData(es []Exporter, loc *time.Location) []exporterView {
	out := make([]exporterView, 0, len(es))
	for _, e := range es {
		v := exporterView{Addr: e.Addr, Device: e.Device, LastSeen: formatTime(e.LastSeen, loc),
			Datagrams: fmt.Sprint(e.Datagrams), Records: fmt.Sprint(e.Records), Errors: fmt.Sprint(e.Errors)}
		if e.Device != "" {
			v.DeviceHref = DevicePage(e.Device)
		}
		out = append(out, v)
	}
	return out
}
