package hugeheap

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// anonHuge returns the process's AnonHugePages in KiB.
func anonHuge(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		t.Skipf("no /proc/self/smaps_rollup: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "AnonHugePages:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("no AnonHugePages in smaps_rollup:\n%s", b)
	return 0
}

// needHugePages skips t where the system does not leave transparent huge pages to
// each program (nor always uses them).
func needHugePages(t *testing.T) {
	t.Helper()
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || !strings.Contains(string(mode), "[madvise]") && !strings.Contains(string(mode), "[always]") {
		t.Skipf("transparent huge pages are not left to each program here (%q, %v)", strings.TrimSpace(string(mode)), err)
	}
}

// Where the system leaves huge pages to each program, the heap init marked is
// backed by them once used: small allocations, a few megabytes of them, after a
// collection has given the growth back.
func TestHeapUsesHugePages(t *testing.T) {
	needHugePages(t)
	if !Marked {
		t.Fatal("init's madvise(MADV_HUGEPAGE) failed")
	}
	runtime.GC()
	before := anonHuge(t)
	var keep [][]byte
	for range 6 << 20 / 512 {
		keep = append(keep, make([]byte, 512))
	}
	after := anonHuge(t)
	runtime.KeepAlive(keep)
	if after < before+2048 {
		t.Fatalf("AnonHugePages %d kB before 6 MiB of small allocations, %d kB after: the heap is not in huge pages", before, after)
	}
	t.Logf("AnonHugePages: %d kB, then %d kB", before, after)
}

// The heap's first allocations, made before init by the runtime and earlier
// packages, are in a huge page after init (collapsed), not left in small pages that
// fault one by one as the heap fills the rest of their 2 MiB. Checked through the
// kernel's page flags where this process may read them (as root).
func TestEarlyPagesAreHuge(t *testing.T) {
	needHugePages(t)
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	var major, minor int
	if _, err := fmt.Sscanf(release, "%d.%d", &major, &minor); err != nil || major < 6 || major == 6 && minor < 1 {
		t.Skipf("kernel %s: MADV_COLLAPSE came in 6.1", release)
	}
	if !Marked || CollapseErr != nil {
		t.Fatalf("init's MADV_COLLAPSE of the range holding the heap's first allocations failed (marked %v): %v", Marked, CollapseErr)
	}
	addr := uintptr(unsafe.Pointer(early))
	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Skipf("pagemap: %v", err)
	}
	defer pagemap.Close()
	var entry [8]byte
	if _, err := pagemap.ReadAt(entry[:], int64(addr/uintptr(os.Getpagesize()))*8); err != nil {
		t.Fatalf("pagemap: %v", err)
	}
	pfn := binary.LittleEndian.Uint64(entry[:]) & (1<<55 - 1)
	if pfn == 0 {
		t.Skip("page frame numbers are hidden from this process (not root)")
	}
	flags, err := os.Open("/proc/kpageflags")
	if err != nil {
		t.Skipf("kpageflags: %v", err)
	}
	defer flags.Close()
	if _, err := flags.ReadAt(entry[:], int64(pfn)*8); err != nil {
		t.Fatalf("kpageflags: %v", err)
	}
	const kpfTHP = 22
	if binary.LittleEndian.Uint64(entry[:])&(1<<kpfTHP) == 0 {
		t.Fatalf("the page at %#x, allocated before init, is a small page (flags %#x)", addr, binary.LittleEndian.Uint64(entry[:]))
	}
}
