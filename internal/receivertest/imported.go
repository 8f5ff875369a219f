package receivertest

import (
	"math"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/rrd"
)

// ImportedInterfaces are the interfaces of device core1 Imported writes.
var ImportedInterfaces = []string{"xe-0/0/0", "xe-0/0/1"}

// ImportedStep is the step of Imported's series.
const ImportedStep = 5 * time.Minute

// Imported writes into the store at path (made if need be, and closed again) the
// history an import of MRTG's leaves: days of five-minute steps ending at end (a
// whole step) of the interfaces ImportedInterfaces of device core1 (10 Gb/s, with
// descriptions), through rrd.Backfill, in archives kept as keep says, so that each
// coarser archive reaches further back than the finer one. The second interface has
// an unknown step in every 50. Each series ends with counter readings at end, which
// are returned (octets in and out, by interface): a poll after end continues them
// and has a rate at its first step.
func Imported(tb testing.TB, path string, end time.Time, days int, keep config.Retention) [][2]uint64 {
	tb.Helper()
	db, err := rrd.Open(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	steps := days * int(24*time.Hour/ImportedStep)
	start := end.Add(-time.Duration(steps) * ImportedStep)
	spec := series.SpecWith(ImportedStep, 10e9, 64, series.Archives(ImportedStep, keep))
	var names []string
	infos := map[string]series.Info{}
	for i, iface := range ImportedInterfaces {
		n := series.Name("core1", iface)
		names = append(names, n)
		infos[n] = series.Info{Index: i + 1, Descr: iface, Alias: "uplink " + iface, Speed: 10e9, Bits: 64}
	}
	if err := db.CreateBatch(names, spec, start.Add(-ImportedStep)); err != nil {
		tb.Fatal(err)
	}
	if err := series.PutInterfaces(db, infos); err != nil {
		tb.Fatal(err)
	}
	last := make([][2]uint64, len(names))
	err = db.Backfill(names, func(i int) (rrd.History, error) {
		rates := make([]float64, 0, 2*steps)
		for k := range steps {
			if i == 1 && k%50 == 7 {
				rates = append(rates, math.NaN(), math.NaN())
				continue
			}
			h := float64(k%288) / 288
			in := 1e7 * (1.5 + math.Sin(2*math.Pi*h+float64(i)) + 0.3*math.Sin(float64(k)/7)) * float64(i+1)
			rates = append(rates, math.Round(in), math.Round(in/3))
		}
		last[i] = [2]uint64{uint64(1e12) * uint64(i+1), uint64(3e11) * uint64(i+1)}
		return rrd.History{End: end, Rates: rates, Last: []rrd.Value{rrd.Uint(last[i][0]), rrd.Uint(last[i][1])}}, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return last
}
