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

const madvHugepage = 14 // MADV_HUGEPAGE

// Marked reports whether init's madvise succeeded.
var Marked bool

// early is a small allocation made before the growth: it shows where the heap's
// pages in use are.
var early *[16]byte

func init() {
	early = new([16]byte)
	grow := make([]byte, Size)
	from := min(uintptr(unsafe.Pointer(early)), uintptr(unsafe.Pointer(&grow[0]))) &^ (chunk - 1)
	to := uintptr(unsafe.Pointer(&grow[0])) + Size
	// Marking needs no pointer kept: the range stays the heap's, mapped, whether or
	// not grow is collected.
	runtime.KeepAlive(grow)
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, from, to-from, madvHugepage)
	Marked = errno == 0
	// grow is garbage from here: the first collection gives its pages back to the
	// heap, marked. Collecting now would cost every command 4-5 ms more at start.
}
