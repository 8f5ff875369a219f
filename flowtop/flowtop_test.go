package flowtop

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mrtgo/mrtgo/flow"
)

// checkBounds checks a list against the truth where the list may not be exact:
// every listed key's true weight is within [Weight-Err, Weight+Miss], every key
// heavier than the bound is listed, and the listed weights do not exceed the
// total. It returns how many true keys exceed the bound, to show the check bites.
func checkBounds(t *testing.T, what string, d Dimension, l list, total uint64, truth map[Key]uint64) int {
	t.Helper()
	listed := map[Key]bool{}
	var sum uint64
	for _, e := range l.entries {
		k := decodeKey(d, e.key)
		listed[k] = true
		sum += e.w
		tw := truth[k]
		if tw+e.err < e.w || tw > e.w+e.miss {
			t.Errorf("%s: %v listed %d (err %d, miss %d), true %d", what, k, e.w, e.err, e.miss, tw)
		}
	}
	if sum > total {
		t.Errorf("%s: listed %d above total %d", what, sum, total)
	}
	heavy := 0
	for k, w := range truth {
		if w > l.bound {
			heavy++
			if !listed[k] {
				t.Errorf("%s: %v weighs %d, above bound %d, and is not listed", what, k, w, l.bound)
			}
		}
	}
	return heavy
}

// TestHeavyHitters: with far more keys than the sketches hold (Zipf-distributed
// addresses and ports), totals stay exact, listed weights are within their stored
// errors, and every key above a list's bound is listed, in every row of every
// archive and over query ranges merging them.
func TestHeavyHitters(t *testing.T) {
	opts := Options{Step: time.Minute, Archives: []Archive{{1, 60}, {6, 20}, {30, 4}}, Keep: 10, Capacity: 50}
	s := openTest(t, filepath.Join(t.TempDir(), "top.db"), opts)
	defer s.Close()
	o := newOracle(time.Minute)
	rng := rand.New(rand.NewPCG(3, 4))
	hosts := rand.NewZipf(rng, 1.2, 2, 4999)
	ports := rand.NewZipf(rng, 1.1, 1, 20000)
	p0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC).Unix() / 60
	addr := func(i uint64) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	for p := p0 + 1; p <= p0+120; p++ {
		for range 800 {
			f := flow.Flow{Device: "core1", In: "ge-0/0/0",
				Record: flow.Record{Src: addr(hosts.Uint64()), Dst: addr(hosts.Uint64() + 7), SrcPort: uint16(ports.Uint64()), DstPort: uint16(ports.Uint64()),
					Proto: []uint8{6, 17, 6, 1}[rng.IntN(4)], Packets: 1 + rng.Uint64N(50)}}
			f.Bytes = f.Packets * (40 + rng.Uint64N(1400))
			s.Add(&f)
			o.recs = append(o.recs, oracleRec{p, f})
		}
		if err := s.Commit(time.Unix(p*60, 0)); err != nil {
			t.Fatal(err)
		}
		o.committed = append(o.committed, p)
	}
	id := s.ids[seriesName{"core1", "ge-0/0/0", In}]
	heavy, inexact := 0, 0
	err := s.bolt.View(func(tx *bolt.Tx) error {
		for a, ar := range opts.Archives {
			S := int64(ar.Steps)
			for q := s.last/S - int64(ar.Rows) + 1; q <= s.last/S; q++ {
				rows, _, err := s.readSlot(tx.Bucket(bucketRows), a, q)
				if err != nil {
					return err
				}
				r := rows[id]
				if r == nil {
					t.Fatalf("archive %d row %d missing", a, q)
				}
				for d := range numDims {
					for m := range numMeasures {
						truth, total := o.counts("core1", "ge-0/0/0", In, Dimension(d), Measure(m), (q-1)*S, q*S)
						if r.total[m] != total {
							t.Errorf("archive %d row %d: total %d, want %d", a, q, r.total[m], total)
						}
						l := r.lists[d][m]
						heavy += checkBounds(t, fmt.Sprintf("archive %d row %d %v by %v", a, q, Dimension(d), Measure(m)), Dimension(d), l, total, truth)
						if l.bound > 0 {
							inexact++
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, span := range []time.Duration{10 * time.Minute, time.Hour, 2 * time.Hour} {
		for _, d := range []Dimension{SrcAddr, DstPort, Conversation} {
			for _, m := range []Measure{Bytes, Packets, Flows} {
				res, err := s.Top(Query{Device: "core1", Interface: "ge-0/0/0", Direction: Both, Dimension: d, By: m, From: s.Last().Add(-span), To: s.Last(), N: 10})
				if err != nil {
					t.Fatal(err)
				}
				truth, total := o.counts("core1", "ge-0/0/0", Both, d, m, res.From.Unix()/60, res.To.Unix()/60)
				if res.Total != total {
					t.Errorf("top %v by %v over %v: total %d, want %d", d, m, span, res.Total, total)
				}
				var sum uint64
				l := list{bound: res.Bound}
				for _, e := range res.Entries {
					sum += e.Weight
					l.entries = append(l.entries, entry{key: encodeKey(e.Key), w: e.Weight, err: e.Err, miss: e.Miss})
				}
				if sum+res.Other != total {
					t.Errorf("top %v by %v over %v: listed %d + other %d, want %d", d, m, span, sum, res.Other, total)
				}
				heavy += checkBounds(t, fmt.Sprintf("top %v by %v over %v", d, m, span), d, l, total, truth)
			}
		}
	}
	if heavy < 100 || inexact < 100 {
		t.Errorf("%d keys above their bounds, %d lists inexact: the test does not exercise the bounds", heavy, inexact)
	}
}

// TestAlignment: rows end at multiples of their length since the Unix epoch, as
// rrd's do: a step ending at 00:00 UTC is the day's last, one ending at 00:05 the
// next day's first, whatever zone the step's time is given in.
func TestAlignment(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "top.db"), Options{})
	defer s.Close()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	midnight := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC) // Paris changes to summer time this day
	for i := -30; i <= 30; i++ {
		end := midnight.Add(time.Duration(i) * 5 * time.Minute).In(paris)
		f := flow.Flow{Device: "r", In: "if", Record: flow.Record{Bytes: uint64(1) << (i + 30), Packets: 1}}
		s.Add(&f)
		if err := s.Commit(end); err != nil {
			t.Fatal(err)
		}
	}
	want := func(from, to int) (b uint64) { // steps i in (from, to]
		for i := from + 1; i <= to; i++ {
			b += uint64(1) << (i + 30)
		}
		return b
	}
	id := s.ids[seriesName{"r", "if", In}]
	day := midnight.Unix() / 300
	s.bolt.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRows)
		for _, c := range []struct {
			a        int
			q        int64
			from, to int // step offsets from midnight
		}{
			{1, day / 6, -6, 0}, {1, day/6 + 1, 0, 6}, {2, day / 24, -24, 0}, {3, day / 288, -31, 0},
		} {
			rows, steps, err := s.readSlot(rb, c.a, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if rows[id] == nil || rows[id].total[Bytes] != want(c.from, c.to) || steps != uint64(c.to-c.from) {
				t.Errorf("archive %d row ending %v: %+v (%d steps), want bytes %d of steps (%d, %d]", c.a,
					time.Unix(c.q*int64(s.opts.Archives[c.a].Steps)*300, 0).UTC(), rows[id], steps, want(c.from, c.to), c.from, c.to)
			}
		}
		return nil
	})
	// The day after midnight is unfinished: read from its 30-minute and step rows.
	tot, err := s.Totals("r", "if", In, midnight.Add(-time.Second), midnight.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(tot) != 2 || !tot[0].End.Equal(midnight) || tot[1].Bytes != uint64(1)<<31 {
		t.Errorf("totals around midnight: %+v", tot)
	}
}

// TestDirections: a flow counts for its input interface in and its output
// interface out, never the other way; flows no device claims count nowhere.
func TestDirections(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "top.db"), Options{})
	defer s.Close()
	src := netip.MustParseAddr("192.0.2.1")
	for _, f := range []flow.Flow{
		{Device: "r", In: "a", Out: "b", Record: flow.Record{Src: src, Bytes: 100, Packets: 1}},
		{Device: "r", In: "a", Record: flow.Record{Src: src, Bytes: 10, Packets: 1}},
		{Device: "r", Out: "a", Record: flow.Record{Src: src, Bytes: 1, Packets: 1}},
		{Device: "", In: "a", Record: flow.Record{Src: src, Bytes: 1000, Packets: 1}},
		{Device: "r", Record: flow.Record{Src: src, Bytes: 10000, Packets: 1}},
	} {
		s.Add(&f)
	}
	end := time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC)
	if err := s.Commit(end); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		iface string
		dir   Direction
		bytes uint64
	}{{"a", In, 110}, {"a", Out, 1}, {"a", Both, 111}, {"b", Out, 100}, {"", In, 110}, {"", Out, 101}, {"", Both, 211}} {
		res, err := s.Top(Query{Device: "r", Interface: c.iface, Direction: c.dir, Dimension: SrcAddr, From: end.Add(-time.Minute), To: end, N: 1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != c.bytes || len(res.Entries) != 1 || res.Entries[0].Weight != c.bytes || res.Entries[0].Key.Addr != src {
			t.Errorf("%q %v: %+v, want %d bytes from %v", c.iface, c.dir, res, c.bytes, src)
		}
	}
	if _, err := s.Top(Query{Device: "r", Interface: "b", Direction: In, Dimension: SrcAddr, From: end.Add(-time.Minute), To: end, N: 1}); !errors.Is(err, ErrNoSeries) {
		t.Errorf("b in: %v, want ErrNoSeries", err)
	}
}

func TestBadOptions(t *testing.T) {
	dir := t.TempDir()
	for i, c := range []struct {
		opts Options
		want string
	}{
		{Options{Step: 1500 * time.Millisecond}, "step 1.5s: must be a positive whole number of seconds"},
		{Options{Step: -time.Minute}, "step -1m0s"},
		{Options{Archives: []Archive{}}, "archives: need 1 to 16, have 0"},
		{Options{Archives: []Archive{{2, 10}}}, "archive 0: steps 2: the finest archive must hold single steps"},
		{Options{Archives: []Archive{{1, 10}, {4, 5}, {6, 5}}}, "archive 2: steps 6: must be a multiple of archive 1's 4"},
		{Options{Archives: []Archive{{1, 10}, {1, 5}}}, "archive 1: steps 1: must be a multiple of archive 0's 1, and larger"},
		{Options{Archives: []Archive{{1, 3}, {6, 5}}}, "archive 0: rows 3: fewer than the 6 it takes to make one row of archive 1"},
		{Options{Archives: []Archive{{1, 0}}}, "archive 0: steps 1 and rows 0 must be 1 to 1048576"},
		{Options{Keep: -1}, "keep -1: must be 1 to 10000"},
		{Options{Keep: 10, Capacity: 10}, "capacity 10: must be above keep (10)"},
	} {
		_, err := Open(filepath.Join(dir, fmt.Sprint(i)), &c.opts)
		if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want ErrOptions saying %q", c.opts, err, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "top.db")
	s := openTest(t, path, Options{})
	end := time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC)
	s.Add(&flow.Flow{Device: "r", In: "a", Record: flow.Record{Bytes: 1}})
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{end.Add(-2 * time.Minute), "not a step boundary (step 5m0s"},
		{end.Add(time.Millisecond), "not a step boundary"},
		{time.Unix(0, 0), "not a step boundary"},
	} {
		if err := s.Commit(c.at); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("commit %v: %v, want %q", c.at, err, c.want)
		}
	}
	if err := s.Commit(end); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(end); !errors.Is(err, ErrNotAfter) {
		t.Errorf("commit twice: %v, want ErrNotAfter", err)
	}
	ok := Query{Device: "r", Interface: "a", Direction: In, Dimension: SrcAddr, By: Bytes, From: end.Add(-time.Hour), To: end, N: 10}
	if _, err := s.Top(ok); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*Query)
		want string
	}{
		{func(q *Query) { q.Device = "" }, "device: empty"},
		{func(q *Query) { q.Direction = 0 }, "direction 0"},
		{func(q *Query) { q.To = q.From }, "range: to"},
		{func(q *Query) { q.Dimension = 7 }, "dimension 7: unknown"},
		{func(q *Query) { q.By = 3 }, "measure 3: unknown"},
		{func(q *Query) { q.N = 0 }, "n 0: must be 1 to 10000"},
	} {
		q := ok
		c.edit(&q)
		_, err := s.Top(q)
		_, err2 := s.Series(q)
		if !errors.Is(err, ErrQuery) || !strings.Contains(err.Error(), c.want) || !errors.Is(err2, ErrQuery) {
			t.Errorf("query %+v: %v / %v, want ErrQuery saying %q", q, err, err2, c.want)
		}
	}
	// Another process (here: another handle) holding the file.
	if _, err := Open(path, &Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("second open: %v, want ErrLocked", err)
	}
	s.Close()

	if _, err := Open(path, &Options{Step: time.Minute}); !errors.Is(err, ErrLayout) {
		t.Errorf("open with another step: %v, want ErrLayout", err)
	}
	ro, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Commit(end.Add(5 * time.Minute)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("commit read-only: %v, want ErrReadOnly", err)
	}
	if res, err := ro.Top(ok); err != nil || res.Total != 1 {
		t.Errorf("read-only top: %+v, %v", res, err)
	}
	// A file of format version 1 (every list written out in full) is refused, not
	// misread.
	old := filepath.Join(t.TempDir(), "v1.db")
	s = openTest(t, old, Options{})
	s.Add(&flow.Flow{Device: "r", In: "a", Record: flow.Record{Bytes: 1}})
	if err := s.Commit(end); err != nil {
		t.Fatal(err)
	}
	if err := s.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaVersion, []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, ro := range []bool{false, true} {
		if _, err := Open(old, &Options{ReadOnly: ro}); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), `version "1"`) {
			t.Errorf("open a version 1 file (read-only %v): %v, want ErrFormat naming the version", ro, err)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none.db"), &Options{ReadOnly: true}); err == nil {
		t.Error("read-only open of a missing file: no error")
	}
}

func TestService(t *testing.T) {
	for _, c := range []struct {
		proto        uint8
		sport, dport uint16
		want         string
	}{
		{6, 51234, 443, "tcp/443"},
		{6, 443, 51234, "tcp/443"},
		{17, 53, 123, "udp/53"},
		{6, 0, 80, "tcp/80"},
		{132, 80, 22, "sctp/22"},
		{6, 2000, 3000, "other"},
		{6, 1024, 65535, "other"},
		{1, 0, 8, "other"},
		{47, 0, 0, "other"},
	} {
		s := service(c.proto, c.sport, c.dport)
		k := Key{Dim: Service, Proto: uint8(s >> 16), Port: uint16(s)}
		if k.String() != c.want {
			t.Errorf("service(%d, %d, %d) = %v, want %s", c.proto, c.sport, c.dport, k, c.want)
		}
		if got := oracleKey(Service, &flow.Flow{Record: flow.Record{Proto: c.proto, SrcPort: c.sport, DstPort: c.dport}}); got != k {
			t.Errorf("oracle %v, service %v", got, k)
		}
	}
}

func TestNames(t *testing.T) {
	for _, d := range Dimensions() {
		if got, err := ParseDimension(d.String()); err != nil || got != d {
			t.Errorf("ParseDimension(%q) = %v, %v", d, got, err)
		}
	}
	for m := range Measure(numMeasures) {
		if got, err := ParseMeasure(m.String()); err != nil || got != m {
			t.Errorf("ParseMeasure(%q) = %v, %v", m, got, err)
		}
	}
	for _, d := range []Direction{In, Out, Both} {
		if got, err := ParseDirection(d.String()); err != nil || got != d {
			t.Errorf("ParseDirection(%q) = %v, %v", d, got, err)
		}
	}
	if _, err := ParseDimension("srcip"); err == nil || !strings.Contains(err.Error(), "want one of srcaddr") {
		t.Errorf("ParseDimension(srcip): %v", err)
	}
	if _, err := ParseMeasure("octets"); err == nil {
		t.Error("ParseMeasure(octets): no error")
	}
	if _, err := ParseDirection("up"); err == nil {
		t.Error("ParseDirection(up): no error")
	}
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::2")
	for _, c := range []struct {
		k    Key
		want string
	}{
		{Key{Dim: SrcAddr, Addr: a}, "192.0.2.1"},
		{Key{Dim: DstPort, Port: 443}, "443"},
		{Key{Dim: Proto, Proto: 6}, "tcp"},
		{Key{Dim: Proto, Proto: 250}, "250"},
		{Key{Dim: Conversation, Addr: a, Peer: b}, "192.0.2.1 <-> 2001:db8::2"},
		{Key{Dim: Service, Proto: 17, Port: 53}, "udp/53"},
		{Key{Dim: Service}, "other"},
	} {
		if got := c.k.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.k, got, c.want)
		}
		if got := decodeKey(c.k.Dim, encodeKey(c.k)); got != c.k {
			t.Errorf("%+v: stored and read back as %+v", c.k, got)
		}
	}
}

// testRows returns rows of every kind a file holds: exact ones of a small world,
// a busy step's (errs, bounds), a merge of busy steps (misses), and a quiet one.
func testRows(t *testing.T) []*row {
	t.Helper()
	h := newHasher()
	small := newSketches(20)
	w := newSmallWorld(5)
	for range 50 {
		f := w.flow()
		var k flowKeys
		keysOf(h, &f, &k)
		small.add(&k)
	}
	var busy []*row
	for i := range 3 {
		sk := newSketches(40)
		for _, f := range benchFlows(2000, 1, uint64(20+i)) {
			var k flowKeys
			keysOf(h, &f, &k)
			sk.add(&k)
		}
		busy = append(busy, sk.row(10))
	}
	quiet := newSketches(20)
	var k flowKeys
	keysOf(h, &flow.Flow{Record: flow.Record{Src: netip.MustParseAddr("2001:db8::1"), Proto: 58, Bytes: 64, Packets: 1}}, &k)
	quiet.add(&k)
	rows := []*row{small.row(10), busy[0], mergeRows(busy, 10), quiet.row(10)}
	var errs, misses int
	for _, r := range rows[1:3] {
		for d := range numDims {
			for m := range numMeasures {
				for _, e := range r.lists[d][m].entries {
					errs += min(int(e.err), 1)
					misses += min(int(e.miss), 1)
				}
			}
		}
	}
	if errs == 0 || misses == 0 {
		t.Fatalf("test rows with %d errs and %d misses: the test proves nothing", errs, misses)
	}
	return rows
}

// TestRowRoundTrip: a row reads back as it was written, whole or one list at a
// time, compressed or as is.
func TestRowRoundTrip(t *testing.T) {
	for i, r := range testRows(t) {
		for _, e := range []rowEncoder{{}, {plain: true}} {
			v := e.appendRow(nil, 1234+int64(i), r)
			_, hdr, _ := decodeTotals(v)
			if hdr != r.total {
				t.Errorf("row %d: totals %v, want %v", i, hdr, r.total)
			}
			hd := reader{b: v}
			for range 4 {
				hd.uvarint()
			}
			if want := map[bool]byte{false: rowZstd, true: rowRaw}[e.plain]; hd.b[0] != want {
				t.Errorf("row %d plain %v: stored as kind %d, want %d", i, e.plain, hd.b[0], want)
			}
			p, got, err := decodeRow(v)
			if err != nil {
				t.Fatalf("row %d plain %v: %v", i, e.plain, err)
			}
			if p != 1234+int64(i) || !reflect.DeepEqual(got, r) {
				t.Errorf("row %d plain %v: read back %d %+v, want %+v", i, e.plain, p, got, r)
			}
			for d := range numDims {
				for m := range numMeasures {
					_, total, l, err := decodeRowList(v, Dimension(d), Measure(m))
					if err != nil || total != r.total || !reflect.DeepEqual(l, r.lists[d][m]) {
						t.Errorf("row %d plain %v list %v %v: %+v, %v; want %+v", i, e.plain, Dimension(d), Measure(m), l, err, r.lists[d][m])
					}
				}
			}
		}
	}
}

// TestCorruptRow: every truncation of a stored row is an error, never a panic or
// a silently shorter row.
func TestCorruptRow(t *testing.T) {
	for i, r := range testRows(t) {
		for _, e := range []rowEncoder{{}, {plain: true}} {
			v := e.appendRow(nil, 1234, r)
			if _, _, err := decodeRow(v); err != nil {
				t.Fatal(err)
			}
			for n := range len(v) {
				if _, _, err := decodeRow(v[:n]); err == nil {
					t.Errorf("row %d plain %v cut to %d of %d bytes: no error", i, e.plain, n, len(v))
				}
			}
			if _, _, _, err := decodeRowList(v[:len(v)/2], Service, Flows); err == nil {
				t.Errorf("row %d plain %v: half a row, last list: no error", i, e.plain)
			}
		}
	}
}

// TestConcurrent: records added while steps commit and queries read (run with
// -race) all count in exactly one step.
func TestConcurrent(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "top.db"), Options{Step: time.Minute})
	defer s.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	const adders, per = 4, 5000
	for g := range adders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				s.Add(&flow.Flow{Device: "r", In: fmt.Sprint("if", g), Record: flow.Record{Src: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), Bytes: 1, Packets: 1}})
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	p := int64(0)
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		p++
		if err := s.Commit(start.Add(time.Duration(p) * time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Top(Query{Device: "r", Direction: Both, Dimension: SrcAddr, From: start, To: start.Add(time.Duration(p) * time.Minute), N: 5}); err != nil && !errors.Is(err, ErrNoSeries) {
			t.Fatal(err)
		}
	}
	tot, err := s.Totals("r", "", In, start, start.Add(time.Duration(p)*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, r := range tot {
		sum += r.Flows
	}
	if sum != adders*per {
		t.Errorf("%d flows over %d steps, want %d", sum, p, adders*per)
	}
}

// TestTableBounds checks a table against exact counts after every few thousand
// records of skewed streams with weights of every size: in each measure, every
// key's true weight is within [w−err, w], err ≤ floor ≤ N/(m+1), a key without a
// counter weighed at most the floor, any m+1 counters sum to at most the total,
// and no more entries are held than the limit allows.
func TestTableBounds(t *testing.T) {
	h := newHasher()
	for _, c := range []struct {
		m    int
		keys uint64
		skew float64
	}{{10, 300, 1.1}, {50, 5000, 1.3}, {200, 100000, 1.05}, {5, 8, 2}} {
		tb := newTable[uint32](c.m)
		rng := rand.New(rand.NewPCG(c.keys, 11))
		z := rand.NewZipf(rng, c.skew, 1, c.keys)
		exact := map[uint32]counts{}
		var total counts
		reductions := 0
		for i := range 40000 {
			k := uint32(z.Uint64())
			// Packets and flows often rank keys otherwise than bytes do.
			w := counts{rng.Uint64N(100000), 1 + rng.Uint64N(20), 1}
			if k%7 == 0 {
				w[0] = 0
			}
			before := tb.floor
			tb.add(k, h.small(uint64(k)), &w)
			if tb.floor != before {
				reductions++
			}
			e := exact[k]
			for m := range w {
				e[m] += w[m]
				total[m] += w[m]
			}
			exact[k] = e
			if len(tb.cells) > 5*c.m {
				t.Fatalf("m %d: %d entries", c.m, len(tb.cells))
			}
			if i%4000 != 3999 {
				continue
			}
			seen := map[uint32]bool{}
			for _, cl := range tb.cells {
				if seen[cl.key] {
					t.Fatalf("m %d: key %d held twice", c.m, cl.key)
				}
				seen[cl.key] = true
			}
			for m := range numMeasures {
				if tb.floor[m] > total[m]/uint64(c.m+1) {
					t.Errorf("m %d %v: floor %d above N/(m+1) = %d", c.m, Measure(m), tb.floor[m], total[m]/uint64(c.m+1))
				}
				var ws []uint64
				held := map[uint32]bool{}
				for _, cl := range tb.cells {
					if cl.w[m] == 0 {
						continue
					}
					held[cl.key] = true
					ws = append(ws, cl.w[m])
					tw := exact[cl.key][m]
					if cl.w[m] < tw || cl.w[m]-cl.err[m] > tw || cl.err[m] > tb.floor[m] {
						t.Errorf("m %d %v key %d: w %d err %d floor %d, true %d", c.m, Measure(m), cl.key, cl.w[m], cl.err[m], tb.floor[m], tw)
					}
				}
				for k, e := range exact {
					if !held[k] && e[m] > tb.floor[m] {
						t.Errorf("m %d %v key %d: weighs %d, no counter, floor %d", c.m, Measure(m), k, e[m], tb.floor[m])
					}
				}
				slices.Sort(ws)
				slices.Reverse(ws)
				var sum uint64
				for _, w := range ws[:min(len(ws), c.m+1)] {
					sum += w
				}
				if sum > total[m] {
					t.Errorf("m %d %v: %d heaviest counters sum to %d, above the total %d", c.m, Measure(m), c.m+1, sum, total[m])
				}
			}
		}
		if len(exact) > 2*c.m && reductions == 0 {
			t.Errorf("m %d: %d keys and no reduction: the test proves nothing", c.m, len(exact))
		}
		if len(exact) <= 2*c.m && (tb.floor != counts{}) {
			t.Errorf("m %d: reduced with %d keys, at most 2m", c.m, len(exact))
		}
	}
}

// TestSelectFirst checks the selection of the n first, and of the n heaviest
// candidates, with many ties, against a sort, and the (n+1)-th largest weight
// that the tables evict by.
func TestSelectFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	desc := func(a, b *uint64) int { return cmp.Compare(*b, *a) }
	for range 300 {
		n := rng.IntN(300)
		ws := make([]uint64, n)
		for i := range ws {
			ws[i] = rng.Uint64N(uint64(1 + rng.IntN(50)))
		}
		k := rng.IntN(n + 2)
		got := slices.Clone(ws)
		selectFirst(got, k, desc)
		sorted := slices.Clone(ws)
		slices.SortFunc(sorted, func(a, b uint64) int { return desc(&a, &b) })
		first := slices.Clone(got[:min(k, n)])
		slices.SortFunc(first, func(a, b uint64) int { return desc(&a, &b) })
		if want := sorted[:min(k, n)]; !slices.Equal(first, want) {
			t.Fatalf("%d first of %v: %v, want %v", k, ws, first, want)
		}
		cs := make([]cand, n)
		for i, w := range ws {
			cs[i] = cand{w, int32(i)}
		}
		var hw []uint64
		for _, c := range heaviest(cs, k) {
			if ws[c.i] != c.w {
				t.Fatalf("heaviest: candidate %d of weight %d has %d", c.i, ws[c.i], c.w)
			}
			hw = append(hw, c.w)
		}
		slices.SortFunc(hw, func(a, b uint64) int { return desc(&a, &b) })
		if want := sorted[:min(k, n)]; !slices.Equal(hw, want) {
			t.Fatalf("%d heaviest of %v: %v, want %v", k, ws, hw, want)
		}
		if n > 0 && k < n {
			if got, want := nthLargest(slices.Clone(ws), k), sorted[k]; got != want {
				t.Fatalf("nthLargest(%v, %d) = %d, want %d", ws, k, got, want)
			}
		}
	}
	// Entries: the first keep of a merge are those a full sort puts first.
	es := make([]entry, 500)
	for i := range es {
		es[i] = entry{key: fmt.Sprint(rng.IntN(1000)), w: rng.Uint64N(20), err: rng.Uint64N(3)}
	}
	got, want := slices.Clone(es), slices.Clone(es)
	selectFirst(got, 37, compareEntries)
	sortEntries(got[:37])
	sortEntries(want)
	if !slices.Equal(got[:37], want[:37]) {
		t.Errorf("selected %v, want %v", got[:37], want[:37])
	}
}

// TestRowUnsorted: a list handed over out of order is stored heaviest first, as
// weights written as differences need, not misread.
func TestRowUnsorted(t *testing.T) {
	r := testRows(t)[1]
	want := *r
	shuffled := *r
	for d := range numDims {
		for m := range numMeasures {
			es := slices.Clone(r.lists[d][m].entries)
			slices.Reverse(es)
			shuffled.lists[d][m].entries = es
		}
	}
	_, got, err := decodeRow(appendRow(nil, 1, &shuffled))
	if err != nil || !reflect.DeepEqual(*got, want) {
		t.Errorf("read back %+v, %v; want %+v", got, err, want)
	}
}
