// Package render draws one PNG per (interface, period) from rate series that
// were already fetched from the store, in MRTG's look: a 500×135 image with a
// 400×100 plot, the in rate as a filled green area, the out rate as a blue
// line, peaks on the week, month and year graphs, red lines at period
// boundaries and wall-clock labels in the configured time zone. The
// statistics it marks (95th percentile) are computed by rrd.Summarize and
// handed in. It never opens the database.
//
// Unknown samples (NaN) are drawn as a gap with a light shaded band, never as
// zero or as the last value.
//
// What else a graph shows is handed in too: Holt-Winters confidence bands of
// either direction (two lines each, the in band dark red as RRDtool's, the
// out band dark cyan) with yellow ticks where either failed, and marks, thin
// vertical lines at moments such as the start of an event, in the colour
// the caller chose (RRDtool's VRULE). The package knows nothing of where
// they come from.
//
// Layout constants are rateup's, in "MRTG pixels"; Scale 2 is the same
// picture at twice the density. Everything is set directly on the pixels
// with edges on the device pixel grid: the areas (one rectangle of whole
// pixels per row), the rules, the out lines (aliased, stamped with rateup's
// one-by-two brush) and the text (gonum's embedded Liberation Sans, each
// label rasterized once per process and scale and kept). The picture is
// crisp and has so few colours that it is drawn as palette indexes and
// written as a palette PNG (Draw's RGBA image has the same pixels).
// Filling areas through gonum's vg canvas cost five times as much: vgimg
// copies the image into its own context and rasterizes every path with
// antialiasing that the pixel-grid edges never need.
package render
