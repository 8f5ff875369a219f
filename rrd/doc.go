// Package rrd is mrtgo's round-robin store: it turns counter and gauge
// samples into rates with RRDtool's arithmetic and keeps them, consolidated,
// in fixed-size archives in one bbolt file. It knows nothing of SNMP,
// devices or pixels.
//
// # Basics
//
// Open a file with Open, describe each series (an interface: data sources
// "in" and "out") with a Spec and Create it, then hand every poll cycle's
// samples to Update in one call: one transaction, one fsync. Read with
// Fetch, which picks an archive as rrdtool fetch does, and Summarize;
// FetchMany reads many series' rows in one pass over the row keys.
// Backfill writes whole histories (a rate per step, years of them) into
// many series at once, merged by time with what they hold.
// One process writes; others wait for its lock up to Options.Timeout and
// then fail with ErrLocked. Within a process any number of goroutines may
// read while one writes.
//
// # Arithmetic
//
// Update is RRDtool 1.7's update, checked row by row against rrdtool itself
// (oracle_test.go): primary data points aligned to the step, each step's
// rate the time-weighted mean of the updates covering it, unknown past the
// heartbeat or when more than half the step is unknown, rates outside
// [Min, Max] unknown, and rows consolidated with AVERAGE, MAX, MIN or LAST
// and the archive's xff. COUNTER, DERIVE, GAUGE and ABSOLUTE mean what they
// mean in RRDtool. Where mrtgo deliberately differs (differences_test.go):
//
//   - A 64-bit counter that goes backwards is a discontinuity (unknown), not
//     a wrap: rrdtool turns it into a spike of about 2^32 bytes.
//   - A 32-bit counter that goes backwards wrapped at 2^32 (rrdtool adds
//     2^32-1), and only if the implied rate is within Max; else unknown.
//   - Update.Discontinuity (agent restart, counter reset) makes the interval
//     before the sample unknown; the sample is the new baseline.
//   - An update with a sub-second timestamp that spans several steps is
//     apportioned by time; rrdtool 1.7 subtracts the microseconds twice.
//   - After a gap longer than an archive, rrdtool writes the row it was
//     consolidating before the gap into the archive's oldest slot, under
//     that slot's (later) time; mrtgo keeps each row at its own time.
//   - Stored values never exceed Max (rounding is clamped).
//   - Fetch ends at the row containing end; rrdtool adds a row when end
//     falls on a row boundary.
//
// # Holt-Winters
//
// HoltWinters is RRDtool's aberrant behaviour detection for one data
// source, as a computation fed one primary data point per step: the rows
// of HWPREDICT (or MHWPREDICT), SEASONAL, DEVSEASONAL, DEVPREDICT and
// FAILURES, with RRDtool's initialisation, unknown values, burn-in and
// periodic smoothing. Every row of every step, and the arrays and
// coefficients at the end, equal rrdtool 1.7.2's (Debian 1.7.2-4,
// holtwinters_test.go) to its printed precision; rrdtool 1.7.2 smooths
// from a copy of the array, where earlier releases smoothed in place.
//
// A series whose Spec has HoltWinters keeps a detector per data source in
// the store, fed each step's rate (as the one-step archives keep it) in
// the transaction of the update that completes the step, and HWRows steps
// of its HWPREDICT, DEVPREDICT and FAILURES rows, which FetchHoltWinters
// reads (hwstore.go). Its rows are exactly those of a HoltWinters fed the
// series' rates (hwstore_test.go). Step p goes to row p mod Period for
// every series, where rrdtool picks a row at random when it creates a
// file. Reshape carries the detectors over, or, adding them, feeds them
// the one-step history the series holds.
//
// Update reports, in each Update's FailureChanges, the steps it completed
// at which a data source's FAILURES turned on or off, with the step's rate,
// prediction and deviation: exactly the changes the stored FAILURES rows
// show, step after step (failures_test.go), in a store kept open as in one
// reopened for every commit. The FAILURES of the last step is kept in the
// detector's state (hwstore.go), so finding what changed reads nothing
// more: at 10k series the updates of a cycle take the same CPU as before
// (about 4.5 ms, to within 0.1 ms), and 0.1 to 0.2 ms more when every data
// source changes (BenchmarkApplyCycleFailureChanges), in a commit whose
// store work takes about 8 ms, before its two fdatasyncs
// (BenchmarkCommitCycleFailureChanges).
//
// A detector costs 42 bytes of state per data source written every step,
// and keeps 16 bytes per row of the period and 8 per result row kept: for
// an interface at five minutes (a period of 288, two days of results)
// about 18.5 KB beside its 110 KB of rates. A poll cycle of 10k such
// interfaces writes about 2.4 MB instead of 0.74 MB (BenchmarkCommitCycle
// and BenchmarkCommitCycleHoltWinters). The smoother rewrites every row of
// the period of every chunk in the same step, once a day (and at each of
// the first three wraps): at 10k interfaces about 100 MB in that cycle's
// commit, a few seconds.
//
// # Layout
//
// bbolt is copy-on-write: a commit rewrites every leaf page it touches, so
// the cost of a poll cycle is set by how many pages the cycle's keys live
// on. Per-series keys put every series on its own pages (about 140 ms per
// cycle at 10k series); here the layout is time-major. Series with the same
// shape (step, number of data sources, archives) form a group, each series
// a column of it. A group's bucket holds
//
//	'r' archive slot chunk → one row: 1024 columns × data sources × float32
//	's' chunk              → the update state of 1024 columns
//
// so a poll cycle of 10k series rewrites ten 8 KiB keys of the finest
// archive's current slot (neighbours in key order: the same pages), the
// state keys, and now and then one slot of a consolidated archive: its cost
// depends on the number of series, never on the length of history. Fetching
// one series reads one value from each row key in the range, in key order;
// FetchMany reads each row key once for all the series of a chunk it is
// asked for, which is what reading many series' months should use.
//
// One-step archives of any consolidation function hold the same primary
// data points, so they are stored once (the ring, archive 0). Consolidated
// rows are computed from the ring when they complete rather than from
// per-archive accumulators: the state written every cycle stays at 8 bytes
// per series plus 21 bytes per data source, and a changed retention can be
// rebuilt from the data held (Reshape). Archives of the same length (the
// AVERAGE and MAX of 6, 24 and 288 steps) share one pass over the ring, so
// a series costs about one read of each primary data point per length. The ring keeps at least as many rows
// as the longest consolidation needs.
//
// Values are float32 (relative error below 6e-8): DefaultArchives costs
// 13 728 rows × 2 data sources × 4 bytes ≈ 110 KB per interface, for 31
// days of five-minute rows, against MRTG's 105 KB for 2.8 days. Averages of
// values of both signs that cancel (DERIVE, GAUGE) are exact to 1e-6 only
// relative to the values averaged.
//
// # Caveats
//
// Row keys are written when first used, so a new file grows to its fixed
// size over the first retention period and then stays there. A series
// keeps its column while it lives; a reshaped series moves to another group
// and leaves its old column unused.
package rrd
