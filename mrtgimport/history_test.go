package mrtgimport

import (
	"encoding/xml"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// dumpXML is the shape of "rrdtool dump" for an MRTG file, cut to two archives of each
// function: 300 s rows and 1800 s rows.
const dumpText = `<?xml version="1.0" encoding="utf-8"?>
<rrd>
	<version>0003</version>
	<step>300</step>
	<lastupdate>1767229860</lastupdate>
	<ds><name> ds0 </name><type> COUNTER </type><minimal_heartbeat>600</minimal_heartbeat>
		<min>0</min><max>1.25e6</max><last_ds>5000</last_ds><value>6.0e+03</value><unknown_sec> 0 </unknown_sec></ds>
	<ds><name> ds1 </name><type> COUNTER </type><minimal_heartbeat>600</minimal_heartbeat>
		<min>0</min><max>1.25e6</max><last_ds>7000</last_ds><value>1.2e+03</value><unknown_sec> 0 </unknown_sec></ds>
	<rra><cf>AVERAGE</cf><pdp_per_row>1</pdp_per_row><database>
		<!-- 1767229200 --> <row><v>NaN</v><v>NaN</v></row>
		<!-- 1767229500 --> <row><v>1.0e+02</v><v>2.0e+01</v></row>
		<!-- 1767229800 --> <row><v>3.0e+02</v><v>4.0e+01</v></row>
	</database></rra>
	<rra><cf>AVERAGE</cf><pdp_per_row>6</pdp_per_row><database>
		<!-- 1767225600 --> <row><v>NaN</v><v>NaN</v></row>
		<!-- 1767227400 --> <row><v>5.0e+01</v><v>5.0e+00</v></row>
		<!-- 1767229200 --> <row><v>6.0e+01</v><v>6.0e+00</v></row>
	</database></rra>
	<rra><cf>MAX</cf><pdp_per_row>1</pdp_per_row><database>
		<row><v>NaN</v><v>NaN</v></row><row><v>1.0e+02</v><v>2.0e+01</v></row><row><v>3.0e+02</v><v>4.0e+01</v></row>
	</database></rra>
	<rra><cf>MAX</cf><pdp_per_row>6</pdp_per_row><database>
		<row><v>NaN</v><v>NaN</v></row><row><v>9.0e+01</v><v>9.0e+00</v></row><row><v>8.0e+01</v><v>8.0e+00</v></row>
	</database></rra>
</rrd>`

func TestParseDump(t *testing.T) {
	h, err := ParseDump("x.rrd", strings.NewReader(dumpText))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		start, end           int64
		in, out, maxIn, maxO float64
	}
	nan := math.NaN()
	want := []row{
		// 30-minute rows up to where the 5-minute archive begins, then 5-minute rows, then
		// the step in progress up to lastupdate (value/seconds).
		{1767225600, 1767227400, 50, 5, 90, 9},
		{1767227400, 1767229200, 60, 6, 80, 8},
		{1767229200, 1767229500, 100, 20, 100, 20},
		{1767229500, 1767229800, 300, 40, 300, 40},
		{1767229800, 1767229860, 100, 20, nan, nan},
	}
	if len(h.Rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(h.Rows), len(want), h.Rows)
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	for i, w := range want {
		r := h.Rows[i]
		if r.Start.Unix() != w.start || r.End.Unix() != w.end || !same(r.In, w.in) || !same(r.Out, w.out) ||
			!same(r.MaxIn, w.maxIn) || !same(r.MaxOut, w.maxO) {
			t.Errorf("row %d = %v..%v %v %v %v %v, want %+v", i, r.Start.Unix(), r.End.Unix(), r.In, r.Out, r.MaxIn, r.MaxOut, w)
		}
	}
	if !h.HaveLast || h.LastIn != 5000 || h.LastOut != 7000 || !h.Last.Equal(time.Unix(1767229860, 0)) {
		t.Errorf("last reading %v %d %d at %s", h.HaveLast, h.LastIn, h.LastOut, h.Last)
	}
}

func TestParseLogErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", "x.log: no history rows"},
		{"1767229860 5 6\n1767229860 1 2 3\n", `x.log:2: 4 fields, want 5 in "1767229860 1 2 3"`},
		{"1767229860 5\n", `x.log:1: first line is not "time counter_in counter_out" in "1767229860 5"`},
		{"1767229860 5 6\n1767229800 1 2 3 4\n1767229900 1 2 3 4\n", `x.log:3: time 1767229900 not before the row above (1767229800) in "1767229900 1 2 3 4"`},
		{"1767229860 5 6\nnow 1 2 3 4\n", `x.log:2: bad time in "now 1 2 3 4"`},
	}
	for _, tt := range tests {
		_, err := parseLog("x.log", strings.NewReader(tt.text))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: error %v, want %s", tt.text, err, tt.want)
		}
	}
}

// TestParseDumpFast: a dump rrdtool wrote (testdata/mrtg-dump.xml, MRTG's eight
// archives, cut short) is read by the fast reader, as encoding/xml reads it.
func TestParseDumpFast(t *testing.T) {
	data, err := os.ReadFile("testdata/mrtg-dump.xml")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decodeDumpFast([]byte(dumpText)); !ok {
		t.Error("the fast reader refused dumpText")
	}
	fast, ok := decodeDumpFast(data)
	if !ok {
		t.Fatal("the fast reader refused rrdtool's own dump")
	}
	var want dumpXML
	if err := xml.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, want) || len(fast.RRA) != 8 || len(fast.RRA[0].Rows) != 24 {
		t.Errorf("fast reader read %+v\nencoding/xml %+v", fast, want)
	}
}

// TestFields checks fields against strings.Fields, which parseLog used to split a line
// with: the same fields, and how many, on lines of every kind of white space.
func TestFields(t *testing.T) {
	lines := []string{"", " ", "1700000000 1 2", "  a\tb \r\n", "a\u00a0b\u2003c", "\u0085x\u0085",
		"x\xffy z", "1 2 3 4 5 6 7 8", "\xe2\x80", "a\v\fb", "é è"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{" ", "\t", "\u00a0", "\u3000", "\xff", "7", ".", "a", "é", "\r"}
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		lines = append(lines, b.String())
	}
	for _, line := range lines {
		want := strings.Fields(line)
		var buf [3][]byte
		got, n := fields([]byte(line), buf[:0])
		if n != len(want) {
			t.Fatalf("fields(%q): %d fields, want %d", line, n, len(want))
		}
		for i, g := range got {
			if string(g) != want[i] {
				t.Fatalf("fields(%q)[%d] = %q, want %q", line, i, g, want[i])
			}
		}
		if len(got) != min(n, 3) {
			t.Fatalf("fields(%q): %d returned, want %d", line, len(got), min(n, 3))
		}
	}
}
