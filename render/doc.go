// Package render draws one PNG per (interface, period) from rate series that
// were already fetched from the store, in MRTG's look: a 500×135 image with a
// 400×100 plot, the in rate as a filled green area, the out rate as a blue
// line, peaks on the week, month and year graphs, red lines at period
// boundaries and wall-clock labels in the configured time zone. It also
// summarises a series (max, average, current, 95th percentile, volume) for
// the pages. It never opens the database.
//
// Unknown samples (NaN) are drawn as a gap with a light shaded band, never as
// zero or as the last value.
//
// Layout constants are rateup's, in "MRTG pixels"; Scale 2 is the same
// picture at twice the density. Areas are filled through gonum's vg canvas
// (vgimg on an exact-size RGBA image) with edges on the pixel grid. Rules,
// the out lines (aliased, stamped with rateup's one-by-two brush) and the
// text (gonum's embedded Liberation Sans) are set on the same pixels
// directly: crisp, cheap, and with so few colours that the PNG is written
// with a palette.
package render
