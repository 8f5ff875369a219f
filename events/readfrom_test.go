package events

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A reader that keeps its offset reads only the lines appended since, and never a
// torn one; FilesFrom lists the files Find reads.
func TestLogReadFrom(t *testing.T) {
	dir := t.TempDir()
	now := t0
	l, err := Open(dir, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, b := flood("192.0.2.7", Warning, t0), flood("192.0.2.8", Major, t0)
	if err := l.Put(&a, &b); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	files, err := r.FilesFrom(t0.Add(-time.Hour))
	if err != nil || len(files) != 1 {
		t.Fatalf("files %q, %v", files, err)
	}
	var ids []uint64
	collect := func(e Event) { ids = append(ids, e.ID) }
	off, err := r.ReadFrom(files[0], 0, collect)
	if err != nil || !equal(ids, []uint64{1, 2}) {
		t.Fatalf("first read: %v, %v", ids, err)
	}
	// a again, and half a line of another (a writer that crashed mid-line).
	a.Severity = Critical
	if err := l.Put(&a); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, files[0]), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":9,"kind":"ddos-udp"`)
	f.Close()
	ids = nil
	off2, err := r.ReadFrom(files[0], off, collect)
	if err != nil || !equal(ids, []uint64{1}) {
		t.Fatalf("read from %d: %v, %v", off, ids, err)
	}
	ids = nil
	if off3, err := r.ReadFrom(files[0], off2, collect); err != nil || off3 != off2 || len(ids) != 0 {
		t.Errorf("read of a torn tail: %v up to %d (from %d), %v", ids, off3, off2, err)
	}
	// The next month's file follows; a month before the log reads none.
	now = t0.AddDate(0, 1, 0)
	c := flood("192.0.2.9", Warning, now)
	if err := l.Put(&c); err != nil {
		t.Fatal(err)
	}
	if files, _ := r.FilesFrom(now); len(files) != 1 || files[0] != monthFile(now) {
		t.Errorf("files from %v: %q", now, files)
	}
	if files, _ := r.FilesFrom(time.Time{}); len(files) != 2 {
		t.Errorf("all files: %q", files)
	}
	if _, err := r.ReadFrom("../active.json", 0, collect); err == nil {
		t.Errorf("read a file that is not the log's")
	}
}
