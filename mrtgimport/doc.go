// Package mrtgimport moves an MRTG installation to mrtgo: it reads mrtg.cfg, translates
// what mrtgo can poll into targets.toml entries (listing, per target, what it cannot
// translate and why; config writes the file), and replays the history of MRTG's .log
// files or of its rrdtool-mode .rrd files into the store, under the series names and
// layout of internal/series, so that graphs continue across the switch.
package mrtgimport
