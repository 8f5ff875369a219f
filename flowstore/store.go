package flowstore

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/mrtgo/mrtgo/internal/atomicfile"
	"github.com/mrtgo/mrtgo/internal/dirlock"

	"github.com/mrtgo/mrtgo/flow"
)

// Segment lengths allowed: a whole number of seconds that divides a day, so that a
// day's directory holds that day's partitions only.
const (
	DefaultSegment      = 5 * time.Minute
	DefaultBlockRecords = 8192
	maxSegment          = 24 * time.Hour

	// openPartitions is how many partitions the writer keeps open at once: records
	// arrive a little out of order around a partition's end (exporters' clocks,
	// several collectors), and a partition closed too early would get small blocks.
	openPartitions = 3
)

// Errors.
var (
	// ErrClosed is returned by a Store used after Close.
	ErrClosed = errors.New("flow store closed")
	// ErrReadOnly is returned by Append, Flush and Prune of a Store opened ReadOnly.
	ErrReadOnly = errors.New("flow store opened read-only")
	// ErrLocked is returned by Open when another Store (in this process or another)
	// has the directory open for writing.
	ErrLocked = errors.New("flow store open for writing elsewhere")
)

// Options tune a Store. The zero value is the defaults.
type Options struct {
	// Segment is the length of a segment file's partition of time: a whole number of
	// seconds that divides 24 hours. Partitions start at multiples of it from midnight
	// UTC. 0 means DefaultSegment (5 minutes, as nfcapd rotates).
	Segment time.Duration
	// MaxAge removes segments whose partition ended more than MaxAge ago. 0 keeps
	// segments of any age.
	MaxAge time.Duration
	// MaxBytes removes the oldest segments while all of them take more than MaxBytes
	// on disk. 0 sets no limit.
	MaxBytes int64
	// BlockRecords is the most records a block holds; 0 means DefaultBlockRecords.
	// Larger blocks compress better and cost more memory to write and read.
	BlockRecords int
	// ReadOnly opens the store for Scan and Segments only, without taking the
	// writer's lock: for reading a store that a daemon writes.
	ReadOnly bool
	// ScanWorkers is how many goroutines decode blocks for a Scan; 0 means GOMAXPROCS.
	ScanWorkers int
	// Now is the clock retention reads when the writer starts a segment; nil means
	// time.Now.
	Now func() time.Time
}

// Store is a directory of flow segments. Append, Flush, Prune and Close are the
// writer's and are serialized; Scan and Segments may run at any time from any number
// of goroutines, and see the blocks written before they reached each file.
type Store struct {
	dir   string
	opts  Options
	codec *codec
	lock  io.Closer

	wmu    sync.Mutex // the writer's
	enc    *encoder
	pack   packer
	parts  []*partition
	use    uint64 // counts appends, for closing the partition least recently used
	closed bool
	werr   error // a write that failed; the writer refuses more until reopened

	slots sync.Pool // of *slot: a scan's buffers, kept for the next

	mu        sync.Mutex       // guards committed, for readers
	committed map[string]int64 // bytes of whole blocks in files the writer has open
}

// partition is a segment open for writing, with the records not yet in a block.
type partition struct {
	seg     segment
	f       *os.File
	size    int64 // bytes written, all of them whole blocks
	pending []flow.Flow
	lastUse uint64
}

// Open opens the store in dir, creating dir if need be. Unless opts.ReadOnly, it takes
// the directory's writer lock (ErrLocked if another holds it) and removes files that a
// crash left half-created; torn blocks at the end of a segment are cut off when the
// writer next appends to it.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Segment == 0 {
		opts.Segment = DefaultSegment
	}
	if opts.Segment < time.Second || opts.Segment%time.Second != 0 || maxSegment%opts.Segment != 0 {
		return nil, fmt.Errorf("flow store %s: segment %v: not a whole number of seconds dividing 24h", dir, opts.Segment)
	}
	if opts.BlockRecords == 0 {
		opts.BlockRecords = DefaultBlockRecords
	}
	if opts.BlockRecords < 1 || opts.BlockRecords > maxBlockRecords {
		return nil, fmt.Errorf("flow store %s: %d records a block: want 1 to %d", dir, opts.BlockRecords, maxBlockRecords)
	}
	if opts.MaxAge < 0 || opts.MaxBytes < 0 || opts.ScanWorkers < 0 {
		return nil, fmt.Errorf("flow store %s: negative MaxAge, MaxBytes or ScanWorkers", dir)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{dir: dir, opts: opts, codec: sharedCodec(), enc: newEncoder(), committed: map[string]int64{}}
	if opts.ReadOnly {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("flow store: %w", err)
		}
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("flow store: %w", err)
	}
	lock, err := dirlock.Take(filepath.Join(dir, "LOCK"), 0o644, 0)
	if errors.Is(err, dirlock.ErrLocked) {
		err = ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("flow store %s: %w", dir, err)
	}
	s.lock = lock
	tmps, _ := filepath.Glob(filepath.Join(dir, "*", "*.seg.tmp"))
	for _, t := range tmps {
		if err := os.Remove(t); err != nil {
			lock.Close()
			return nil, fmt.Errorf("flow store: %w", err)
		}
	}
	return s, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Append stores fs, each in the segment of its Received time. Records go to disk a
// block at a time: those of a block not yet full wait for Flush, Close, or the writer
// moving on to later segments. A record without a Received time, or with a time
// outside 1678–2262 (other than the zero time for Start and End), is refused with
// nothing of fs appended.
func (s *Store) Append(fs ...flow.Flow) error {
	for i := range fs {
		if err := checkFlow(&fs[i]); err != nil {
			return fmt.Errorf("flow store: append record %d of %d: %w", i+1, len(fs), err)
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	span := s.opts.Segment
	var p *partition
	for i := range fs {
		f := &fs[i]
		if p == nil || !(f.Received.Before(p.seg.end()) && !f.Received.Before(p.seg.start)) {
			var err error
			if p, err = s.partition(f.Received.Truncate(span)); err != nil {
				return s.fail(err)
			}
		}
		s.use++
		p.lastUse = s.use
		p.pending = append(p.pending, *f)
		if len(p.pending) >= s.opts.BlockRecords {
			if err := s.writeBlock(p); err != nil {
				return s.fail(err)
			}
		}
	}
	return nil
}

func (s *Store) writable() error {
	switch {
	case s.opts.ReadOnly:
		return ErrReadOnly
	case s.closed:
		return ErrClosed
	case s.werr != nil:
		return fmt.Errorf("flow store: earlier write failed: %w", s.werr)
	}
	return nil
}

// fail keeps the first write error: after one, what is on disk is still whole, but
// records of the failed block are lost and the writer refuses more.
func (s *Store) fail(err error) error {
	if s.werr == nil {
		s.werr = err
	}
	return err
}

// partition returns the open partition starting at start, opening it (and closing
// the least recently used beyond openPartitions) if need be. Starting a new segment
// applies retention.
func (s *Store) partition(start time.Time) (*partition, error) {
	start = start.UTC()
	for _, p := range s.parts {
		if p.seg.start.Equal(start) && p.seg.span == s.opts.Segment {
			return p, nil
		}
	}
	if len(s.parts) >= openPartitions {
		lru := slices.MinFunc(s.parts, func(a, b *partition) int { return int(a.lastUse - b.lastUse) })
		if err := s.closePartition(lru, false); err != nil {
			return nil, err
		}
	}
	seg := segment{path: segmentPath(s.dir, start, s.opts.Segment), start: start, span: s.opts.Segment}
	f, size, created, err := openSegment(seg)
	if err != nil {
		return nil, err
	}
	p := &partition{seg: seg, f: f, size: size}
	s.parts = append(s.parts, p)
	s.mu.Lock()
	s.committed[seg.path] = size
	s.mu.Unlock()
	if created {
		if _, err := s.prune(s.opts.Now()); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// errNotSegment is a file named as a segment that does not start as one.
var errNotSegment = errors.New("not a flow segment")

// openSegment opens a segment for appending: an existing file is cut back to its
// whole blocks; a new one is written with its header under a temporary name, synced,
// and renamed, so that a segment file always has its header.
func openSegment(seg segment) (f *os.File, size int64, created bool, err error) {
	f, err = os.OpenFile(seg.path, os.O_RDWR, 0)
	if err == nil {
		size, err = recoverSegment(f)
		if errors.Is(err, errNotSegment) {
			// Not a segment, or one whose header is damaged: kept aside under
			// another name for a person to look at, and the partition begun anew.
			f.Close()
			if err := os.Rename(seg.path, seg.path+".damaged"); err != nil {
				return nil, 0, false, fmt.Errorf("flow store: %w", err)
			}
		} else if err != nil {
			f.Close()
			return nil, 0, false, fmt.Errorf("flow store: %s: %w", seg.path, err)
		} else {
			return f, size, false, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, 0, false, fmt.Errorf("flow store: %w", err)
	}
	day := filepath.Dir(seg.path)
	if err := os.MkdirAll(day, 0o755); err != nil {
		return nil, 0, false, fmt.Errorf("flow store: %w", err)
	}
	tmp := seg.path + ".tmp"
	f, err = os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, 0, false, fmt.Errorf("flow store: %w", err)
	}
	if _, err = f.Write(fileHeader(seg.start, seg.span)); err == nil {
		if err = f.Sync(); err == nil {
			if err = os.Rename(tmp, seg.path); err == nil {
				if err = atomicfile.SyncDir(day); err == nil {
					err = atomicfile.SyncDir(filepath.Dir(day)) // the day's directory may be new
				}
			}
		}
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, 0, false, fmt.Errorf("flow store: create %s: %w", seg.path, err)
	}
	return f, fileHeaderLen, true, nil
}

// recoverSegment returns the size of f's whole blocks, cutting off anything after
// them: a block torn by a crash, or a last block whose payload does not check.
func recoverSegment(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	var head [fileHeaderLen]byte
	if _, err := f.ReadAt(head[:], 0); errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("%w: %d bytes", errNotSegment, st.Size())
	} else if err != nil {
		return 0, fmt.Errorf("read header: %w", err)
	}
	if _, _, err := parseFileHeader(head[:]); err != nil {
		// Renamed into place whole: this is not one of ours, or it is damaged.
		return 0, fmt.Errorf("%w: %v", errNotSegment, err)
	}
	end := int64(fileHeaderLen)
	var last blockHeader
	var lastOff int64 = -1
	if _, err := walk(f, st.Size(), func(off int64, h blockHeader) error {
		end, last, lastOff = off+blockHeadLen+int64(h.compLen), h, off
		return nil
	}); err != nil {
		return 0, err
	}
	if lastOff >= 0 { // a crash can leave a last block of the right length but stale bytes
		payload := make([]byte, last.compLen)
		if _, err := f.ReadAt(payload, lastOff+blockHeadLen); err != nil {
			return 0, err
		}
		if crc32.Checksum(payload, castagnoli) != last.payloadCRC {
			end = lastOff
		}
	}
	if end != st.Size() {
		if err := f.Truncate(end); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// writeBlock writes p's pending records as one block, in one write at the end of the
// file. A write that fails is cut back off.
func (s *Store) writeBlock(p *partition) error {
	if len(p.pending) == 0 {
		return nil
	}
	raw := s.enc.encode(p.pending)
	h := blockHeader{count: uint32(len(p.pending)), rawLen: uint32(len(raw)),
		minRecv: p.pending[0].Received.UnixNano(), maxRecv: p.pending[0].Received.UnixNano()}
	for i := range p.pending {
		t := p.pending[i].Received.UnixNano()
		h.minRecv, h.maxRecv = min(h.minRecv, t), max(h.maxRecv, t)
	}
	buf := make([]byte, blockHeadLen, blockHeadLen+len(raw)/2)
	buf = s.codec.pack(buf, raw, &s.enc.ends, &s.pack)
	payload := buf[blockHeadLen:]
	h.compLen = uint32(len(payload))
	h.payloadCRC = crc32.Checksum(payload, castagnoli)
	h.append(buf[:0])
	// Readers in this process take the file's size under mu when the writer does not
	// have it open: holding mu while writing keeps them from seeing half a block.
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := p.f.WriteAt(buf, p.size); err != nil {
		_ = p.f.Truncate(p.size)
		return fmt.Errorf("flow store: write %s: %w", p.seg.path, err)
	}
	p.size += int64(len(buf))
	p.pending = p.pending[:0]
	s.committed[p.seg.path] = p.size
	return nil
}

// closePartition writes p's pending records, syncs and closes its file (or only
// closes it when abandon is set, after a failure), and forgets it.
func (s *Store) closePartition(p *partition, abandon bool) error {
	var err error
	if !abandon {
		if err = s.writeBlock(p); err == nil {
			err = p.f.Sync()
		}
	}
	if cerr := p.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	s.parts = slices.DeleteFunc(s.parts, func(q *partition) bool { return q == p })
	s.mu.Lock()
	delete(s.committed, p.seg.path)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("flow store: close %s: %w", p.seg.path, err)
	}
	return nil
}

// Flush writes the records waiting in blocks not yet full, each partition's as one
// (shorter) block, and syncs the files to disk. After Flush returns, a crash loses
// none of the records appended before it. Flushing often makes small blocks, which
// compress less: once every few seconds to a minute suits a collector.
func (s *Store) Flush() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	for _, p := range s.parts {
		if err := s.writeBlock(p); err != nil {
			return s.fail(err)
		}
		if err := p.f.Sync(); err != nil {
			return s.fail(fmt.Errorf("flow store: sync %s: %w", p.seg.path, err))
		}
	}
	return nil
}

// Close flushes and closes the store. A Store is not usable after Close.
func (s *Store) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for len(s.parts) > 0 {
		errs = append(errs, s.closePartition(s.parts[0], s.werr != nil))
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

// committedSize is how much of a segment file readers may read: the whole blocks
// written so far if the writer has it open, the file's size otherwise.
func (s *Store) committedSize(path string, f *os.File) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.committed[path]; ok {
		return n, nil
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
