package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mrtgo/mrtgo/events"
)

const eventsSynopsis = `[--last 24h | --from T [--to T]] [--kind K[,K...]] [--device D [--interface I]]
       [--active] [--limit N] [--format table|csv|json]

Lists what mrtgo found, newest first: attacks and scans in the flow records ([detect]),
threshold crossings and Holt-Winters anomalies, each with its severity, time, where it
was seen, who against whom, its peak rates, the evidence, a pcap-filter expression for
its packets and the capture taken of them. An event is listed when it was going on at
some time in the range. The log is read as "mrtgo run" writes it. Kinds: `

func runEvents(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "events", eventsSynopsis+strings.Join(events.Kinds, ", ")+".")
	last := fs.String("last", "24h", "the `span` up to now to look at (\"15m\", \"6h\", \"7d\"); ignored with --from")
	from := fs.String("from", "", "start `time` of the range")
	to := fs.String("to", "", "end `time` of the range (default now)")
	kinds := fs.String("kind", "", "only events of these comma-separated `kinds`")
	device := fs.String("device", "", "only events seen on this `device`")
	iface := fs.String("interface", "", "only events of this `interface` of --device")
	active := fs.Bool("active", false, "only events going on")
	limit := fs.Int("limit", 0, "list the newest `N` (0: all)")
	format := fs.String("format", "table", "output `format`: table, csv or json")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	q := events.Query{Limit: *limit, Interface: *iface}
	if q.From, q.To, err = flowsRange(*last, *from, *to, time.Now(), cfg.Location); err != nil {
		return withCode(exitUsage, err)
	}
	if *kinds != "" {
		for _, k := range strings.Split(*kinds, ",") {
			k = strings.TrimSpace(k)
			if !slices.Contains(events.Kinds, k) {
				return withCode(exitUsage, fmt.Errorf("--kind %q: kinds are %s", k, strings.Join(events.Kinds, ", ")))
			}
			q.Kinds = append(q.Kinds, k)
		}
	}
	if *device != "" {
		q.Devices = []string{*device}
	} else if *iface != "" {
		return withCode(exitUsage, fmt.Errorf("--interface needs --device"))
	}
	if *limit < 0 {
		return withCode(exitUsage, fmt.Errorf("--limit %d is negative", *limit))
	}
	switch *format {
	case "table", "csv", "json":
	default:
		return withCode(exitUsage, fmt.Errorf("--format %q: want table, csv or json", *format))
	}
	log, err := events.Open(cfg.Events.Data, events.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	found, err := log.Find(q)
	if err != nil {
		return err
	}
	if *active {
		found = slices.DeleteFunc(found, func(ev events.Event) bool { return ev.State != events.Active })
	}
	return writeEvents(e.stdout, *format, found, cfg.Location)
}

// eventColumns are the table's and CSV's columns.
var eventColumns = []string{"id", "start", "end", "state", "severity", "kind", "device", "interface",
	"sources", "targets", "proto", "ports", "pps", "bps", "value", "threshold", "bpf", "capture"}

func eventRow(ev events.Event, loc *time.Location, table bool) []string {
	addrs := func(n int, list func(i int) string, count int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = list(i)
		}
		out := strings.Join(s, " ")
		if count > n {
			out += fmt.Sprintf(" (%d)", count)
		}
		return out
	}
	ts := func(t time.Time) string {
		if table {
			return t.In(loc).Format("2006-01-02 15:04:05")
		}
		return t.UTC().Format(time.RFC3339)
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	if table {
		num = func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	}
	iface := ev.Interface
	if ev.Direction != "" {
		iface += " " + ev.Direction
	}
	return []string{
		strconv.FormatUint(ev.ID, 10), ts(ev.Start), ts(ev.End), ev.State, ev.Severity, ev.Kind, ev.Device, iface,
		addrs(len(ev.Sources), func(i int) string { return ev.Sources[i].String() }, ev.SourceCount),
		addrs(len(ev.Targets), func(i int) string { return ev.Targets[i].String() }, ev.TargetCount),
		protoName(ev.Proto),
		addrs(len(ev.Ports), func(i int) string { return strconv.Itoa(int(ev.Ports[i])) }, ev.PortCount),
		num(ev.PPS), num(ev.BPS), num(ev.Value), num(ev.Threshold), ev.BPF, ev.Capture,
	}
}

func protoName(p uint8) string {
	switch p {
	case 0:
		return ""
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "icmp6"
	}
	return strconv.Itoa(int(p))
}

func writeEvents(w io.Writer, format string, evs []events.Event, loc *time.Location) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if evs == nil {
			evs = []events.Event{}
		}
		return enc.Encode(evs)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(eventColumns); err != nil {
			return err
		}
		for _, ev := range evs {
			if err := cw.Write(eventRow(ev, loc, false)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	if len(evs) == 0 {
		_, err := fmt.Fprintln(w, "no events in the range")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// The table leaves out the long columns; csv and json have them.
	cols := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = strings.ToUpper(eventColumns[c])
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, ev := range evs {
		row := eventRow(ev, loc, true)
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = row[c]
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}
