// Package pipeline joins the packages that each do one job: it records poll results in
// the round-robin store (named and laid out by internal/series, interface speed as the
// series maximum, per-interface facts for the pages, each device's poll health) and
// publishes the store as the static site (fetch each period that has new data,
// summarize, draw its graphs, write the pages), with the events of the event log on
// their own page, on the pages of their devices and interfaces and as marks on the
// graphs. Targets that are not interfaces (a device's OIDs and commands) and aggregates
// are recorded and published beside them (targets.go, targetpages.go). The command
// line, the daemon and the demo all go through it, so they store and show the same
// things.
package pipeline
