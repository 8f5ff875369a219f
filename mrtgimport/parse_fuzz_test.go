package mrtgimport

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/rrd"
)

// FuzzParse feeds arbitrary text to the mrtg.cfg parser as the configuration and as
// the one file it may include: it returns a Config or an error, never panics, and an
// error names the file.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.cfg")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		inc, _ := os.ReadFile("testdata/exotic-part.inc")
		f.Add(b, inc)
	}
	f.Add([]byte("WorkDir: /x\nTarget[a]: 2:public@127.0.0.1\nMaxBytes[a]: 1250000\nInclude: part.inc\n"), []byte("Target[b]: #eth0:public@127.0.0.1\nMaxBytes[b]: 1e9\n"))
	f.Add([]byte("WorkDir: /x\nLoadMIBs: part.inc\nTarget[a\"b]: 2:public@h + laLoadInt.1&laLoadInt.2:public@h + `prog`\nMaxBytes[a\"b]: 100\n"),
		[]byte("M DEFINITIONS ::= BEGIN\nla OBJECT IDENTIFIER ::= { enterprises 2021 10 }\nlaLoadInt OBJECT-TYPE\n SYNTAX Integer32\n ::= { la 5 }\nEND\n"))
	f.Fuzz(func(t *testing.T, cfg, inc []byte) {
		read := func(p string) ([]byte, error) {
			switch filepath.Base(p) {
			case "mrtg.cfg":
				return cfg, nil
			case "part.inc", "exotic-part.inc":
				return inc, nil
			}
			return nil, os.ErrNotExist
		}
		c, err := Parse("/etc/mrtg/mrtg.cfg", read)
		if err != nil {
			if !strings.Contains(err.Error(), "mrtg.cfg") && !strings.Contains(err.Error(), ".inc") {
				t.Errorf("error %q names no file", err)
			}
			return
		}
		if c == nil {
			t.Fatal("nil Config without an error")
		}
		for _, tg := range c.Targets {
			_ = tg.LogBase(c)
		}
		// Whatever is translated (offline) makes a targets file that loads.
		found, plans := Translate(context.Background(), c, nil)
		out, _, err := config.Merge("t.toml", nil, TargetsFile(c, found, plans))
		if err != nil {
			t.Fatalf("merge: %v", err)
		}
		if len(out) == 0 {
			return // nothing translated
		}
		if _, _, err := AppendAggregates("t.toml", out, Aggregates(plans)); err != nil {
			t.Fatalf("aggregates: %v\n%s", err, out)
		}
	})
}

// FuzzReadLog feeds arbitrary text to the MRTG .log reader and, when it reads, replays
// the history into a fresh store: nothing panics, the store takes the updates (or
// refuses them with an error), reopens, and every value it returns is unknown or
// within the interface speed.
func FuzzReadLog(f *testing.F) {
	f.Add([]byte("1700000600 5000 7000\n1700000600 10 20 30 40\n1700000300 10 20 30 40\n1700000000 0 0 0 0\n"))
	f.Add([]byte("1700000600 5000 7000\n1700000700 10 20 30 40\n1700000300 -1 1e308 NaN 40\n"))
	f.Add([]byte("1700000600 18446744073709551615 0\n1700000600 1e20 0 0 0\n1699913600 5 5 5 5\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "a.log")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		h, err := ReadLog(path)
		if err != nil {
			return
		}
		const step = 5 * time.Minute
		if len(h.Rows) == 0 || len(h.Rows) > 100 || h.Rows[len(h.Rows)-1].End.Sub(h.Rows[0].Start) > 3*24*time.Hour {
			return // keep each run small: long histories are the benchmarks' job
		}
		const speed = 1e9 / 8
		ups, start, err := Replay(h, "r1/eth0", step, speed, 64)
		if err != nil {
			return
		}
		db, err := rrd.Open(filepath.Join(dir, "s.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		spec := rrd.Spec{Step: step, Heartbeat: 2 * step,
			DS:       []rrd.DS{{Name: "in", Type: rrd.Counter, Min: 0, Max: speed, Bits: 64}, {Name: "out", Type: rrd.Counter, Min: 0, Max: speed, Bits: 64}},
			Archives: []rrd.Archive{{CF: rrd.Average, Steps: 1, Rows: 1000, XFF: 0.5}, {CF: rrd.Max, Steps: 6, Rows: 200, XFF: 0.5}}}
		if err := db.Create("r1/eth0", spec, start); err != nil {
			db.Close()
			return // a start outside what the store accepts
		}
		if err := db.Update(ups); err != nil && errors.Is(err, rrd.ErrNoSeries) {
			t.Errorf("update: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		checkStore(t, filepath.Join(dir, "s.db"), "r1/eth0", speed)
	})
}

// checkStore reopens the store and fetches the series over its whole life.
func checkStore(t *testing.T, path, series string, max float64) {
	t.Helper()
	db, err := rrd.Open(path, &rrd.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("reopen store: %v", err)
	}
	defer db.Close()
	_, last, err := db.Info(series)
	if err != nil {
		t.Fatalf("info after reopen: %v", err)
	}
	res, err := db.Fetch(series, rrd.Average, last.Add(-24*time.Hour), last.Add(time.Second), 0)
	if err != nil {
		t.Fatalf("fetch after reopen: %v", err)
	}
	for i, row := range res.Rows {
		for d, v := range row {
			if !math.IsNaN(v) && (v < 0 || v > max*1.0001) {
				t.Errorf("row %d ds %d = %g, outside [0, %g]", i, d, v, max)
			}
		}
	}
}

// FuzzParseDump feeds arbitrary bytes to the reader of "rrdtool dump" XML.
func FuzzParseDump(f *testing.F) {
	f.Add([]byte(`<rrd><step>300</step><lastupdate>1700000000</lastupdate><ds><name>ds0</name></ds><ds><name>ds1</name></ds>` +
		`<rra><cf>AVERAGE</cf><pdp_per_row>1</pdp_per_row><database><row><v>1.0e+01</v><v>2.0e+01</v></row><row><v>NaN</v><v>-1</v></row></database></rra></rrd>`))
	f.Add([]byte(`<rrd><step>0</step></rrd>`))
	if b, err := os.ReadFile("testdata/mrtg-dump.xml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Where the fast reader takes the XML, it reads what encoding/xml reads.
		if fast, ok := decodeDumpFast(data); ok {
			var want dumpXML
			if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&want); err != nil {
				t.Fatalf("fast reader took XML encoding/xml refuses (%v): %q", err, data)
			}
			if !reflect.DeepEqual(fast, want) {
				t.Fatalf("fast reader read %+v, encoding/xml %+v", fast, want)
			}
		}
		h, err := ParseDump("x.xml", bytes.NewReader(data))
		if err != nil {
			return
		}
		for i := 1; i < len(h.Rows); i++ {
			if h.Rows[i].Start.Before(h.Rows[i-1].Start) {
				t.Errorf("rows out of order at %d", i)
			}
		}
	})
}
