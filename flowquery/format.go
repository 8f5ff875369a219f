package flowquery

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Write writes r in format: "table", "csv" or "json".
func (r *Result) Write(w io.Writer, format string) error {
	switch format {
	case "table":
		return r.WriteTable(w)
	case "csv":
		return r.WriteCSV(w)
	case "json":
		return r.WriteJSON(w)
	}
	return fmt.Errorf("output format %q unknown: want table, csv or json", format)
}

// keyFields are the row's key columns as text: addresses, port numbers, protocol
// numbers (names when human is set). Other and Total rows have none.
func (r *Result) keyFields(k Key, human bool) []string {
	var out []string
	for _, c := range r.Query.Group.columns() {
		switch c {
		case "src":
			out = append(out, k.Src.String())
		case "dst":
			out = append(out, k.Dst.String())
		case "srcport":
			out = append(out, strconv.Itoa(int(k.SrcPort)))
		case "dstport":
			out = append(out, strconv.Itoa(int(k.DstPort)))
		case "proto":
			if human {
				out = append(out, protoName(k.Proto))
			} else {
				out = append(out, strconv.Itoa(int(k.Proto)))
			}
		}
	}
	return out
}

// CSVHeader is the header line's columns of the CSV of a query by g: "row" (the rank
// from 1, or "other" or "total"), the key columns (src, dst, proto, srcport, dstport,
// those of g), then keys, flows, packets, bytes, share (percent of the total of the
// query's measure), bps and pps.
func CSVHeader(g Group) []string {
	return append(append([]string{"row"}, g.columns()...), "keys", "flows", "packets", "bytes", "share", "bps", "pps")
}

// WriteCSV writes r as CSV: a header line (CSVHeader), one line per row, then an
// "other" line and a "total" line, whose key columns are empty. Counts are exact
// integers; share, bps and pps have three decimals.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(CSVHeader(r.Query.Group))
	blank := make([]string, len(r.Query.Group.columns()))
	line := func(name string, keys []string, row Row) {
		rec := append(append([]string{name}, keys...),
			strconv.Itoa(row.Keys), strconv.FormatUint(row.Flows, 10), strconv.FormatUint(row.Packets, 10),
			strconv.FormatUint(row.Bytes, 10), strconv.FormatFloat(row.Share, 'f', 3, 64),
			strconv.FormatFloat(row.BitsPerSec, 'f', 3, 64), strconv.FormatFloat(row.PacketsPerSec, 'f', 3, 64))
		_ = cw.Write(rec)
	}
	for i, row := range r.Rows {
		line(strconv.Itoa(i+1), r.keyFields(row.Key, false), row)
	}
	line("other", blank, r.Other)
	line("total", blank, r.Total)
	cw.Flush()
	return cw.Error()
}

// jsonRow is a row in JSON: the key fields of the query's group only.
type jsonRow struct {
	Src     string  `json:"src,omitempty"`
	Dst     string  `json:"dst,omitempty"`
	Proto   *uint8  `json:"proto,omitempty"`
	SrcPort *uint16 `json:"srcport,omitempty"`
	DstPort *uint16 `json:"dstport,omitempty"`
	Keys    int     `json:"keys"`
	Flows   uint64  `json:"flows"`
	Packets uint64  `json:"packets"`
	Bytes   uint64  `json:"bytes"`
	Share   float64 `json:"share"`
	BPS     float64 `json:"bps"`
	PPS     float64 `json:"pps"`
}

func (r *Result) jsonRow(row Row, key bool) jsonRow {
	j := jsonRow{Keys: row.Keys, Flows: row.Flows, Packets: row.Packets, Bytes: row.Bytes,
		Share: row.Share, BPS: row.BitsPerSec, PPS: row.PacketsPerSec}
	if !key {
		return j
	}
	k := row.Key
	for _, c := range r.Query.Group.columns() {
		switch c {
		case "src":
			j.Src = k.Src.String()
		case "dst":
			j.Dst = k.Dst.String()
		case "proto":
			j.Proto = &k.Proto
		case "srcport":
			j.SrcPort = &k.SrcPort
		case "dstport":
			j.DstPort = &k.DstPort
		}
	}
	return j
}

// WriteJSON writes r as one JSON object: the query (group, by, top, filter), the
// range (from, to in RFC 3339, seconds), rows, other and total. Rows carry only the
// key fields of the group.
func (r *Result) WriteJSON(w io.Writer) error {
	out := struct {
		Group   string    `json:"group"`
		By      string    `json:"by"`
		Top     int       `json:"top"`
		Filter  string    `json:"filter"`
		From    *string   `json:"from"`
		To      *string   `json:"to"`
		Seconds float64   `json:"seconds"`
		Rows    []jsonRow `json:"rows"`
		Other   jsonRow   `json:"other"`
		Total   jsonRow   `json:"total"`
	}{Group: r.Query.Group.String(), By: r.Query.By.String(), Top: r.Query.Top, Filter: r.Query.Filter.String(),
		Seconds: r.Seconds(), Rows: make([]jsonRow, len(r.Rows)),
		Other: r.jsonRow(r.Other, false), Total: r.jsonRow(r.Total, false)}
	if !r.From.IsZero() {
		from, to := r.From.UTC().Format(time.RFC3339Nano), r.To.UTC().Format(time.RFC3339Nano)
		out.From, out.To = &from, &to
	}
	for i, row := range r.Rows {
		out.Rows[i] = r.jsonRow(row, true)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// human writes a number as nfdump does: whole below a million, else with one decimal
// and M, G or T (powers of 1000).
func human(v float64) string {
	switch {
	case v >= 1e12:
		return strconv.FormatFloat(v/1e12, 'f', 1, 64) + " T"
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', 1, 64) + " G"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + " M"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// WriteTable writes r for a person: a title line, then aligned columns with numbers
// in nfdump's units ("1.2 M"), the other and total rows last.
func (r *Result) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	q := r.Query
	top := "all"
	if q.Top > 0 {
		top = "top " + strconv.Itoa(q.Top)
	}
	fmt.Fprintf(bw, "%s %s by %s, filter: %s\n", top, q.Group, q.By, q.Filter)
	if !r.From.IsZero() {
		fmt.Fprintf(bw, "%s to %s (%s)\n", r.From.UTC().Format("2006-01-02 15:04:05.000"),
			r.To.UTC().Format("2006-01-02 15:04:05.000 MST"), r.To.Sub(r.From))
	}
	head := append(append([]string{"#"}, q.Group.columns()...), "flows", "packets", "bytes", "share", "bps", "pps")
	nkeys := len(q.Group.columns())
	cells := [][]string{head}
	line := func(name string, keys []string, row Row) {
		cells = append(cells, append(append([]string{name}, keys...), human(float64(row.Flows)),
			human(float64(row.Packets)), human(float64(row.Bytes)), strconv.FormatFloat(row.Share, 'f', 1, 64)+"%",
			human(row.BitsPerSec), human(row.PacketsPerSec)))
	}
	for i, row := range r.Rows {
		line(strconv.Itoa(i+1), r.keyFields(row.Key, true), row)
	}
	blank := make([]string, nkeys)
	if r.Other.Keys > 0 {
		blank[0] = fmt.Sprintf("(%d more)", r.Other.Keys)
		line("other", blank, r.Other)
	}
	blank = make([]string, nkeys)
	blank[0] = fmt.Sprintf("(%d keys)", r.Total.Keys)
	line("total", blank, r.Total)
	width := make([]int, len(head))
	for _, row := range cells {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range cells {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i == 0 || i > nkeys { // ranks and numbers to the right
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		bw.WriteString(strings.TrimRight(b.String(), " ") + "\n")
	}
	return bw.Flush()
}
