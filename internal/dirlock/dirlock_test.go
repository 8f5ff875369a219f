package dirlock

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// One holder at a time; a waiter gets the lock once the holder lets go.
func TestTake(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	a, err := Take(path, 0o644, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Take(path, 0o644, 0); !errors.Is(err, ErrLocked) {
		t.Fatalf("second holder: %v, want ErrLocked", err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		a.Close()
	}()
	b, err := Take(path, 0o644, 10*time.Second)
	if err != nil {
		t.Fatalf("waiting for the first to let go: %v", err)
	}
	b.Close()
}
