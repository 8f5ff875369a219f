// Package events is mrtgo's one model of what it found: attacks and scans in the flow
// records (package detect), interfaces over their thresholds, and rates that left
// their Holt-Winters band. Each is an Event with a kind, a severity, a start and an
// end, where it was seen, who against whom, its rates and the evidence, and, for the
// flow kinds, a pcap-filter expression for its packets and the capture taken of them.
//
// # Lifetime
//
// Sources report what they find again for as long as it lasts (the detector once a
// step for a flood, once a scan window for a scan). A Tracker turns reports into
// events that begin, last and end: a report with the Key of an active event extends
// it (its span, highest rates, gravest severity), and an active event that is not
// reported for its linger ends. Thresholds and anomalies end when their source says
// they recovered (Tracker.End).
//
// # The log
//
// A Log keeps every version of every event as a JSON line in a file per month, and
// the active events in active.json, beside them. A line is synced before Put returns;
// a torn last line (a crash mid-write) is skipped by readers and cut by the next
// writer. One process writes (a lock file), any number read, also while it writes:
// "mrtgo events" and the pages read the log of a running daemon. Files whose month
// ended more than Keep ago are deleted when a writer opens the log.
//
// A cron "poll --once" and the daemon share the log: a new process takes up the
// active events (Tracker.Restore from Log.ActiveEvents), so an event that lasts
// across runs keeps its ID and is not announced twice.
package events
