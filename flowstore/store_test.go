package flowstore

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// sameFlow says whether got is want as stored: times equal as instants (the store
// gives them back in UTC), zero times zero, every other field equal.
func sameFlow(got, want flow.Flow) bool {
	sameTime := func(a, b time.Time) bool { return a.IsZero() == b.IsZero() && a.Equal(b) }
	if !sameTime(got.Received, want.Received) || !sameTime(got.Start, want.Start) || !sameTime(got.End, want.End) {
		return false
	}
	got.Received, got.Start, got.End = time.Time{}, time.Time{}, time.Time{}
	want.Received, want.Start, want.End = time.Time{}, time.Time{}, time.Time{}
	return got == want
}

func scanAll(t testing.TB, s *Store, from, to time.Time) ([]flow.Flow, ScanStats) {
	t.Helper()
	var got []flow.Flow
	st, err := s.Scan(from, to, func(fs []flow.Flow) error {
		got = append(got, fs...)
		return nil
	})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return got, st
}

func open(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func compare(t testing.TB, got, want []flow.Flow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !sameFlow(got[i], want[i]) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// edgeFlows are records at the edges of every field.
func edgeFlows() []flow.Flow {
	at := t0.Add(123456789 * time.Nanosecond)
	base := flow.Flow{Record: flow.Record{Received: at, Start: at.Add(-time.Second), End: at, Kind: flow.IPFIX,
		Exporter: netip.MustParseAddr("192.0.2.1"), Domain: 7, SamplingRate: 1, InIf: 1, OutIf: 2,
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), SrcPort: 1, DstPort: 2,
		Proto: 6, TCPFlags: 0x12, Bytes: 100, Packets: 1}, Device: "core1", In: "ge-0/0/1", Out: "ge-0/0/2"}
	var fs []flow.Flow
	add := func(change func(f *flow.Flow)) {
		f := base
		change(&f)
		fs = append(fs, f)
	}
	add(func(f *flow.Flow) {})
	add(func(f *flow.Flow) { f.Start, f.End = time.Time{}, time.Time{} })
	add(func(f *flow.Flow) { f.Start = time.Time{} })
	add(func(f *flow.Flow) { f.End = time.Time{} })
	add(func(f *flow.Flow) { f.Start, f.End = time.Unix(0, 0), time.Unix(0, 0) }) // what goflow2 gives for none
	add(func(f *flow.Flow) { f.Start, f.End = time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64) })
	add(func(f *flow.Flow) { f.Start, f.End = time.Unix(0, math.MaxInt64), time.Unix(0, math.MinInt64) })
	add(func(f *flow.Flow) { f.Start = time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC) })
	add(func(f *flow.Flow) { f.Received = f.Received.Add(-time.Nanosecond) }) // out of order
	add(func(f *flow.Flow) { f.Received = f.Received.Add(299 * time.Second).In(time.FixedZone("X", 3600)) })
	add(func(f *flow.Flow) { f.Src, f.Dst, f.Exporter = netip.Addr{}, netip.Addr{}, netip.Addr{} })
	add(func(f *flow.Flow) { f.Src = netip.MustParseAddr("2001:db8::1") })
	add(func(f *flow.Flow) { f.Dst = netip.MustParseAddr("::ffff:10.0.0.1") }) // 4in6 is not 4
	add(func(f *flow.Flow) { f.Dst = netip.MustParseAddr("fe80::1%eth0") })
	add(func(f *flow.Flow) { f.Src = netip.MustParseAddr("0.0.0.0") })
	add(func(f *flow.Flow) { f.Src = netip.MustParseAddr("::") })
	add(func(f *flow.Flow) { f.Exporter = netip.MustParseAddr("::1") })
	add(func(f *flow.Flow) {
		f.Bytes, f.Packets, f.SamplingRate = math.MaxUint64, math.MaxUint64, math.MaxUint64
		f.Domain, f.InIf, f.OutIf = math.MaxUint32, math.MaxUint32, math.MaxUint32
		f.SrcPort, f.DstPort, f.Proto, f.TCPFlags, f.Kind = math.MaxUint16, math.MaxUint16, 255, 255, 255
	})
	add(func(f *flow.Flow) {
		f.Bytes, f.Packets, f.SamplingRate, f.Domain, f.InIf, f.OutIf = 0, 0, 0, 0, 0, 0
		f.SrcPort, f.DstPort, f.Proto, f.TCPFlags, f.Kind = 0, 0, 0, 0, 0
	})
	add(func(f *flow.Flow) { f.Device, f.In, f.Out = "", "", "" })
	add(func(f *flow.Flow) {
		f.Device, f.In, f.Out = "ünïcode ✓", "ifIndex 4294967295", string([]byte{0, 0xff, '\n'})
	})
	return fs
}

func TestRoundTrip(t *testing.T) {
	want := edgeFlows()
	g := newSynth(1, t0, 5000)
	syn := make([]flow.Flow, 30000)
	g.next(syn)
	want = append(want, syn...)
	for _, block := range []int{1, 7, 4096, DefaultBlockRecords} {
		t.Run(fmt.Sprint("block=", block), func(t *testing.T) {
			want := want
			if block < 100 { // a block each record or few: fewer will do
				want = want[:3000]
			}
			s := open(t, t.TempDir(), Options{BlockRecords: block})
			// In pieces, as a collector appends.
			for i := 0; i < len(want); i += 1000 {
				if err := s.Append(want[i:min(i+1000, len(want))]...); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			// Scan is by segment, then by order of appending within a segment.
			sorted := slices.Clone(want)
			slices.SortStableFunc(sorted, func(a, b flow.Flow) int {
				return a.Received.Truncate(DefaultSegment).Compare(b.Received.Truncate(DefaultSegment))
			})
			got, st := scanAll(t, s, time.Time{}, time.Time{})
			compare(t, got, sorted)
			if st.Records != int64(len(want)) || st.Skipped != 0 || st.Torn != 0 {
				t.Errorf("stats %+v", st)
			}
			// And after reopening, read-only.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			ro := open(t, s.Dir(), Options{ReadOnly: true})
			got, _ = scanAll(t, ro, time.Time{}, time.Time{})
			compare(t, got, sorted)
			if err := ro.Append(want[0]); !errors.Is(err, ErrReadOnly) {
				t.Errorf("append to read-only: %v", err)
			}
		})
	}
}

// The records of [from, to) and no others, from any number of segments.
func TestScanRange(t *testing.T) {
	s := open(t, t.TempDir(), Options{Segment: time.Minute, BlockRecords: 500})
	g := newSynth(2, t0.Add(-30*time.Second), 200) // ~4 minutes over 5 segments
	all := make([]flow.Flow, 50000)
	g.next(all)
	if err := s.Append(all...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	last := all[len(all)-1].Received
	for _, r := range []struct{ from, to time.Time }{
		{time.Time{}, time.Time{}},
		{t0, t0.Add(time.Minute)},
		{t0.Add(17 * time.Second), t0.Add(123*time.Second + 456)},
		{all[100].Received, all[100].Received.Add(1)},
		{all[100].Received, all[100].Received},
		{last, time.Time{}},
		{last.Add(1), time.Time{}},
		{time.Time{}, t0.Add(-30 * time.Second)},
		{t0.Add(time.Hour), t0},
	} {
		var want []flow.Flow
		for _, f := range all {
			if !f.Received.Before(r.from) && (r.to.IsZero() || f.Received.Before(r.to)) {
				want = append(want, f)
			}
		}
		got, _ := scanAll(t, s, r.from, r.to)
		compare(t, got, want)

		var mu sync.Mutex
		var par []flow.Flow
		workers := map[int]bool{}
		if _, err := s.ScanParallel(r.from, r.to, func(w int, fs []flow.Flow) error {
			mu.Lock()
			defer mu.Unlock()
			par = append(par, fs...)
			workers[w] = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for w := range workers {
			if w < 0 || w >= s.Workers() {
				t.Errorf("worker %d of %d", w, s.Workers())
			}
		}
		if len(par) != len(want) {
			t.Errorf("%v–%v: parallel scan gave %d records, want %d", r.from, r.to, len(par), len(want))
		}
		var sumGot, sumWant uint64
		for i := range par {
			sumGot += par[i].Bytes ^ uint64(par[i].Received.UnixNano())
		}
		for i := range want {
			sumWant += want[i].Bytes ^ uint64(want[i].Received.UnixNano())
		}
		if sumGot != sumWant {
			t.Errorf("%v–%v: parallel scan gave other records", r.from, r.to)
		}
	}
	segs, err := s.Segments(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for i, seg := range segs {
		n += seg.Records
		if seg.End.Sub(seg.Start) != time.Minute || seg.First.Before(seg.Start) || !seg.Last.Before(seg.End) ||
			seg.Bytes <= fileHeaderLen || seg.Torn != 0 || !seg.Writing && i >= len(segs)-openPartitions {
			t.Errorf("segment %+v", seg)
		}
		if filepath.Base(filepath.Dir(seg.Path)) != "20261102" {
			t.Errorf("segment %s not in its day's directory", seg.Path)
		}
	}
	if len(segs) != 5 || n != int64(len(all)) {
		t.Errorf("%d segments of %d records, want 5 of %d", len(segs), n, len(all))
	}
}

// An error from the callback stops the scan and comes back.
func TestScanStops(t *testing.T) {
	s := open(t, t.TempDir(), Options{BlockRecords: 100})
	fs := make([]flow.Flow, 10000)
	newSynth(3, t0, 1000).next(fs)
	if err := s.Append(fs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("enough")
	calls := 0
	if _, err := s.Scan(time.Time{}, time.Time{}, func([]flow.Flow) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) || calls != 3 {
		t.Errorf("scan: %v after %d calls, want %v after 3", err, calls, stop)
	}
	var mu sync.Mutex
	calls = 0
	if _, err := s.ScanParallel(time.Time{}, time.Time{}, func(int, []flow.Flow) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return stop
	}); !errors.Is(err, stop) || calls > s.Workers() {
		t.Errorf("parallel scan: %v after %d calls", err, calls)
	}
}

// Readers running beside the writer see whole blocks only, in order, never a torn one.
func TestScanWhileAppending(t *testing.T) {
	s := open(t, t.TempDir(), Options{Segment: 10 * time.Second, BlockRecords: 64})
	all := make([]flow.Flow, 20000)
	newSynth(4, t0, 1000).next(all)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				got, st := scanAll(t, s, time.Time{}, time.Time{})
				if st.Torn != 0 || st.Skipped != 0 {
					t.Errorf("stats %+v", st)
				}
				// What the writer has written is in the order appended, with the
				// records of blocks not yet full missing: a subsequence of all.
				j := 0
				for _, f := range got {
					for j < len(all) && !sameFlow(f, all[j]) {
						j++
					}
					if j == len(all) {
						t.Errorf("read %+v out of order, or never appended", f)
						return
					}
					j++
				}
			}
		})
	}
	for i := 0; i < len(all); i += 100 {
		if err := s.Append(all[i : i+100]...); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 0 {
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	got, _ := scanAll(t, s, time.Time{}, time.Time{})
	compare(t, got, all)
}

func TestReopenAppends(t *testing.T) {
	dir := t.TempDir()
	all := make([]flow.Flow, 3000)
	newSynth(5, t0, 100).next(all)
	for i := 0; i < len(all); i += 1000 {
		s := open(t, dir, Options{BlockRecords: 300})
		if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
			t.Errorf("second writer: %v, want ErrLocked", err)
		}
		if err := s.Append(all[i : i+1000]...); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Append(all[0]); !errors.Is(err, ErrClosed) {
			t.Errorf("append after close: %v", err)
		}
	}
	got, _ := scanAll(t, open(t, dir, Options{ReadOnly: true}), time.Time{}, time.Time{})
	compare(t, got, all)
}

func TestAppendRefuses(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	good := edgeFlows()[0]
	for _, tt := range []struct {
		name   string
		change func(*flow.Flow)
	}{
		{"no Received", func(f *flow.Flow) { f.Received = time.Time{} }},
		{"Received before 1678", func(f *flow.Flow) { f.Received = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"Start after 2262", func(f *flow.Flow) { f.Start = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"End before 1678", func(f *flow.Flow) { f.End = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC) }},
	} {
		bad := good
		tt.change(&bad)
		if err := s.Append(good, bad); err == nil {
			t.Errorf("%s: appended", tt.name)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, _ := scanAll(t, s, time.Time{}, time.Time{}); len(got) != 0 {
		t.Errorf("%d records stored from refused appends", len(got))
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, opts := range []Options{
		{Segment: 7 * time.Minute}, {Segment: 1500 * time.Millisecond}, {Segment: 48 * time.Hour},
		{Segment: -time.Minute}, {BlockRecords: maxBlockRecords + 1}, {BlockRecords: -1}, {MaxAge: -1}, {MaxBytes: -1},
	} {
		if s, err := Open(dir, opts); err == nil {
			s.Close()
			t.Errorf("Open(%+v) succeeded", opts)
		}
	}
	if _, err := Open(filepath.Join(dir, "none"), Options{ReadOnly: true}); err == nil {
		t.Error("read-only Open of a missing directory succeeded")
	}
}

func TestRetentionByAge(t *testing.T) {
	dir := t.TempDir()
	now := t0
	s := open(t, dir, Options{Segment: time.Hour, MaxAge: 3 * time.Hour, Now: func() time.Time { return now }})
	// A record an hour for ten hours, the clock following.
	for h := range 10 {
		now = t0.Add(time.Duration(h) * time.Hour)
		f := edgeFlows()[0]
		f.Received = now.Add(time.Minute)
		if err := s.Append(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	// Starting the 10th segment (at 19:00) pruned those that ended by 16:00; the
	// writer still had 17:00 and 18:00 open... and 16:00 ended at 17:00.
	segs, err := s.Segments(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var starts []int
	for _, seg := range segs {
		starts = append(starts, seg.Start.Hour())
	}
	if want := []int{16, 17, 18, 19}; !slices.Equal(starts, want) {
		t.Errorf("segments of hours %v, want %v", starts, want)
	}
	// Later, by hand.
	p, err := s.Prune(t0.Add(11 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	segs, _ = s.Segments(time.Time{}, time.Time{})
	if p.Segments != 1 || len(segs) != 3 || segs[0].Start.Hour() != 17 {
		t.Errorf("pruned %+v, left %d segments from %v", p, len(segs), segs[0].Start)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, Options{Segment: time.Hour, MaxAge: 3 * time.Hour})
	if p, err := s.Prune(t0.Add(30 * time.Hour)); err != nil || p.Segments != 3 {
		t.Errorf("prune: %+v, %v", p, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || ents[0].Name() != "LOCK" {
		t.Errorf("left %v in the store", ents)
	}
}

func TestRetentionBySize(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{Segment: time.Minute, BlockRecords: 1000})
	fs := make([]flow.Flow, 60000)
	newSynth(6, t0, 100).next(fs) // ten minutes of 100 records a second, a segment a minute
	if err := s.Append(fs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := open(t, dir, Options{ReadOnly: true}).Segments(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, seg := range segs {
		total += seg.Bytes
	}
	limit := total - segs[0].Bytes - segs[1].Bytes/2 // the two oldest must go
	w := open(t, dir, Options{Segment: time.Minute, MaxBytes: limit})
	p, err := w.Prune(t0)
	if err != nil {
		t.Fatal(err)
	}
	left, _ := w.Segments(time.Time{}, time.Time{})
	var leftBytes int64
	for _, seg := range left {
		leftBytes += seg.Bytes
	}
	if p.Segments != 2 || len(left) != len(segs)-2 || !left[0].Start.Equal(segs[2].Start) || leftBytes > limit ||
		p.Bytes != segs[0].Bytes+segs[1].Bytes {
		t.Errorf("pruned %+v to %d segments of %d bytes (limit %d) from %d of %d", p, len(left), leftBytes, limit, len(segs), total)
	}
	// Both limits: age takes the oldest left, size the next.
	w.opts.MaxAge = time.Hour
	w.opts.MaxBytes = leftBytes - left[0].Bytes - left[1].Bytes/2
	if p, err := w.Prune(left[0].End.Add(time.Hour)); err != nil || p.Segments != 2 {
		t.Errorf("prune by age and size: %+v, %v; want 2 segments", p, err)
	}
	if again, _ := w.Segments(time.Time{}, time.Time{}); len(again) != len(left)-2 || !again[0].Start.Equal(left[2].Start) {
		t.Errorf("left %d segments, want %d from %v", len(again), len(left)-2, left[2].Start)
	}
}
