// Package flowstore keeps raw flow records (flow.Flow: the normalized record and the
// device and interface names it was placed on) in compressed, time-partitioned segment
// files, as nfcapd keeps a file per five minutes, and removes the oldest by age and by
// total size. It is tier 1 of mrtgo's flow storage: every record, for a year if the
// disk allows. It knows nothing of sockets, exporters or queries.
//
// # Basics
//
// Open a directory with Open; one Store (one process) may write it at a time, and any
// number may read it (Options.ReadOnly). Append places each record in the segment of
// its Received time (arrival, as nfcapd partitions) and writes a block whenever one
// fills; Flush writes what waits and syncs; Close flushes. Scan hands back the records
// of a time range, in time order, a block at a time; ScanParallel hands blocks to
// several goroutines at once for queries that aggregate per worker and merge;
// ScanColumns does so reading only the fields a query names (flowquery's
// Query.Fields), a Block of columns at a time.
// Segments lists the segments with their record counts and sizes without decoding
// them, and Prune applies retention (the writer also prunes each time it starts a
// segment).
//
// # Layout
//
// A store is a directory of day directories of segment files:
//
//	dir/LOCK                      the writer's lock (flock)
//	dir/20261102/100500-300.seg   records received 2026-11-02 10:05:00 to 10:10:00 UTC
//
// A segment's name is its partition: the UTC day, the time it starts (hhmmss) and its
// length in seconds. Options.Segment (5 minutes by default) divides the day, so a day's
// directory holds that day's records only; segments of another length, from an earlier
// Options, are read as well. A segment file is a 32-byte header ("MRTGOFS1", start and
// length, CRC-32C) and blocks, each a 40-byte header then its payload:
//
//	magic "MFB2" | records | raw length | payload length |
//	earliest Received (unix ns) | latest Received | payload CRC-32C | header CRC-32C
//
// (all little-endian). A block holds its records in sections: the block's string
// dictionary (device and interface names), its address dictionary (exporter, source
// and destination; IPv4, IPv6 with or without zone, and the invalid address), then a
// column for each field, each value a dictionary index or an integer. The payload is
// a table of the sections (each one's raw length as a uvarint, how it is stored in a
// byte, and unless stored as it is, its stored length) and the sections, each
// compressed alone, so that a scan that reads a few fields decompresses those only.
// Each is stored as the smallest of itself, a zstd frame (the fastest level: on this
// data the slower levels gained under 1%) and huff0's Huffman codes: zstd's fastest
// level stores a byte plane in which it finds no repeat (ports, dictionary indexes)
// as it is, where Huffman codes still take one to three bits a byte off. Blocks of
// the first format (magic "MFBK": the raw sections one after the other in a single
// zstd frame) are still read. A column
// is written as frame of reference or as deltas, whichever is narrower, divided by
// the GCD of its values (times to the millisecond, counts of a sampling exporter),
// as byte planes of the narrowest width that holds it: a column that does not change
// costs three bytes. Received, Start and End are kept to the nanosecond (Start and End
// as an offset and a duration), and the zero time apart from the Unix epoch; they come
// back in UTC, equal to what was appended. A block holds up to Options.BlockRecords
// (8,192) records; the header's time range lets a scan pass over blocks outside its
// range without reading them.
//
// # Speed
//
// On the 2-core machine of the benchmarks (BenchmarkBlock, one core), a block's
// records take about 95 ns each to decode, every field; the three columns a top-N
// by source reads (Src, Bytes, Packets), about 26 with ScanColumns. A top 10 of
// 10,000,000 records (BenchmarkTopQuery: ScanColumns into flowquery's Aggregators)
// takes 110–140 ns of CPU time a record, most of it adding to the table of 485,597
// sources; see package flowquery.
//
// # Crash safety
//
// A block is written with one write at the end of its file, never rewritten; a new
// segment is created with its header under a temporary name, synced, and renamed. So
// a crash (kill -9 at any moment; a power loss after the last Flush) leaves whole
// blocks and at most a torn last block in each open segment. Readers check each
// header's checksum and that its payload is there: a torn tail ends the segment and
// is counted (ScanStats.Torn), not an error; a payload whose checksum fails is skipped
// and counted (ScanStats.Skipped). When a writer next opens such a segment it cuts the
// torn block off (and a last block whose payload does not check) and appends after
// the whole ones. Scans in the writer's process read each open segment only up to its
// last whole block; a scan in another process sees a block being written as a torn
// tail. Records not yet in a block are only in memory until Flush or Close.
//
// # Size
//
// Measured on NetFlow v9 exported by pmacctd from a capture of 30,000 conversations
// (Zipf-like hosts, common ports) and repeated by nfcapd (TestBytesPerRecordBesideNfdump):
// 12.3 bytes a record (13.1–13.9 in the first format, a block in one zstd frame),
// Received to the nanosecond and device and interface names included, where nfcapd's
// own files of the same records take 22.9 (LZO), 26.1 (LZ4), 12.5 (BZ2) and 104
// (uncompressed). Synthetic records of random sizes, times and ports from four
// exporters (the benchmarks) take 22.2 (23.4 in the first format). A year at 1,000
// records a second is 31.5 billion records: 0.39 TB at 12.3 bytes, 0.70 TB at 22.2;
// at 10,000 a second, 3.9 to 7.0 TB. Set Options.MaxBytes to the disk's share for the
// store.
//
// # Caveats
//
// Times must lie between 1678 and 2262 (unix nanoseconds in an int64); the zero time
// is allowed for Start and End. Flushing often makes small blocks, which compress
// less. A segment the writer has open is never pruned, whatever its age or size.
package flowstore
