package flowtop

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/mrtgo/mrtgo/flow"
)

// formatVersion is the layout of the rows: "1" wrote every list in full; "2"
// shares keys across a dimension's lists and compresses with zstd.
const formatVersion = "2"

var (
	bucketMeta   = []byte("meta")
	bucketSeries = []byte("series")
	bucketRows   = []byte("rows")

	metaVersion = []byte("version")
	metaLayout  = []byte("layout")
	metaLast    = []byte("last")
)

// rowKeyLen is the length of a row key: archive (1 byte), slot (4), series (4),
// big-endian so that a slot's series are neighbours (time-major, as rrd's rows).
// Series 0 is the slot's marker: which row it holds and how many steps were
// recorded in it.
const rowKeyLen = 9

func putRowKey(k []byte, a int, slot int64, id uint32) {
	k[0] = byte(a)
	binary.BigEndian.PutUint32(k[1:], uint32(slot))
	binary.BigEndian.PutUint32(k[5:], id)
}

// storedLayout is what a file remembers of its Options: what its rows mean.
type storedLayout struct {
	Step     int64 // seconds
	Archives []Archive
}

// Store is an open top-list store. Add and Commit may be called from different
// goroutines; Commit calls are serialized; queries run in parallel with both.
type Store struct {
	path  string
	bolt  *bolt.DB
	opts  Options
	stepS int64

	hash hasher

	mu   sync.Mutex // guards cur and free
	cur  map[seriesName]*sketches
	free []*sketches // emptied by Commit, for the next step's series

	wmu sync.Mutex // serializes Commit

	smu    sync.RWMutex // guards ids, nextID, last for queries
	ids    map[seriesName]uint32
	nextID uint32
	last   int64 // index of the last committed step (its end / step), 0 if none
}

// Open opens (creating, mode 0600, if missing) the store at path. A nil opts means
// the defaults. A file made with another step or archive layout is an error
// wrapping ErrLayout; Keep and Capacity may change between opens. If another
// process holds the file, Open waits up to opts.Timeout and then returns an error
// wrapping ErrLocked.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o, err := o.normalize()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if o.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         o.Timeout,
		ReadOnly:        o.ReadOnly,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 1 << 30,
		NoSync:          o.noSync,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w (waited %v)", path, ErrLocked, o.Timeout)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{path: path, bolt: b, opts: o, stepS: int64(o.Step / time.Second),
		hash: newHasher(), cur: map[seriesName]*sketches{}, ids: map[seriesName]uint32{}, nextID: 1}
	want, _ := json.Marshal(storedLayout{Step: s.stepS, Archives: o.Archives})
	load := func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || tx.Bucket(bucketSeries) == nil || tx.Bucket(bucketRows) == nil {
			return errors.New("not a flowtop store (buckets missing)")
		}
		if v := m.Get(metaVersion); string(v) != formatVersion {
			return fmt.Errorf("%w: version %q, this program reads %q; move the file aside to start a new one", ErrFormat, v, formatVersion)
		}
		if have := m.Get(metaLayout); !bytes.Equal(have, want) {
			return fmt.Errorf("%w: made with %s, opened with %s", ErrLayout, have, want)
		}
		if v := m.Get(metaLast); v != nil {
			last, n := binary.Uvarint(v)
			if n <= 0 {
				return fmt.Errorf("last step: %w", errCorrupt)
			}
			s.last = int64(last)
		}
		return tx.Bucket(bucketSeries).ForEach(func(k, v []byte) error {
			name, ok := decodeSeriesName(k)
			if !ok || len(v) != 4 {
				return fmt.Errorf("series %q: %w", k, errCorrupt)
			}
			id := binary.BigEndian.Uint32(v)
			s.ids[name] = id
			s.nextID = max(s.nextID, id+1)
			return nil
		})
	}
	err = b.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil && !o.ReadOnly {
			return nil // new file: made below
		}
		return load(tx)
	})
	if err == nil && !o.ReadOnly {
		err = b.Update(func(tx *bolt.Tx) error {
			if tx.Bucket(bucketMeta) != nil {
				return nil
			}
			for _, n := range [][]byte{bucketMeta, bucketSeries, bucketRows} {
				if _, err := tx.CreateBucket(n); err != nil {
					return err
				}
			}
			m := tx.Bucket(bucketMeta)
			if err := m.Put(metaVersion, []byte(formatVersion)); err != nil {
				return err
			}
			return m.Put(metaLayout, want)
		})
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// Close closes the file. What was added since the last Commit is dropped.
func (s *Store) Close() error { return s.bolt.Close() }

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Options returns the options in force, defaults filled in.
func (s *Store) Options() Options {
	o := s.opts
	o.Archives = slices.Clone(o.Archives)
	return o
}

// Last returns the end of the last committed step, or the zero time if none.
func (s *Store) Last() time.Time {
	s.smu.RLock()
	defer s.smu.RUnlock()
	if s.last == 0 {
		return time.Time{}
	}
	return time.Unix(s.last*s.stepS, 0).UTC()
}

func appendSeriesName(b []byte, n seriesName) []byte {
	b = binary.AppendUvarint(b, uint64(len(n.device)))
	b = append(b, n.device...)
	b = binary.AppendUvarint(b, uint64(len(n.iface)))
	b = append(b, n.iface...)
	return append(b, byte(n.dir))
}

func decodeSeriesName(k []byte) (seriesName, bool) {
	rd := reader{b: k}
	dev := rd.bytes(int(min(rd.uvarint(), uint64(len(k)+1))))
	ifc := rd.bytes(int(min(rd.uvarint(), uint64(len(k)+1))))
	dir := rd.bytes(1)
	if rd.err != nil || len(rd.b) != 0 || (dir[0] != byte(In) && dir[0] != byte(Out)) {
		return seriesName{}, false
	}
	return seriesName{string(dev), string(ifc), Direction(dir[0])}, true
}

// Add counts f in the current step: for its input interface In, for its output
// interface Out, or both. A flow no device claims, or with neither interface,
// counts nowhere. Add is safe for concurrent use; it costs about half a
// microsecond of CPU per interface (see the package doc).
func (s *Store) Add(f *flow.Flow) {
	if f.Device == "" || (f.In == "" && f.Out == "") {
		return
	}
	var k flowKeys
	keysOf(s.hash, f, &k)
	s.mu.Lock()
	if f.In != "" {
		s.sketches(seriesName{f.Device, f.In, In}).add(&k)
	}
	if f.Out != "" {
		s.sketches(seriesName{f.Device, f.Out, Out}).add(&k)
	}
	s.mu.Unlock()
}

// sketches returns the current step's sketches of n, made on first use; s.mu held.
func (s *Store) sketches(n seriesName) *sketches {
	sk := s.cur[n]
	if sk == nil {
		if i := len(s.free) - 1; i >= 0 {
			sk, s.free = s.free[i], s.free[:i]
		} else {
			sk = newSketches(s.opts.Capacity)
		}
		s.cur[n] = sk
	}
	return sk
}

// Commit ends the step that ends at stepEnd, a multiple of the step since the Unix
// epoch (as rrd aligns its rows): everything added since the previous Commit is
// that step's. In one bbolt transaction it writes the step's lists and rolls up
// every coarser row the step completes, merging the next finer archive's rows, so
// that a crash loses at most this step. Steps skipped between two commits are
// gaps. The step's aggregate is dropped even if the write fails.
func (s *Store) Commit(stepEnd time.Time) error {
	if s.opts.ReadOnly {
		return fmt.Errorf("commit: %w", ErrReadOnly)
	}
	t := stepEnd.Unix()
	if stepEnd.Nanosecond() != 0 || t <= 0 || t%s.stepS != 0 {
		return fmt.Errorf("commit %s: not a step boundary (step %v from the Unix epoch)", stepEnd.UTC().Format(time.RFC3339Nano), s.opts.Step)
	}
	p := t / s.stepS
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.smu.RLock()
	last := s.last
	s.smu.RUnlock()
	if p <= last {
		return fmt.Errorf("commit %s: %w (%s)", stepEnd.UTC().Format(time.RFC3339), ErrNotAfter, time.Unix(last*s.stepS, 0).UTC().Format(time.RFC3339))
	}

	s.mu.Lock()
	cur := s.cur
	s.cur = make(map[seriesName]*sketches, len(cur))
	s.mu.Unlock()

	names := make([]seriesName, 0, len(cur))
	for n := range cur {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b seriesName) int {
		return bytes.Compare(appendSeriesName(nil, a), appendSeriesName(nil, b))
	})
	plain := rowEncoder{plain: true}
	s.smu.RLock()
	newIDs := map[seriesName]uint32{}
	nextID := s.nextID
	step := make(map[uint32][]byte, len(names))
	for _, n := range names {
		id, ok := s.ids[n]
		if !ok {
			id = nextID
			nextID++
			newIDs[n] = id
		}
		step[id] = plain.appendRow(nil, p, cur[n].row(s.opts.Keep))
	}
	s.smu.RUnlock()
	s.mu.Lock()
	for _, sk := range cur {
		sk.reset()
		s.free = append(s.free, sk)
	}
	s.mu.Unlock()
	cur = nil

	err := s.bolt.Update(func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketSeries)
		for n, id := range newIDs {
			if err := sb.Put(appendSeriesName(nil, n), binary.BigEndian.AppendUint32(nil, id)); err != nil {
				return err
			}
		}
		rb := tx.Bucket(bucketRows)
		if err := s.writeSlot(rb, 0, p, step, 1); err != nil {
			return err
		}
		for a := 1; a < len(s.opts.Archives); a++ {
			S := int64(s.opts.Archives[a].Steps)
			// Rows completed by this commit that hold a recorded step: the one
			// holding the last commit (after a gap), and the one this step ends.
			var qs []int64
			if last > 0 {
				if q := ceilDiv(last, S); q*S > last && q*S <= p {
					qs = append(qs, q)
				}
			}
			if p%S == 0 && (len(qs) == 0 || qs[0] != p/S) {
				qs = append(qs, p/S)
			}
			for _, q := range qs {
				if err := s.rollup(rb, a, q); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketMeta).Put(metaLast, binary.AppendUvarint(nil, uint64(p)))
	})
	if err != nil {
		return fmt.Errorf("commit %s: %w", stepEnd.UTC().Format(time.RFC3339), err)
	}
	s.smu.Lock()
	for n, id := range newIDs {
		s.ids[n] = id
	}
	s.nextID = nextID
	s.last = p
	s.smu.Unlock()
	return nil
}

// writeSlot makes slot q of archive a hold row q: the given series' values and a
// marker with steps, and nothing else, so that the file keeps one row per slot.
func (s *Store) writeSlot(rb *bolt.Bucket, a int, q int64, vals map[uint32][]byte, steps uint64) error {
	// A slot's keys are written in order, and rewritten a lap later at much the
	// same sizes: pages are packed, not split half full as for random inserts,
	// which at Keep 10 (or for quiet interfaces' small rows) left a third of
	// the file empty.
	rb.FillPercent = 0.9
	slot := floorMod(q, int64(s.opts.Archives[a].Rows))
	var prefix [5]byte
	prefix[0] = byte(a)
	binary.BigEndian.PutUint32(prefix[1:], uint32(slot))
	var stale [][]byte
	c := rb.Cursor()
	for k, _ := c.Seek(prefix[:]); k != nil && bytes.HasPrefix(k, prefix[:]); k, _ = c.Next() {
		id := binary.BigEndian.Uint32(k[5:])
		if _, ok := vals[id]; !ok && id != 0 {
			stale = append(stale, slices.Clone(k))
		}
	}
	for _, k := range stale {
		if err := rb.Delete(k); err != nil {
			return err
		}
	}
	ids := make([]uint32, 0, len(vals))
	for id := range vals {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	key := make([]byte, rowKeyLen)
	putRowKey(key, a, slot, 0)
	if err := rb.Put(slices.Clone(key), appendMarker(nil, q, steps)); err != nil {
		return err
	}
	for _, id := range ids {
		putRowKey(key, a, slot, id)
		if err := rb.Put(slices.Clone(key), vals[id]); err != nil {
			return err
		}
	}
	return nil
}

// readSlot returns row q of archive a for every series that has it, and the
// number of steps recorded in it (0: the row is unknown).
func (s *Store) readSlot(rb *bolt.Bucket, a int, q int64) (map[uint32]*row, uint64, error) {
	slot := floorMod(q, int64(s.opts.Archives[a].Rows))
	key := make([]byte, rowKeyLen)
	putRowKey(key, a, slot, 0)
	c := rb.Cursor()
	k, v := c.Seek(key)
	if !bytes.Equal(k, key) {
		return nil, 0, nil
	}
	mp, steps, err := decodeMarker(v)
	if err != nil {
		return nil, 0, fmt.Errorf("archive %d row %d marker: %w", a, q, err)
	}
	if mp != q {
		return nil, 0, nil // an older lap's row
	}
	rows := map[uint32]*row{}
	for k, v = c.Next(); k != nil && bytes.Equal(k[:5], key[:5]); k, v = c.Next() {
		p, r, err := decodeRow(v)
		if err != nil {
			return nil, 0, fmt.Errorf("archive %d row %d series %d: %w", a, q, binary.BigEndian.Uint32(k[5:]), err)
		}
		if p == q {
			rows[binary.BigEndian.Uint32(k[5:])] = r
		}
	}
	return rows, steps, nil
}

// rollup writes row q of archive a, merged from the next finer archive's rows.
func (s *Store) rollup(rb *bolt.Bucket, a int, q int64) error {
	R := int64(s.opts.Archives[a].Steps / s.opts.Archives[a-1].Steps)
	parts := map[uint32][]*row{}
	var steps uint64
	for f := q*R - R + 1; f <= q*R; f++ {
		rows, n, err := s.readSlot(rb, a-1, f)
		if err != nil {
			return fmt.Errorf("roll up: %w", err)
		}
		steps += n
		for id, r := range rows {
			parts[id] = append(parts[id], r)
		}
	}
	if steps == 0 {
		return nil // nothing recorded: the slot's older row stays, unread
	}
	vals := make(map[uint32][]byte, len(parts))
	var enc rowEncoder
	for id, rs := range parts {
		vals[id] = enc.appendRow(nil, q, mergeRows(rs, s.opts.Keep))
	}
	return s.writeSlot(rb, a, q, vals, steps)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }
