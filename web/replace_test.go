package web

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// leftovers lists the directory's entries other than want.
func leftovers(t *testing.T, dir string, want ...string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		keep := false
		for _, w := range want {
			keep = keep || e.Name() == w
		}
		if !keep {
			out = append(out, e.Name())
		}
	}
	return out
}

// A file replaced soon after it was written keeps its previous version as a spare,
// and every later replacement goes through that spare: the file holds the new bytes,
// the spare the ones before, and nothing else is left in the directory.
func TestReplaceKeepsASpare(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "g-day.png")
	spare := sparePath(name)
	versions := [][]byte{[]byte("first version"), []byte("second, longer version"), []byte("third"), []byte("fourth version")}
	for i, v := range versions {
		if err := WriteFile(dir, "g-day.png", v); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, name); !bytes.Equal(got, v) {
			t.Fatalf("version %d: file holds %q, want %q", i, got, v)
		}
		if i == 0 {
			if _, err := os.Stat(spare); !os.IsNotExist(err) {
				t.Fatalf("a new file has a spare: %v", err)
			}
			continue
		}
		if got := readFile(t, spare); !bytes.Equal(got, versions[i-1]) {
			t.Fatalf("version %d: spare holds %q, want the version before, %q", i, got, versions[i-1])
		}
		if left := leftovers(t, dir, "g-day.png", filepath.Base(spare)); len(left) > 0 {
			t.Fatalf("version %d: left in the directory: %q", i, left)
		}
		if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != 0o644 {
			t.Fatalf("version %d: %v, %v", i, fi.Mode(), err)
		}
	}
}

// A reader that opened the file before a replacement reads the version it opened,
// whole: the replacement writes into the spare, another inode.
func TestReplaceLeavesAnOpenVersionWhole(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "p.html")
	for _, v := range []string{"v1 aaaaaaaaaaaaaaaa", "v2 bbbbbbbbbbbbbbbb"} { // a spare exists after this
		if err := WriteFile(dir, "p.html", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := WriteFile(dir, "p.html", []byte("v3 cccc")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "v2 bbbbbbbbbbbbbbbb" {
		t.Fatalf("the reader of v2 read %q", buf.String())
	}
	if got := readFile(t, name); string(got) != "v3 cccc" {
		t.Fatalf("file holds %q", got)
	}
}

// A file not written for longer than spareAge gets no spare when it is replaced: the
// year graph, redrawn once a day, takes no room twice.
func TestReplaceRareFilesKeepNoSpare(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "g-year.png")
	if err := WriteFile(dir, "g-year.png", []byte("yesterday's")); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-2 * spareAge)
	if err := os.Chtimes(name, long, long); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(dir, "g-year.png", []byte("today's graph")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, name); string(got) != "today's graph" {
		t.Fatalf("file holds %q", got)
	}
	if left := leftovers(t, dir, "g-year.png"); len(left) > 0 {
		t.Fatalf("left in the directory: %q", left)
	}
}

// A swap cut short (a crash between its link and its renames) leaves a link under
// prevPath, or no spare: the next replacement still works and cleans up.
func TestReplaceAfterASwapCutShort(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "g.png")
	for _, v := range []string{"one", "two"} {
		if err := WriteFile(dir, "g.png", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	// Cut short after the link: prev and name are the same inode.
	if err := os.Link(name, prevPath(name)); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(dir, "g.png", []byte("three")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, name); string(got) != "three" {
		t.Fatalf("file holds %q", got)
	}
	if left := leftovers(t, dir, "g.png", filepath.Base(sparePath(name))); len(left) > 0 {
		t.Fatalf("left in the directory: %q", left)
	}
	// Cut short after the first rename: the spare is gone, prev holds the old version.
	if err := os.Rename(sparePath(name), prevPath(name)); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(dir, "g.png", []byte("four")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, name); string(got) != "four" {
		t.Fatalf("file holds %q", got)
	}
	if got := readFile(t, sparePath(name)); string(got) != "three" {
		t.Fatalf("spare holds %q", got)
	}
}

// RemoveFile takes the spare with the file.
func TestRemoveFileTakesTheSpare(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"one", "two"} {
		if err := WriteFile(dir, "d/g.png", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveFile(dir, "d/g.png"); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, filepath.Join(dir, "d")); len(left) > 0 {
		t.Fatalf("left: %q", left)
	}
	if err := RemoveFile(dir, "d/g.png"); err != nil {
		t.Fatalf("removing what is gone: %v", err)
	}
}
