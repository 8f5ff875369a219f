package flowstore

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// tailStore writes 35 records in blocks of 10 into one segment and returns the
// records, the segment's path relative to the store and its bytes, and the offset of
// its last block (of 5 records).
func tailStore(t *testing.T) (recs []flow.Flow, rel string, file []byte, lastOff int64) {
	t.Helper()
	dir := t.TempDir()
	s := open(t, dir, Options{BlockRecords: 10})
	recs = make([]flow.Flow, 35)
	newSynth(20, t0, 100).next(recs)
	if err := s.Append(recs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := listSegments(dir, minTime, maxTime)
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments %v, %v", segs, err)
	}
	if file, err = os.ReadFile(segs[0].path); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(segs[0].path)
	defer f.Close()
	blocks := 0
	if _, err := walk(f, int64(len(file)), func(off int64, _ blockHeader) error {
		lastOff = off
		blocks++
		return nil
	}); err != nil || blocks != 4 {
		t.Fatalf("%d blocks, %v", blocks, err)
	}
	rel, _ = filepath.Rel(dir, segs[0].path)
	return recs, rel, file, lastOff
}

// damaged checks a store whose one segment is file (its last block damaged): a scan
// gives the first three blocks' records and counts the damage, and a writer reopening
// it cuts the damage off and appends after the whole blocks.
func damaged(t *testing.T, recs []flow.Flow, rel string, file []byte, what string, wantTorn bool) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	got, st := scanAll(t, open(t, dir, Options{ReadOnly: true}), time.Time{}, time.Time{})
	compare(t, got, recs[:30])
	if wantTorn && st.Torn == 0 || !wantTorn && st.Torn != 0 || st.Torn == 0 && st.Skipped != 1 {
		t.Fatalf("%s: stats %+v", what, st)
	}
	s := open(t, dir, Options{BlockRecords: 10})
	extra := recs[34]
	extra.Received = extra.Received.Add(time.Millisecond)
	if err := s.Append(extra); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, st = scanAll(t, open(t, dir, Options{ReadOnly: true}), time.Time{}, time.Time{})
	compare(t, got, append(recs[:30:30], extra))
	if st.Torn != 0 || st.Skipped != 0 {
		t.Fatalf("%s, reopened: stats %+v", what, st)
	}
}

// A segment cut at every byte of its last block.
func TestTornTail(t *testing.T) {
	recs, rel, file, lastOff := tailStore(t)
	for cut := lastOff + 1; cut < int64(len(file)); cut++ {
		damaged(t, recs, rel, file[:cut], fmt.Sprintf("cut at %d", cut), true)
	}
	// Cut at the block's start is a whole segment of three blocks.
	dir := t.TempDir()
	path := filepath.Join(dir, rel)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, file[:lastOff], 0o644); err != nil {
		t.Fatal(err)
	}
	got, st := scanAll(t, open(t, dir, Options{ReadOnly: true}), time.Time{}, time.Time{})
	compare(t, got, recs[:30])
	if st.Torn != 0 || st.Skipped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Every byte of the last block flipped in turn: a damaged header ends the segment
// (torn), a damaged payload skips the block.
func TestCorruptTail(t *testing.T) {
	recs, rel, file, lastOff := tailStore(t)
	for at := lastOff; at < int64(len(file)); at++ {
		bad := append([]byte(nil), file...)
		bad[at] ^= 0x5a
		damaged(t, recs, rel, bad, fmt.Sprintf("byte %d flipped", at), at < lastOff+blockHeadLen)
	}
}

// A damaged block in the middle is skipped and the blocks after it are read.
func TestCorruptMiddle(t *testing.T) {
	recs, rel, file, lastOff := tailStore(t)
	dir := t.TempDir()
	path := filepath.Join(dir, rel)
	os.MkdirAll(filepath.Dir(path), 0o755)
	bad := append([]byte(nil), file...)
	bad[fileHeaderLen+blockHeadLen+5] ^= 1 // the first block's payload
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	got, st := scanAll(t, open(t, dir, Options{ReadOnly: true}), time.Time{}, time.Time{})
	compare(t, got, recs[10:])
	if st.Skipped != 1 || st.Torn != 0 || st.Blocks != 3 {
		t.Errorf("stats %+v", st)
	}
	_ = lastOff
}

const crashEnv = "FLOWSTORE_CRASH_DIR"

// crashRecords are what the child of TestKillDuringAppend appends, in order.
func crashRecords(n int) []flow.Flow {
	fs := make([]flow.Flow, n)
	newSynth(21, t0, 400).next(fs) // a segment (of a second) every 400 records or so
	return fs
}

// A writer killed with SIGKILL at any moment: everything it flushed is there, nothing
// is damaged beyond a torn last block, and a new writer goes on after it.
func TestKillDuringAppend(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	all := crashRecords(200_000)
	rng := rand.New(rand.NewPCG(1, 2))
	for run := range 4 {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringAppend$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it once it has flushed a random number of records, a random moment
		// later.
		target := 500 + rng.IntN(20000)
		flushed := 0
		lines := bufio.NewScanner(out)
		for flushed < target && lines.Scan() {
			n, err := strconv.Atoi(strings.TrimPrefix(lines.Text(), "flushed "))
			if err != nil {
				t.Fatalf("child said %q", lines.Text())
			}
			flushed = n
		}
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if flushed < target {
			t.Fatalf("child ended after flushing %d records", flushed)
		}

		got, st := scanAll(t, open(t, dir, Options{ReadOnly: true}), time.Time{}, time.Time{})
		if len(got) < flushed {
			t.Fatalf("run %d: %d records after a kill, %d of them flushed", run, len(got), flushed)
		}
		compare(t, got[:flushed], all[:flushed])
		// Past what was flushed, whole blocks written as they filled: records in order.
		j := flushed
		for _, f := range got[flushed:] {
			for j < len(all) && !sameFlow(f, all[j]) {
				j++
			}
			if j == len(all) {
				t.Fatalf("run %d: record %+v read after a kill was never appended", run, f)
			}
		}
		if st.Skipped != 0 {
			t.Errorf("run %d: stats %+v", run, st)
		}
		t.Logf("run %d: killed after %d flushed, %d read, %d bytes torn", run, flushed, len(got), st.Torn)

		s := open(t, dir, Options{Segment: time.Second, BlockRecords: 50})
		extra := got[len(got)-1]
		extra.Received = extra.Received.Add(time.Nanosecond)
		if err := s.Append(extra); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		again, st := scanAll(t, open(t, dir, Options{ReadOnly: true}), time.Time{}, time.Time{})
		compare(t, again, append(got, extra))
		if st.Skipped != 0 || st.Torn != 0 {
			t.Errorf("run %d, reopened: stats %+v", run, st)
		}
	}
}

// crashChild appends crashRecords for ever, flushing now and then and saying how
// many records it had flushed, until it is killed.
func crashChild(dir string) {
	s, err := Open(dir, Options{Segment: time.Second, BlockRecords: 50})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	all := crashRecords(200_000)
	for i := 0; i+37 <= len(all); i += 37 {
		if err := s.Append(all[i : i+37]...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if i/37%3 == 2 {
			if err := s.Flush(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			fmt.Printf("flushed %d\n", i+37)
		}
	}
	os.Exit(3) // ran out: the parent kills it before
}
