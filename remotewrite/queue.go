package remotewrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/snappy"

	"github.com/mrtgo/mrtgo/internal/atomicfile"
	"github.com/mrtgo/mrtgo/internal/dirlock"
)

// QueueOptions shape a Queue; the zero value takes the defaults.
type QueueOptions struct {
	// MaxSamples is the most samples a record (one request) holds: 10,000 by default.
	MaxSamples int
	// SegmentBytes is the size past which a new segment file is started: 64 MiB.
	SegmentBytes int64
	// MaxBytes caps the queue on disk: when a Put would pass it, the oldest segments
	// are dropped (and counted) first. 1 GiB by default; negative means no cap.
	MaxBytes int64
}

func (o QueueOptions) withDefaults() QueueOptions {
	if o.MaxSamples <= 0 {
		o.MaxSamples = 10000
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 1 << 30
	}
	return o
}

// Queue is the remote-write queue on disk: records (each one request's compressed
// WriteRequest) appended to segment files, and the sequence number of the last record
// the receiver took. A Put is synced before it returns; a record is forgotten only by
// Ack. One process at a time opens a directory; the lock is taken by Open.
//
// A record is a 20-byte header (sequence number, samples, body length, CRC-32C of the
// rest) and the body. Each Put ends with a commit record, which is never sent: it holds
// the Put's mark (see PutMarked), so that what the caller has queued and how far it
// got are written together. A Put is written whole to one segment; at Open, what
// follows the last commit of the last segment (a Put torn by a crash) is cut off. That
// Put had not returned, so nothing it promised is lost, and its mark was not moved.
type Queue struct {
	dir  string
	opts QueueOptions
	lock io.Closer

	mu      sync.Mutex
	ready   chan struct{} // closed and replaced by each Put: wakes a waiting Writer
	segs    []*segment    // oldest first; the last is written to
	pending []record      // records not yet taken, oldest first
	acked   uint64        // sequence number of the last record taken
	next    uint64        // sequence number of the next record put
	dropped int64         // samples dropped to keep MaxBytes
	mark    []byte        // the last Put's mark
}

type segment struct {
	first uint64 // sequence number in the file's name
	path  string
	size  int64
	last  uint64 // sequence number of its last record, 0 when empty
	f     *os.File
}

type record struct {
	seq     uint64
	samples int
	seg     *segment
	off     int64 // of the body
	n       int   // body length
}

// Record is one queued request: its compressed WriteRequest and how many samples it
// holds.
type Record struct {
	Seq     uint64
	Samples int
	Body    []byte
}

const (
	headerLen = 20
	// commitSamples in a record's samples field makes it a commit record.
	commitSamples = math.MaxUint32
	ackedFile     = "acked"
	segSuffix     = ".seg"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrEmpty is Next's error when no record waits.
var ErrEmpty = errors.New("remote-write queue is empty")

// OpenQueue opens the queue in dir, making the directory if need be, and reads what
// an earlier process left in it.
func OpenQueue(dir string, opts QueueOptions) (*Queue, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("remote-write queue: %w", err)
	}
	lock, err := dirlock.Take(filepath.Join(dir, "lock"), 0o644, 0)
	if err != nil {
		return nil, fmt.Errorf("remote-write queue %s: %w", dir, err)
	}
	q := &Queue{dir: dir, opts: opts.withDefaults(), lock: lock, ready: make(chan struct{})}
	if err := q.load(); err != nil {
		q.Close()
		return nil, fmt.Errorf("remote-write queue %s: %w", dir, err)
	}
	return q, nil
}

func (q *Queue) load() error {
	b, err := os.ReadFile(filepath.Join(q.dir, ackedFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case len(b) != 12 || crc32.Checksum(b[:8], castagnoli) != binary.LittleEndian.Uint32(b[8:]):
		return fmt.Errorf("%s is damaged; remove it to send the whole queue again", ackedFile)
	default:
		q.acked = binary.LittleEndian.Uint64(b)
	}
	entries, err := os.ReadDir(q.dir)
	if err != nil {
		return err
	}
	var firsts []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), segSuffix)
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(name, 10, 64); err == nil {
			firsts = append(firsts, n)
		}
	}
	slices.Sort(firsts)
	q.next = q.acked + 1
	for i, first := range firsts {
		s := &segment{first: first, path: q.segPath(first)}
		if err := q.scan(s, i == len(firsts)-1); err != nil {
			return err
		}
		q.segs = append(q.segs, s)
		if s.last >= q.next {
			q.next = s.last + 1
		}
	}
	return q.removeTaken()
}

func (q *Queue) segPath(first uint64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%020d%s", first, segSuffix))
}

// scan reads the records of s. A bad record ends the segment. In the last segment what
// follows the last commit record is a torn Put and is cut off; in an earlier one (a
// Put is never split between segments) what follows a bad record cannot be trusted and
// is not sent.
func (q *Queue) scan(s *segment, last bool) error {
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	s.f = f
	info, err := f.Stat()
	if err != nil {
		return err
	}
	end := info.Size()
	var off, committed int64
	var lastCommitted uint64
	var uncommitted []record // of the Put being read
	hdr := make([]byte, headerLen)
	var body []byte
	for off+headerLen <= end {
		if _, err := f.ReadAt(hdr, off); err != nil {
			return err
		}
		seq := binary.LittleEndian.Uint64(hdr)
		samples := binary.LittleEndian.Uint32(hdr[8:])
		n := int(binary.LittleEndian.Uint32(hdr[12:]))
		if off+headerLen+int64(n) > end {
			break
		}
		body = slices.Grow(body[:0], n)[:n]
		if _, err := f.ReadAt(body, off+headerLen); err != nil {
			return err
		}
		crc := crc32.Update(crc32.Checksum(hdr[:16], castagnoli), castagnoli, body)
		if crc != binary.LittleEndian.Uint32(hdr[16:]) || seq <= s.last {
			break
		}
		off += headerLen + int64(n)
		s.last = seq
		if samples != commitSamples {
			if seq > q.acked {
				uncommitted = append(uncommitted, record{seq: seq, samples: int(samples), seg: s, off: off - int64(n), n: n})
			}
			continue
		}
		q.pending = append(q.pending, uncommitted...)
		uncommitted = uncommitted[:0]
		q.mark = slices.Clone(body)
		committed, lastCommitted = off, seq
	}
	s.size, s.last = committed, lastCommitted
	if committed < end && last {
		if err := f.Truncate(committed); err != nil {
			return fmt.Errorf("cut torn Put off %s: %w", s.path, err)
		}
	}
	return nil
}

// Close releases the queue's files and its lock.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	var errs []error
	for _, s := range q.segs {
		if s.f != nil {
			errs = append(errs, s.f.Close())
			s.f = nil
		}
	}
	if q.lock != nil {
		errs = append(errs, q.lock.Close())
		q.lock = nil
	}
	return errors.Join(errs...)
}

// Put appends batch as records of at most MaxSamples samples each and syncs them.
// Series longer than that are split; a series keeps its samples' order. The mark
// stays what it was.
func (q *Queue) Put(batch []Series) error { return q.PutMarked(batch, nil) }

// encodeBuffers keeps the buffers WriteRequests are encoded into before they are
// compressed: a request of MaxSamples samples takes megabytes, which growing from
// nothing for every body allocated twice over.
var encodeBuffers sync.Pool

// PutMarked is Put that also sets the queue's mark (when mark is not nil), in the same
// write: after a crash the queue holds both the batch and the mark or neither. A
// caller that queues steps as it goes keeps there how far it got (see Mark).
func (q *Queue) PutMarked(batch []Series, mark []byte) error {
	var bodies [][]byte
	var counts []int
	var chunk []Series
	n := 0
	raw, _ := encodeBuffers.Get().(*[]byte) // each body's uncompressed form, in turn
	if raw == nil {
		raw = new([]byte)
	}
	defer encodeBuffers.Put(raw)
	flush := func() {
		if n == 0 {
			return
		}
		*raw = Encode((*raw)[:0], chunk)
		bodies = append(bodies, snappy.Encode(nil, *raw))
		counts = append(counts, n)
		chunk, n = chunk[:0], 0
	}
	for _, s := range batch {
		for len(s.Samples) > 0 {
			take := min(len(s.Samples), q.opts.MaxSamples-n)
			chunk = append(chunk, Series{Labels: s.Labels, Samples: s.Samples[:take]})
			s.Samples = s.Samples[take:]
			if n += take; n == q.opts.MaxSamples {
				flush()
			}
		}
	}
	flush()
	if len(bodies) == 0 && mark == nil {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if mark == nil {
		mark = q.mark
	}
	bodies, counts = append(bodies, mark), append(counts, commitSamples)
	if err := q.append(bodies, counts); err != nil {
		return fmt.Errorf("remote-write queue %s: %w", q.dir, err)
	}
	close(q.ready)
	q.ready = make(chan struct{})
	return nil
}

func (q *Queue) append(bodies [][]byte, counts []int) error {
	var s *segment
	if len(q.segs) > 0 {
		s = q.segs[len(q.segs)-1]
	}
	created := false
	if s == nil || s.size >= q.opts.SegmentBytes { // a Put is never split between segments
		f, err := os.OpenFile(q.segPath(q.next), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		s = &segment{first: q.next, path: f.Name(), f: f}
		q.segs = append(q.segs, s)
		created = true
	}
	var buf []byte
	var added []record
	off := s.size
	for i, body := range bodies {
		hdr := len(buf)
		buf = binary.LittleEndian.AppendUint64(buf, q.next+uint64(i))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(counts[i]))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(body)))
		buf = binary.LittleEndian.AppendUint32(buf, crc32.Update(crc32.Checksum(buf[hdr:hdr+16], castagnoli), castagnoli, body))
		buf = append(buf, body...)
		if counts[i] != commitSamples {
			added = append(added, record{seq: q.next + uint64(i), samples: counts[i], seg: s, off: off + int64(len(buf)-len(body)), n: len(body)})
		}
	}
	if _, err := s.f.WriteAt(buf, off); err != nil {
		s.f.Truncate(off) // what was written of it would be cut at the next Open anyway
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	if created {
		if err := atomicfile.SyncDir(q.dir); err != nil { // the new segment's name
			return err
		}
	}
	q.pending = append(q.pending, added...)
	s.size += int64(len(buf))
	q.next += uint64(len(bodies))
	s.last = q.next - 1
	q.mark = slices.Clone(bodies[len(bodies)-1])
	return q.trim()
}

// Mark returns the mark of the last Put (nil when no Put set one).
func (q *Queue) Mark() []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.mark)
}

// trim drops the oldest segments while the queue is over MaxBytes, never the one
// being written.
func (q *Queue) trim() error {
	if q.opts.MaxBytes < 0 {
		return nil
	}
	var total int64
	for _, s := range q.segs {
		total += s.size
	}
	for total > q.opts.MaxBytes && len(q.segs) > 1 {
		s := q.segs[0]
		for len(q.pending) > 0 && q.pending[0].seg == s {
			q.dropped += int64(q.pending[0].samples)
			q.pending = q.pending[1:]
		}
		total -= s.size
		if s.last > q.acked {
			if err := q.writeAcked(s.last); err != nil {
				return err
			}
		}
		if err := q.removeTaken(); err != nil {
			return err
		}
	}
	return nil
}

// Next returns the oldest record not yet taken, or ErrEmpty.
func (q *Queue) Next() (Record, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return Record{}, ErrEmpty
	}
	r := q.pending[0]
	body := make([]byte, r.n)
	if _, err := r.seg.f.ReadAt(body, r.off); err != nil {
		return Record{}, fmt.Errorf("remote-write queue %s: read record %d: %w", q.dir, r.seq, err)
	}
	return Record{Seq: r.seq, Samples: r.samples, Body: body}, nil
}

// Ack marks every record up to seq as taken: synced before it returns, and the
// segments holding only taken records are removed.
func (q *Queue) Ack(seq uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if seq <= q.acked {
		return nil
	}
	for len(q.pending) > 0 && q.pending[0].seq <= seq {
		q.pending = q.pending[1:]
	}
	if err := q.writeAcked(seq); err != nil {
		return fmt.Errorf("remote-write queue %s: %w", q.dir, err)
	}
	return q.removeTaken()
}

func (q *Queue) writeAcked(seq uint64) error {
	b := binary.LittleEndian.AppendUint64(nil, seq)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	if err := atomicfile.Write(filepath.Join(q.dir, ackedFile), b, 0o644); err != nil {
		return err
	}
	q.acked = seq
	return nil
}

// removeTaken removes the segments, other than the one being written, whose records
// have all been taken.
func (q *Queue) removeTaken() error {
	for len(q.segs) > 1 && q.segs[0].last <= q.acked {
		s := q.segs[0]
		if s.f != nil {
			s.f.Close()
		}
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		q.segs = q.segs[1:]
	}
	return nil
}

// Ready returns a channel closed by the next Put.
func (q *Queue) Ready() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ready
}

// QueueStats is what the queue holds.
type QueueStats struct {
	Records, Samples int   // waiting to be sent
	Bytes            int64 // the segment files' size
	Dropped          int64 // samples dropped since Open to keep the queue under MaxBytes
	Oldest           uint64
}

// Stats reports what waits in the queue.
func (q *Queue) Stats() QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := QueueStats{Records: len(q.pending), Dropped: q.dropped}
	for _, r := range q.pending {
		st.Samples += r.samples
	}
	if len(q.pending) > 0 {
		st.Oldest = q.pending[0].seq
	}
	for _, s := range q.segs {
		st.Bytes += s.size
	}
	return st
}
