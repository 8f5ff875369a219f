// Package render draws one PNG per (interface, period) from rate series that
// were already fetched from the store, in MRTG's look: a 500×135 image with a
// 400×100 plot, the in rate as a filled green area, the out rate as a blue
// line, peaks on the week, month and year graphs, red lines at period
// boundaries and wall-clock labels in the configured time zone. It also
// summarises a series (max, average, current, 95th percentile, volume) for
// the pages. It never opens the database.
//
// Unknown samples (NaN) are drawn as a gap with a light shaded band, never as
// zero or as the last value. Everything is drawn with gonum's vg canvas on
// pixel-exact coordinates; MRTG's layout constants are kept in "MRTG pixels"
// so that Scale 2 is the same picture at twice the density.
package render
