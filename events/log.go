package events

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mrtgo/mrtgo/internal/atomicfile"
	"github.com/mrtgo/mrtgo/internal/dirlock"
)

// DefaultKeep is how long the log keeps events when [events] keep does not say: as long
// as the yearly graphs they are marked on.
const DefaultKeep = 800 * 24 * time.Hour

// ErrLocked is returned by Open when another process writes the log.
var ErrLocked = errors.New("event log is written by another mrtgo process")

// Options configures a Log.
type Options struct {
	// Keep is how long events are kept, by the month they were last written in; 0 is
	// DefaultKeep.
	Keep time.Duration
	// ReadOnly opens the log for reading only: no lock, no changes; it may be read
	// while another process writes it.
	ReadOnly bool
	// Timeout is how long Open waits for another writer to let go (0: not at all).
	Timeout time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Log is the event log: a directory of monthly files of JSON lines, each line one
// version of one event (a later line of the same ID supersedes the earlier), and
// active.json, the events still going on.
//
// A line is written whole with its newline and synced before Put returns; a crash
// mid-line leaves a tail without its newline, which readers skip and the next writer
// cuts. Readers need no lock, so "mrtgo events" and the pages read while "mrtgo run"
// writes.
type Log struct {
	dir  string
	o    Options
	lock io.Closer

	mu     sync.Mutex
	nextID uint64
	active map[uint64]Event
}

const (
	activeFile = "active.json"
	lockFile   = ".lock"
	fileExt    = ".jsonl"
)

// monthFile is the file of events written in t's month.
func monthFile(t time.Time) string { return t.UTC().Format("2006-01") + fileExt }

// Open opens the log in dir, creating it unless read-only.
func Open(dir string, o Options) (*Log, error) {
	if o.Keep == 0 {
		o.Keep = DefaultKeep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Log{dir: dir, o: o, active: map[uint64]Event{}}
	if o.ReadOnly {
		return l, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	lock, err := dirlock.Take(filepath.Join(dir, lockFile), 0o644, o.Timeout)
	if errors.Is(err, dirlock.ErrLocked) {
		return nil, fmt.Errorf("event log %s: %w", dir, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("event log %s: lock: %w", dir, err)
	}
	l.lock = lock
	if err := l.recover(); err != nil {
		l.Close()
		return nil, err
	}
	if err := l.prune(); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// OpenReader opens the log in dir for reading only (Open with ReadOnly, which
// cannot fail: a log not yet written reads as empty).
func OpenReader(dir string) *Log {
	l, _ := Open(dir, Options{ReadOnly: true})
	return l
}

// Dir is the log's directory.
func (l *Log) Dir() string { return l.dir }

// Close lets the log go.
func (l *Log) Close() error {
	if l.lock == nil {
		return nil
	}
	err := l.lock.Close()
	l.lock = nil
	return err
}

// files lists the monthly files, oldest first.
func (l *Log) files() ([]string, error) {
	ents, err := os.ReadDir(l.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, fileExt) {
			if _, err := time.Parse("2006-01", strings.TrimSuffix(n, fileExt)); err == nil {
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// recover cuts a torn last line off the newest file, and reads the highest ID and the
// active events.
func (l *Log) recover() error {
	files, err := l.files()
	if err != nil {
		return err
	}
	if n := len(files); n > 0 {
		if err := cutTorn(filepath.Join(l.dir, files[n-1])); err != nil {
			return err
		}
	}
	// IDs only grow, so the highest is in the newest file that holds any line.
	for i := len(files) - 1; i >= 0 && l.nextID == 0; i-- {
		err := readFile(filepath.Join(l.dir, files[i]), func(e Event) {
			l.nextID = max(l.nextID, e.ID)
		})
		if err != nil {
			return err
		}
	}
	st, err := l.readState()
	if err != nil {
		return err
	}
	l.nextID = max(l.nextID, st.LastID)
	for _, e := range st.Active {
		l.active[e.ID] = e
		l.nextID = max(l.nextID, e.ID)
	}
	return nil
}

// state is active.json: the last ID given (so that IDs never repeat, also after
// every month holding events was deleted) and the events going on.
type state struct {
	LastID uint64  `json:"last_id"`
	Active []Event `json:"active"`
}

// cutTorn truncates path after its last newline.
func cutTorn(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	// Look back in 64 KiB chunks for the last newline.
	buf := make([]byte, 64<<10)
	end := size
	for end > 0 {
		start := max(0, end-int64(len(buf)))
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("event log: %w", err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			keep := start + int64(i) + 1
			if keep == size {
				return nil
			}
			return f.Truncate(keep)
		}
		end = start
	}
	return f.Truncate(0)
}

// readFile calls f with each whole line of path that reads as an event, in order.
func readFile(path string, f func(Event)) error {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	defer fh.Close()
	r := bufio.NewReaderSize(fh, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return nil // a line without its newline is torn: skipped
		}
		if err != nil {
			return fmt.Errorf("event log %s: %w", path, err)
		}
		var e Event
		if json.Unmarshal(line, &e) == nil && e.ID > 0 {
			f(e)
		}
	}
}

func (l *Log) readState() (state, error) {
	var st state
	b, err := os.ReadFile(filepath.Join(l.dir, activeFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("event log: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("event log %s: %w", filepath.Join(l.dir, activeFile), err)
	}
	return st, nil
}

// Put stores the events as they now are, giving those without one an ID (set in
// place), and keeps the list of active ones; it returns once they are on disk.
func (l *Log) Put(es ...*Event) error {
	if l.o.ReadOnly {
		return errors.New("event log opened read-only")
	}
	if len(es) == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var buf bytes.Buffer
	for _, e := range es {
		if e.ID == 0 {
			l.nextID++
			e.ID = l.nextID
		}
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("event log: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
		if e.State == Active {
			l.active[e.ID] = *e
		} else {
			delete(l.active, e.ID)
		}
	}
	path := filepath.Join(l.dir, monthFile(l.o.Now()))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("event log %s: %w", path, err)
	}
	return l.writeState()
}

// writeState replaces active.json (to a temporary name, synced, then renamed).
func (l *Log) writeState() error {
	st := state{LastID: l.nextID, Active: l.sortedActive()}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(l.dir, activeFile), b, 0o644); err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	return nil
}

// ActiveEvents lists the events going on when the log was last written, by ID.
func (l *Log) ActiveEvents() ([]Event, error) {
	if l.o.ReadOnly {
		st, err := l.readState()
		return st.Active, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sortedActive(), nil
}

func (l *Log) sortedActive() []Event {
	es := make([]Event, 0, len(l.active))
	for _, e := range l.active {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b Event) int { return cmp.Compare(a.ID, b.ID) })
	return es
}

// prune deletes the monthly files whose month ended more than Keep ago.
func (l *Log) prune() error {
	files, err := l.files()
	if err != nil {
		return err
	}
	cut := l.o.Now().Add(-l.o.Keep)
	for _, n := range files {
		m, _ := time.Parse("2006-01", strings.TrimSuffix(n, fileExt))
		if m.AddDate(0, 1, 0).Before(cut) {
			if err := os.Remove(filepath.Join(l.dir, n)); err != nil {
				return fmt.Errorf("event log: %w", err)
			}
		}
	}
	return nil
}

// Query selects events.
type Query struct {
	// From and To select the events that were going on at some time in [From, To];
	// zero is unbounded.
	From, To time.Time
	// Kinds and Devices, when not empty, are the kinds and devices to keep;
	// Interface, when set, the interface (of Devices).
	Kinds     []string
	Devices   []string
	Interface string
	// Limit keeps the newest Limit; 0 keeps all.
	Limit int
}

func (q *Query) match(e *Event) bool {
	if !q.From.IsZero() && e.End.Before(q.From) && e.State != Active {
		return false
	}
	if !q.To.IsZero() && e.Start.After(q.To) {
		return false
	}
	if len(q.Kinds) > 0 && !slices.Contains(q.Kinds, e.Kind) {
		return false
	}
	if len(q.Devices) > 0 && !slices.Contains(q.Devices, e.Device) {
		return false
	}
	return q.Interface == "" || q.Interface == e.Interface
}

// Find returns the events q selects as each was last written, newest first (by start,
// then ID).
func (l *Log) Find(q Query) ([]Event, error) {
	files, err := l.files()
	if err != nil {
		return nil, err
	}
	if !q.From.IsZero() {
		// An event is written again whenever it changes, the last time when it ends:
		// one that was going on at From was last written then or later.
		first := monthFile(q.From)
		i, _ := slices.BinarySearch(files, first)
		files = files[i:]
	}
	byID := map[uint64]Event{}
	for _, n := range files {
		if err := readFile(filepath.Join(l.dir, n), func(e Event) { byID[e.ID] = e }); err != nil {
			return nil, err
		}
	}
	// An event going on since before From may not have been written since.
	act, err := l.ActiveEvents()
	if err != nil {
		return nil, err
	}
	for _, e := range act {
		if _, ok := byID[e.ID]; !ok {
			byID[e.ID] = e
		}
	}
	out := make([]Event, 0, len(byID))
	for _, e := range byID {
		if q.match(&e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Event) int {
		return cmp.Or(b.Start.Compare(a.Start), cmp.Compare(b.ID, a.ID))
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// FilesFrom lists the monthly files that may hold events going on at from or later,
// oldest first, as names in Dir (all of them for a zero from): those Find reads. A
// reader that keeps what it read (ReadFrom) reads the same files as Find.
func (l *Log) FilesFrom(from time.Time) ([]string, error) {
	files, err := l.files()
	if err != nil || from.IsZero() {
		return files, err
	}
	i, _ := slices.BinarySearch(files, monthFile(from))
	return files[i:], nil
}

// ReadFrom calls f with each event of the monthly file name (one FilesFrom lists)
// written from byte offset on, in order, as far as its whole lines go, and returns
// the offset after the last whole line: a reader that keeps the events and the
// offset reads only what was appended since (a later line of an ID supersedes an
// earlier, as in Find). A file that does not exist has nothing to read.
func (l *Log) ReadFrom(name string, offset int64, f func(Event)) (int64, error) {
	if name != filepath.Base(name) || !strings.HasSuffix(name, fileExt) {
		return offset, fmt.Errorf("event log: %q is not a file of the log", name)
	}
	fh, err := os.Open(filepath.Join(l.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return offset, nil
	}
	if err != nil {
		return offset, fmt.Errorf("event log: %w", err)
	}
	defer fh.Close()
	if _, err := fh.Seek(offset, io.SeekStart); err != nil {
		return offset, fmt.Errorf("event log %s: %w", name, err)
	}
	r := bufio.NewReaderSize(fh, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return offset, nil // a line without its newline is torn, or still being written
		}
		if err != nil {
			return offset, fmt.Errorf("event log %s: %w", name, err)
		}
		offset += int64(len(line))
		var e Event
		if json.Unmarshal(line, &e) == nil && e.ID > 0 {
			f(e)
		}
	}
}
