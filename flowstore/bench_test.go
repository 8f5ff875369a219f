package flowstore

import (
	"cmp"
	"flag"
	"fmt"
	"hash/crc32"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/internal/fixturedir"
)

var big = flag.Bool("big", false, "run the benchmarks' 10,000,000-record sizes")

// benchSizes are the scan benchmarks' store sizes. The largest runs with -big, or
// under make bench (which sets fixturedir.Env, so that the store is built once for
// all its passes): building it takes a while and 150 MB of disk.
var benchSizes = []int{100_000, 10_000_000}

func BenchmarkAppend(b *testing.B) {
	const n = 1_000_000
	fs := make([]flow.Flow, n)
	newSynth(10, t0, 10000).next(fs)
	dir := b.TempDir()
	b.ResetTimer()
	cpu0 := cpuTime()
	var bytes int64
	for i := range b.N {
		sub := filepath.Join(dir, fmt.Sprint(i))
		s, err := Open(sub, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < n; j += 1000 {
			if err := s.Append(fs[j : j+1000]...); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		bytes = dirBytes(b, sub)
		os.RemoveAll(sub)
		b.StartTimer()
	}
	reportRate(b, n, cpu0)
	b.ReportMetric(float64(bytes)/n, "B/record")
}

func dirBytes(tb testing.TB, dir string) int64 {
	var total int64
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && filepath.Ext(path) == ".seg" {
			total += info.Size()
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return total
}

// A benchmark runs more than once in a process (once per -count, and again while a
// -benchtime duration is not filled), and make bench runs the suite several times:
// the stores are built once, in fixtureDir, and opened read-only by every run.
var (
	fixtureDir    = fixturedir.Dir{Prefix: "flowstore-bench-"}
	benchStoresMu sync.Mutex
)

// benchStore returns a store of n synthetic records (10,000 a second).
func benchStore(b *testing.B, n int) *Store {
	b.Helper()
	if n > 1_000_000 && !*big && os.Getenv(fixturedir.Env) == "" {
		b.Skip("with -big or under make bench only")
	}
	benchStoresMu.Lock()
	defer benchStoresMu.Unlock()
	name := fmt.Sprint("records=", n)
	dir := fixtureDir.Path(b, name)
	if !fixtureDir.Ready(b, name) {
		os.RemoveAll(dir) // an earlier process's, unfinished
		s, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		g := newSynth(11, t0, 10000)
		fs := make([]flow.Flow, 10000)
		for left := n; left > 0; left -= len(fs) {
			fs = fs[:min(left, len(fs))]
			g.next(fs)
			if err := s.Append(fs...); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		fixtureDir.MarkReady(b, name)
	}
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	fixtureDir.Remove()
	os.Exit(code)
}

// BenchmarkScan reads every record in time order, touching one field of each.
func BenchmarkScan(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint("records=", n), func(b *testing.B) {
			s := benchStore(b, n)
			b.ResetTimer()
			cpu0 := cpuTime()
			for range b.N {
				var total uint64
				st, err := s.Scan(time.Time{}, time.Time{}, func(fs []flow.Flow) error {
					for i := range fs {
						total += fs[i].Bytes
					}
					return nil
				})
				if err != nil || st.Records != int64(n) {
					b.Fatalf("scan: %d records, %v", st.Records, err)
				}
			}
			reportRate(b, n, cpu0)
			b.ReportMetric(float64(dirBytes(b, s.Dir()))/float64(n), "B/record")
		})
	}
}

// BenchmarkTop10 is the query the store is sized for: the ten source addresses that
// sent the most bytes, over every record, each worker summing into its own map and the
// maps merged at the end.
func BenchmarkTop10(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint("records=", n), func(b *testing.B) {
			s := benchStore(b, n)
			b.ResetTimer()
			cpu0 := cpuTime()
			var top []srcBytes
			var sources int
			for range b.N {
				top, sources = top10(b, s)
			}
			reportRate(b, n, cpu0)
			b.ReportMetric(float64(sources), "sources")
			if len(top) != 10 {
				b.Fatalf("top %v", top)
			}
		})
	}
}

type srcBytes struct {
	src   netip.Addr
	bytes uint64
}

// top10 sums bytes by source address and says how many sources there were: each
// worker into its own map, merged at the end, and the ten largest kept.
func top10(tb testing.TB, s *Store) (top []srcBytes, sources int) {
	sums := make([]map[netip.Addr]uint64, s.Workers())
	for i := range sums {
		sums[i] = make(map[netip.Addr]uint64, 1<<16)
	}
	if _, err := s.ScanParallel(time.Time{}, time.Time{}, func(w int, fs []flow.Flow) error {
		m := sums[w]
		for i := range fs {
			m[fs[i].Src] += fs[i].Bytes
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	all := sums[0]
	for _, m := range sums[1:] {
		for k, v := range m {
			all[k] += v
		}
	}
	// The ten largest, largest first.
	for k, v := range all {
		if len(top) == 10 && v <= top[9].bytes {
			continue
		}
		e := srcBytes{k, v}
		at, _ := slices.BinarySearchFunc(top, e, func(a, b srcBytes) int { return cmp.Or(cmp.Compare(b.bytes, a.bytes), a.src.Compare(b.src)) })
		top = slices.Insert(top, at, e)
		top = top[:min(len(top), 10)]
	}
	return top, len(all)
}

// BenchmarkBlock encodes and decodes one block of DefaultBlockRecords records, on one
// core: the work a scan spreads over its workers. decode reads every field into
// records; decode-src-bytes reads the columns a top-N by source needs
// (BenchmarkTopQuery), decompressing only those.
func BenchmarkBlock(b *testing.B) {
	fs := make([]flow.Flow, DefaultBlockRecords)
	newSynth(12, t0, 10000).next(fs)
	c := newCodec()
	e := newEncoder()
	raw := slices.Clone(e.encode(fs))
	payload := c.pack(nil, raw, &e.ends, new(packer))
	h := blockHeader{count: uint32(len(fs)), rawLen: uint32(len(raw)), compLen: uint32(len(payload)),
		payloadCRC: crc32.Checksum(payload, castagnoli)}
	b.Run("encode", func(b *testing.B) {
		e := newEncoder()
		var out []byte
		var p packer
		cpu0 := cpuTime()
		for range b.N {
			out = c.pack(out[:0], e.encode(fs), &e.ends, &p)
		}
		reportRate(b, len(fs), cpu0)
		b.ReportMetric(float64(len(out)+blockHeadLen)/float64(len(fs)), "B/record")
		b.ReportMetric(float64(len(raw))/float64(len(fs)), "raw-B/record")
	})
	b.Run("decode", func(b *testing.B) {
		var d decoder
		var buf []byte
		cpu0 := cpuTime()
		for range b.N {
			if _, err := c.unpack(&d, h, payload, &buf); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, len(fs), cpu0)
	})
	b.Run("decode-src-bytes", func(b *testing.B) {
		var d decoder
		var buf []byte
		need := (fieldSrc | fieldBytes | fieldPackets).columns()
		cpu0 := cpuTime()
		for range b.N {
			if err := c.unpackColumns(&d, h, payload, &buf, need); err != nil {
				b.Fatal(err)
			}
			if err := d.columns(len(fs), need); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, len(fs), cpu0)
	})
}

// cpuTime is the user and system time of the process so far. The machine benchmarks
// run on may be shared, so the scan benchmarks report the CPU time a record took
// beside the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRate reports records/s over the benchmark's time and the CPU time per
// record since cpu0.
func reportRate(b *testing.B, records int, cpu0 time.Duration) {
	total := float64(records) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/total, "cpu-ns/record")
}
