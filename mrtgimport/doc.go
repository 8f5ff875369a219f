// Package mrtgimport moves an MRTG installation to mrtgo: it reads mrtg.cfg, translates
// what mrtgo can poll into targets.toml entries (listing, per target, what it cannot
// translate and why; config writes the file), and merges the history of MRTG's .log
// files or of its rrdtool-mode .rrd files into the store by time (rrd.Backfill), under
// the series names and layout of internal/series, so that graphs continue across the
// switch.
package mrtgimport
