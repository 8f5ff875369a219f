package main

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// The directory the passes take as TMPDIR carries the flag that spreads its
// subdirectories (lsattr shows it as T).
func TestSpreadDirs(t *testing.T) {
	dir := t.TempDir()
	if err := spreadDirs(dir); errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) {
		t.Skipf("the file system of %s takes no such flag: %v", dir, err)
	} else if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Fatal(err)
	}
	if flags&fsTopdirFL == 0 {
		t.Errorf("flags %#x: FS_TOPDIR_FL not set", flags)
	}
}
