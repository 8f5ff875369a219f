// Package mrtgimport moves an MRTG installation to mrtgo: it reads mrtg.cfg, translates
// every Target[] form (interfaces, OID pairs, backtick programs, sums and swapped
// interfaces, SNMPv3) into targets.toml's interfaces, [[device.target]] and [[aggregate]]
// tables (listing, per target, what it cannot translate and why; config writes the
// file), and merges the history of MRTG's .log files or of its rrdtool-mode .rrd files
// into the store by time (rrd.Backfill), under the series names and layouts the recorder
// gives them (internal/series, internal/pipeline), so that graphs continue across the
// switch.
package mrtgimport
