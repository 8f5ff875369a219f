package events

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/detect"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func flood(target string, sev string, at time.Time) Event {
	return Event{Kind: string(detect.DDoSUDP), Severity: sev, Start: at, End: at.Add(time.Minute),
		Sources: []netip.Addr{addr("198.51.100.1")}, SourceCount: 200, Targets: []netip.Addr{addr(target)}, TargetCount: 1,
		Proto: 17, PPS: 20000, BPS: 1e8, Packets: 1000, Device: "core1", Interface: "xe-0/0/0",
		Value: 20000, Threshold: 10000}
}

func threshold(dev, iface string, at time.Time) Event {
	return Event{Kind: Threshold, Severity: Warning, Start: at, End: at, Device: dev, Interface: iface,
		Direction: "in", Bound: "max", Value: 9.5e8, Threshold: 9e8}
}

func TestLogPutFindReopen(t *testing.T) {
	dir := t.TempDir()
	now := t0
	clock := func() time.Time { return now }
	l, err := Open(dir, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := flood("192.0.2.7", Warning, t0), threshold("core1", "ge-0/0/1", t0.Add(time.Hour)), flood("192.0.2.8", Major, t0.Add(2*time.Hour))
	a.State, b.State, c.State = Active, Active, Ended
	if err := l.Put(&a, &b, &c); err != nil {
		t.Fatal(err)
	}
	if a.ID != 1 || b.ID != 2 || c.ID != 3 {
		t.Fatalf("IDs %d %d %d, want 1 2 3", a.ID, b.ID, c.ID)
	}
	// a is updated and ends; the later line wins.
	a.State, a.Severity, a.End = Ended, Critical, t0.Add(30*time.Minute)
	if err := l.Put(&a); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Another process reads while a writer has it open.
	now = t0.AddDate(0, 1, 0) // the next month: a new file
	w, err := Open(dir, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	d := flood("192.0.2.9", Warning, now)
	d.State = Active
	if err := w.Put(&d); err != nil {
		t.Fatal(err)
	}
	if d.ID != 4 {
		t.Fatalf("ID after reopen %d, want 4", d.ID)
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	all, err := r.Find(Query{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, e := range all {
		ids = append(ids, e.ID)
	}
	if want := []uint64{4, 3, 2, 1}; !equal(ids, want) {
		t.Fatalf("newest first: %v, want %v", ids, want)
	}
	if all[3].State != Ended || all[3].Severity != Critical {
		t.Errorf("event 1 as last written: %+v", all[3])
	}
	// Since the new month: d, and b, which is still active though last written before.
	got, err := r.Find(Query{From: now.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != 4 || got[1].ID != 2 {
		t.Fatalf("since %v: %v", now, got)
	}
	got, _ = r.Find(Query{Kinds: []string{Threshold}})
	if len(got) != 1 || got[0].ID != 2 {
		t.Fatalf("kind threshold: %v", got)
	}
	got, _ = r.Find(Query{Devices: []string{"core1"}, Interface: "ge-0/0/1"})
	if len(got) != 1 || got[0].ID != 2 {
		t.Fatalf("device and interface: %v", got)
	}
	got, _ = r.Find(Query{Limit: 1})
	if len(got) != 1 || got[0].ID != 4 {
		t.Fatalf("limit 1: %v", got)
	}
	act, err := r.ActiveEvents()
	if err != nil {
		t.Fatal(err)
	}
	if len(act) != 2 || act[0].ID != 2 || act[1].ID != 4 {
		t.Fatalf("active: %v", act)
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLogTornTail(t *testing.T) {
	dir := t.TempDir()
	clock := func() time.Time { return t0 }
	l, err := Open(dir, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	e := flood("192.0.2.7", Warning, t0)
	e.State = Ended
	if err := l.Put(&e); err != nil {
		t.Fatal(err)
	}
	l.Close()
	path := filepath.Join(dir, monthFile(t0))
	whole, _ := os.ReadFile(path)
	// A crash mid-line: half of a second line.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(whole[:len(whole)/2])
	f.Close()

	r, _ := Open(dir, Options{ReadOnly: true})
	got, err := r.Find(Query{})
	if err != nil || len(got) != 1 {
		t.Fatalf("reader over a torn tail: %v %v", got, err)
	}
	w, err := Open(dir, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if b, _ := os.ReadFile(path); string(b) != string(whole) {
		t.Fatalf("writer did not cut the torn tail: %q", b)
	}
	e2 := flood("192.0.2.8", Warning, t0)
	if err := w.Put(&e2); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.Find(Query{}); len(got) != 2 || e2.ID != 2 {
		t.Fatalf("after the cut: %v (new ID %d)", got, e2.ID)
	}
}

func TestLogLockAndPrune(t *testing.T) {
	dir := t.TempDir()
	now := t0
	clock := func() time.Time { return now }
	l, err := Open(dir, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{Now: clock}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	e := flood("192.0.2.7", Warning, t0)
	e.State = Ended
	if err := l.Put(&e); err != nil {
		t.Fatal(err)
	}
	l.Close()
	now = t0.Add(DefaultKeep + 40*24*time.Hour)
	l, err = Open(dir, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := os.Stat(filepath.Join(dir, monthFile(t0))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a month past keep is still there: %v", err)
	}
	e2 := flood("192.0.2.8", Warning, now)
	if err := l.Put(&e2); err != nil {
		t.Fatal(err)
	}
	if e2.ID != 2 {
		t.Fatalf("ID after every month was pruned: %d, want 2 (IDs never repeat)", e2.ID)
	}
}

func TestTracker(t *testing.T) {
	step := time.Minute
	tr := NewTracker(func(kind string) time.Duration {
		if kind == string(detect.VerticalScan) {
			return 5*time.Minute + step
		}
		return 2 * step
	})
	at := t0
	ups := tr.Observe(at, []Event{flood("192.0.2.7", Warning, at)})
	if len(ups) != 1 || ups[0].Change != Began || ups[0].Event.State != Active {
		t.Fatalf("first report: %+v", ups)
	}
	first := ups[0].Event
	first.ID = 17
	tr.SetID(first)

	at = at.Add(step)
	later := flood("192.0.2.7", Critical, at)
	later.PPS = 90000
	ups = tr.Observe(at, []Event{later, flood("192.0.2.8", Warning, at)})
	if len(ups) != 2 {
		t.Fatalf("second step: %+v", ups)
	}
	if u := ups[0]; u.Change != Escalated || u.Event.ID != 17 || u.Event.Severity != Critical ||
		u.Event.PPS != 90000 || u.Event.Packets != 2000 || !u.Event.Start.Equal(t0) || !u.Event.End.Equal(at.Add(time.Minute)) {
		t.Fatalf("escalation: %+v", u)
	}
	if ups[1].Change != Began {
		t.Fatalf("another target is another event: %+v", ups[1])
	}
	at = at.Add(step)
	ups = tr.Observe(at, []Event{flood("192.0.2.8", Warning, at)})
	if len(ups) != 1 || ups[0].Change != Updated {
		t.Fatalf("one step without a report is not the end: %+v", ups)
	}
	at = at.Add(step)
	ups = tr.Observe(at, nil)
	if len(ups) != 1 || ups[0].Change != Finished || ups[0].Event.ID != 17 || ups[0].Event.State != Ended {
		t.Fatalf("two steps without a report end it: %+v", ups)
	}

	// A threshold lasts until its source ends it.
	th := threshold("core1", "ge-0/0/1", at)
	if ups := tr.Observe(at, []Event{th}); len(ups) != 1 || ups[0].Change != Began {
		t.Fatalf("threshold: %+v", ups)
	}
	if ups := tr.Observe(at.Add(time.Hour), nil); len(ups) != 1 || ups[0].Event.Kind == Threshold {
		t.Fatalf("a threshold does not linger out: %+v", ups)
	}
	rec := th
	rec.End = at.Add(2 * time.Hour)
	u, ok := tr.End(rec)
	if !ok || u.Change != Finished || !u.Event.End.Equal(rec.End) || !u.Event.Start.Equal(at) {
		t.Fatalf("recovery: %+v %v", u, ok)
	}
	if _, ok := tr.End(rec); ok {
		t.Fatal("ended twice")
	}

	// A new process takes up what was active.
	act := tr.Active()
	tr2 := NewTracker(tr.Linger)
	tr2.Restore(act, at)
	if got := tr2.Active(); len(got) != len(act) {
		t.Fatalf("restored %d of %d", len(got), len(act))
	}
}

func TestFromDetectAndSummary(t *testing.T) {
	d := detect.Event{Kind: detect.VerticalScan, Severity: detect.Major, Start: t0, End: t0.Add(time.Minute),
		Sources: []netip.Addr{addr("203.0.113.5")}, SourceCount: 1, Targets: []netip.Addr{addr("192.0.2.10")}, TargetCount: 1,
		Ports: []uint16{22, 23, 80}, PortCount: 1000, Device: "edge", Interface: "ge-0/0/0",
		Evidence: []detect.Evidence{{Measure: "distinct ports", Value: 1000, Threshold: 15}}}
	e := FromDetect(d)
	if e.Kind != "vertical-scan" || e.Severity != Major || e.Value != 1000 || e.Threshold != 15 || e.State != Active {
		t.Fatalf("%+v", e)
	}
	want := "major vertical-scan 203.0.113.5 -> 192.0.2.10 port 22,23,80 (1000 in all), seen on edge ge-0/0/0"
	if s := e.Summary(); s != want {
		t.Fatalf("summary\n got %s\nwant %s", s, want)
	}
	if k1, k2 := e.Key(), FromDetect(d).Key(); k1 != k2 {
		t.Fatalf("keys differ: %s %s", k1, k2)
	}
}
