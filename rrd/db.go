package rrd

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Options configures Open. A nil *Options means the defaults.
type Options struct {
	// Timeout is how long Open waits for another process's lock;
	// 0 means 5 seconds. Open never waits forever.
	Timeout time.Duration
	// ReadOnly opens the file for reading only (a shared lock); writes
	// return ErrReadOnly.
	ReadOnly bool
	// Background makes Open return before the catalog of series is read, which is
	// then read on a goroutine of its own: a cron poll reads its poller memory (Meta,
	// MetaPrefix, which never wait) and polls meanwhile. Every other call waits for
	// the catalog, and fails as Open would have if it could not be read.
	Background bool

	noSync bool // tests only: skip fsync where durability is not under test
}

const (
	defaultTimeout = 5 * time.Second
	// chunkCols is how many series share one row key (and one state key)
	// of a group: 1024 series × 2 data sources × 4 bytes = 8 KiB, two pages.
	chunkCols = 1024
	// formatVersion is stored in the meta bucket.
	formatVersion = "1"
)

var (
	bucketMeta   = []byte("meta")
	bucketSeries = []byte("series")
	bucketGroups = []byte("groups")
)

// DB is an open store. It is safe for concurrent use: writes (Create,
// SetMax, Update) are serialized; reads (Fetch, Info, Series) run in
// parallel with them and with each other.
type DB struct {
	path string
	bolt *bolt.DB
	ro   bool

	wmu sync.Mutex // serializes writers; held while the catalog changes

	mu     sync.RWMutex // guards series and groups maps for readers
	series map[string]*series
	groups map[string]*group // by shape key
	byID   map[uint32]*group
	nextID uint32

	// resolved is the previous Update call's series, by position; guarded
	// by wmu and cleared whenever the catalog changes.
	resolved []resolvedName
	bufs     bufPool // write buffers, reused by Update; guarded by wmu

	loaded  chan struct{} // closed once the catalog is read (or failed to be)
	loadErr error         // set before loaded is closed
}

// ready waits for the catalog and reports whether it could be read.
func (db *DB) ready() error {
	<-db.loaded
	return db.loadErr
}

// series is the in-memory catalog entry of one series. It is replaced,
// never mutated, so readers may keep a pointer.
type series struct {
	name string
	spec Spec
	g    *group
	col  uint32
	// arch maps spec archive i to its storage archive in g.
	arch []int
	hbUs int64
}

// group is the set of series sharing one shape (step, number of data
// sources, archives); their values share row keys.
type group struct {
	id     uint32
	key    string
	stepUs int64
	nds    int
	arch   []Archive // storage archives: [0] is the primary-data-point ring
	bucket []byte
	cols   uint32 // guarded by DB.wmu
	// hwPeriod and hwRows are the Holt-Winters layout of every series of
	// the group (Spec.hwLayout); 0 without.
	hwPeriod, hwRows int
}

// Open opens (creating, mode 0600, if missing) the store at path. If another
// process holds it, Open waits up to opts.Timeout and then returns an error
// wrapping ErrLocked.
func Open(path string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	bo := &bolt.Options{
		Timeout:  o.Timeout,
		ReadOnly: o.ReadOnly,
		// The freelist is written with every commit (a few KB): rebuilding it
		// instead would scan every page on each open, and cron-style
		// one-shot runs open the file every cycle.
		FreelistType: bolt.FreelistMapType,
		// A write that must grow the mapping waits for open readers; map
		// generously up front (address space, not memory).
		InitialMmapSize: 1 << 30,
		NoSync:          o.noSync,
	}
	if o.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	b, err := bolt.Open(path, 0o600, bo)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w (waited %v)", path, ErrLocked, o.Timeout)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{path: path, bolt: b, ro: o.ReadOnly,
		series: map[string]*series{}, groups: map[string]*group{}, byID: map[uint32]*group{}, nextID: 1}
	if !o.ReadOnly {
		// A store already made is only read here: a write transaction would cost a
		// commit (two fdatasyncs) on every open, which a cron "poll --once" pays every
		// run.
		made := false
		err = b.View(func(tx *bolt.Tx) error {
			made, err = checkMade(tx)
			return err
		})
		if err == nil && !made {
			err = b.Update(func(tx *bolt.Tx) error {
				for _, n := range [][]byte{bucketMeta, bucketSeries, bucketGroups} {
					if _, err := tx.CreateBucketIfNotExists(n); err != nil {
						return err
					}
				}
				if _, err := checkMade(tx); err != nil {
					return err
				}
				return tx.Bucket(bucketMeta).Put([]byte("version"), []byte(formatVersion))
			})
		}
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("open %s: init: %w", path, err)
		}
	}
	db.loaded = make(chan struct{})
	load := func() {
		defer close(db.loaded)
		if err := b.View(db.loadCatalog); err != nil {
			db.loadErr = fmt.Errorf("open %s: load catalog: %w", path, err)
		}
	}
	if o.Background {
		go load()
		return db, nil
	}
	load()
	if db.loadErr != nil {
		b.Close()
		return nil, db.loadErr
	}
	return db, nil
}

// checkMade reports whether the store's buckets and format version are in place, and
// fails on a store of another format version.
func checkMade(tx *bolt.Tx) (bool, error) {
	for _, n := range [][]byte{bucketSeries, bucketGroups} {
		if tx.Bucket(n) == nil {
			return false, nil
		}
	}
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return false, nil
	}
	v := m.Get([]byte("version"))
	if v == nil {
		return false, nil
	}
	if string(v) != formatVersion {
		return false, fmt.Errorf("format version %q, want %q", v, formatVersion)
	}
	return true, nil
}

// Close releases the file and its lock.
func (db *DB) Close() error {
	<-db.loaded // a background read of the catalog holds a transaction
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close %s: %w", db.path, err)
	}
	return nil
}

// Path returns the file name the store was opened with.
func (db *DB) Path() string { return db.path }

// storedSpec is Spec as JSON (NaN bounds as null).
type storedSpec struct {
	Step, Heartbeat int64 // seconds
	DS              []storedDS
	Archives        []Archive
	HoltWinters     *HWParams `json:",omitempty"`
	HWRows          int       `json:",omitempty"`
}

type storedDS struct {
	Name     string
	Type     DSType
	Min, Max *float64
	Bits     int
}

type storedSeries struct {
	Group uint32
	Col   uint32
	Spec  storedSpec
}

type storedGroup struct {
	Key      string
	Step     int64 // microseconds
	NDS      int
	Archives []Archive
	Cols     uint32
	HWPeriod int `json:",omitempty"`
	HWRows   int `json:",omitempty"`
}

func toStored(s Spec) storedSpec {
	ss := storedSpec{Step: int64(s.Step / time.Second), Heartbeat: int64(s.Heartbeat / time.Second), Archives: s.Archives,
		HoltWinters: s.HoltWinters, HWRows: s.HWRows}
	for _, d := range s.DS {
		sd := storedDS{Name: d.Name, Type: d.Type, Bits: d.Bits}
		if !math.IsNaN(d.Min) {
			v := d.Min
			sd.Min = &v
		}
		if !math.IsNaN(d.Max) {
			v := d.Max
			sd.Max = &v
		}
		ss.DS = append(ss.DS, sd)
	}
	return ss
}

func fromStored(ss storedSpec) Spec {
	s := Spec{Step: time.Duration(ss.Step) * time.Second, Heartbeat: time.Duration(ss.Heartbeat) * time.Second, Archives: ss.Archives,
		HoltWinters: ss.HoltWinters, HWRows: ss.HWRows}
	for _, sd := range ss.DS {
		d := DS{Name: sd.Name, Type: sd.Type, Bits: sd.Bits, Min: math.NaN(), Max: math.NaN()}
		if sd.Min != nil {
			d.Min = *sd.Min
		}
		if sd.Max != nil {
			d.Max = *sd.Max
		}
		s.DS = append(s.DS, d)
	}
	return s
}

func (db *DB) loadCatalog(tx *bolt.Tx) error {
	gb := tx.Bucket(bucketGroups)
	if gb == nil {
		return nil // read-only open of an empty file
	}
	err := gb.ForEach(func(k, v []byte) error {
		var sg storedGroup
		if err := json.Unmarshal(v, &sg); err != nil {
			return fmt.Errorf("group %x: %w", k, err)
		}
		id := binary.BigEndian.Uint32(k)
		g := &group{id: id, key: sg.Key, stepUs: sg.Step, nds: sg.NDS, arch: sg.Archives, bucket: groupBucket(id), cols: sg.Cols,
			hwPeriod: sg.HWPeriod, hwRows: sg.HWRows}
		db.groups[g.key] = g
		db.byID[id] = g
		if id >= db.nextID {
			db.nextID = id + 1
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Every series has had a column of its group: their sum is the number of series,
	// or a little more when some were deleted. The map is made that large at once
	// rather than grown by rehashing (a cron run opens the store every cycle).
	n := 0
	for _, g := range db.groups {
		n += int(g.cols)
	}
	if len(db.series) == 0 && n > 0 {
		db.series = make(map[string]*series, n)
	}
	// Most series share a spec (those of one layout differ only in their speed), and
	// decoding a spec is most of the cost of opening a large store: decode each
	// distinct one once, then give every series its own copy of the data sources
	// (SetMax and SetBits change them in place). Neighbours mostly have the same
	// spec as the series before them, which is compared first: cheaper than hashing
	// its few hundred bytes.
	specs := map[string]Spec{}
	var prevRaw []byte
	var prev Spec
	// The catalog entries, their data sources and their archive maps are carved from
	// blocks made for n series of the first one's shape rather than allocated one by
	// one (three allocations a series). An entry is replaced, never changed, so
	// entries may share a block.
	var blocks *catalogBlocks
	return tx.Bucket(bucketSeries).ForEach(func(k, v []byte) error {
		st, ok := splitStoredSeries(v)
		if !ok {
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("series %q: %w", k, err)
			}
		}
		g := db.byID[st.Group]
		if g == nil {
			return fmt.Errorf("series %q: group %d missing", k, st.Group)
		}
		spec := prev
		if prevRaw == nil || !bytes.Equal(prevRaw, st.Spec) {
			if spec, ok = specs[string(st.Spec)]; !ok {
				var ss storedSpec
				if err := json.Unmarshal(st.Spec, &ss); err != nil {
					return fmt.Errorf("series %q: %w", k, err)
				}
				spec = fromStored(ss)
				specs[string(st.Spec)] = spec
			}
			// st.Spec is valid for the transaction, which lasts the whole loop.
			prevRaw, prev = st.Spec, spec
		}
		if blocks == nil {
			blocks = &catalogBlocks{series: make([]series, 0, n), ds: make([]DS, 0, n*len(spec.DS)),
				arch: make([]int, 0, n*len(spec.Archives))}
		}
		spec.DS = append(carve(&blocks.ds, len(spec.DS)), spec.DS...)
		name := string(k)
		s := &carve(&blocks.series, 1)[:1][0]
		*s = fillSeries(carve(&blocks.arch, len(spec.Archives)), name, spec, g, st.Col)
		db.series[name] = s
		return nil
	})
}

// catalogBlocks are what loadCatalog carves the catalog entries from.
type catalogBlocks struct {
	series []series
	ds     []DS
	arch   []int
}

// carve returns an empty slice with room for n elements, taken from the free end of
// *block, or newly allocated when the block has no room left.
func carve[T any](block *[]T, n int) []T {
	b := *block
	if cap(b)-len(b) < n {
		return make([]T, 0, n)
	}
	*block = b[:len(b)+n]
	return b[len(b) : len(b) : len(b)+n]
}

// rawSeries is a stored series with its spec left encoded.
type rawSeries struct {
	Group, Col uint32
	Spec       json.RawMessage
}

// splitStoredSeries reads the record storedSeries encodes to,
// {"Group":G,"Col":C,"Spec":{...}}, without scanning the spec, which is
// checked when it is decoded; anything else is left to encoding/json.
func splitStoredSeries(v []byte) (rawSeries, bool) {
	var st rawSeries
	num := func(prefix string) (uint32, bool) {
		if !bytes.HasPrefix(v, []byte(prefix)) {
			return 0, false
		}
		v = v[len(prefix):]
		n, i := uint64(0), 0
		for ; i < len(v) && v[i] >= '0' && v[i] <= '9' && i < 10; i++ {
			n = n*10 + uint64(v[i]-'0')
		}
		if i == 0 || n > math.MaxUint32 {
			return 0, false
		}
		v = v[i:]
		return uint32(n), true
	}
	var ok1, ok2 bool
	if st.Group, ok1 = num(`{"Group":`); !ok1 {
		return st, false
	}
	if st.Col, ok2 = num(`,"Col":`); !ok2 || !bytes.HasPrefix(v, []byte(`,"Spec":{`)) || !bytes.HasSuffix(v, []byte("}}")) {
		return st, false
	}
	st.Spec = v[len(`,"Spec":`) : len(v)-1]
	return st, true
}

func groupBucket(id uint32) []byte {
	b := []byte{'g', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], id)
	return b
}

func newSeries(name string, spec Spec, g *group, col uint32) *series {
	s := fillSeries(make([]int, 0, len(spec.Archives)), name, spec, g, col)
	return &s
}

// fillSeries is the catalog entry of a series, its archive map appended to arch.
func fillSeries(arch []int, name string, spec Spec, g *group, col uint32) series {
	s := series{name: name, spec: spec, g: g, col: col, hbUs: spec.Heartbeat.Microseconds(), arch: arch}
	j := 1
	for _, a := range spec.Archives {
		if a.Steps == 1 {
			s.arch = append(s.arch, 0)
		} else {
			s.arch = append(s.arch, j)
			j++
		}
	}
	return s
}

// shape returns the storage archives and identity key of the group a
// normalized spec belongs to. One-step archives of any CF are the same
// primary data points, so they share storage archive 0 (the ring); the
// ring also keeps enough rows to consolidate the longest archive.
func shape(s Spec) ([]Archive, string) {
	ring := Archive{CF: Average, Steps: 1, Rows: 1}
	cons := []Archive{}
	for _, a := range s.Archives {
		if a.Steps == 1 {
			ring.Rows = max(ring.Rows, a.Rows)
		} else {
			ring.Rows = max(ring.Rows, a.Steps)
			cons = append(cons, a)
		}
	}
	arch := append([]Archive{ring}, cons...)
	key := fmt.Sprintf("step=%d nds=%d", int64(s.Step/time.Second), len(s.DS))
	for _, a := range arch {
		key += fmt.Sprintf(" %s:%d:%d:%g", a.CF, a.Steps, a.Rows, a.XFF)
	}
	if period, rows := s.hwLayout(); period > 0 {
		key += fmt.Sprintf(" hw:%d:%d", period, rows)
	}
	return arch, key
}

// makeGroup returns the group of a normalized spec with the given storage
// archives and key, numbered id.
func makeGroup(id uint32, key string, s Spec, arch []Archive) *group {
	period, rows := s.hwLayout()
	return &group{id: id, key: key, stepUs: s.Step.Microseconds(), nds: len(s.DS), arch: arch, bucket: groupBucket(id),
		hwPeriod: period, hwRows: rows}
}

// stored is the group's catalog record with cols columns.
func (g *group) stored(cols uint32) []byte {
	v, _ := json.Marshal(storedGroup{Key: g.key, Step: g.stepUs, NDS: g.nds, Archives: g.arch, Cols: cols,
		HWPeriod: g.hwPeriod, HWRows: g.hwRows})
	return v
}

// Create makes a series with spec, whose first update must be after start.
// If the series exists with the same shape it succeeds, updating only the
// data sources' Min, Max and Bits; with another shape it returns
// ErrSpecMismatch.
func (db *DB) Create(name string, spec Spec, start time.Time) error {
	return db.CreateBatch([]string{name}, spec, start)
}

// CreateBatch is Create for many series with one spec, in one transaction.
func (db *DB) CreateBatch(names []string, spec Spec, start time.Time) error {
	if db.ro {
		return fmt.Errorf("create series: %w", ErrReadOnly)
	}
	if err := db.ready(); err != nil {
		return err
	}
	ns, err := spec.normalize()
	if err != nil {
		return fmt.Errorf("create series: %w", err)
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	arch, key := shape(ns)
	g := db.groups[key]
	newGroup := g == nil
	if newGroup {
		g = makeGroup(db.nextID, key, ns, arch)
	}
	cols := g.cols
	created := map[string]*series{}
	for _, name := range names {
		if name == "" {
			return fmt.Errorf("create series: empty name")
		}
		if old := db.series[name]; old != nil {
			if !sameShape(old.spec, ns) {
				return fmt.Errorf("create series %s: %w", name, ErrSpecMismatch)
			}
			created[name] = newSeries(name, ns, old.g, old.col)
			continue
		}
		if created[name] != nil {
			continue
		}
		created[name] = newSeries(name, ns, g, cols)
		cols++
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		gb, err := tx.CreateBucketIfNotExists(g.bucket)
		if err != nil {
			return err
		}
		if cols != g.cols || newGroup {
			id := make([]byte, 4)
			binary.BigEndian.PutUint32(id, g.id)
			if err := tx.Bucket(bucketGroups).Put(id, g.stored(cols)); err != nil {
				return err
			}
		}
		w := newWork(tx)
		sorted := append([]string(nil), names...)
		sort.Strings(sorted) // bbolt inserts in key order cheaply
		for _, name := range sorted {
			s := created[name]
			v, _ := json.Marshal(storedSeries{Group: s.g.id, Col: s.col, Spec: toStored(ns)})
			if err := tx.Bucket(bucketSeries).Put([]byte(name), v); err != nil {
				return err
			}
			if s.g != g || s.col < g.cols {
				continue // existed
			}
			rec := w.stateRec(gb, g, s.col, cols)
			initState(rec, g, start)
			if g.hwPeriod > 0 {
				initHWState(w.group(gb, g, cols).hwStateRec(s.col), g.nds)
			}
		}
		return w.flush()
	})
	if err != nil {
		return fmt.Errorf("create series: %w", err)
	}
	db.mu.Lock()
	db.resolved = nil
	g.cols = cols
	if newGroup {
		db.groups[key] = g
		db.byID[g.id] = g
		db.nextID++
	}
	for n, s := range created {
		db.series[n] = s
	}
	db.mu.Unlock()
	return nil
}

// SetMax changes the upper bound of data source ds of a series (for example
// when an interface's speed changes). It applies to updates from now on.
func (db *DB) SetMax(name string, ds int, max float64) error {
	return db.setDS("set max", name, ds, func(d *DS) { d.Max = max })
}

// SetBits changes the counter width (32 or 64) of data source ds of a
// series, for an agent that stopped or started answering for its 64-bit
// counters. It applies to updates from now on; the update that follows the
// change should carry Discontinuity, since the two counters differ.
func (db *DB) SetBits(name string, ds int, bits int) error {
	if bits != 32 && bits != 64 {
		return fmt.Errorf("set bits %s: %d: must be 32 or 64", name, bits)
	}
	return db.setDS("set bits", name, ds, func(d *DS) { d.Bits = bits })
}

func (db *DB) setDS(op, name string, ds int, f func(*DS)) error {
	if err := db.ready(); err != nil {
		return err
	}
	db.mu.RLock()
	s := db.series[name]
	db.mu.RUnlock()
	if s == nil {
		return fmt.Errorf("%s %s: %w", op, name, ErrNoSeries)
	}
	if ds < 0 || ds >= len(s.spec.DS) {
		return fmt.Errorf("%s %s: data source %d out of range", op, name, ds)
	}
	spec := s.spec
	spec.DS = append([]DS(nil), spec.DS...)
	f(&spec.DS[ds])
	if err := db.CreateBatch([]string{name}, spec, time.Time{}); err != nil {
		return fmt.Errorf("%s %s: %w", op, name, err)
	}
	return nil
}

// Series returns the names of all series, sorted.
func (db *DB) Series() ([]string, error) {
	if err := db.ready(); err != nil {
		return nil, err
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	out := make([]string, 0, len(db.series))
	for n := range db.series {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// Spec returns a series' spec, without its last update (no read of the file).
func (db *DB) Spec(name string) (Spec, error) {
	if err := db.ready(); err != nil {
		return Spec{}, err
	}
	s := db.lookup(name)
	if s == nil {
		return Spec{}, fmt.Errorf("spec %s: %w", name, ErrNoSeries)
	}
	return s.spec.clone(), nil
}

// ViewSpec calls f with a series' spec as the catalog holds it, without the copy Spec
// makes: for a caller that looks at every series of a large store at once (a cron
// run's first commit). f must neither keep nor change what it is given.
func (db *DB) ViewSpec(name string, f func(Spec)) error {
	if err := db.ready(); err != nil {
		return err
	}
	s := db.lookup(name)
	if s == nil {
		return fmt.Errorf("spec %s: %w", name, ErrNoSeries)
	}
	f(s.spec) // a catalog entry is replaced, never changed
	return nil
}

// Info returns the spec of a series and the time of its last update (the
// start time given to Create if it has had none).
func (db *DB) Info(name string) (Spec, time.Time, error) {
	if err := db.ready(); err != nil {
		return Spec{}, time.Time{}, err
	}
	s := db.lookup(name)
	if s == nil {
		return Spec{}, time.Time{}, fmt.Errorf("info %s: %w", name, ErrNoSeries)
	}
	var last int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		last, err = readLastUp(tx, s)
		return err
	})
	if err != nil {
		return Spec{}, time.Time{}, fmt.Errorf("info %s: %w", name, err)
	}
	return s.spec.clone(), time.UnixMicro(last).UTC(), nil
}

func (db *DB) lookup(name string) *series {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.series[name]
}
