// Package dirlock is the advisory lock by which one process at a time writes a
// directory of files: the raw flow records, the packet captures, the event log.
// Readers take no lock. It is flock(2) on a file in the directory, released when the
// holder closes it or ends (a crash included); where there is no flock it locks
// nothing.
package dirlock

import (
	"errors"
	"io"
	"os"
	"time"
)

// ErrLocked is Take's error when another holder keeps the lock past the wait.
var ErrLocked = errors.New("locked by another process")

// Take locks the file at path, created with perm if need be, waiting up to wait for
// another holder to let go (0: not at all). Closing what it returns releases the lock.
func Take(path string, perm os.FileMode, wait time.Duration) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, perm)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		held, err := tryLock(f)
		switch {
		case err != nil:
			f.Close()
			return nil, err
		case held:
			return f, nil
		case !time.Now().Before(deadline):
			f.Close()
			return nil, ErrLocked
		}
		time.Sleep(50 * time.Millisecond)
	}
}
