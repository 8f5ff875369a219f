package fixturedir

import (
	"os"
	"path/filepath"
	"testing"
)

// In Env's directory, Copy gives each process a file of its own that starts as
// the built fixture, and Remove deletes the copies but keeps the fixture.
func TestCopyKept(t *testing.T) {
	shared := t.TempDir()
	t.Setenv(Env, shared)
	d := &Dir{Prefix: "p-"}
	built := d.Path(t, "store.db")
	if err := os.WriteFile(built, []byte("as built"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.MarkReady(t, "store.db")

	c := d.Copy(t, "store.db")
	if c == built || filepath.Dir(filepath.Dir(c)) != filepath.Join(shared, "p-") {
		t.Fatalf("copy %s: want a file of its own under %s", c, filepath.Join(shared, "p-"))
	}
	if err := os.WriteFile(c, []byte("changed by a benchmark"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A second process starts from the fixture, not from the first one's copy.
	other := &Dir{Prefix: "p-"}
	if !other.Ready(t, "store.db") {
		t.Fatal("fixture not ready in the second process")
	}
	c2 := other.Copy(t, "store.db")
	if got, _ := os.ReadFile(c2); string(got) != "as built" {
		t.Fatalf("second process's copy holds %q, want %q", got, "as built")
	}
	d.Remove()
	other.Remove()
	if _, err := os.Stat(c); !os.IsNotExist(err) {
		t.Fatalf("copy %s left after Remove: %v", c, err)
	}
	if got, err := os.ReadFile(built); err != nil || string(got) != "as built" {
		t.Fatalf("fixture after Remove: %q, %v", got, err)
	}
}

// Without Env the fixture is the process's own: Copy returns it.
func TestCopyOwn(t *testing.T) {
	t.Setenv(Env, "")
	d := &Dir{Prefix: "p-"}
	defer d.Remove()
	if p, c := d.Path(t, "store.db"), d.Copy(t, "store.db"); c != p {
		t.Fatalf("Copy = %s, want the fixture %s", c, p)
	}
}
