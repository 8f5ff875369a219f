package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// fakeSource hands out the frames sent on its channel; Close ends a blocked read.
// It is the Source of the tests that need no root: the capture reads it without a
// waiter, the path of any Source other than an EthernetHandle.
type fakeSource struct {
	frames chan fakeFrame
	closed chan struct{}
	once   sync.Once
}

type fakeFrame struct {
	data []byte
	ci   gopacket.CaptureInfo
}

func newFakeSource() *fakeSource {
	return &fakeSource{frames: make(chan fakeFrame), closed: make(chan struct{})}
}

func (s *fakeSource) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	select {
	case f := <-s.frames:
		return f.data, f.ci, nil
	case <-s.closed:
		return nil, gopacket.CaptureInfo{}, errors.New("source closed")
	}
}

func (s *fakeSource) Close() { s.once.Do(func() { close(s.closed) }) }

// send hands data to the capture, false once the source is closed.
func (s *fakeSource) send(data []byte, ci gopacket.CaptureInfo) bool {
	if ci.CaptureLength == 0 {
		ci.CaptureLength, ci.Length = len(data), len(data)
	}
	if ci.Timestamp.IsZero() {
		ci.Timestamp = time.Now()
	}
	select {
	case s.frames <- fakeFrame{data, ci}:
		return true
	case <-s.closed:
		return false
	}
}

// fakeCapturer is a Capturer whose sources are fakeSources, handed out on opened.
func fakeCapturer(t *testing.T, o Options) (*Capturer, chan *fakeSource) {
	t.Helper()
	opened := make(chan *fakeSource, 16)
	if o.Interface == "" {
		o.Interface = "fake0"
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	o.Open = func(string) (Source, error) {
		s := newFakeSource()
		opened <- s
		return s, nil
	}
	c, err := New(o, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, opened
}

// testLog writes the capturer's log to the test's.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// readPcap reads a pcap file of this package's: its snap length and frames.
func readPcap(t *testing.T, path string) (uint32, [][]byte, []gopacket.CaptureInfo) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Errorf("%s: link type %v", path, r.LinkType())
	}
	var frames [][]byte
	var cis []gopacket.CaptureInfo
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("%s: frame %d: %v", path, len(frames), err)
			}
			return r.Snaplen(), frames, cis
		}
		frames = append(frames, data)
		cis = append(cis, ci)
	}
}

func wait(t *testing.T, c *Capturer, file string) Info {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := c.Wait(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestNewOptions(t *testing.T) {
	dir := t.TempDir()
	open := func(string) (Source, error) { return newFakeSource(), nil }
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{Dir: dir, Open: open}, "no interface"},
		{Options{Interface: "x", Open: open}, "no directory"},
		{Options{Interface: "x", Dir: dir, Open: open, Duration: -1}, "negative"},
		{Options{Interface: "x", Dir: dir, Open: open, MaxBytes: 100}, "max bytes 100 below"},
		{Options{Interface: "x", Dir: dir, Open: open, SnapLen: 10}, "snap length 10 outside"},
		{Options{Interface: "x", Dir: dir, Open: open, SnapLen: MaxSnapLen + 1}, "snap length"},
		{Options{Interface: "mrtgo-none0", Dir: dir}, "mrtgo-none0"},
	} {
		c, err := New(tt.o, nil)
		if err == nil {
			c.Close()
			t.Errorf("%+v: no error", tt.o)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want it to say %q", tt.o, err, tt.want)
		}
	}
	c, err := New(Options{Interface: "x", Dir: filepath.Join(dir, "a", "b"), Open: open}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := Options{Interface: "x", Dir: filepath.Join(dir, "a", "b"), Duration: DefaultDuration, MaxBytes: DefaultMaxBytes,
		SnapLen: DefaultSnapLen, Keep: DefaultKeep, MaxActive: DefaultMaxActive}
	got := c.o
	got.Open, got.Now = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if c.Dir() != want.Dir {
		t.Errorf("Dir %s", c.Dir())
	}
	if _, err := New(Options{Interface: "x", Dir: c.Dir(), Open: open}, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("second capturer on the directory: %v, want ErrLocked", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2, err := New(Options{Interface: "x", Dir: c.Dir(), Open: open}, nil)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	c2.Close()
}

// TestCaptureFake runs a capture on a fakeSource: what it selects, the file's form
// and name, a tag put back from the ancillary data, snap length, counts.
func TestCaptureFake(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 5, 1, 0, time.UTC)
	c, opened := fakeCapturer(t, Options{SnapLen: 80, Now: func() time.Time { return now }})
	file, err := c.Start("syn flood/192.0.2.1 → 198.51.100.7", synFilter)
	if err != nil {
		t.Fatal(err)
	}
	if want := "20261129T120501Z-syn_flood_192.0.2.1___198.51.100.7.pcap"; file != want {
		t.Errorf("file %s, want %s", file, want)
	}
	src := <-opened
	if act := c.Active(); len(act) != 1 || act[0].File != file || !act[0].End.IsZero() {
		t.Errorf("Active: %+v", act)
	}
	if _, err := os.Stat(filepath.Join(c.Dir(), file+partSuffix)); err != nil {
		t.Errorf("running capture's file: %v", err)
	}
	big := with(synA, func(p *pkt) { p.payload = 200 }).frame()
	t0 := time.Date(2026, 11, 29, 12, 5, 1, 123456000, time.UTC)
	sends := []struct {
		data  []byte
		ci    gopacket.CaptureInfo
		match bool
	}{
		{synA.frame(), gopacket.CaptureInfo{Timestamp: t0}, true},
		{with(synA, func(p *pkt) { p.flags = FlagSYN | FlagACK }).frame(), gopacket.CaptureInfo{}, false},
		{arpFrame(), gopacket.CaptureInfo{}, false},
		{synA.frame(), gopacket.CaptureInfo{AncillaryData: []any{100 | 5<<13}}, true}, // tag taken off by the kernel
		{big, gopacket.CaptureInfo{}, true},
		{synA6.frame(), gopacket.CaptureInfo{}, false},
		// Two tags left in the frame and one taken off: three, more than MatchFrame reads.
		{with(synA, func(p *pkt) { p.vlans = []uint16{10, 100} }).frame(), gopacket.CaptureInfo{AncillaryData: []any{1}}, false},
	}
	for _, s := range sends {
		s.ci.CaptureLength, s.ci.Length = len(s.data), len(s.data)
		if !src.send(s.data, s.ci) {
			t.Fatal("source closed early")
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	info := wait(t, c, file)
	if info.Reason != EndClosed || info.Err != nil {
		t.Errorf("ended %s, %v", info.Reason, info.Err)
	}
	if !info.Start.Equal(now) || !info.End.Equal(now) {
		t.Errorf("start %v end %v", info.Start, info.End)
	}
	st := info.Stats
	if st.Seen != 7 || st.Matched != 3 || st.Written != 3 {
		t.Errorf("stats %+v", st)
	}
	path := filepath.Join(c.Dir(), file)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != st.Bytes {
		t.Errorf("file of %d bytes, stats say %d", fi.Size(), st.Bytes)
	}
	if _, err := os.Stat(path + partSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the .part file is still there: %v", err)
	}
	snap, frames, cis := readPcap(t, path)
	if snap != 80 || len(frames) != 3 {
		t.Fatalf("snap length %d, %d frames", snap, len(frames))
	}
	if !bytes.Equal(frames[0], synA.frame()) || !cis[0].Timestamp.Equal(t0) {
		t.Errorf("first frame %x at %v", frames[0], cis[0].Timestamp)
	}
	tagged := with(synA, func(p *pkt) { p.vlans = []uint16{100 | 5<<13} }).frame()
	if !bytes.Equal(frames[1], tagged) || cis[1].Length != len(tagged) {
		t.Errorf("tag not put back:\n got %x\nwant %x", frames[1], tagged)
	}
	if len(frames[2]) != 80 || cis[2].Length != len(big) || !bytes.Equal(frames[2], big[:80]) {
		t.Errorf("long frame: %d bytes kept of %d", len(frames[2]), cis[2].Length)
	}
	tot := c.Stats()
	if tot.Started != 1 || tot.Written != 3 || tot.Active != 0 || tot.Failed != 0 {
		t.Errorf("totals %+v", tot)
	}
	if _, err := c.Start("late", synFilter); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
}

// TestMaxBytesFake: the file never passes MaxBytes; the capture ends at the frame
// that would have.
func TestMaxBytesFake(t *testing.T) {
	frame := synA.frame()
	rec := int64(recordHeaderLen + len(frame))
	max := fileHeaderLen + 5*rec + rec - 1
	c, opened := fakeCapturer(t, Options{MaxBytes: max})
	file, err := c.Start("max", synFilter)
	if err != nil {
		t.Fatal(err)
	}
	src := <-opened
	sent := 0
	for sent < 100 && src.send(frame, gopacket.CaptureInfo{}) {
		sent++
	}
	info := wait(t, c, file)
	if info.Reason != EndMaxBytes || info.Stats.Written != 5 || info.Stats.Bytes != fileHeaderLen+5*rec {
		t.Errorf("ended %s after %d frames, %d bytes (%d sent)", info.Reason, info.Stats.Written, info.Stats.Bytes, sent)
	}
	if _, frames, _ := readPcap(t, filepath.Join(c.Dir(), file)); len(frames) != 5 {
		t.Errorf("%d frames in the file", len(frames))
	}
}

// TestDurationFake: a source that sends nothing is closed at the deadline.
func TestDurationFake(t *testing.T) {
	c, _ := fakeCapturer(t, Options{Duration: 200 * time.Millisecond})
	t0 := time.Now()
	file, err := c.Start("idle", synFilter)
	if err != nil {
		t.Fatal(err)
	}
	info := wait(t, c, file)
	if d := time.Since(t0); info.Reason != EndDuration || d < 200*time.Millisecond || d > 5*time.Second {
		t.Errorf("ended %s after %v", info.Reason, d)
	}
	if _, frames, _ := readPcap(t, filepath.Join(c.Dir(), file)); len(frames) != 0 {
		t.Errorf("%d frames", len(frames))
	}
}

func TestStartErrors(t *testing.T) {
	fail := errors.New("no such device")
	c, err := New(Options{Interface: "x", Dir: t.TempDir(), MaxActive: 1,
		Open: func(string) (Source, error) { return nil, fail }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Start("bad", Filter{Proto: ProtoICMP, DstPorts: []uint16{1}}); err == nil {
		t.Error("invalid filter started")
	}
	if _, err := c.Start("x", synFilter); !errors.Is(err, fail) {
		t.Errorf("open failure: %v", err)
	}
	if len(c.Active()) != 0 || c.Stats().Failed != 1 {
		t.Errorf("failed start holds a slot: %+v, %+v", c.Active(), c.Stats())
	}
	if ents, _ := os.ReadDir(c.Dir()); len(ents) != 1 || ents[0].Name() != lockName {
		t.Errorf("failed start left files: %v", ents)
	}
	nilOpen, err := New(Options{Interface: "x", Dir: t.TempDir(), Open: func(string) (Source, error) { return nil, nil }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nilOpen.Close()
	if _, err := nilOpen.Start("x", synFilter); err == nil {
		t.Error("a nil source started")
	}
	if _, err := c.Wait(context.Background(), "nothing.pcap"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Wait of an unknown file: %v", err)
	}
}

func TestBusyFake(t *testing.T) {
	c, _ := fakeCapturer(t, Options{MaxActive: 2})
	for i := range 2 {
		if _, err := c.Start("a", synFilter); err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
	}
	if _, err := c.Start("a", synFilter); !errors.Is(err, ErrBusy) {
		t.Errorf("third Start: %v, want ErrBusy", err)
	}
	act := c.Active()
	if len(act) != 2 || act[0].File == act[1].File {
		t.Errorf("Active %+v", act)
	}
	names := []string{act[0].File, act[1].File}
	slices.Sort(names)
	if !strings.HasSuffix(names[0], "-a-2.pcap") || !strings.HasSuffix(names[1], "-a.pcap") {
		t.Errorf("names of two captures started in one second: %v", names)
	}
	if st := c.Stats(); st.Busy != 1 || st.Active != 2 || st.Started != 2 {
		t.Errorf("totals %+v", st)
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "capture",
		"portscan":              "portscan",
		"../../etc/passwd":      ".._.._etc_passwd",
		"syn flood 2001:db8::1": "syn_flood_2001_db8__1",
		"é":                     "_",
		strings.Repeat("x", 99): strings.Repeat("x", maxNameLen),
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRetention: New and each ended capture delete files whose names say they are
// older than Keep, and nothing else.
func TestRetention(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	files := map[string]bool{ // name: kept by New
		"20261120T120000Z-old.pcap":     false, // 9 days
		"20261122T115959Z-week.pcap":    false, // 7 days and a second
		"20261122T120001Z-recent.pcap":  true,
		"20261129T110000Z-today.pcap":   true,
		"notes.txt":                     true,
		"20261101T000000Z-other.txt":    true,
		"old.pcap":                      true, // not a name of ours
		"20261101T000000Z-running.part": true,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	c, opened := fakeCapturer(t, Options{Dir: dir, Now: clock, Duration: 50 * time.Millisecond})
	for name, kept := range files {
		if _, err := os.Stat(filepath.Join(dir, name)); kept != (err == nil) {
			t.Errorf("%s: kept %v, want %v", name, err == nil, kept)
		}
	}
	mu.Lock()
	now = now.Add(7*24*time.Hour - time.Hour) // "recent" is now 7 days and an hour old
	mu.Unlock()
	file, err := c.Start("x", synFilter)
	if err != nil {
		t.Fatal(err)
	}
	<-opened
	wait(t, c, file)
	for name, want := range map[string]bool{"20261122T120001Z-recent.pcap": false, "20261129T110000Z-today.pcap": true, file: true} {
		if _, err := os.Stat(filepath.Join(dir, name)); want != (err == nil) {
			t.Errorf("after a capture, %s: kept %v, want %v", name, err == nil, want)
		}
	}
	c.Close()

	forever, err := New(Options{Interface: "x", Dir: dir, Keep: -1, Now: func() time.Time { return now.Add(1000 * 24 * time.Hour) },
		Open: func(string) (Source, error) { return newFakeSource(), nil }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer forever.Close()
	if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
		t.Errorf("Keep -1 deleted %s", file)
	}
}

// TestRecoverParts: a capture's file cut short by a crash is cut to its whole frames
// and given its final name when the next Capturer opens the directory.
func TestRecoverParts(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(DefaultSnapLen, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	frame := synA.frame()
	for range 3 {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: len(frame), Length: len(frame)}, frame); err != nil {
			t.Fatal(err)
		}
	}
	whole := buf.Len()
	hdr := binary.LittleEndian.AppendUint32(nil, 1) // a record header cut in its middle
	parts := map[string][]byte{
		"20261129T120000Z-torn.pcap":     append(bytes.Clone(buf.Bytes()), hdr...),
		"20261129T120000Z-tornbody.pcap": buf.Bytes()[:whole-5],
		"20261129T120000Z-zeros.pcap":    append(bytes.Clone(buf.Bytes()), make([]byte, 100)...),
		"20261129T120000Z-whole.pcap":    buf.Bytes(),
		"20261129T120000Z-empty.pcap":    buf.Bytes()[:10],
	}
	for name, data := range parts {
		if err := os.WriteFile(filepath.Join(dir, name+partSuffix), data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := fakeCapturer(t, Options{Dir: dir, Keep: -1})
	for name, want := range map[string]int{
		"20261129T120000Z-torn.pcap": 3, "20261129T120000Z-tornbody.pcap": 2, "20261129T120000Z-zeros.pcap": 3,
		"20261129T120000Z-whole.pcap": 3, "20261129T120000Z-empty.pcap": -1,
	} {
		path := filepath.Join(c.Dir(), name)
		if _, err := os.Stat(path + partSuffix); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s.part still there", name)
		}
		if want < 0 {
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: a file without a header was kept", name)
			}
			continue
		}
		if _, frames, _ := readPcap(t, path); len(frames) != want {
			t.Errorf("%s: %d frames, want %d", name, len(frames), want)
		}
	}
}
