package flowtop

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mrtgo/mrtgo/flow"
)

// benchFlows returns n records over a wide address space (Zipf-distributed
// hosts out of 1M, ports out of 60k), spread over ifaces interfaces of one
// device, each in on one interface and out on another.
func benchFlows(n, ifaces int, seed uint64) []flow.Flow {
	rng := rand.New(rand.NewPCG(seed, 1))
	hosts := rand.NewZipf(rng, 1.1, 1, 1<<20)
	ports := rand.NewZipf(rng, 1.05, 1, 60000)
	fs := make([]flow.Flow, n)
	for i := range fs {
		h, g := hosts.Uint64(), hosts.Uint64()
		in, out := rng.IntN(ifaces), rng.IntN(ifaces)
		f := flow.Flow{Device: "core1", In: fmt.Sprint("ge-0/0/", in), Out: fmt.Sprint("ge-0/0/", out),
			Record: flow.Record{
				Src: netip.AddrFrom4([4]byte{10, byte(h >> 16), byte(h >> 8), byte(h)}), Dst: netip.AddrFrom4([4]byte{172, 16 + byte(g>>16), byte(g >> 8), byte(g)}),
				SrcPort: uint16(ports.Uint64()), DstPort: []uint16{443, 80, 53, 22, 51000}[rng.IntN(5)], Proto: []uint8{6, 6, 17, 1}[rng.IntN(4)],
				Packets: 1 + rng.Uint64N(100)}}
		f.Bytes = f.Packets * (40 + rng.Uint64N(1460))
		fs[i] = f
	}
	return fs
}

// BenchmarkAdd is the cost of one record: sides=2 counts it on its input and
// its output interface (each 7 dimensions × 3 measures), sides=1 on one.
func BenchmarkAdd(b *testing.B) {
	for _, sides := range []int{1, 2} {
		b.Run(fmt.Sprint("sides=", sides), func(b *testing.B) {
			s := openTest(b, filepath.Join(b.TempDir(), "top.db"), Options{})
			defer s.Close()
			fs := benchFlows(1<<16, 100, 1)
			if sides == 1 {
				for i := range fs {
					fs[i].Out = ""
				}
			}
			for i := range fs { // fill the sketches: the steady state evicts
				s.Add(&fs[i])
			}
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				s.Add(&fs[i&(len(fs)-1)])
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkCommit is the cost of one step's Commit, rollups included, with each
// interface seeing about 200 records in and 200 out per step. Run it for 288
// steps (-benchtime 288x) to include a whole day's rollups; max-ms is the
// slowest commit (the day's end).
func BenchmarkCommit(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint("interfaces=", n), func(b *testing.B) {
			s := openTest(b, filepath.Join(b.TempDir(), "top.db"), Options{})
			defer s.Close()
			pool := benchFlows(200*n*4, n, 2)
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var worst, cpu time.Duration
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				off := (i * 200 * n) % (len(pool) - 200*n + 1)
				for j := off; j < off+200*n; j++ {
					s.Add(&pool[j])
				}
				b.StartTimer()
				t0, c0 := time.Now(), cpuTime()
				if err := s.Commit(start.Add(time.Duration(i+1) * DefaultStep)); err != nil {
					b.Fatal(err)
				}
				worst = max(worst, time.Since(t0))
				cpu += cpuTime() - c0
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// fillRings writes every slot of every archive for ifaces interfaces, both
// directions, as if they had run for the whole layout: each row made of real
// sketches over benchFlows, with full lists (coarse rows merged from six of
// them). The last step is last.
func fillRings(tb testing.TB, s *Store, ifaces int, last int64) {
	tb.Helper()
	var ids []uint32
	// Row values without their leading index: step rows of real sketches, and
	// for the coarse archives merges of six of them, whose lists hold misses.
	var templates, coarse [][]byte
	var steps []*row
	for i := range ifaces {
		for _, dir := range []Direction{In, Out} {
			n := seriesName{"core1", fmt.Sprint("ge-0/0/", i), dir}
			s.ids[n] = s.nextID
			ids = append(ids, s.nextID)
			s.nextID++
		}
	}
	for t := range 8 {
		sk := newSketches(s.opts.Capacity)
		for _, f := range benchFlows(3000, 1, uint64(10+t)) {
			var k flowKeys
			keysOf(s.hash, &f, &k)
			sk.add(&k)
		}
		r := sk.row(s.opts.Keep)
		steps = append(steps, r)
		plain := rowEncoder{plain: true} // as Commit writes step rows
		v := plain.appendRow(nil, 0, r)
		templates = append(templates, v[1:])
	}
	for t := range steps {
		var rs []*row
		for j := range 6 {
			rs = append(rs, steps[(t+j)%len(steps)])
		}
		v := appendRow(nil, 0, mergeRows(rs, s.opts.Keep))
		coarse = append(coarse, v[1:])
	}
	err := s.bolt.Update(func(tx *bolt.Tx) error {
		for n, id := range s.ids {
			if err := tx.Bucket(bucketSeries).Put(appendSeriesName(nil, n), []byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	for a, ar := range s.opts.Archives {
		S := int64(ar.Steps)
		qLast := last / S
		for q := qLast - int64(ar.Rows) + 1; q <= qLast; q++ {
			tpl := templates
			if a > 0 {
				tpl = coarse
			}
			vals := make(map[uint32][]byte, len(ids))
			for j, id := range ids {
				vals[id] = append(binary.AppendUvarint(nil, uint64(q)), tpl[(j+int(q))%len(tpl)]...)
			}
			err := s.bolt.Update(func(tx *bolt.Tx) error {
				return s.writeSlot(tx.Bucket(bucketRows), a, q, vals, uint64(S))
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	s.last = last
	if err := s.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaLast, binary.AppendUvarint(nil, uint64(last)))
	}); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkTop reads the top 10 source addresses of one interface, both
// directions, over the last month (2-hour rows) and the last year (day rows),
// from a file whose rings are full.
func BenchmarkTop(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "top.db"), Options{})
	defer s.Close()
	last := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC).Unix() / 300
	fillRings(b, s, 4, last)
	end := s.Last()
	for _, c := range []struct {
		name string
		span time.Duration
	}{{"range=day", 24 * time.Hour}, {"range=month", 30 * 24 * time.Hour}, {"range=year", 365 * 24 * time.Hour}} {
		b.Run(c.name, func(b *testing.B) {
			q := Query{Device: "core1", Interface: "ge-0/0/1", Direction: Both, Dimension: SrcAddr, By: Bytes, From: end.Add(-c.span), To: end, N: 10}
			var res Result
			for b.Loop() {
				var err error
				if res, err = s.Top(q); err != nil {
					b.Fatal(err)
				}
			}
			if len(res.Entries) != 10 || res.Total == 0 {
				b.Fatalf("top: %+v", res)
			}
			b.ReportMetric(float64(res.To.Sub(res.From)/res.Step), "rows")
		})
	}
	b.Run("series=service/range=month", func(b *testing.B) {
		q := Query{Device: "core1", Interface: "ge-0/0/1", Direction: In, Dimension: Service, By: Bytes, From: end.Add(-30 * 24 * time.Hour), To: end, N: 8}
		for b.Loop() {
			if _, err := s.Series(q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFileSize fills every ring of the default layout for 100 interfaces
// (both directions, full lists) and reports the file's size, at the default Keep
// and at 10.
func BenchmarkFileSize(b *testing.B) {
	for _, keep := range []int{DefaultKeep, 10} {
		b.Run(fmt.Sprint("interfaces=100/keep=", keep), func(b *testing.B) {
			for b.Loop() {
				path := filepath.Join(b.TempDir(), "top.db")
				s := openTest(b, path, Options{Keep: keep})
				fillRings(b, s, 100, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Unix()/300)
				var rowBytes, rows int
				s.bolt.View(func(tx *bolt.Tx) error {
					return tx.Bucket(bucketRows).ForEach(func(k, v []byte) error {
						if k[5] != 0 || k[6] != 0 || k[7] != 0 || k[8] != 0 {
							rowBytes += len(v)
							rows++
						}
						return nil
					})
				})
				s.Close()
				fi, err := os.Stat(path)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
				b.ReportMetric(float64(rowBytes)/float64(rows), "bytes/row")
				b.ReportMetric(float64(rows), "rows")
			}
		})
	}
}

// cpuTime is the CPU time the process has used, user and system: on a shared
// machine a fairer measure than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRow is a commit's work per series, bbolt aside: a step's lists out of
// the tables of a series that saw 200 records, then encoded (step), and a
// day's rollup of twelve such rows, decoded, merged and encoded (rollup).
func BenchmarkRow(b *testing.B) {
	h := newHasher()
	sk := newSketches(DefaultCapacity)
	var rows []*row
	var vals [][]byte
	for i := range 12 {
		sk.reset()
		for _, f := range benchFlows(200, 1, uint64(30+i)) {
			var k flowKeys
			keysOf(h, &f, &k)
			sk.add(&k)
		}
		rows = append(rows, sk.row(DefaultKeep))
		vals = append(vals, appendRow(nil, int64(i), rows[i]))
	}
	b.Run("step", func(b *testing.B) {
		e := rowEncoder{plain: true}
		var v []byte
		cpu0 := cpuTime()
		for b.Loop() {
			v = e.appendRow(v[:0], 1, sk.row(DefaultKeep))
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
	b.Run("rollup", func(b *testing.B) {
		var e rowEncoder
		var v []byte
		rs := make([]*row, len(vals))
		cpu0 := cpuTime()
		for b.Loop() {
			for i, v := range vals {
				var err error
				if _, rs[i], err = decodeRow(v); err != nil {
					b.Fatal(err)
				}
			}
			v = e.appendRow(v[:0], 1, mergeRows(rs, DefaultKeep))
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
}
