package rrd_test

import (
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/mrtgo/mrtgo/rrd"
)

func Example() {
	dir, err := os.MkdirTemp("", "rrd-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	step := 5 * time.Minute
	speed := 1.25e8 // 1 Gbit/s in bytes/s
	spec := rrd.Spec{
		Step: step,
		DS: []rrd.DS{
			{Name: "in", Type: rrd.Counter, Min: 0, Max: speed},
			{Name: "out", Type: rrd.Counter, Min: 0, Max: speed},
		},
		Archives: rrd.DefaultArchives(step),
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.Create("core1/ge-0/0/0", spec, start); err != nil {
		log.Fatal(err)
	}

	// Six polls, 1 MB/s in and 250 kB/s out; the agent restarts before the
	// fifth, and its counters start again from zero.
	var ups []rrd.Update
	var in, out uint64
	for i := 1; i <= 6; i++ {
		reset := i == 5
		if reset {
			in, out = 0, 0
		}
		ups = append(ups, rrd.Update{
			Series:        "core1/ge-0/0/0",
			Time:          start.Add(time.Duration(i) * step),
			Values:        []rrd.Value{rrd.Uint(in), rrd.Uint(out)},
			Discontinuity: reset,
		})
		in += 300e6
		out += 75e6
	}
	if err := db.Update(ups); err != nil {
		log.Fatal(err)
	}

	res, err := db.Fetch("core1/ge-0/0/0", rrd.Average, start, start.Add(6*step), 0)
	if err != nil {
		log.Fatal(err)
	}
	for i, row := range res.Rows {
		fmt.Printf("%s in %8.0f out %8.0f\n", res.Time(i).Format("15:04"), row[0], row[1])
	}
	st := rrd.Summarize(res.Column(0), res.Step)
	fmt.Printf("in: max %.0f B/s, average %.0f B/s, total %.0f bytes, unknown rows %d\n",
		st.Max, st.Average, st.Total, countNaN(res.Column(0)))
	// Output:
	// 00:05 in      NaN out      NaN
	// 00:10 in  1000000 out   250000
	// 00:15 in  1000000 out   250000
	// 00:20 in  1000000 out   250000
	// 00:25 in      NaN out      NaN
	// 00:30 in  1000000 out   250000
	// in: max 1000000 B/s, average 1000000 B/s, total 1200000000 bytes, unknown rows 2
}

func countNaN(xs []float64) int {
	n := 0
	for _, x := range xs {
		if math.IsNaN(x) {
			n++
		}
	}
	return n
}
