// Package web publishes mrtgo's static site and serves it over HTTP.
//
// Write turns a Site model (devices, interfaces, the statistics that render
// and rrd computed, what flow records say: top talkers, flows against SNMP,
// exporters, and the events mrtgo found) into index.html, one page per device,
// one page per interface and one per target that is not an interface or
// aggregate (targets.go), and with events events.html, from embedded
// templates with embedded CSS: no external resources, usable from a file://
// URL. The only JavaScript is the events page's filter by kind and device
// (the page lists every event without it). The PNG graphs are
// drawn elsewhere; this package only names their files (GraphFile) and links
// them. Handler and Serve publish a site directory with conditional GETs and
// without reaching outside it. The package never computes statistics and never
// draws pixels.
package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/events"
)

// Site is everything the pages show. Write renders it; it is never modified.
type Site struct {
	Title     string         // site heading, e.g. "mrtgo"
	Generated time.Time      // when the site was built
	Location  *time.Location // zone for every time shown; nil means UTC
	Refresh   time.Duration  // meta refresh interval (the poll step); 0 = none
	Devices   []Device
	// Exporters are the flow exporters heard from, for the index; none without a
	// flow collector.
	Exporters []Exporter
	// Aggregates are the sums of interfaces and targets, listed on the index in a
	// section of their own, each with its page (targets.go).
	Aggregates []Target
	// Events, when not nil, puts what mrtgo found on the site: the events page
	// (EventsPage), the latest events of each device and interface on their pages
	// (Device.Events, Interface.Events), the number going on on the index, and a
	// link to the events page on every page. nil shows no events anywhere.
	Events *Events
}

// Device is one polled device.
type Device struct {
	Name   string // configured name; names the directory of its pages
	Host   string
	Descr  string        // sysDescr; optional
	Uptime time.Duration // sysUpTime as of LastPoll; 0 = unknown

	// Poll health; zero values mean unknown.
	LastPoll     time.Time     // last poll, answered or not
	LastSuccess  time.Time     // last poll the device answered
	PollDuration time.Duration // how long the last poll took
	Requests     int           // SNMP requests the last poll sent
	Retries      int           // requests of the last poll sent again after a timeout
	PollError    string        // last poll error; empty = none
	Missing      []string      // configured interfaces the device does not have

	Interfaces []Interface
	// Targets are its graphed series that are not interfaces (targets.go).
	Targets []Target
	// Flows is the device's flow overview; nil when it exports no flows.
	Flows *DeviceFlows
	// Events are its latest events (on any of its interfaces, or on none), newest
	// first, for its page; shown when Site.Events is set.
	Events []events.Event
}

// Interface is one graphed interface of a device.
type Interface struct {
	Name   string // configured name (ifName by default); names its files
	Descr  string // ifDescr
	Alias  string // ifAlias
	Status string // state as text ("up", "down", "no data"); optional
	// Alerts are the thresholds the interface is over; such an interface stands out on
	// every page that shows it.
	Alerts []Alert
	Speed  float64 // bits/s; 0 = unknown
	// AboveSpeed counts the steps whose rate was above Speed and so was stored as
	// unknown, in and out; AboveSpeedLast is the last. The page explains the gaps.
	AboveSpeed     [2]int64
	AboveSpeedLast time.Time
	LastUpdate     time.Time
	Graphs         []Graph // in order day, week, month, year
	// Events are its latest events, newest first, for its page; shown when
	// Site.Events is set.
	Events []events.Event
	// Admin and Oper are its ifAdminStatus and ifOperStatus as last polled (1 up,
	// 2 down; 0 unknown): a down interface is marked wherever it is listed.
	Admin, Oper int
	// Gone is when it vanished from its device, zero while the device has it: its
	// device page lists it apart, as inactive, its history still linked.
	Gone time.Time
	// Counters are the graphs of its counter groups beyond the octets, shown
	// under the octets' on its page; none when its device polls none.
	Counters []CounterGraphs
}

// Graph is one period's PNG (drawn by render) and its statistics.
type Graph struct {
	Period string // "day", "week", "month", "year"; names the PNG file
	Title  string // heading; empty = PeriodTitle(Period)

	// Width and Height are the 1x PNG's size in pixels, written as the
	// img element's width and height so the page does not reflow while
	// images load. 0 leaves the attributes out.
	Width, Height int

	In, Out Stats // rates in bits/s; Total in bytes

	// P95Basis says which rows the 95th percentile was taken over, after
	// "95th percentile": "of 5-minute averages over 8 days 8 hours".
	// Empty leaves the note out.
	P95Basis string
	// Band says the graph shows the in and out rates' Holt-Winters confidence bands
	// and their failures, which the page then explains.
	Band bool
	// Marks is the number of events whose start the graph marks with a vertical
	// line (render.Mark, in SeverityColor), which the page then explains.
	Marks int

	// Flows is what flow records say of the same period; nil shows nothing.
	Flows *Flows
}

// Stats summarises one direction over one period. NaN means unknown.
type Stats struct {
	Max, Average, Current, P95 float64 // bits/s
	Total                      float64 // bytes
}

// PeriodTitle returns MRTG's heading for a period ("day" gives
// "'Daily' Graph (5 Minute Average)"), or the period itself if unknown.
func PeriodTitle(period string) string {
	switch period {
	case "day":
		return "'Daily' Graph (5 Minute Average)"
	case "week":
		return "'Weekly' Graph (30 Minute Average)"
	case "month":
		return "'Monthly' Graph (2 Hour Average)"
	case "year":
		return "'Yearly' Graph (1 Day Average)"
	}
	return period
}

// maxSlug keeps file names far below the usual 255-byte limit even after
// "-month@2x.png" is appended.
const maxSlug = 160

// Slug maps a device or interface name to a file-name-safe string.
//
// Letters, digits, '-' and '.' are kept, '/' becomes '_', and every other
// byte (including '_' and '=') becomes "=XX" in upper-case hex, so distinct
// names give distinct slugs: "ge-0/0/0" gives "ge-0_0_0" and "ge-0_0_0"
// gives "ge-0=5F0=5F0". A leading '.' is escaped too, so a slug is never
// "", ".", ".." or a hidden file, and never contains '/'. Names whose
// slug would exceed 160 bytes are cut and end in a hash of the full name.
func Slug(name string) string {
	if name == "" {
		return "="
	}
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		case c == '.' && i > 0:
			b.WriteByte(c)
		case c == '/':
			b.WriteByte('_')
		default:
			const hex = "0123456789ABCDEF"
			b.WriteByte('=')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	s := b.String()
	if len(s) > maxSlug {
		// Only long slugs end in "~"; short ones never contain it, so
		// cut names cannot collide with uncut ones.
		s = s[:maxSlug-18] + "~" + strconv.FormatUint(fnv64(name), 16)
	}
	return s
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// deviceDir is the directory of a device's pages. A device whose slug is
// "index.html", EventsPage or the directory of captures would clash with the
// site's own files; "=" never ends a slug.
func deviceDir(device string) string {
	d := Slug(device)
	switch d {
	case "index.html", EventsPage, capturesDir:
		d += "="
	}
	return d
}

// ifaceBase is an interface's file name stem. An interface whose slug is
// "index" would clash with the device page.
func ifaceBase(iface string) string {
	s := Slug(iface)
	if s == "index" {
		s += "="
	}
	return s
}

// DevicePage is the path of a device's page relative to the site
// directory, with '/' separators: "core1/index.html".
func DevicePage(device string) string {
	return deviceDir(device) + "/index.html"
}

// InterfacePage is the path of an interface's page relative to the site
// directory: "core1/ge-0_0_0.html".
func InterfacePage(device, iface string) string {
	return deviceDir(device) + "/" + ifaceBase(iface) + ".html"
}

// FlowGraphFile is the path of the PNG of an interface's traffic by service over a
// period, relative to the site directory: "core1/ge-0_0_0-day-services.png" at scale
// 1 and "core1/ge-0_0_0-day-services@2x.png" at scale 2, as GraphFile.
func FlowGraphFile(device, iface, period string, scale int) string {
	return GraphFile(device, iface, period+"-services", scale)
}

// GraphFile is the path of an interface's PNG for a period relative to the
// site directory: "core1/ge-0_0_0-day.png" at scale 1 (or less) and
// "core1/ge-0_0_0-day@2x.png" at scale 2. The pages reference scales 1
// and 2.
func GraphFile(device, iface, period string, scale int) string {
	name := deviceDir(device) + "/" + ifaceBase(iface) + "-" + Slug(period)
	if scale > 1 {
		name += "@" + strconv.Itoa(scale) + "x"
	}
	return name + ".png"
}

// unknown is shown for NaN values.
const unknown = "–"

// formatSI formats v with three significant digits and an SI prefix
// (powers of 1000): formatSI(12345678, "b/s") = "12.3 Mb/s".
func formatSI(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return unknown
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	const prefixes = " kMGTPEZY"
	p := 0
	for v >= 999.5 && p < len(prefixes)-1 {
		v /= 1000
		p++
	}
	var num string
	switch {
	case p == 0 && v == math.Trunc(v):
		num = strconv.FormatFloat(v, 'f', 0, 64)
	case v < 9.995:
		num = strconv.FormatFloat(v, 'f', 2, 64)
	case v < 99.95:
		num = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		num = strconv.FormatFloat(v, 'f', 0, 64)
	}
	prefix := strings.TrimSpace(prefixes[p : p+1])
	return sign + num + " " + prefix + unit
}

// formatBits formats a rate in bits/s: "12.3 Mb/s".
func formatBits(v float64) string { return formatSI(v, "b/s") }

// Alert is one threshold an interface is over.
type Alert struct {
	Direction string  // "in" or "out"
	Bound     string  // "max" (the rate is above Limit) or "min" (below it)
	Limit     float64 // bits/s
}

func (a Alert) String() string {
	rel := "above"
	if a.Bound == "min" {
		rel = "below"
	}
	return fmt.Sprintf("%s %s %s", a.Direction, rel, formatBits(a.Limit))
}

// formatBytes formats a byte count: "1.23 GB".
func formatBytes(v float64) string { return formatSI(v, "B") }

// formatPercent formats v as a share of speed, or "" when either is unknown.
func formatPercent(v, speed float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || speed <= 0 || math.IsNaN(speed) {
		return ""
	}
	return strconv.FormatFloat(100*v/speed, 'f', 1, 64) + "%"
}

// formatSpeed formats an interface speed: "1 Gb/s", or "unknown".
func formatSpeed(speed float64) string {
	if speed <= 0 || math.IsNaN(speed) {
		return "unknown"
	}
	s := formatSI(speed, "b/s")
	// Speeds are round numbers: "1.00 Gb/s" reads better as "1 Gb/s".
	s = strings.Replace(s, ".00 ", " ", 1)
	s = strings.Replace(s, ".0 ", " ", 1)
	return s
}

// formatTime formats t in loc, or "unknown" for the zero time.
func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// formatUptime formats an uptime like MRTG: "12 days, 3:04:05".
func formatUptime(d time.Duration) string {
	if d <= 0 {
		return "unknown"
	}
	d = d.Truncate(time.Second)
	days := int64(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	h, m, s := int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	hms := strconv.FormatInt(h, 10) + ":" + pad2(m) + ":" + pad2(s)
	switch days {
	case 0:
		return hms
	case 1:
		return "1 day, " + hms
	}
	return strconv.FormatInt(days, 10) + " days, " + hms
}

func pad2(v int64) string {
	if v < 10 {
		return "0" + strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10)
}

// formatCount formats a number of requests, or "unknown" for a device never polled.
func formatCount(n int, polled bool) string {
	if !polled {
		return "unknown"
	}
	return strconv.Itoa(n)
}

// formatDuration formats a poll duration: "850 ms", "2.35 s".
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "unknown"
	}
	if d < time.Second {
		return strconv.FormatInt(int64(d.Round(time.Millisecond)/time.Millisecond), 10) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}

// formatInterval formats a refresh interval: "5 min", "10 s".
func formatInterval(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}
