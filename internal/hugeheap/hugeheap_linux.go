package hugeheap

import (
	"runtime"
	"syscall"
	"unsafe"
)

// Size is how much the heap grows to be marked: more than a 1,000-interface poll
// keeps at once.
const Size = 16 << 20

// chunk is the unit the Go runtime commits heap memory in (pallocChunkBytes).
const chunk = 4 << 20

// huge is the size of a transparent huge page on x86-64 and arm64 (4 KiB pages).
const huge = 2 << 20

const (
	madvHugepage = 14 // MADV_HUGEPAGE
	madvCollapse = 25 // MADV_COLLAPSE, Linux 6.1
)

// Marked reports whether init's madvise succeeded.
var Marked bool

// CollapseErr is nil when init built the huge page holding the heap's first
// allocations (those made before init), else why it did not: see init.
var CollapseErr error = syscall.ENOTSUP

// early is a small allocation made before the growth: it shows where the heap's
// pages in use are.
var early *[16]byte

func init() {
	early = new([16]byte)
	grow := make([]byte, Size)
	at := uintptr(unsafe.Pointer(early))
	from := min(at, uintptr(unsafe.Pointer(&grow[0]))) &^ (chunk - 1)
	// To the end of the chunk grow ends in: the runtime has mapped all of it, and
	// the heap grows into it first.
	to := (uintptr(unsafe.Pointer(&grow[0])) + Size + chunk - 1) &^ (chunk - 1)
	// Marking needs no pointer kept: the range stays the heap's, mapped, whether or
	// not grow is collected.
	runtime.KeepAlive(grow)
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, from, to-from, madvHugepage)
	Marked = errno == 0
	if !Marked {
		return
	}
	// The runtime and the packages initialised before this one have already touched
	// the heap's first megabytes, page by page, so the mark alone does not give them
	// huge pages: a 2 MiB range with one small page in it stays small pages, and
	// every page of it the heap uses later is a fault of its own (100-400 of a poll's
	// faults, by where the run's heap happened to start). MADV_COLLAPSE rebuilds each
	// such range as one huge page now, copying what it holds. A range nothing has
	// touched yet answers EINVAL and needs nothing; EAGAIN (a page of the range
	// briefly busy) is tried again.
	end := (uintptr(unsafe.Pointer(&grow[0])) + huge - 1) &^ (huge - 1)
	for r := from; r < end; r += huge {
		for range 8 {
			_, _, errno = syscall.Syscall(syscall.SYS_MADVISE, r, huge, madvCollapse)
			if errno != syscall.EAGAIN {
				break
			}
		}
		if r == at&^(huge-1) {
			CollapseErr = nil
			if errno != 0 {
				CollapseErr = errno
			}
		}
	}
	// grow is garbage from here: the first collection gives its pages back to the
	// heap, marked. Collecting now would cost every command 4-5 ms more at start.
}
