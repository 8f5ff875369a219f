package rrd

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

// rrdtoolRows runs create/update/dump and returns archive i's rows of data
// source 0 by time.
func rrdtoolRows(t *testing.T, spec Spec, start int64, updates []string, i int) map[int64]float64 {
	t.Helper()
	tool := startRRDtool(t, testneed.Program(t, "rrdtool", "apt-get install rrdtool"))
	file := filepath.Join(t.TempDir(), "d.rrd")
	tool.run(t, rrdtoolCreateArgs(file, spec, start)...)
	tool.run(t, append([]string{"update", file}, updates...)...)
	d := parseDump(t, tool.run(t, "dump", file))
	out := map[int64]float64{}
	for j, tm := range d[i].times {
		out[tm] = d[i].rows[j][0]
	}
	return out
}

// The places where mrtgo deliberately differs from rrdtool 1.7, each shown
// against rrdtool itself so the difference stays documented and real.
func TestDeliberateDifferences(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name    string
		ds      DS
		updates []string // rrdtool update arguments, "time:value"
		archive int      // index in the spec below
		row     int64    // row time to compare
		want    float64  // mrtgo's value
		rrdtool float64  // rrdtool 1.7's value
	}{
		{
			// rrdtool adds 2^32-1 to a negative difference, one short of a wrap.
			name: "32-bit wrap adds 2^32", ds: DS{Name: "in", Type: Counter, Bits: 32, Min: nan, Max: nan},
			updates: []string{"1700000010:4294967290", "1700000020:10"},
			row:     1700000020, want: 1.6, rrdtool: 1.5,
		},
		{
			// rrdtool reads a 64-bit counter going back as a 32-bit wrap
			// (a rate of about 4e8 here); mrtgo says unknown.
			name: "64-bit counter backwards is unknown", ds: DS{Name: "in", Type: Counter, Min: nan, Max: nan},
			updates: []string{"1700000010:1000000000000", "1700000020:999999999000"},
			row:     1700000020, want: nan, rrdtool: (4294967295.0 - 1000) / 10,
		},
		{
			// An update spanning several steps after a sub-second
			// timestamp: rrdtool 1.7 counts the microseconds twice (230 and
			// 307.5); mrtgo weights each step by time (245, then 300).
			name: "sub-second update spanning steps", ds: DS{Name: "g", Type: Gauge, Min: nan, Max: nan},
			updates: []string{"1700000010:100", "1700000025.5:200", "1700000053:300"},
			row:     1700000030, want: 245, rrdtool: 230,
		},
		{
			name: "sub-second update spanning steps, fill", ds: DS{Name: "g", Type: Gauge, Min: nan, Max: nan},
			updates: []string{"1700000010:100", "1700000025.5:200", "1700000053:300"},
			row:     1700000040, want: 300, rrdtool: 307.5,
		},
		{
			// The same double count when the update after a sub-second one is
			// beyond the heartbeat: the step keeps 1.2 s known at 100 and rrdtool
			// gives 60; mrtgo gives the 100 it knows, as rrdtool does when the
			// times are whole seconds (a step more than half unknown this way is
			// kept by both: the half rule counts only earlier unknown updates).
			name: "sub-second update beyond the heartbeat", ds: DS{Name: "g", Type: Gauge, Min: nan, Max: nan},
			updates: []string{"1700000010:100", "1700000031.2:100", "1700000152.5:100"},
			row:     1700000040, want: 100, rrdtool: 60,
		},
		{
			// After a gap longer than an archive (here 2 steps × 3 rows),
			// rrdtool writes the row it was consolidating before the gap
			// (MAX of 200 and 300) into the oldest slot, stamped 140 s
			// later; mrtgo leaves that time unknown, as it was.
			name: "gap longer than an archive", ds: DS{Name: "g", Type: Gauge, Min: nan, Max: nan},
			updates: []string{"1700000010:100", "1700000020:200", "1700000025:300", "1700000200:400"},
			archive: 1, row: 1700000160, want: nan, rrdtool: 300,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := Spec{Step: 10 * time.Second, Heartbeat: 100 * time.Second, DS: []DS{tc.ds}, Archives: []Archive{{Average, 1, 20, 0.5}, {Max, 2, 3, 0.5}}}
			gotRRD := rrdtoolRows(t, spec, t0, tc.updates, tc.archive)[tc.row]
			if !same(gotRRD, tc.rrdtool) {
				t.Errorf("rrdtool gives %v at %d, the test expects %v: the difference has changed", gotRRD, tc.row, tc.rrdtool)
			}
			db := openTest(t)
			if err := db.Create("s", spec, at(t0)); err != nil {
				t.Fatal(err)
			}
			var ups []Update
			for _, u := range tc.updates {
				var ts, val string
				for i := range u {
					if u[i] == ':' {
						ts, val = u[:i], u[i+1:]
					}
				}
				f, _ := strconv.ParseFloat(ts, 64)
				tm := time.Unix(0, int64(math.Round(f*1e6))*1000)
				v := Float(0)
				if n, err := strconv.ParseUint(val, 10, 64); err == nil {
					v = Uint(n)
				} else if x, err := strconv.ParseFloat(val, 64); err == nil {
					v = Float(x)
				}
				ups = append(ups, Update{Series: "s", Time: tm, Values: []Value{v}})
			}
			if err := db.Update(ups); err != nil {
				t.Fatal(err)
			}
			times, rows := archiveRows(t, db, "s", tc.archive)
			found := false
			for j, tm := range times {
				if tm == tc.row {
					found = true
					if got := rows[j][0]; !same(got, tc.want) {
						t.Errorf("mrtgo gives %v at %d, want %v", got, tc.row, tc.want)
					}
				}
			}
			if !found {
				t.Errorf("mrtgo has no row at %d in archive %d", tc.row, tc.archive)
			}
		})
	}
}

func TestBoundedNeverRoundsAboveMax(t *testing.T) {
	tests := []struct{ v, min, max float64 }{
		{16777219, math.NaN(), 16777219}, // float32 rounds up to 16777220
		{16777219 * (1 + 1e-15), 0, 16777219},
		{-16777219, -16777219, math.NaN()},
		{1.25e8, 0, 1.25e8},
	}
	for _, tc := range tests {
		got := float64(bounded(tc.v, &DS{Min: tc.min, Max: tc.max}))
		if got > tc.max || got < tc.min || math.Abs(got-tc.v) > 2e-7*math.Abs(tc.v) {
			t.Errorf("bounded(%v, [%v, %v]) = %v", tc.v, tc.min, tc.max, got)
		}
	}
}
