package capture

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mrtgo/mrtgo/internal/atomicfile"
	"github.com/mrtgo/mrtgo/internal/dirlock"

	"github.com/google/gopacket"
)

// Defaults of Options.
const (
	DefaultDuration  = 30 * time.Second
	DefaultMaxBytes  = 10 << 20 // 10 MiB
	DefaultSnapLen   = 262144   // tcpdump's: whole frames, GSO and GRO super-frames too
	DefaultKeep      = 7 * 24 * time.Hour
	DefaultMaxActive = 4
)

// MaxSnapLen is the largest Options.SnapLen, the largest libpcap reads in a file.
const MaxSnapLen = 262144

// minMaxBytes is the least Options.MaxBytes: a file header and one short frame.
const minMaxBytes = fileHeaderLen + recordHeaderLen + 64

// Sizes of the pcap format's headers.
const (
	fileHeaderLen   = 24
	recordHeaderLen = 16
)

// flushEvery is how often a capture writes what it buffered to its file, so that the
// partial file can be read while the capture runs and a crash loses no more.
const flushEvery = time.Second

// Errors of Start.
var (
	// ErrBusy is Start's error when Options.MaxActive captures are running.
	ErrBusy = errors.New("capture: too many captures running")
	// ErrClosed is Start's error after Close.
	ErrClosed = errors.New("capture: capturer closed")
	// ErrNotFound is Wait's error for a file that is neither running nor among the
	// captures that ended last.
	ErrNotFound = errors.New("capture: no such capture")
	// ErrLocked is New's error when another Capturer has the directory.
	ErrLocked = errors.New("capture: directory in use by another capturer")
)

// Options configure a Capturer. The zero value of a field is its default.
type Options struct {
	Interface string        // the local interface to capture on (required)
	Dir       string        // where pcap files go; created if need be (required)
	Duration  time.Duration // how long one capture runs (default 30 s)
	// MaxBytes caps one file's size, headers included (default 10 MiB): the capture
	// ends at the first selected frame that would take the file past it.
	MaxBytes int64
	// SnapLen is how many bytes of each frame are kept (default and most 262,144, as
	// tcpdump: a whole frame, even a GSO or GRO frame of 64 KiB and more, as the
	// socket sees those before segmentation).
	SnapLen int
	// Keep is how long files are kept, counted from the start time in their names
	// (default 7 days); negative keeps them forever.
	Keep time.Duration
	// MaxActive is how many captures may run at once (default 4); Start beyond that
	// returns ErrBusy.
	MaxActive int
	// Open opens the packet source of an interface; nil is the package's own
	// AF_PACKET socket (Linux). Tests use it to open the socket in a network namespace.
	Open func(iface string) (Source, error)
	// Now is the clock of file names and retention; nil is time.Now. How long a
	// capture runs is measured on the real clock whatever Now says.
	Now func() time.Time
}

// Source is what a capture reads (gopacket's packet data source). A capture waits on
// the default Open's socket with poll(2), so it ends on time when no packet comes;
// any other Source must return from ReadPacketData, with an error, once Close is
// called from another goroutine. A Source with SetCaptureLength(int) error is
// given Options.SnapLen.
type Source interface {
	ReadPacketData() (data []byte, ci gopacket.CaptureInfo, err error)
	Close()
}

// Stats counts the frames of one capture, or of several.
type Stats struct {
	Seen    uint64 // frames read from the interface, both directions
	Matched uint64 // frames the filter selected
	Written uint64 // frames written to the file
	Bytes   int64  // bytes written, file headers included
	// Dropped counts the frames the kernel dropped because the socket's buffer was
	// full (an AF_PACKET socket's statistics): the file may lack some of them.
	Dropped uint64
}

func (s *Stats) add(o Stats) {
	s.Seen += o.Seen
	s.Matched += o.Matched
	s.Written += o.Written
	s.Bytes += o.Bytes
	s.Dropped += o.Dropped
}

// Totals are a Capturer's counts since New, for /metrics: Stats sums those of every
// capture, running or ended.
type Totals struct {
	Stats
	Started uint64 // captures started
	Failed  uint64 // captures that could not start or ended with an error
	Busy    uint64 // Starts refused with ErrBusy
	Active  int    // captures running
}

// Reason says why a capture ended.
type Reason string

// Reasons a capture ends.
const (
	EndDuration Reason = "duration"  // Options.Duration passed
	EndMaxBytes Reason = "max-bytes" // the next frame would have passed Options.MaxBytes
	EndClosed   Reason = "closed"    // Close
	EndError    Reason = "error"     // the source or the file failed (Info.Err)
)

// Info describes a capture, running or ended.
type Info struct {
	File   string    // base name in Dir, the final name (see the package documentation)
	Filter Filter    // what it selects
	Start  time.Time // Options.Now when it started; its name holds this time
	End    time.Time // Options.Now when it ended; zero while it runs
	Reason Reason    // why it ended; empty while it runs
	Err    error     // why it failed, with Reason EndError
	Stats  Stats
}

// Capturer runs packet captures on one interface into one directory. Its methods may
// be called from any goroutine.
type Capturer struct {
	o    Options
	log  *slog.Logger
	lock io.Closer

	mu     sync.Mutex
	closed bool
	active map[string]*run // by file
	recent []Info          // the captures that ended last, oldest first
	ended  Totals          // counts of ended captures, and Started, Failed, Busy
	wg     sync.WaitGroup
}

// keepRecent is how many ended captures Wait still knows of.
const keepRecent = 64

// New checks o, creates o.Dir, locks it (one Capturer a directory), makes whole the
// files of captures a crash interrupted, and deletes the files older than o.Keep. log
// may be nil.
func New(o Options, log *slog.Logger) (*Capturer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if o.Interface == "" {
		errs = append(errs, errors.New("no interface"))
	}
	if o.Dir == "" {
		errs = append(errs, errors.New("no directory"))
	}
	if o.Duration < 0 || o.MaxBytes < 0 || o.SnapLen < 0 || o.MaxActive < 0 {
		errs = append(errs, fmt.Errorf("negative duration %v, max bytes %d, snap length %d or max active %d",
			o.Duration, o.MaxBytes, o.SnapLen, o.MaxActive))
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxBytes > 0 && o.MaxBytes < minMaxBytes {
		errs = append(errs, fmt.Errorf("max bytes %d below %d", o.MaxBytes, minMaxBytes))
	}
	if o.SnapLen == 0 {
		o.SnapLen = DefaultSnapLen
	}
	if o.SnapLen > MaxSnapLen || o.SnapLen > 0 && o.SnapLen < 64 {
		errs = append(errs, fmt.Errorf("snap length %d outside 64 to %d", o.SnapLen, MaxSnapLen))
	}
	if o.Keep == 0 {
		o.Keep = DefaultKeep
	}
	if o.MaxActive == 0 {
		o.MaxActive = DefaultMaxActive
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Open == nil {
		o.Open = openEthernet
		if o.Interface != "" {
			if err := checkInterface(o.Interface); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	o.Dir = filepath.Clean(o.Dir)
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	lock, err := dirlock.Take(filepath.Join(o.Dir, lockName), 0o640, 0)
	if errors.Is(err, dirlock.ErrLocked) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, o.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("capture: lock %s: %w", o.Dir, err)
	}
	c := &Capturer{o: o, log: log, lock: lock, active: make(map[string]*run)}
	recoverParts(o.Dir, log)
	if _, err := c.Prune(); err != nil {
		log.Warn("capture: retention", "err", err)
	}
	return c, nil
}

// Dir is the directory of the files.
func (c *Capturer) Dir() string { return c.o.Dir }

// Start begins a capture of the frames f selects and returns at once with the
// file's base name in Dir: the start time in UTC and name, sanitized to letters,
// digits, '.', '_' and '-' ("20261129T120501Z-synflood-192.0.2.1.pcap"), with "-2",
// "-3"... before ".pcap" if that is taken. The capture runs in its own goroutine until
// Options.Duration passes, the file reaches Options.MaxBytes, or Close; until then
// the file is that name plus ".part". Start fails with ErrBusy when
// Options.MaxActive captures are running, ErrClosed after Close, or when f is not
// valid or the source cannot be opened.
func (c *Capturer) Start(name string, f Filter) (file string, err error) {
	if err := f.Validate(); err != nil {
		return "", err
	}
	f = f.clone()
	start := c.o.Now()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return "", ErrClosed
	}
	if len(c.active) >= c.o.MaxActive {
		c.ended.Busy++
		c.mu.Unlock()
		return "", ErrBusy
	}
	file = c.freeName(start, name)
	r := &run{c: c, file: file, filter: f, start: start, stop: make(chan struct{}), done: make(chan struct{})}
	c.active[file] = r // holds the name and the slot while the source opens
	c.ended.Started++
	c.wg.Add(1) // so that a Close from now on waits for it
	c.mu.Unlock()

	if err := r.open(); err != nil {
		err = fmt.Errorf("capture %s on %s: %w", file, c.o.Interface, err)
		r.final = Info{File: file, Filter: f, Start: start, End: start, Reason: EndError, Err: err}
		c.mu.Lock()
		delete(c.active, file)
		c.ended.Failed++
		c.mu.Unlock()
		close(r.done) // for a Wait that found it reserved
		c.wg.Done()
		return "", err
	}
	c.mu.Lock()
	r.running = true
	c.mu.Unlock()
	c.log.Info("capture started", "file", file, "interface", c.o.Interface, "filter", f.String(),
		"duration", c.o.Duration, "max_bytes", c.o.MaxBytes)
	go r.loop()
	return file, nil
}

// Active describes the captures running, in no order.
func (c *Capturer) Active() []Info {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Info, 0, len(c.active))
	for _, r := range c.active {
		if r.running {
			out = append(out, r.info())
		}
	}
	return out
}

// Stats returns the counts since New.
func (c *Capturer) Stats() Totals {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.ended
	for _, r := range c.active {
		if r.running {
			t.add(r.stats())
			t.Active++
		}
	}
	return t
}

// Wait waits until the capture of file ends and describes it. It knows the captures
// running and the 64 that ended last; of another file it returns ErrNotFound.
func (c *Capturer) Wait(ctx context.Context, file string) (Info, error) {
	c.mu.Lock()
	r := c.active[file]
	if r == nil {
		defer c.mu.Unlock()
		for i := len(c.recent) - 1; i >= 0; i-- {
			if c.recent[i].File == file {
				return c.recent[i], nil
			}
		}
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, file)
	}
	c.mu.Unlock()
	select {
	case <-r.done:
		return r.final, nil
	case <-ctx.Done():
		return Info{}, ctx.Err()
	}
}

// Close stops the running captures, waits until their files are complete, and
// releases the directory. It returns the errors of the captures it stopped.
func (c *Capturer) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	var runs []*run
	for _, r := range c.active {
		runs = append(runs, r)
	}
	c.mu.Unlock()
	for _, r := range runs {
		r.halt()
	}
	c.wg.Wait()
	var errs []error
	for _, r := range runs {
		if r.final.Err != nil {
			errs = append(errs, r.final.Err)
		}
	}
	if err := c.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("capture: unlock %s: %w", c.o.Dir, err))
	}
	return errors.Join(errs...)
}

// clone copies f's slices, so that the caller may reuse them while the capture runs.
func (f Filter) clone() Filter {
	f.Src = append([]netip.Prefix(nil), f.Src...)
	f.Dst = append([]netip.Prefix(nil), f.Dst...)
	f.SrcPorts = append([]uint16(nil), f.SrcPorts...)
	f.DstPorts = append([]uint16(nil), f.DstPorts...)
	return f
}

// run is one capture.
type run struct {
	c      *Capturer
	file   string
	filter Filter
	start  time.Time
	stop   chan struct{} // closed by halt
	done   chan struct{} // closed when final is set
	final  Info
	// running: its source is open and its loop started (under c.mu); before, it
	// only holds its name and slot.
	running bool

	mu     sync.Mutex // guards halted and wait, which halt and open may race on
	halted bool
	wait   waiter // nil: src unblocks on Close

	src      Source
	closeSrc sync.Once
	f        *os.File
	buf      *bufio.Writer
	rec      [recordHeaderLen]byte // a record header, written before each frame
	size     int64                 // bytes written, whole frames
	synced   int64                 // bytes of whole frames flushed to the file
	dirty    bool
	tagged   []byte // a frame with its VLAN tag put back
	reason   Reason
	err      error
	fileErr  bool // err is the file's: what was not flushed is lost

	seen, matched, written, dropped atomic.Uint64
	bytes                           atomic.Int64
}

func (r *run) path() string { return filepath.Join(r.c.o.Dir, r.file+partSuffix) }

// open opens the source and the file and writes the file's header.
func (r *run) open() error {
	o := &r.c.o
	src, err := o.Open(o.Interface)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if src == nil {
		return errors.New("open: no source and no error")
	}
	if s, ok := src.(interface{ SetCaptureLength(int) error }); ok {
		if err := s.SetCaptureLength(o.SnapLen); err != nil {
			src.Close()
			return fmt.Errorf("snap length: %w", err)
		}
	}
	wait, err := newWaiter(src)
	if err != nil {
		src.Close()
		return err
	}
	f, err := os.OpenFile(r.path(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		if wait != nil {
			wait.close()
		}
		src.Close()
		return err
	}
	r.src, r.f = src, f
	r.mu.Lock()
	r.wait = wait
	if r.halted && wait != nil {
		wait.wake()
	}
	r.mu.Unlock()
	r.buf = bufio.NewWriterSize(f, 64<<10)
	err = writeFileHeader(r.buf, uint32(o.SnapLen))
	if err == nil {
		err = r.buf.Flush()
	}
	if err != nil {
		r.closeSource()
		f.Close()
		os.Remove(r.path())
		return fmt.Errorf("write %s: %w", r.path(), err)
	}
	r.size, r.synced = fileHeaderLen, fileHeaderLen
	r.bytes.Store(r.size)
	return nil
}

func (r *run) closeSource() {
	r.closeSrc.Do(func() {
		r.mu.Lock()
		if r.wait != nil {
			r.wait.close()
			r.wait = nil // a late halt must not wake a closed descriptor
		}
		r.mu.Unlock()
		r.src.Close()
	})
}

// halt asks the capture to stop.
func (r *run) halt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.halted {
		return
	}
	r.halted = true
	close(r.stop)
	if r.wait != nil {
		r.wait.wake()
	}
}

func (r *run) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

func (r *run) stats() Stats {
	return Stats{
		Seen:    r.seen.Load(),
		Matched: r.matched.Load(),
		Written: r.written.Load(),
		Bytes:   r.bytes.Load(),
		Dropped: r.dropped.Load(),
	}
}

func (r *run) info() Info {
	return Info{File: r.file, Filter: r.filter.clone(), Start: r.start, Stats: r.stats()}
}

// loop reads until the capture ends, then completes the file.
func (r *run) loop() {
	defer r.c.wg.Done()
	deadline := time.Now().Add(r.c.o.Duration)
	if r.wait != nil {
		r.pollLoop(deadline)
	} else {
		r.blockingLoop(deadline)
	}
	r.finish()
}

// pollLoop reads a source that has a waiter, a batch of frames each time it is ready.
func (r *run) pollLoop(deadline time.Time) {
	read := r.src.ReadPacketData
	if zc, ok := r.src.(gopacket.ZeroCopyPacketDataSource); ok {
		read = zc.ZeroCopyReadPacketData // one frame at a time: nothing keeps it
	}
	nextFlush := time.Now().Add(flushEvery)
	var (
		failures    int // read errors in a row, each within a second of the last
		lastFailure time.Time
	)
	for {
		now := time.Now()
		if stop := r.stopped(); stop || !now.Before(deadline) {
			// The frames that came before the end wait in the socket's queue: take
			// them (an empty queue's EAGAIN ends the batch).
			if _, more, _ := r.batch(read, maxDrain); !more {
				return
			}
			if stop {
				r.end(EndClosed, nil)
			} else {
				r.end(EndDuration, nil)
			}
			return
		}
		if !now.Before(nextFlush) {
			if !r.flush() {
				return
			}
			nextFlush = now.Add(flushEvery)
		}
		until := deadline
		if nextFlush.Before(until) {
			until = nextFlush
		}
		ready, err := r.wait.wait(until)
		if err != nil {
			r.end(EndError, fmt.Errorf("wait: %w", err))
			return
		}
		if !ready {
			continue
		}
		n, more, err := r.batch(read, maxBatch)
		if !more {
			return
		}
		if n > 0 {
			failures = 0
		}
		if err != nil {
			// Ready, yet nothing to read: the socket's error, such as ENETDOWN when
			// the interface goes down. Reading clears it, and the socket receives
			// again if the interface comes back: the capture goes on, unless errors
			// come one after the other, with no frame between.
			if time.Since(lastFailure) > time.Second {
				failures = 0
			}
			lastFailure = time.Now()
			if failures++; failures == maxFailures {
				r.end(EndError, fmt.Errorf("read: %w", err))
				return
			}
			r.c.log.Warn("capture: read", "file", r.file, "err", err)
		}
	}
}

// maxFailures is how many reads in a row, each within a second of the last, may
// fail before a capture gives up.
const maxFailures = 3

// Frames read at a time from a ready socket, and at most at the end.
const (
	maxBatch = 256
	maxDrain = 1 << 16
)

// batch reads and handles up to max frames from a non-blocking source, until it has
// no more, and returns how many it read. more is false when the capture ended
// (MaxBytes, a write error); err is the first read's error (so an empty queue's too).
func (r *run) batch(read func() ([]byte, gopacket.CaptureInfo, error), max int) (n int, more bool, err error) {
	for n < max {
		data, ci, err := read()
		if err != nil {
			if n == 0 {
				return 0, true, err
			}
			return n, true, nil
		}
		n++
		if !r.handle(data, ci) {
			return n, false, nil
		}
	}
	return n, true, nil
}

// blockingLoop reads a Source that blocks until a frame comes or it is closed: a
// timer goroutine closes it at the deadline.
func (r *run) blockingLoop(deadline time.Time) {
	var (
		mu     sync.Mutex
		why    Reason
		closed = make(chan struct{})
		done   = make(chan struct{})
	)
	go func() {
		defer close(closed)
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case <-t.C:
			mu.Lock()
			why = EndDuration
			mu.Unlock()
		case <-r.stop:
			mu.Lock()
			why = EndClosed
			mu.Unlock()
		case <-done:
			return
		}
		r.closeSource()
	}()
	defer func() { close(done); <-closed }()
	lastFlush := time.Now()
	for {
		data, ci, err := r.src.ReadPacketData()
		if err != nil {
			mu.Lock()
			w := why
			mu.Unlock()
			if w != "" {
				r.end(w, nil)
			} else {
				r.end(EndError, fmt.Errorf("read: %w", err))
			}
			return
		}
		if !r.handle(data, ci) {
			return
		}
		if time.Since(lastFlush) >= flushEvery {
			if !r.flush() {
				return
			}
			lastFlush = time.Now()
		}
	}
}

// handle takes one frame; false ends the capture.
func (r *run) handle(data []byte, ci gopacket.CaptureInfo) bool {
	r.seen.Add(1)
	tci, tagged := vlanTCI(ci)
	offloaded := 0
	if tagged {
		offloaded = 1
	}
	if !r.filter.matchFrame(data, offloaded) {
		return true
	}
	r.matched.Add(1)
	if tagged {
		// The kernel took the tag off and reports it beside the frame: put it back,
		// as libpcap does.
		if r.tagged == nil {
			r.tagged = make([]byte, r.c.o.SnapLen)
		}
		n := copy(r.tagged[:12], data)
		if n == 12 {
			r.tagged[12], r.tagged[13] = tpid8021Q>>8, tpid8021Q&0xff
			r.tagged[14], r.tagged[15] = byte(tci>>8), byte(tci)
			n = 16 + copy(r.tagged[16:], data[12:])
			ci.Length += 4
		}
		data = r.tagged[:n]
	}
	if len(data) > r.c.o.SnapLen {
		data = data[:r.c.o.SnapLen]
	}
	ci.CaptureLength = len(data)
	ci.Length = max(ci.Length, len(data))
	n := int64(recordHeaderLen + len(data))
	if r.size+n > r.c.o.MaxBytes {
		r.end(EndMaxBytes, nil)
		return false
	}
	if err := writeRecord(r.buf, &r.rec, ci, data); err != nil {
		r.fileErr = true
		r.end(EndError, fmt.Errorf("write %s: %w", r.path(), err))
		return false
	}
	r.size += n
	r.dirty = true
	r.written.Add(1)
	r.bytes.Store(r.size)
	return true
}

// vlanTCI is the VLAN tag the socket reports beside a frame whose tag the
// kernel removed.
func vlanTCI(ci gopacket.CaptureInfo) (uint16, bool) {
	if len(ci.AncillaryData) == 0 {
		return 0, false
	}
	v, ok := ci.AncillaryData[0].(int)
	return uint16(v), ok
}

// flush writes out what is buffered; false (after end) when that fails.
func (r *run) flush() bool {
	r.readDrops()
	if !r.dirty {
		return true
	}
	if err := r.buf.Flush(); err != nil {
		r.fileErr = true
		r.end(EndError, fmt.Errorf("write %s: %w", r.path(), err))
		return false
	}
	r.synced, r.dirty = r.size, false
	return true
}

func (r *run) readDrops() {
	if n, ok := kernelDrops(r.src); ok {
		r.dropped.Add(n)
	}
}

func (r *run) end(why Reason, err error) {
	r.reason, r.err = why, err
}

// finish completes the file (flushed, cut back to whole frames if a write failed,
// synced, renamed to its final name), closes the source, and reports the capture.
func (r *run) finish() {
	c := r.c
	r.readDrops()
	r.closeSource()
	var errs []error
	if r.err != nil {
		errs = append(errs, r.err)
	}
	if !r.fileErr {
		if err := r.buf.Flush(); err != nil {
			r.fileErr = true
			errs = append(errs, fmt.Errorf("write %s: %w", r.path(), err))
		} else {
			r.synced = r.size
		}
	}
	if r.fileErr {
		// A write failed: keep the frames known whole.
		if err := r.f.Truncate(r.synced); err != nil {
			errs = append(errs, fmt.Errorf("truncate %s: %w", r.path(), err))
		}
		r.size = r.synced
		r.bytes.Store(r.size)
	}
	if err := r.f.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("sync %s: %w", r.path(), err))
	}
	if err := r.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close %s: %w", r.path(), err))
	}
	if err := os.Rename(r.path(), filepath.Join(c.o.Dir, r.file)); err != nil {
		errs = append(errs, err)
	} else if err := atomicfile.SyncDir(c.o.Dir); err != nil {
		errs = append(errs, err)
	}
	info := r.info()
	info.End = c.o.Now()
	info.Reason = r.reason
	if err := errors.Join(errs...); err != nil {
		info.Reason = EndError
		info.Err = fmt.Errorf("capture %s: %w", r.file, err)
	}
	r.final = info
	if _, err := c.Prune(); err != nil {
		c.log.Warn("capture: retention", "err", err)
	}

	c.mu.Lock()
	delete(c.active, r.file)
	c.recent = append(c.recent, info)
	if len(c.recent) > keepRecent {
		c.recent = append(c.recent[:0], c.recent[len(c.recent)-keepRecent:]...)
	}
	c.ended.add(info.Stats)
	if info.Err != nil {
		c.ended.Failed++
	}
	c.mu.Unlock()
	close(r.done)

	s := info.Stats
	if info.Err != nil {
		c.log.Warn("capture failed", "file", r.file, "err", info.Err, "seen", s.Seen, "matched", s.Matched,
			"written", s.Written, "bytes", s.Bytes, "dropped", s.Dropped)
	} else {
		c.log.Info("capture ended", "file", r.file, "reason", info.Reason, "seen", s.Seen, "matched", s.Matched,
			"written", s.Written, "bytes", s.Bytes, "dropped", s.Dropped)
	}
}

// A waiter lets a capture wait for its source with a deadline, and be woken.
type waiter interface {
	// wait blocks until the source has a frame or an error to read (true), until
	// deadline, or until wake.
	wait(deadline time.Time) (bool, error)
	wake()
	close()
}
