package rrd

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mrtgo/mrtgo/internal/fixturedir"
	"github.com/mrtgo/mrtgo/internal/testneed"
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

// A benchmark runs more than once in a process: once per -count, and again with a
// larger b.N while a -benchtime duration is not filled. Stores that take seconds to
// build are therefore built once per process, kept in fixtureDir and removed by
// TestMain, so that repeated runs time the operation and not the set-up.
var (
	fixtureDir = fixturedir.Dir{Prefix: "rrd-bench-"}
	commits    = map[commitKey]*commitFixture{}
	months     = map[int]*monthFixture{}
	fileSizes  = map[int]float64{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range commits {
		f.db.Close()
	}
	for _, f := range months {
		f.db.Close()
	}
	fixtureDir.Remove()
	os.Exit(code)
}

// BenchmarkCommitCycle measures one poll cycle's commit: one sample for
// every series in one Update, up to the syncs (see commitStore).
func BenchmarkCommitCycle(b *testing.B) {
	benchCommitCycle(b, false)
}

// BenchmarkCommitCycleHoltWinters is BenchmarkCommitCycle with Holt-Winters
// on every series: a daily period of 288 steps, two days of results. It times
// ordinary cycles: the one in which the smoother runs (once a day) is committed
// untimed, as in BenchmarkCommitCycleFailureChanges.
func BenchmarkCommitCycleHoltWinters(b *testing.B) {
	benchCommitCycle(b, true)
}

func benchCommitCycle(b *testing.B, hw bool) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			f := commitStore(b, n, hw)
			var (
				skipCPU   time.Duration // of the smoother's cycles
				skipPages int64
			)
			st0 := f.db.bolt.Stats()
			b.ResetTimer()
			c0 := cpuTime()
			for range b.N {
				if hw && f.smoothsNext() {
					// 0.4-1.5 s at 10,000 series, against 10-20 ms for an
					// ordinary cycle: one among a run's 15 cycles made that
					// run's time per cycle 162 ms.
					b.StopTimer()
					s0, cs := f.db.bolt.Stats(), cpuTime()
					f.cycle(b)
					s1 := f.db.bolt.Stats()
					skipCPU += cpuTime() - cs
					skipPages += s1.TxStats.GetPageAlloc() - s0.TxStats.GetPageAlloc()
					b.StartTimer()
				}
				f.cycle(b)
			}
			b.StopTimer()
			reportCPU(b, c0+skipCPU)
			st1 := f.db.bolt.Stats()
			st := st1.Sub(&st0)
			// Pages allocated by the commits: what bbolt writes per cycle.
			b.ReportMetric(float64(st.TxStats.GetPageAlloc()-skipPages)/float64(b.N), "bytes-written/cycle")
		})
	}
}

// BenchmarkCommitCycleFailureChanges is BenchmarkCommitCycleHoltWinters with
// the FAILURES of every data source of every series changing in every cycle
// (changes=all), the most Update.FailureChanges can cost, beside the same
// cycles without a change (changes=none). Before each cycle (untimed) the
// state records are rewritten, with the FAILURES they keep of the last step
// inverted for changes=all and as they are for changes=none, so that the
// two differ only in the changes. The two go on with the same store, one
// after the other: a cycle in which the smoother runs (a few seconds, once
// a day) is committed untimed, so that both time ordinary cycles.
func BenchmarkCommitCycleFailureChanges(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, invert := range []bool{false, true} {
			name := fmt.Sprintf("series=%d/changes=none", n)
			if invert {
				name = fmt.Sprintf("series=%d/changes=all", n)
			}
			b.Run(name, func(b *testing.B) {
				f := commitStore(b, n, true)
				changes := 0
				var cpu time.Duration
				var written int64 // by the cycles, not the rewrites
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					for f.smoothsNext() {
						f.cycle(b)
					}
					rewriteFailures(b, f.db, invert)
					st0 := f.db.bolt.Stats()
					c0 := cpuTime()
					b.StartTimer()
					f.cycle(b)
					b.StopTimer()
					cpu += cpuTime() - c0
					st1 := f.db.bolt.Stats()
					written += st1.TxStats.GetPageAlloc() - st0.TxStats.GetPageAlloc()
					for _, u := range f.ups {
						changes += len(u.FailureChanges)
					}
					b.StartTimer()
				}
				b.StopTimer()
				if want := b.N * n * 2; invert && changes < want*9/10 || !invert && changes > want/10 {
					b.Fatalf("%d changes in %d cycles of %d series: the benchmark does not measure what it says", changes, b.N, n)
				}
				b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(changes)/float64(b.N), "changes/cycle")
				b.ReportMetric(float64(written)/float64(b.N), "bytes-written/cycle")
			})
		}
	}
}

// BenchmarkApplyCycleFailureChanges is the part of a commit cycle of
// BenchmarkCommitCycleFailureChanges that finding the changes adds to: the
// updates of one cycle of 10,000 series with Holt-Winters applied in a
// transaction that is then rolled back (no commit, no sync, the same cycle
// every time), with the FAILURES the state records keep inverted first
// (changes=all) or not (changes=none). Away from the disk it varies far
// less than a commit, so that the difference shows.
func BenchmarkApplyCycleFailureChanges(b *testing.B) {
	const n = 10000
	for _, invert := range []bool{false, true} {
		name := "series=10000/changes=none"
		if invert {
			name = "series=10000/changes=all"
		}
		b.Run(name, func(b *testing.B) {
			f := commitStore(b, n, true)
			for f.smoothsNext() {
				f.cycle(b)
			}
			k := f.next
			for i := range f.ups {
				f.ups[i].Time = f.t0.Add(time.Duration(k) * 5 * time.Minute).Add(time.Duration(i%60) * time.Second)
				f.ups[i].Values[0] = Uint(uint64(k) * 1e6 * uint64(1+i%7))
				f.ups[i].Values[1] = Uint(uint64(k) * 3e5 * uint64(1+i%5))
			}
			resolved := f.db.resolve(f.ups)
			var cpu time.Duration
			changes := 0
			for b.Loop() {
				b.StopTimer()
				tx, err := f.db.bolt.Begin(true)
				if err != nil {
					b.Fatal(err)
				}
				if err := putFailures(tx, f.db, invert); err != nil {
					b.Fatal(err)
				}
				c0 := cpuTime()
				b.StartTimer()
				w := newWork(tx)
				w.pool = &f.db.bufs
				u := updater{w: w}
				for i := range f.ups {
					if err := u.apply(resolved[i].s, &f.ups[i]); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				cpu += cpuTime() - c0
				for _, u := range f.ups {
					changes += len(u.FailureChanges)
				}
				if err := tx.Rollback(); err != nil {
					b.Fatal(err)
				}
				f.db.bufs.release()
				b.StartTimer()
			}
			if want := b.N * n * 2; invert && changes < want*9/10 || !invert && changes > want/10 {
				b.Fatalf("%d changes in %d cycles of %d series: the benchmark does not measure what it says", changes, b.N, n)
			}
			b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(changes)/float64(b.N), "changes/cycle")
		})
	}
}

// smoothsNext reports whether the Holt-Winters smoother runs in the fixture's
// next cycle: the one that completes the step of the smoothing row, which is
// also where the burn-in smooths (row 0 wraps).
func (f *commitFixture) smoothsNext() bool {
	s := f.db.lookup(f.ups[0].Series)
	hp := s.spec.HoltWinters
	if hp == nil || hp.SmoothRow != 0 {
		panic("smoothsNext: the fixture's detectors smooth at row 0")
	}
	stepS := s.g.stepUs / 1e6
	// The cycle's updates are within a minute after t0 + next steps.
	p := floorDiv(f.t0.Add(time.Duration(f.next)*time.Duration(stepS)*time.Second).Unix(), stepS)
	return floorMod(p, int64(hp.Period)) == 0
}

// rewriteFailures rewrites every Holt-Winters state record of db, with the
// FAILURES it keeps of the last step inverted if invert.
func rewriteFailures(tb testing.TB, db *DB, invert bool) {
	tb.Helper()
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return putFailures(tx, db, invert) }); err != nil {
		tb.Fatal(err)
	}
}

// putFailures rewrites, in tx, every Holt-Winters state record of db, with
// the FAILURES it keeps of the last step inverted if invert.
func putFailures(tx *bolt.Tx, db *DB, invert bool) error {
	for _, g := range db.byID {
		if g.hwPeriod == 0 {
			continue
		}
		bk := tx.Bucket(g.bucket)
		for c := 0; c < chunks(g.cols); c++ {
			v := append([]byte(nil), bk.Get(hwStateKey(uint32(c)))...)
			for off := 0; invert && off+hwRecSize <= len(v); off += hwRecSize {
				w := binary.LittleEndian.Uint32(v[off+36:])
				binary.LittleEndian.PutUint32(v[off+36:], (w^failureBit)|failureKept)
			}
			if err := bk.Put(hwStateKey(uint32(c)), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// commitFixture is a store of n series that has been committing cycles; cycle
// commits the next one.
type commitFixture struct {
	db   *DB
	ups  []Update
	t0   time.Time
	next int
}

func (f *commitFixture) cycle(tb testing.TB) {
	k := f.next
	f.next++
	for i := range f.ups {
		f.ups[i].Time = f.t0.Add(time.Duration(k) * 5 * time.Minute).Add(time.Duration(i%60) * time.Second)
		f.ups[i].Values[0] = Uint(uint64(k) * 1e6 * uint64(1+i%7))
		f.ups[i].Values[1] = Uint(uint64(k) * 3e5 * uint64(1+i%5))
	}
	if err := f.db.Update(f.ups); err != nil {
		tb.Fatal(err)
	}
}

type commitKey struct {
	n  int
	hw bool
}

// commitStore is the process's commit fixture of n series, with
// Holt-Winters if hw.
func commitStore(tb testing.TB, n int, hw bool) *commitFixture {
	tb.Helper()
	if f := commits[commitKey{n, hw}]; f != nil {
		return f
	}
	file := fmt.Sprintf("commit-%d.db", n)
	spec := benchSpec()
	if hw {
		file = fmt.Sprintf("commit-hw-%d.db", n)
		spec.HoltWinters = &HWParams{Alpha: 0.1, Beta: 0.0035, Period: 288}
	}
	names := benchNames(n)
	t0 := time.Unix(1700000000, 0)
	if !fixtureDir.Ready(tb, file) {
		db, err := Open(fixtureDir.Path(tb, file), nil)
		if err != nil {
			tb.Fatal(err)
		}
		if err := db.CreateBatch(names, spec, t0); err != nil {
			tb.Fatal(err)
		}
		if err := db.Close(); err != nil {
			tb.Fatal(err)
		}
		fixtureDir.MarkReady(tb, file)
	}
	// Every process commits to a copy of the store as it was built, so that
	// each times the same cycles (see fixturedir.Dir.Copy). Its commits skip
	// the two fdatasyncs that make each durable: those are the disk's time, not
	// the store's, and on the machine the figures were measured on they took
	// from 0.3 to 1.4 ms a commit, in phases of minutes, so that commits of
	// 1,000 series (0.5 ms of CPU) took 0.8-2.0 ms and two make bench runs an
	// hour apart disagreed by a third. The table's Disk line times a sync in
	// each pass; internal/pipeline's PollCommit and cmd/mrtgo's poll --once
	// time whole cycles, syncs included.
	db, err := Open(fixtureDir.Copy(tb, file), &Options{noSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	f := &commitFixture{db: db, ups: make([]Update, n), t0: t0, next: 1}
	for i := range f.ups {
		f.ups[i] = Update{Series: names[i], Values: []Value{Uint(0), Uint(0)}}
	}
	// Time a store that has been running: the first cycles after opening pay for
	// mapping the file's pages in, which a daemon pays once.
	for range 50 {
		f.cycle(tb)
	}
	commits[commitKey{n, hw}] = f
	return f
}

// fillRetention writes every row key of the group of names[0] at full
// width, as a store looks after one full retention period.
func fillRetention(tb testing.TB, db *DB, name string) {
	tb.Helper()
	s := db.lookup(name)
	g := s.g
	for a, ar := range g.arch {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(g.bucket)
			for slot := 0; slot < ar.Rows; slot++ {
				for c := 0; c < chunks(g.cols); c++ {
					row := make([]byte, colsIn(g.cols, uint32(c))*g.nds*4)
					for i := 0; i < len(row); i += 4 {
						binary.LittleEndian.PutUint32(row[i:], math.Float32bits(float32(slot+i)))
					}
					if err := b.Put(rowKey(a, int64(slot), uint32(c)), row); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkFileSize reports the file size per series once every row of the
// default retention exists.
func BenchmarkFileSize(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			// The size is the result, not the time it takes to fill a store (seconds):
			// measured once per process, and no time per operation reported.
			size, ok := fileSizes[n]
			sizeFile := fixtureDir.Path(b, fmt.Sprintf("size-%d", n))
			if !ok {
				if s, err := os.ReadFile(sizeFile); err == nil { // an earlier pass's
					if v, err := strconv.ParseFloat(string(s), 64); err == nil {
						size, ok = v, true
					}
				}
			}
			if !ok {
				path := filepath.Join(b.TempDir(), "size.db")
				db, err := Open(path, &Options{noSync: true})
				if err != nil {
					b.Fatal(err)
				}
				names := benchNames(n)
				if err := db.CreateBatch(names, benchSpec(), time.Unix(1700000000, 0)); err != nil {
					b.Fatal(err)
				}
				fillRetention(b, db, names[0])
				db.Close()
				fi, err := os.Stat(path)
				if err != nil {
					b.Fatal(err)
				}
				size = float64(fi.Size()) / float64(n)
				if err := os.WriteFile(sizeFile, []byte(strconv.FormatFloat(size, 'g', -1, 64)), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			fileSizes[n] = size
			b.ReportMetric(size, "bytes/series")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// monthFixture is a store of n series whose five-minute ring is full, last updated
// at end.
type monthFixture struct {
	db    *DB
	names []string
	end   time.Time
}

// monthStore is the process's month fixture of n series.
func monthStore(b *testing.B, n int) (*DB, []string, time.Time) {
	b.Helper()
	if f := months[n]; f != nil {
		return f.db, f.names, f.end
	}
	file := fmt.Sprintf("month-%d.db", n)
	ready := fixtureDir.Ready(b, file)
	db, err := Open(fixtureDir.Path(b, file), &Options{noSync: true})
	if err != nil {
		b.Fatal(err)
	}
	names := benchNames(n)
	t0 := time.Unix(1700000000, 0)
	end := t0.Add(31 * 24 * time.Hour)
	if ready { // an earlier pass built it
		months[n] = &monthFixture{db: db, names: names, end: end}
		return db, names, end
	}
	if err := db.CreateBatch(names, benchSpec(), t0); err != nil {
		b.Fatal(err)
	}
	s := db.lookup(names[0])
	g := s.g
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(g.bucket)
		for slot := 0; slot < g.arch[0].Rows; slot++ {
			for c := 0; c < chunks(g.cols); c++ {
				if err := bk.Put(rowKey(0, int64(slot), uint32(c)), make([]byte, colsIn(g.cols, uint32(c))*g.nds*4)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var ups []Update
	for _, nm := range names {
		ups = append(ups, Update{Series: nm, Time: end, Values: []Value{Unknown(), Unknown()}})
	}
	if err := db.Update(ups); err != nil {
		b.Fatal(err)
	}
	fixtureDir.MarkReady(b, file)
	months[n] = &monthFixture{db: db, names: names, end: end}
	return db, names, end
}

// BenchmarkFetchMonth fetches 31 days of five-minute rows of one series, into the
// same rows each time (FetchInto). With Fetch, which allocates its 0.35 MB of rows
// per call, the figure was the collector's and page faults' as much as the read's:
// the runs of series=1000 took 0.50-1.8 ms in two make bench runs.
func BenchmarkFetchMonth(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			db, names, end := monthStore(b, n)
			victim := names[n/2]
			// A store reopened by a later pass has its pages on disk, not mapped in:
			// time the fetch a running daemon makes, not the first one.
			res, err := db.Fetch(victim, Average, end.Add(-31*24*time.Hour), end, 0)
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				res, err = db.FetchInto(res, victim, Average, end.Add(-31*24*time.Hour), end, 0)
				if err != nil || len(res.Rows) < 8928 {
					b.Fatalf("fetch: %d rows, %v", len(res.Rows), err)
				}
			}
			b.StopTimer()
			reportCPU(b, c0)
		})
	}
}

// BenchmarkFetchMonthMany fetches 31 days of five-minute rows of 64
// neighbouring series with one FetchMany; per-series is the cost of each.
func BenchmarkFetchMonthMany(b *testing.B) {
	const batch = 64
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("series=%d/batch=%d", n, batch), func(b *testing.B) {
			db, names, end := monthStore(b, n)
			some := names[n/2 : n/2+batch]
			if _, err := db.FetchMany(some, Average, end.Add(-31*24*time.Hour), end, 0); err != nil {
				b.Fatal(err) // warm, as above
			}
			// Batch after batch into the same results, as the pages' month of rates
			// is read: FetchMany allocates 22 MiB of rows per batch, and how often
			// that garbage was collected and its memory faulted in again decided
			// the figure (10-66 ms between runs).
			var res []Result
			runtime.GC()
			b.ResetTimer()
			var ru0 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				var err error
				res, err = db.FetchManyInto(res, some, Average, end.Add(-31*24*time.Hour), end, 0)
				if err != nil || len(res) != batch || len(res[batch-1].Rows) < 8928 {
					b.Fatalf("fetch many: %d results, %v", len(res), err)
				}
			}
			b.StopTimer()
			reportCPU(b, c0)
			var ru1 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			b.ReportMetric(float64(ru1.Minflt-ru0.Minflt)/float64(b.N), "faults/op")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N*batch), "ms/series")
		})
	}
}

// BenchmarkRRDtoolCycle is rrdtool's cost for the same 1k-series cycle: one
// update per .rrd file (default retention), through one "rrdtool -"
// process so that process start-up is not counted.
func BenchmarkRRDtoolCycle(b *testing.B) {
	const n = 1000
	tool := startRRDtool(b, testneed.Program(b, "rrdtool", "apt-get install rrdtool"))
	dir := b.TempDir()
	spec := benchSpec()
	start := int64(1700000000)
	files := make([]string, n)
	for i := range files {
		files[i] = filepath.Join(dir, fmt.Sprintf("if%d.rrd", i))
		tool.run(b, rrdtoolCreateArgs(files[i], spec, start)...)
	}
	cycle := func(k int64) {
		tm := start + k*300
		for i, f := range files {
			tool.run(b, "update", f, fmt.Sprintf("%d:%d:%d", tm, k*1000000*int64(1+i%7), k*300000*int64(1+i%5)))
		}
	}
	cycle(1)
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		cycle(int64(k) + 2)
	}
}

// BenchmarkCommitDayBoundary measures the costliest cycle of the day: the
// one that completes the one-day rows (288 steps) of every series, read
// back from the five-minute ring.
func BenchmarkCommitDayBoundary(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			db, err := Open(filepath.Join(b.TempDir(), "d.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			names := benchNames(n)
			day := int64(86400)
			t0 := time.Unix(1700000000/day*day, 0)
			// Created just before the first timed day, so that setup does
			// not write a day of rows (later iterations do, untimed).
			if err := db.CreateBatch(names, benchSpec(), t0.Add(285*5*time.Minute)); err != nil {
				b.Fatal(err)
			}
			ups := make([]Update, n)
			cycle := func(k int64) {
				for i := range ups {
					ups[i] = Update{Series: names[i], Time: t0.Add(time.Duration(k) * 5 * time.Minute),
						Values: []Value{Uint(uint64(k) * 1e6 * uint64(1+i%7)), Uint(uint64(k) * 3e5 * uint64(1+i%5))}}
				}
				if err := db.Update(ups); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				base := int64(i) * 288
				cycle(base + 286)
				cycle(base + 287)
				c0 := cpuTime()
				b.StartTimer()
				cycle(base + 288)
				b.StopTimer()
				cpu += cpuTime() - c0
				b.StartTimer()
			}
			b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkBackfillYear is the demo's back-fill: a year of five-minute
// samples for 60 series, one Update per day (17 280 updates each).
func BenchmarkBackfillYear(b *testing.B) {
	for i := 0; i < b.N; i++ {
		db, err := Open(filepath.Join(b.TempDir(), "y.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		names := benchNames(60)
		t0 := time.Unix(1700000000/86400*86400, 0)
		if err := db.CreateBatch(names, benchSpec(), t0); err != nil {
			b.Fatal(err)
		}
		ups := make([]Update, 0, 288*60)
		for day := int64(0); day < 365; day++ {
			ups = ups[:0]
			for k := day*288 + 1; k <= day*288+288; k++ {
				for j, n := range names {
					ups = append(ups, Update{Series: n, Time: t0.Add(time.Duration(k) * 5 * time.Minute),
						Values: []Value{Uint(uint64(k) * 1e6 * uint64(1+j%7)), Uint(uint64(k) * 3e5)}})
				}
			}
			if err := db.Update(ups); err != nil {
				b.Fatal(err)
			}
		}
		db.Close()
	}
}

// cpuTime is the CPU time (user and system) the process has used: on a
// shared machine it varies less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time used since c0 per iteration.
func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric((cpuTime()-c0).Seconds()*1e3/float64(b.N), "cpu-ms/op")
}
