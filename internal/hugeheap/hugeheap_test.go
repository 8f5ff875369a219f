package hugeheap

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
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

// Where the system leaves huge pages to each program, the heap init marked is
// backed by them once used: small allocations, a few megabytes of them, after a
// collection has given the growth back.
func TestHeapUsesHugePages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || !strings.Contains(string(mode), "[madvise]") && !strings.Contains(string(mode), "[always]") {
		t.Skipf("transparent huge pages are not left to each program here (%q, %v)", strings.TrimSpace(string(mode)), err)
	}
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
