package rrd

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func benchSpec() Spec {
	return Spec{Step: 5 * time.Minute, DS: []DS{
		{Name: "in", Type: Counter, Min: 0, Max: 1.25e9},
		{Name: "out", Type: Counter, Min: 0, Max: 1.25e9},
	}, Archives: DefaultArchives(5 * time.Minute)}
}

func benchNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("dev%d/if%d", i/48, i%48)
	}
	return names
}

// BenchmarkCommitCycle measures one poll cycle's commit: one sample for
// every series in one Update.
func BenchmarkCommitCycle(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "b.db")
			db, err := Open(path, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			names := benchNames(n)
			t0 := time.Unix(1700000000, 0)
			if err := db.CreateBatch(names, benchSpec(), t0); err != nil {
				b.Fatal(err)
			}
			ups := make([]Update, n)
			for i := range ups {
				ups[i] = Update{Series: names[i], Values: []Value{Uint(0), Uint(0)}}
			}
			cycle := func(k int) {
				for i := range ups {
					ups[i].Time = t0.Add(time.Duration(k) * 5 * time.Minute).Add(time.Duration(i%60) * time.Second)
					ups[i].Values[0] = Uint(uint64(k) * 1e6 * uint64(1+i%7))
					ups[i].Values[1] = Uint(uint64(k) * 3e5 * uint64(1+i%5))
				}
				if err := db.Update(ups); err != nil {
					b.Fatal(err)
				}
			}
			cycle(1)
			st0 := db.bolt.Stats()
			b.ResetTimer()
			for k := 0; k < b.N; k++ {
				cycle(k + 2)
			}
			b.StopTimer()
			st1 := db.bolt.Stats()
			st := st1.Sub(&st0)
			// Pages allocated by the commits: what bbolt writes per cycle.
			b.ReportMetric(float64(st.TxStats.GetPageAlloc())/float64(b.N), "bytes-written/cycle")
			fi, _ := os.Stat(path)
			b.ReportMetric(float64(fi.Size())/float64(n), "filebytes/series")
		})
	}
}
