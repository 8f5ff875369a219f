// Package flowtop is tier 2 of mrtgo's flow storage: per step and per (device,
// interface, direction), the top talkers of every dimension (source and
// destination address and port, protocol, conversation, service) by bytes,
// packets and flows, with the exact totals, rolled up into fixed-size archives
// like the rate store's, so that a monthly or yearly top 10 never reads raw
// records. It knows nothing of sockets, SNMP or pages.
//
// # Basics
//
// Open a file with Open. Hand every record to Store.Add as it arrives: it counts
// for its input interface In and for its output interface Out. At each step's
// end call Store.Commit with the step's end: the step's lists are written, and
// every coarser row the step completes is merged from the next finer rows, in one
// bbolt transaction. Read with Store.Top (a list), Store.Series (a stacked graph
// by protocol or service) and Store.Totals (the flow totals per row, to hold
// against SNMP octets). One process writes; others may open the file ReadOnly.
//
// # Error bounds
//
// Per step, each (series, dimension) is one table of keys, each key holding its
// bytes, packets and flows, so that a record costs one hash probe per dimension
// whatever the number of measures; protocols, one of 256, are counted exactly in
// an array. Each measure of a table is a weighted Space-Saving summary of
// Options.Capacity counters (m), its evictions batched: up to 2m more keys than
// the last cut kept gather (at most 5m), then each measure keeping more than m
// counters is cut to its m heaviest, and
// the heaviest counter cut becomes the measure's floor, inherited by a key that
// gets a counter later, as its weight and its possible error. That is the
// mergeable Misra-Gries summary, whose decrements add up to the floor, so the
// floor never exceeds N/(m+1), N the measure's total in the step. Hence, per
// measure, exactly as with one sketch of m counters per measure: a listed key
// is over by at most N/(m+1), and by at most its stored Err; a key without a
// counter weighed at most the floor. A list keeps the Keep (k < m) heaviest
// keys, and its bound: the most any key not listed may weigh (the heavier of the
// floor and the first key left out). Every key heavier than N/(k+1) is listed;
// until more than 2m distinct keys are seen, the table is exact, and until more
// than k, so is the list (Err 0, bound 0).
//
// Merging lists (rolling rows up, or reading a range) sums each key's listed
// weights, so the listed weights never exceed the total and Other = Total −
// listed is never negative. That sum is over the truth by at most the summed Errs
// and under it by at most Miss, the summed bounds of the lists that did not list
// the key; both are stored with every entry. A merged list's bound is the larger
// of the summed bounds and the heaviest dropped key's weight plus its Miss. So
// after any number of merges:
//
//   - totals are exact (bytes, packets, flows; sampling-corrected as the records);
//   - a listed key's true weight is in [Weight − Err, Weight + Miss];
//   - every key heavier than Result.Bound is listed;
//   - where every step saw at most Keep distinct keys of a dimension, the lists of
//     every archive, and every query, are exact.
//
// The bounds add up with the number of rows merged: a yearly list of daily rows
// is as sure as the daily lists' bounds, summed. Keep, not Capacity, sets how
// much a coarse row remembers; Capacity sets how close each step's weights are.
//
// # Layout
//
// Archives mirror the rate store's default retention (DefaultArchives): at a
// 5-minute step, 600 step rows (50 hours), then 800 rows each of 30 minutes, 2
// hours and 1 day. Rows are aligned as rrd aligns its rows: row q of an archive
// of S steps covers ((q−1)·S·step, q·S·step] seconds since the Unix epoch, so a
// day row ends at 00:00 UTC whatever the configured zone. Each archive is a ring:
// row q lives in slot q mod Rows, and writing a slot deletes what an older lap
// left there, so the file's size is bounded by series × rows × row size.
//
// Keys are time-major as in rrd: archive, slot, series. A series-row is one
// value holding all 21 lists: each dimension's keys once for its three lists,
// weights as differences; a coarse row's lists in one zstd frame, a step row's as
// is (list.go says how). A commit rewrites the current slot's keys (one per
// series, under 2 KB each) and, when a coarse row completes, that slot's; its
// cost depends on the number of series, never on the length of history. Each value carries its row's index, so a slot left over from
// an older lap is never read as a newer row; each slot also holds a marker with
// the number of steps recorded, so a row nobody recorded is a gap, not a zero.
//
// # Caveats
//
// A record belongs to the step during which Add was called, not to its Start or
// End: the collector's clock decides, as the poller's does for rates. What was
// added since the last Commit lives only in memory: a crash, or Close, loses that
// step's aggregate, and nothing committed; a failed Commit drops its step. Steps
// with no Commit are gaps. The service of a flow is its protocol with the lower
// of its ports that is in 1-1023, for TCP, UDP, SCTP and DCCP; every other flow
// is the service "other", which is a key of the Service list like any other, not
// the Other remainder of a Result.
//
// Memory: each series active in a step holds a table per dimension of up to
// 5 × Capacity keys (32 to 88 bytes each, with its three measures) and 6 KB of
// protocol counters: at most about 190 KB at the default Capacity of 80, for a
// series that sees tens of thousands of distinct hosts, ports and pairs in a
// step; a quiet one a few KB. Emptied tables are reused by the next step.
//
// Cost, measured on 2 shared, loaded cores (bench_test.go, CPU time, medians):
// Add takes about 0.6 µs of CPU for a record counted on one interface, and about
// 1.4 µs for one counted on two (all 21 lists of each), with Zipf-distributed
// addresses over a million hosts and 100 interfaces: mostly cache misses of the
// tables' probes. A commit of 100 interfaces takes about 40 ms of CPU per step,
// rollups included; of 1000, about 0.5 s, of which about 120 µs per series for
// its step row and 1 ms per series for a day's rollup (decoding, merging and
// encoding twelve rows). Top reads a day of step rows in about 4 ms, a month or
// a year of coarse rows in about 12 ms, most of it zstd. With full rings a
// series-row of the default Keep is about 1.8 KB, step rows as is and merged
// rows compressed alike: 100 interfaces fill about 1.25 GB, since each holds
// 3,000 rows per direction and a 4 KB page two of them; at Keep 10, 0.84 GB.
package flowtop
