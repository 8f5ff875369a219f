package flowtop

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mrtgo/mrtgo/flow"
)

// oracle keeps every record of a test with its step, and aggregates them by brute
// force, with its own reading of each dimension.
type oracle struct {
	stepS     int64
	recs      []oracleRec
	committed []int64 // in order
}

type oracleRec struct {
	p int64
	f flow.Flow
}

func newOracle(step time.Duration) *oracle {
	return &oracle{stepS: int64(step / time.Second)}
}

// oracleKey is the test's own reading of a record's key in dimension d.
func oracleKey(d Dimension, f *flow.Flow) Key {
	src, dst := f.Src.Unmap(), f.Dst.Unmap()
	switch d {
	case SrcAddr:
		return Key{Dim: d, Addr: src}
	case DstAddr:
		return Key{Dim: d, Addr: dst}
	case SrcPort:
		return Key{Dim: d, Port: f.SrcPort}
	case DstPort:
		return Key{Dim: d, Port: f.DstPort}
	case Proto:
		return Key{Dim: d, Proto: f.Proto}
	case Conversation:
		if dst.Less(src) {
			src, dst = dst, src
		}
		return Key{Dim: d, Addr: src, Peer: dst}
	case Service:
		if f.Proto != 6 && f.Proto != 17 && f.Proto != 132 && f.Proto != 33 {
			return Key{Dim: d}
		}
		lo, hi := min(f.SrcPort, f.DstPort), max(f.SrcPort, f.DstPort)
		switch {
		case lo >= 1 && lo < 1024:
			return Key{Dim: d, Proto: f.Proto, Port: lo}
		case lo == 0 && hi >= 1 && hi < 1024:
			return Key{Dim: d, Proto: f.Proto, Port: hi}
		}
		return Key{Dim: d}
	}
	panic("dimension")
}

func weight(m Measure, f *flow.Flow) uint64 {
	switch m {
	case Bytes:
		return f.Bytes
	case Packets:
		return f.Packets
	}
	return 1
}

// counts returns, for steps (p0, p1] and the series matching (device, iface, dir),
// the weight of every key of d by m, and the total.
func (o *oracle) counts(device, iface string, dir Direction, d Dimension, m Measure, p0, p1 int64) (map[Key]uint64, uint64) {
	out := map[Key]uint64{}
	var total uint64
	// Records are in step order.
	lo, _ := slices.BinarySearchFunc(o.recs, p0+1, func(r oracleRec, p int64) int { return cmp.Compare(r.p, p) })
	for i := lo; i < len(o.recs) && o.recs[i].p <= p1; i++ {
		r := &o.recs[i]
		if r.f.Device != device {
			continue
		}
		for _, side := range []struct {
			dir  Direction
			name string
		}{{In, r.f.In}, {Out, r.f.Out}} {
			if dir&side.dir == 0 || side.name == "" || (iface != "" && side.name != iface) {
				continue
			}
			w := weight(m, &r.f)
			out[oracleKey(d, &r.f)] += w
			total += w
		}
	}
	return out, total
}

func (o *oracle) steps(p0, p1 int64) uint64 {
	lo, _ := slices.BinarySearch(o.committed, p0+1)
	hi, _ := slices.BinarySearch(o.committed, p1+1)
	return uint64(hi - lo)
}

// smallWorld makes records over few keys: fewer distinct keys in every dimension
// than any list keeps, so that every list must be exact.
type smallWorld struct {
	rng    *rand.Rand
	addrs  []netip.Addr
	ports  []uint16
	protos []uint8
	ifaces [][2]string // device, interface
}

func newSmallWorld(seed uint64) *smallWorld {
	return &smallWorld{
		rng: rand.New(rand.NewPCG(seed, 7)),
		addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.77"),
			netip.MustParseAddr("198.51.100.9"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:203.0.113.5")},
		ports:  []uint16{0, 22, 53, 443, 51000, 61000},
		protos: []uint8{6, 17, 1},
		ifaces: [][2]string{{"core1", "ge-0/0/0"}, {"core1", "ge-0/0/1"}, {"edge2", "eth0"}},
	}
}

func (w *smallWorld) flow() flow.Flow {
	r := w.rng
	a := w.ifaces[r.IntN(len(w.ifaces))]
	f := flow.Flow{Device: a[0]}
	switch r.IntN(4) {
	case 0:
		f.In = a[1]
	case 1:
		f.Out = a[1]
	default:
		f.In = a[1]
		for _, b := range w.ifaces {
			if b[0] == a[0] && b[1] != a[1] {
				f.Out = b[1]
			}
		}
	}
	f.Src, f.Dst = w.addrs[r.IntN(len(w.addrs))], w.addrs[r.IntN(len(w.addrs))]
	f.SrcPort, f.DstPort = w.ports[r.IntN(len(w.ports))], w.ports[r.IntN(len(w.ports))]
	f.Proto = w.protos[r.IntN(len(w.protos))]
	f.Packets = 1 + r.Uint64N(1000)
	f.Bytes = f.Packets * (40 + r.Uint64N(1460))
	return f
}

// run commits steps p0+1..p0+n (some skipped, as gaps), adding random records to
// both s and o.
func (w *smallWorld) run(t *testing.T, s *Store, o *oracle, p0, n int64) {
	t.Helper()
	for p := p0 + 1; p <= p0+n; p++ {
		if w.rng.IntN(20) == 0 || (p-p0)%97 < 5 { // gaps: single steps and runs
			continue
		}
		for range w.rng.IntN(6) {
			f := w.flow()
			s.Add(&f)
			o.recs = append(o.recs, oracleRec{p, f})
		}
		if err := s.Commit(time.Unix(p*o.stepS, 0)); err != nil {
			t.Fatal(err)
		}
		o.committed = append(o.committed, p)
	}
}

// checkRows compares every row held in every archive with the brute-force
// aggregation of its steps.
func checkRows(t *testing.T, s *Store, o *oracle) {
	t.Helper()
	last := s.last
	names := map[uint32]seriesName{}
	for n, id := range s.ids {
		names[id] = n
	}
	checked := 0
	err := s.bolt.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRows)
		for a, ar := range s.opts.Archives {
			S := int64(ar.Steps)
			qDone := last / S // rows finished
			for q := qDone - int64(ar.Rows) + 1; q <= qDone; q++ {
				p0, p1 := (q-1)*S, q*S
				rows, steps, err := s.readSlot(rb, a, q)
				if err != nil {
					return err
				}
				if want := o.steps(p0, p1); steps != want {
					t.Errorf("archive %d row %d: %d steps recorded, want %d", a, q, steps, want)
				}
				for id, r := range rows {
					n := names[id]
					for d := range numDims {
						for m := range numMeasures {
							want, total := o.counts(n.device, n.iface, n.dir, Dimension(d), Measure(m), p0, p1)
							if r.total[m] != total {
								t.Errorf("archive %d row %d %v %v: total %d, want %d", a, q, n, Measure(m), r.total[m], total)
							}
							compareExact(t, fmt.Sprintf("archive %d row %d %v %v by %v", a, q, n, Dimension(d), Measure(m)), Dimension(d), r.lists[d][m], want)
							checked++
						}
					}
				}
				// A series with records in the row must have it.
				for id, n := range names {
					if _, ok := rows[id]; !ok {
						if _, total := o.counts(n.device, n.iface, n.dir, SrcAddr, Flows, p0, p1); total > 0 {
							t.Errorf("archive %d row %d: %v missing, %d flows", a, q, n, total)
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
	if checked == 0 {
		t.Fatal("no rows checked")
	}
}

func compareExact(t *testing.T, what string, d Dimension, l list, want map[Key]uint64) {
	t.Helper()
	if l.bound != 0 {
		t.Errorf("%s: bound %d, want 0", what, l.bound)
	}
	got := map[Key]uint64{}
	for i, e := range l.entries {
		if e.err != 0 || e.miss != 0 {
			t.Errorf("%s: %v err %d miss %d, want exact", what, decodeKey(d, e.key), e.err, e.miss)
		}
		if i > 0 && e.w > l.entries[i-1].w {
			t.Errorf("%s: entry %d heavier than the one before", what, i)
		}
		got[decodeKey(d, e.key)] = e.w
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d keys, want %d: got %v want %v", what, len(got), len(want), got, want)
		return
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %v weighs %d, want %d", what, k, got[k], w)
		}
	}
}

// checkQueries compares Top, Series and Totals over ranges read from every
// archive with the brute-force aggregation of the range each says it read.
func checkQueries(t *testing.T, s *Store, o *oracle) {
	t.Helper()
	end := s.Last()
	var spans []time.Duration
	for _, a := range s.opts.Archives {
		span := time.Duration(a.Steps*a.Rows) * s.opts.Step
		spans = append(spans, span/3, span-time.Duration(a.Steps)*s.opts.Step)
	}
	stepS := o.stepS
	for _, span := range spans {
		for _, ifc := range [][2]string{{"core1", "ge-0/0/0"}, {"core1", ""}, {"edge2", "eth0"}} {
			for _, dir := range []Direction{In, Out, Both} {
				for d := range numDims {
					for m := range numMeasures {
						if (ifc[1] != "ge-0/0/0" || dir != Both) && (d+m)%5 != 0 {
							continue // every combination on one series, a sample on the others
						}
						q := Query{Device: ifc[0], Interface: ifc[1], Direction: dir, Dimension: Dimension(d), By: Measure(m),
							From: end.Add(-span - 17*time.Second), To: end.Add(-time.Minute), N: 50}
						what := fmt.Sprintf("top %s %q %v %v by %v over %v", ifc[0], ifc[1], dir, q.Dimension, q.By, span)
						res, err := s.Top(q)
						if err != nil {
							t.Fatalf("%s: %v", what, err)
						}
						p0, p1 := res.From.Unix()/stepS, res.To.Unix()/stepS
						if res.To.Before(q.To) || res.From.After(q.From) && res.Step == time.Duration(s.opts.Archives[0].Steps)*s.opts.Step {
							t.Errorf("%s: read (%v, %v], not all of the asked (%v, %v]", what, res.From, res.To, q.From, q.To)
						}
						if !res.From.Add(res.Step).After(q.From) || !res.To.Add(-res.Step).Before(q.To) || res.From.Unix()%int64(res.Step/time.Second) != 0 {
							t.Errorf("%s: read (%v, %v] in rows of %v: rows not overlapping, or not aligned to, the asked (%v, %v]", what, res.From, res.To, res.Step, q.From, q.To)
						}
						want, total := o.counts(ifc[0], ifc[1], dir, q.Dimension, q.By, p0, p1)
						if res.Total != total {
							t.Errorf("%s: total %d, want %d", what, res.Total, total)
						}
						if res.Steps != o.steps(p0, p1) {
							t.Errorf("%s: %d steps, want %d", what, res.Steps, o.steps(p0, p1))
						}
						var sum uint64
						got := map[Key]uint64{}
						for _, e := range res.Entries {
							got[e.Key] = e.Weight
							sum += e.Weight
							if e.Err != 0 || e.Miss != 0 {
								t.Errorf("%s: %v not exact", what, e.Key)
							}
						}
						if sum+res.Other != res.Total || res.Other != 0 || res.Bound != 0 {
							t.Errorf("%s: listed %d + other %d vs total %d, bound %d", what, sum, res.Other, res.Total, res.Bound)
						}
						if !mapsEqual(got, want) {
							t.Errorf("%s: got %v, want %v", what, got, want)
						}
						if d != int(Proto) && d != int(Service) {
							continue
						}
						ser, err := s.Series(Query{Device: q.Device, Interface: q.Interface, Direction: dir, Dimension: q.Dimension, By: q.By, From: q.From, To: q.To, N: 3})
						if err != nil {
							t.Fatal(err)
						}
						tot, err := s.Totals(q.Device, q.Interface, dir, q.From, q.To)
						if err != nil {
							t.Fatal(err)
						}
						if len(tot) != len(ser.Rows) {
							t.Fatalf("%s: %d total rows, %d series rows", what, len(tot), len(ser.Rows))
						}
						for i, r := range ser.Rows {
							rp0, rp1 := r.Start.Unix()/stepS, r.End.Unix()/stepS
							want, total := o.counts(ifc[0], ifc[1], dir, q.Dimension, q.By, rp0, rp1)
							var sum uint64
							for j, k := range ser.Keys {
								if r.Values[j] != want[k] {
									t.Errorf("%s: series row %v %v = %d, want %d", what, r.End, k, r.Values[j], want[k])
								}
								sum += r.Values[j]
							}
							if r.Total != total || sum+r.Other != total || r.Steps != o.steps(rp0, rp1) {
								t.Errorf("%s: series row %v: values %d + other %d, total %d, want %d; steps %d", what, r.End, sum, r.Other, r.Total, total, r.Steps)
							}
							allTotals := [numMeasures]uint64{tot[i].Bytes, tot[i].Packets, tot[i].Flows}
							if !tot[i].End.Equal(r.End) || allTotals[q.By] != total || tot[i].Steps != r.Steps {
								t.Errorf("%s: totals row %+v, series row end %v total %d", what, tot[i], r.End, total)
							}
						}
					}
				}
			}
		}
	}
}

func mapsEqual(a, b map[Key]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func openTest(t testing.TB, path string, o Options) *Store {
	t.Helper()
	o.noSync = true
	s, err := Open(path, &o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestExactDefaultLayout: with fewer keys than a list keeps, every row of every
// archive, and every query, equals the brute-force aggregation, over several days
// of five-minute steps with gaps, through a close and reopen.
func TestExactDefaultLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "top.db")
	s := openTest(t, path, Options{})
	o := newOracle(DefaultStep)
	w := newSmallWorld(1)
	// Start 21:35 UTC, so that days, 2-hour and 30-minute rows start mid-way.
	p0 := time.Date(2026, 3, 27, 21, 35, 0, 0, time.UTC).Unix() / o.stepS
	w.run(t, s, o, p0, 3*288+150)
	checkRows(t, s, o)
	checkQueries(t, s, o)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, Options{})
	defer s.Close()
	checkRows(t, s, o)
	w.run(t, s, o, s.last, 300)
	checkRows(t, s, o)
	checkQueries(t, s, o)
}

// TestExactRingWrap: with a small layout the rings wrap many times; rows stay
// exact, older laps are never read, and the file keeps one key per slot and
// series.
func TestExactRingWrap(t *testing.T) {
	opts := Options{Step: time.Minute, Archives: []Archive{{1, 12}, {3, 8}, {6, 4}, {12, 3}}, Keep: 20}
	s := openTest(t, filepath.Join(t.TempDir(), "top.db"), opts)
	defer s.Close()
	o := newOracle(time.Minute)
	w := newSmallWorld(2)
	p0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()/60 - 5
	w.run(t, s, o, p0, 400)
	checkRows(t, s, o)
	checkQueries(t, s, o)

	keys, maxKeys := 0, 0
	for _, a := range opts.Archives {
		maxKeys += a.Rows * (len(s.ids) + 1)
	}
	s.bolt.View(func(tx *bolt.Tx) error {
		keys = tx.Bucket(bucketRows).Stats().KeyN
		return nil
	})
	if keys > maxKeys {
		t.Errorf("%d row keys, want at most %d (rows × (series + marker))", keys, maxKeys)
	}
	// A range older than every ring reads nothing.
	res, err := s.Top(Query{Device: "core1", Interface: "ge-0/0/0", Direction: Both, Dimension: SrcAddr,
		From: s.Last().Add(-100 * time.Hour), To: s.Last().Add(-50 * time.Hour), N: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 0 || len(res.Entries) != 0 || res.Steps != 0 {
		t.Errorf("range before the rings: %+v, want nothing", res)
	}
}
