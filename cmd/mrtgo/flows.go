package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/flowquery"
	"github.com/mrtgo/mrtgo/flowstore"
	"github.com/mrtgo/mrtgo/flowtop"
	"github.com/mrtgo/mrtgo/internal/daemon"
)

const flowsSynopsis = `[--last 1h | --from T [--to T]] [--device D [--interface I]] [--filter EXPR]
       [--group src|dst|srcport|dstport|proto|conv|service] [--by bytes|packets|flows] [--top N]
       [--format table|csv|json] [--raw json|zeek] [--tier auto|raw|top]

Answers "who and what" from the flow store, as nfdump does. The raw records answer any
filter and group for as long as [flows] keep holds them; the top talkers per step
(--tier top) answer a device's or interface's top lists back as far as the rate
archives go, without a filter. --tier auto uses the raw records when they cover the
range and the top talkers otherwise. Times are RFC 3339 or "2006-01-02 15:04" in the
configured zone. The filter language is documented with "mrtgo flows --help-filter".`

// flowsOptions are the parsed flags of "mrtgo flows".
type flowsOptions struct {
	from, to          time.Time
	device, iface     string
	filter            string
	group, by, format string
	raw, tier         string
	direction         string
	top               int
}

func runFlows(ctx context.Context, e *env, args []string) error {
	fs, c := newFlags(e, "flows", flowsSynopsis)
	last := fs.String("last", "1h", "the `span` up to now to look at (\"15m\", \"6h\", \"7d\"); ignored with --from")
	from := fs.String("from", "", "start `time` of the range")
	to := fs.String("to", "", "end `time` of the range (default now)")
	var o flowsOptions
	fs.StringVar(&o.device, "device", "", "only flows exported by this `device`")
	fs.StringVar(&o.iface, "interface", "", "only flows in or out of this `interface` of --device")
	fs.StringVar(&o.direction, "direction", "both", "with --interface: `in`, out or both")
	fs.StringVar(&o.filter, "filter", "", "only flows that match this filter `expression` (\"src net 10.0.0.0/8 and dst port 443\")")
	fs.StringVar(&o.group, "group", "src", "group flows by `key`: src, dst, srcport, dstport, proto, conv, or (top talkers only) service")
	fs.StringVar(&o.by, "by", "bytes", "rank by `measure`: bytes, packets or flows")
	fs.IntVar(&o.top, "top", 10, "list the top `N` keys (0: all)")
	fs.StringVar(&o.format, "format", "table", "output `format`: table, csv or json")
	fs.StringVar(&o.raw, "raw", "", "print the matching records instead, as `json` lines or a zeek log")
	fs.StringVar(&o.tier, "tier", "auto", "which store answers: `auto`, raw or top")
	helpFilter := fs.Bool("help-filter", false, "describe the filter language and exit")
	if err := parse(fs, c, e, args); err != nil {
		return err
	}
	if *helpFilter {
		fmt.Fprint(e.stdout, filterHelp)
		return nil
	}
	cfg, err := loadConfig(c, e)
	if err != nil {
		return err
	}
	now := time.Now()
	if o.from, o.to, err = flowsRange(*last, *from, *to, now, cfg.Location); err != nil {
		return withCode(exitUsage, err)
	}
	if err := o.check(); err != nil {
		return withCode(exitUsage, err)
	}
	raw, top, err := openFlowStoresRead(cfg)
	if err != nil {
		return err
	}
	if raw != nil {
		defer raw.Close()
	}
	if top != nil {
		defer top.Close()
	}
	tier, err := o.chooseTier(raw, top)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if tier == "top" {
		return flowsTop(e.stdout, top, o)
	}
	return flowsRaw(ctx, e.stdout, raw, o)
}

func (o *flowsOptions) check() error {
	if o.iface != "" && o.device == "" {
		return errors.New("--interface needs --device")
	}
	if o.top < 0 {
		return fmt.Errorf("--top %d: want 0 or more", o.top)
	}
	switch o.tier {
	case "auto", "raw", "top":
	default:
		return fmt.Errorf("--tier %q: use auto, raw or top", o.tier)
	}
	switch o.format {
	case "table", "csv", "json":
	default:
		return fmt.Errorf("--format %q: use table, csv or json", o.format)
	}
	switch o.raw {
	case "", "json", "zeek":
	default:
		return fmt.Errorf("--raw %q: use json or zeek", o.raw)
	}
	if _, err := flowtop.ParseDirection(o.direction); err != nil {
		return fmt.Errorf("--direction: %w", err)
	}
	return nil
}

// flowsRange is the time range of the flags: --from (and --to, default now), or the
// last span up to now.
func flowsRange(last, from, to string, now time.Time, loc *time.Location) (time.Time, time.Time, error) {
	end := now
	if to != "" {
		t, err := parseFlowTime(to, loc)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("--to: %w", err)
		}
		end = t
	}
	if from != "" {
		start, err := parseFlowTime(from, loc)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("--from: %w", err)
		}
		if !start.Before(end) {
			return time.Time{}, time.Time{}, fmt.Errorf("--from %s is not before --to %s", from, end.In(loc).Format(time.RFC3339))
		}
		return start, end, nil
	}
	if to != "" {
		return time.Time{}, time.Time{}, errors.New("--to needs --from")
	}
	d, err := config.ParseSpan(last)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("--last: %w", err)
	}
	return end.Add(-d), end, nil
}

// parseFlowTime reads RFC 3339, or a date and time in the configured zone.
func parseFlowTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: use RFC 3339 (2026-11-29T10:00:00Z) or \"2026-11-29 10:00\" in the configured zone", s)
}

// openFlowStoresRead opens what the flow store has, read-only: the raw records never
// lock, so they answer while "mrtgo run" writes; the top talkers are locked by a
// running daemon and are then nil.
func openFlowStoresRead(cfg *config.Config) (*flowstore.Store, *flowtop.Store, error) {
	raw, top, err := daemon.OpenFlowStores(cfg, true)
	if err == nil {
		return raw, top, nil
	}
	if errors.Is(err, flowtop.ErrLocked) {
		raw, err := flowstore.Open(filepath.Join(cfg.Flows.Data, daemon.RawDir), flowstore.Options{ReadOnly: true})
		return raw, nil, err
	}
	return nil, nil, fmt.Errorf("flows: %w (is [flows] set, and has \"mrtgo run\" collected any?)", err)
}

// chooseTier picks the store that answers.
func (o *flowsOptions) chooseTier(raw *flowstore.Store, top *flowtop.Store) (string, error) {
	needRaw := o.raw != "" || o.filter != ""
	if o.group == "service" {
		if needRaw {
			return "", errors.New("--group service is kept by the top talkers only: drop --filter and --raw")
		}
		o.tier = "top"
	}
	switch o.tier {
	case "raw":
		return "raw", nil
	case "top":
		if needRaw {
			return "", errors.New("the top talkers keep lists, not records: --filter and --raw need --tier raw")
		}
		if o.device == "" {
			return "", errors.New("the top talkers are per device and interface: --tier top needs --device")
		}
		if top == nil {
			return "", errors.New("the top talkers are in use by \"mrtgo run\"; ask the raw records (--tier raw) or stop it")
		}
		return "top", nil
	}
	if needRaw || o.device == "" || top == nil {
		return "raw", nil
	}
	segs, err := raw.Segments(time.Time{}, time.Time{})
	if err != nil {
		return "", err
	}
	if len(segs) > 0 && !segs[0].Start.After(o.from) {
		return "raw", nil
	}
	// The raw records start after the range does: the top talkers answer if they
	// hold steps from before the raw records' start (kept longer, or the raw ones
	// lost).
	rawStart := o.to
	if len(segs) > 0 {
		rawStart = segs[0].Start
	}
	dir, _ := flowtop.ParseDirection(o.direction)
	res, err := top.Top(flowtop.Query{Device: o.device, Interface: o.iface, Direction: dir, Dimension: flowtop.Proto,
		By: flowtop.Bytes, From: o.from, To: rawStart, N: 1})
	if err == nil && res.Steps > 0 && res.From.Before(rawStart) {
		return "top", nil
	}
	return "raw", nil
}

// flowsRaw answers from the raw records.
func flowsRaw(ctx context.Context, w io.Writer, raw *flowstore.Store, o flowsOptions) error {
	filter, err := o.rawFilter()
	if err != nil {
		return withCode(exitUsage, err)
	}
	if o.raw != "" {
		rw, err := flowquery.NewRecordWriter(o.raw, w, nil)
		if err != nil {
			return withCode(exitUsage, err)
		}
		_, err = raw.Scan(o.from, o.to, func(fs []flow.Flow) error {
			for i := range fs {
				if filter.Match(&fs[i]) {
					if err := rw.Write(&fs[i]); err != nil {
						return err
					}
				}
			}
			return ctx.Err()
		})
		return errors.Join(err, rw.Close())
	}
	group, err := flowquery.ParseGroup(o.group)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--group: %w", err))
	}
	by, err := flowquery.ParseMeasure(o.by)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--by: %w", err))
	}
	q := flowquery.Query{Filter: filter, Group: group, By: by, Top: o.top, From: o.from, To: o.to}
	// Each worker adds whole blocks of the columns the query reads.
	aggs := q.NewAggregators(raw.Workers())
	_, err = raw.ScanColumns(o.from, o.to, q.Fields(), func(w int, b *flowstore.Block) error {
		aggs[w].AddColumns(b)
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	all := aggs[0]
	for _, a := range aggs[1:] {
		all.Merge(a)
	}
	res, err := all.Result()
	if err != nil {
		return err
	}
	return res.Write(w, o.format)
}

// rawFilter is --filter with --device, --interface and --direction added.
func (o *flowsOptions) rawFilter() (*flowquery.Filter, error) {
	var parts []string
	if o.device != "" {
		parts = append(parts, "device "+quoteName(o.device))
	}
	if o.iface != "" {
		side := map[string]string{"in": "in ", "out": "out "}[o.direction]
		parts = append(parts, side+"if "+quoteName(o.iface))
	}
	expr := strings.Join(parts, " and ")
	if o.filter != "" {
		// The user's filter is checked alone first, so that a mistake's column is
		// the column in what was typed.
		if _, err := flowquery.ParseFilter(o.filter); err != nil {
			var se *flowquery.SyntaxError
			if errors.As(err, &se) {
				return nil, errors.New(se.String())
			}
			return nil, err
		}
		if expr != "" {
			expr += " and (" + o.filter + ")"
		} else {
			expr = o.filter
		}
	}
	return flowquery.ParseFilter(expr)
}

// quoteName is a device or interface name as a filter's quoted NAME.
func quoteName(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// topDimensions maps --group to the top talkers' dimensions. conv differs: the top
// talkers keep host pairs, the raw records 5-tuples.
var topDimensions = map[string]flowtop.Dimension{
	"src": flowtop.SrcAddr, "dst": flowtop.DstAddr, "srcport": flowtop.SrcPort, "dstport": flowtop.DstPort,
	"proto": flowtop.Proto, "conv": flowtop.Conversation, "service": flowtop.Service,
}

// flowsTop answers from the top talkers.
func flowsTop(w io.Writer, top *flowtop.Store, o flowsOptions) error {
	dim, ok := topDimensions[o.group]
	if !ok {
		return withCode(exitUsage, fmt.Errorf("--group %q: use src, dst, srcport, dstport, proto, conv or service", o.group))
	}
	by, err := flowtop.ParseMeasure(o.by)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--by: %w", err))
	}
	dir, _ := flowtop.ParseDirection(o.direction)
	n := o.top
	if n == 0 {
		n = 10000
	}
	res, err := top.Top(flowtop.Query{Device: o.device, Interface: o.iface, Direction: dir, Dimension: dim, By: by,
		From: o.from, To: o.to, N: n})
	if err != nil {
		return err
	}
	return writeTop(w, o.format, res)
}

// topRow is one line of a top talkers' answer.
type topRow struct {
	Row    string  `json:"row"`
	Key    string  `json:"key"`
	Value  uint64  `json:"value"`
	Share  float64 `json:"share"`
	Rate   float64 `json:"per_second"`
	Err    uint64  `json:"overestimate,omitempty"`
	Missed uint64  `json:"missed,omitempty"`
}

func writeTop(w io.Writer, format string, res flowtop.Result) error {
	secs := res.To.Sub(res.From).Seconds()
	mk := func(row, key string, v, errv, miss uint64) topRow {
		r := topRow{Row: row, Key: key, Value: v, Err: errv, Missed: miss}
		if res.Total > 0 {
			r.Share = 100 * float64(v) / float64(res.Total)
		}
		if secs > 0 {
			r.Rate = float64(v) / secs
			if res.By == flowtop.Bytes {
				r.Rate *= 8
			}
		}
		return r
	}
	var rows []topRow
	for i, e := range res.Entries {
		rows = append(rows, mk(strconv.Itoa(i+1), e.Key.String(), e.Weight, e.Err, e.Miss))
	}
	rows = append(rows, mk("other", "", res.Other, 0, 0), mk("total", "", res.Total, 0, 0))
	unit := res.By.String()
	rate := unit + "/s"
	if res.By == flowtop.Bytes {
		rate = "bits/s"
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"dimension": res.Dimension.String(), "by": unit,
			"from": res.From, "to": res.To, "step_seconds": res.Step.Seconds(), "bound": res.Bound, "rows": rows})
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"row", "key", unit, "share", strings.ReplaceAll(rate, "/", "_per_"), "overestimate", "missed"})
		for _, r := range rows {
			cw.Write([]string{r.Row, r.Key, strconv.FormatUint(r.Value, 10), strconv.FormatFloat(r.Share, 'f', 2, 64),
				strconv.FormatFloat(r.Rate, 'f', 0, 64), strconv.FormatUint(r.Err, 10), strconv.FormatUint(r.Missed, 10)})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\t%s\tshare\t%s\t\n", res.Dimension, unit, rate)
	estimated := false
	for _, r := range rows {
		key := r.Key
		if key == "" {
			key = r.Row
		}
		mark := ""
		if r.Err > 0 || r.Missed > 0 {
			mark, estimated = " ~", true
		}
		fmt.Fprintf(tw, "%s\t%s\t%d%s\t%.1f%%\t%.4g\t\n", r.Row, key, r.Value, mark, r.Share, r.Rate)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "Top talkers %s to %s: %d steps in rows of %v.\n", res.From.Format(time.RFC3339), res.To.Format(time.RFC3339), res.Steps, res.Step)
	if estimated {
		_, err := fmt.Fprintf(w, "~ estimated: may be over by its overestimate, or under by what it missed (--format csv); every key above %d %s is listed.\n", res.Bound, unit)
		return err
	}
	return nil
}

const filterHelp = `Filters select flows, as nfdump's do; keywords are case-insensitive.

  [src|dst] host ADDRESS            10.0.0.1, 2001:db8::1
  [src|dst] net ADDRESS/BITS        10.0.0.0/8
  [src|dst] port [CMP] PORT         port 443, dst port < 1024
  [src|dst] port in [PORT ...]      port in [53 123]
  proto NAME|NUMBER                 tcp, udp, icmp, icmp6, gre, esp, 47
  flags LETTERS                     flags S and not flags AFRPU (SYN alone)
  bytes|packets [CMP] NUMBER[k|M|G] bytes > 1M (powers of 1000)
  device NAME                       a configured device
  [in|out] if NAME                  an interface, as the poller names it: in if "Gi0/1 uplink"
  exporter ADDRESS                  the exporter's source address
  any

  CMP is = == > < >= <= eq gt lt ge le. Combine with and (&&), or (||), not (!) and
  parentheses; not binds tighter than and, and tighter than or. Without src or dst an
  address or port matches either side; without in or out, if matches either interface.

Example: mrtgo flows --last 6h --device core1 --interface xe-0/0/0 --group dst \
           --filter 'src net 10.0.0.0/8 and dst port 443 and proto tcp'
`
