package mrtgimport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Row is one row of MRTG history: the mean rates (bytes/s) over (Start, End] and the
// highest rate MRTG saw in it. NaN means unknown.
type Row struct {
	Start, End    time.Time
	In, Out       float64
	MaxIn, MaxOut float64
}

// History is a target's MRTG history, oldest row first, rows adjoining.
type History struct {
	Rows []Row
	// The last counter readings and when they were taken, if known: the replay ends on
	// them so that the first poll after the switch continues the same counters.
	Last            time.Time
	LastIn, LastOut uint64
	HaveLast        bool
}

// ReadLog reads an MRTG .log file (rateup format): a line "time in out" with the last
// counter readings, then rows "time avg_in avg_out max_in max_out", newest first, each
// covering the time since the row below it.
func ReadLog(path string) (*History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read mrtg log: %w", err)
	}
	defer f.Close()
	return parseLog(path, f)
}

func parseLog(name string, r io.Reader) (*History, error) {
	sc := bufio.NewScanner(r)
	h := &History{}
	type raw struct {
		t                      int64
		in, out, maxin, maxout float64
	}
	rows := make([]raw, 0, 2600) // rateup keeps 2,532 rows
	ln := 0
	// A line's fields, read in place: an import of 1,000 logs reads 2.5 million lines,
	// and a string and a slice of fields for each were half of what it allocated.
	var buf [6][]byte
	for sc.Scan() {
		ln++
		line := sc.Bytes()
		f, nf := fields(line, buf[:0])
		if nf == 0 {
			continue
		}
		t, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil || t <= 0 {
			return nil, badLine(name, ln, "bad time", line)
		}
		if ln == 1 {
			if nf != 3 {
				return nil, badLine(name, ln, "first line is not \"time counter_in counter_out\"", line)
			}
			in, err1 := strconv.ParseUint(string(f[1]), 10, 64)
			out, err2 := strconv.ParseUint(string(f[2]), 10, 64)
			h.Last = time.Unix(t, 0).UTC()
			h.LastIn, h.LastOut, h.HaveLast = in, out, err1 == nil && err2 == nil
			continue
		}
		if nf != 5 {
			return nil, badLine(name, ln, fmt.Sprintf("%d fields, want 5", nf), line)
		}
		var v [4]float64
		for i := range v {
			x, err := strconv.ParseFloat(string(f[i+1]), 64)
			if err != nil {
				return nil, badLine(name, ln, "bad number", line)
			}
			if x < 0 { // rateup writes -1 for unknown in some versions
				x = math.NaN()
			}
			v[i] = x
		}
		if n := len(rows); n > 0 && t >= rows[n-1].t {
			if t == rows[n-1].t {
				continue // rateup repeats the newest time when two runs fall in one second
			}
			return nil, badLine(name, ln, fmt.Sprintf("time %d not before the row above (%d)", t, rows[n-1].t), line)
		}
		rows = append(rows, raw{t, v[0], v[1], v[2], v[3]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("%s: no history rows", name)
	}
	// The oldest row has nothing below it: it only anchors the one above.
	h.Rows = make([]Row, 0, len(rows)-1)
	for i := len(rows) - 2; i >= 0; i-- {
		r := rows[i]
		h.Rows = append(h.Rows, Row{
			Start: time.Unix(rows[i+1].t, 0).UTC(), End: time.Unix(r.t, 0).UTC(),
			In: r.in, Out: r.out, MaxIn: r.maxin, MaxOut: r.maxout,
		})
	}
	return h, nil
}

// badLine is parseLog's error for line ln of the log called name.
func badLine(name string, ln int, what string, line []byte) error {
	return fmt.Errorf("%s:%d: %s in %q", name, ln, what, line)
}

// fields is strings.Fields over a line in place: it appends the line's fields to
// dst up to its capacity and returns them with how many there are in all.
func fields(line []byte, dst [][]byte) ([][]byte, int) {
	n, start := 0, -1
	for i := 0; i < len(line); {
		space, size := false, 1
		if c := line[i]; c < utf8.RuneSelf {
			space = asciiSpace[c]
		} else {
			var r rune
			r, size = utf8.DecodeRune(line[i:])
			space = unicode.IsSpace(r)
		}
		if space {
			if start >= 0 {
				if len(dst) < cap(dst) {
					dst = append(dst, line[start:i])
				}
				n++
				start = -1
			}
		} else if start < 0 {
			start = i
		}
		i += size
	}
	if start >= 0 {
		if len(dst) < cap(dst) {
			dst = append(dst, line[start:])
		}
		n++
	}
	return dst, n
}

// asciiSpace is what unicode.IsSpace says of each ASCII character.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// ReadRRD reads an MRTG rrdtool-mode file through "rrdtool dump".
func ReadRRD(ctx context.Context, path string) (*History, error) {
	cmd := exec.CommandContext(ctx, "rrdtool", "dump", path)
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C", "TZ=UTC")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("dump %s: %w", path, err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dump %s: %w", path, err)
	}
	h, perr := ParseDump(path, out)
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("dump %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	return h, perr
}

type dumpXML struct {
	Step       int64 `xml:"step"`
	LastUpdate int64 `xml:"lastupdate"`
	DS         []struct {
		Name    string `xml:"name"`
		Type    string `xml:"type"`
		LastDS  string `xml:"last_ds"`
		Value   string `xml:"value"`       // rate × seconds since the last step boundary
		Unknown int64  `xml:"unknown_sec"` // of those seconds, unknown
	} `xml:"ds"`
	RRA []struct {
		CF   string `xml:"cf"`
		PDPs int64  `xml:"pdp_per_row"`
		Rows []struct {
			V []string `xml:"v"`
		} `xml:"database>row"`
	} `xml:"rra"`
}

// ParseDump reads the XML of "rrdtool dump" of an MRTG file: data sources ds0 (in) and
// ds1 (out), AVERAGE and MAX archives. Each period is taken from the finest archive that
// covers it, so rows adjoin as in a .log file.
func ParseDump(name string, r io.Reader) (*History, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read dump of %s: %w", name, err)
	}
	d, ok := decodeDumpFast(data)
	if !ok {
		d = dumpXML{}
		if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&d); err != nil {
			return nil, fmt.Errorf("parse dump of %s: %w", name, err)
		}
	}
	if d.Step <= 0 || len(d.DS) < 2 {
		return nil, fmt.Errorf("%s: want step and two data sources (ds0, ds1), got step %d and %d", name, d.Step, len(d.DS))
	}
	for _, ds := range d.DS[:2] {
		switch t := strings.TrimSpace(ds.Type); t {
		case "COUNTER", "DERIVE", "GAUGE", "ABSOLUTE":
		default:
			return nil, fmt.Errorf("%s: data source %s is %s, not one MRTG writes", name, strings.TrimSpace(ds.Name), t)
		}
	}
	h := &History{Last: time.Unix(d.LastUpdate, 0).UTC()}
	in, err1 := strconv.ParseUint(strings.TrimSpace(d.DS[0].LastDS), 10, 64)
	out, err2 := strconv.ParseUint(strings.TrimSpace(d.DS[1].LastDS), 10, 64)
	h.LastIn, h.LastOut, h.HaveLast = in, out, err1 == nil && err2 == nil

	type arch struct {
		span int64
		end  int64 // end of the newest row
		avg  [][2]float64
		max  [][2]float64
	}
	byPDP := map[int64]*arch{}
	for _, a := range d.RRA {
		span := a.PDPs * d.Step
		cf := strings.TrimSpace(a.CF)
		if cf != "AVERAGE" && cf != "MAX" {
			continue
		}
		x := byPDP[span]
		if x == nil {
			x = &arch{span: span, end: d.LastUpdate / span * span}
			byPDP[span] = x
		}
		vals := make([][2]float64, len(a.Rows))
		for i, row := range a.Rows {
			if len(row.V) < 2 {
				return nil, fmt.Errorf("%s: %s archive row with %d values", name, cf, len(row.V))
			}
			for k := range 2 {
				v, err := strconv.ParseFloat(strings.TrimSpace(row.V[k]), 64)
				if err != nil {
					v = math.NaN()
				}
				vals[i][k] = v
			}
		}
		if cf == "AVERAGE" {
			x.avg = vals
		} else {
			x.max = vals
		}
	}
	var archs []*arch
	for _, a := range byPDP {
		if a.avg != nil {
			archs = append(archs, a)
		}
	}
	slices.SortFunc(archs, func(a, b *arch) int { return int(a.span - b.span) })
	// Walk from the newest time backwards, each archive filling what finer ones do not reach.
	var rows []Row
	covered := int64(math.MaxInt64) // everything at or after this is taken
	for _, a := range archs {
		n := int64(len(a.avg))
		// An archive's oldest unknown rows were never filled: coarser archives may know
		// that time.
		first := int64(0)
		for first < n && math.IsNaN(a.avg[first][0]) && math.IsNaN(a.avg[first][1]) {
			first++
		}
		for i := n - 1; i >= first; i-- {
			end := a.end - (n-1-i)*a.span
			start := end - a.span
			if end > covered {
				continue
			}
			r := Row{Start: time.Unix(start, 0).UTC(), End: time.Unix(end, 0).UTC(),
				In: a.avg[i][0], Out: a.avg[i][1], MaxIn: math.NaN(), MaxOut: math.NaN()}
			if a.max != nil && int64(len(a.max)) == n {
				r.MaxIn, r.MaxOut = a.max[i][0], a.max[i][1]
			}
			rows = append(rows, r)
			covered = start
		}
	}
	slices.Reverse(rows)
	// Leading unknown rows are the unfilled part of the archives.
	for len(rows) > 0 && math.IsNaN(rows[0].In) && math.IsNaN(rows[0].Out) {
		rows = rows[1:]
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no known rows", name)
	}
	h.Rows = rows
	// The archives end at the last full step; the counters were read at lastupdate. The
	// step in progress holds rate × seconds of the time since.
	if end := rows[len(rows)-1].End; h.HaveLast && h.Last.After(end) {
		secs := h.Last.Sub(end).Seconds()
		r := Row{Start: end, End: h.Last, In: math.NaN(), Out: math.NaN(), MaxIn: math.NaN(), MaxOut: math.NaN()}
		for k, p := range []*float64{&r.In, &r.Out} {
			v, err := strconv.ParseFloat(strings.TrimSpace(d.DS[k].Value), 64)
			if err == nil && d.DS[k].Unknown == 0 {
				*p = v / secs
			}
		}
		if math.IsNaN(r.In) || math.IsNaN(r.Out) {
			h.HaveLast = false
		} else {
			h.Rows = append(h.Rows, r)
		}
	}
	return h, nil
}
