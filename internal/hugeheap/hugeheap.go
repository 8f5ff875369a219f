// Package hugeheap asks Linux to back the first megabytes of the Go heap with
// transparent huge pages, where the system leaves that to each program
// (/sys/kernel/mm/transparent_hugepage/enabled set to "madvise", as Debian and
// most distributions ship it).
//
// A cron run of `mrtgo poll --once` lives for tens of milliseconds, and touching
// new memory was most of that: a fresh 4 KiB page costs a page fault, and on a
// virtual machine a fault costs 20-40 µs (measured: 4 MiB touched page by page,
// 19.8 ms; the same behind MADV_HUGEPAGE, 0.36 ms). A 1,000-interface run took
// about 2,070 faults and 70-76 ms; with this package, 710-730 faults and 55-65
// ms.
//
// The package's init grows the heap by Size and marks the heap, from its first
// chunk to the end of the chunk that growth ends in, with MADV_HUGEPAGE. The
// growth is garbage at once; from the first collection on, the heap's allocations
// land in huge pages. The first megabytes, which the runtime and earlier packages
// touched page by page before the mark, are rebuilt as huge pages with
// MADV_COLLAPSE (Linux 6.1; older kernels keep them small).
// It costs about 1 ms at start and up to Size of resident memory more than the
// pages touched. Where huge pages are "always" the mark changes nothing, where
// "never" the kernel ignores it, and off Linux the package does nothing. The Go
// runtime leaves huge pages to the system's setting (it stopped marking its heap
// itself in Go 1.21.1); for mrtgo's short runs the trade is the other way.
//
// The mrtgo command imports it for its side effect, first: its init runs 16th of
// about 155 packages', before most of their allocations.
package hugeheap
