package render

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"time"
)

// Colours of the graph, as hex for pages that draw a legend. The first four
// are MRTG's defaults.
const (
	ColorIn     = "#00cc00" // in rate, filled area
	ColorOut    = "#0000ff" // out rate, line
	ColorMaxIn  = "#006600" // peak in rate, filled area behind the in area
	ColorMaxOut = "#ff00ff" // peak out rate, line
	ColorP95In  = "#ff8000" // 95th percentile of in, dashed line
	ColorP95Out = "#8000ff" // 95th percentile of out, dashed line
	ColorGap    = "#d9d9d9" // band over unknown samples, as it shows on white
	// ColorBand is the confidence band's edges: RRDtool's aberrant behaviour
	// graphs draw them in red (#ff0000), a shade darker here so that they
	// stay apart from the dotted red speed line.
	ColorBand = "#cc0000"
	// ColorOutBand is the out rate's confidence band: a dark cyan, apart
	// from the in band's red, the out line's blue and the percentiles'
	// orange and violet.
	ColorOutBand = "#008b8b"
	// ColorFailure is a failure's tick, the light yellow of RRDtool's
	// aberrant behaviour graphs (TICK:fail#ffffa0:1.0).
	ColorFailure = "#ffffa0"
)

// Mark is a moment marked on a graph with a thin vertical line over the
// plot's full height, as RRDtool's VRULE marks one: the start of an event.
type Mark struct {
	Time time.Time
	// Color is the line's colour as "#rrggbb".
	Color string
}

// Graph is everything one PNG shows. Times are absolute; Location only
// decides the labels and where the period boundaries fall.
type Graph struct {
	Period Period
	// Title is drawn in the top margin; MRTG graphs usually have none.
	Title string
	// Start is the time at which In[0] ends: as in RRDtool, the row at t
	// covers (t-Step, t]. Row i ends at Start + i*Step.
	Start time.Time
	// Step is the spacing of the rows.
	Step time.Duration
	// In and Out are rates in bits per second; NaN is unknown and is drawn
	// as a gap with a light shaded band. Out may be empty (in only) and so
	// may In; otherwise they have the same length.
	In, Out []float64
	// MaxIn and MaxOut are optional peaks on the rows of In and Out (MRTG
	// draws them on the week, month and year graphs): empty, or the same
	// length as In.
	MaxIn, MaxOut []float64
	// End is the right edge of the graph, usually now; new data is on the
	// right.
	End time.Time
	// Span is the time the plot covers; zero means Period.Span(), MRTG's
	// span for a 5-minute step. With another base step pass
	// Period.SpanFor(step) to keep one row per column.
	Span time.Duration
	// Location is the zone of labels and period boundaries; nil is UTC.
	Location *time.Location
	// Speed is the interface speed in bits per second, 0 if unknown. When
	// it falls inside the plot it is marked with a dotted red line, as MRTG
	// marks MaxBytes.
	Speed float64
	// Unscaled makes the y axis reach at least Speed (MRTG's Unscaled[]);
	// by default the axis is scaled to the data.
	Unscaled bool
	// YLegend is written up the left edge (MRTG's YLegend); "" writes
	// "Bits per Second". KMG are the prefixes of the y labels for powers of
	// 1000 from 1 (MRTG's kMG); nil is "", k, M, G, T. Graphs of targets
	// that are not interfaces set both, and In and Out in their own unit.
	YLegend string
	KMG     []string
	// P95In and P95Out draw dashed 95th-percentile lines; NaN or 0 is none.
	P95In, P95Out float64
	// Scale multiplies the pixel size: 1 is MRTG's 500×135 image with a
	// 400×100 plot, 2 the same picture for high-density screens. 0 means 1.
	Scale int
	// BandLo and BandHi, when not empty, are the in rate's confidence band
	// on In's rows (the same length, NaN where unknown): Holt-Winters'
	// prediction minus and plus its deviations. As in RRDtool's aberrant
	// behaviour graphs they are drawn as two lines, in ColorBand.
	BandLo, BandHi []float64
	// OutBandLo and OutBandHi are the out rate's band, as BandLo and
	// BandHi, drawn as two lines in ColorOutBand.
	OutBandLo, OutBandHi []float64
	// Failures, when not empty, marks rows of In's (the same length) that
	// Holt-Winters flagged (FAILURES), in either direction, with a tick of
	// the plot's full height behind the data, in ColorFailure, as
	// RRDtool's TICK does.
	Failures []bool
	// Marks are moments marked with a vertical line each, over the data
	// and the grid; those outside the plot's time range are left out. A
	// later mark in the same column covers an earlier one, so the one that
	// matters most goes last.
	Marks []Mark
	// Stack, when not empty, is drawn instead of In and Out: areas stacked in
	// order, the first at the bottom, each in StackColors[i] (the last colour
	// again past the palette), rows as In's (NaN unknown, drawn as a gap).
	// Traffic by service from flow records is drawn so.
	Stack [][]float64
}

// StackColors are the colours of stacked layers, bottom first: the pages show the
// same colours beside the names of the layers. The last, grey, is for "other".
var StackColors = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#a0a0a0"}

// Width and Height are the size in pixels of a graph at Scale 1 (MRTG's 500×135);
// Scale n multiplies both by n.
const (
	Width  = imgW
	Height = imgH
)

// Layout in MRTG pixels (rateup's geometry for a 400×100 plot): the plot
// occupies columns [plotL, plotR) and rows [plotT, plotB).
const (
	imgW  = plotColumns + 100
	imgH  = plotRows + 35
	plotL = 81
	plotR = plotL + plotColumns
	plotT = 14
	plotB = plotT + plotRows

	plotRows = 100
	maxScale = 4
	fontSize = 10
)

// Errors returned, wrapped, for a Graph that cannot be drawn.
var (
	// ErrPeriod means Graph.Period is not Day, Week, Month or Year.
	ErrPeriod = errors.New("unknown period")
	// ErrSeries means the non-empty series do not all have the same length.
	ErrSeries = errors.New("series lengths differ")
	// ErrTime means End is missing, Span is negative or Step is not positive.
	ErrTime = errors.New("bad time range")
	// ErrScale means Scale is outside 0 to 4.
	ErrScale = errors.New("scale out of range")
	// ErrColor means a Mark's Color is not "#rrggbb".
	ErrColor = errors.New("bad colour")
)

var (
	colBlank = color.NRGBA{0xf5, 0xf5, 0xf5, 0xff} // rateup's c_blank
	colLight = color.NRGBA{0xc2, 0xc2, 0xc2, 0xff} // c_light, top-left border
	colDark  = color.NRGBA{0x64, 0x64, 0x64, 0xff} // c_dark, bottom-right border
	colMajor = color.NRGBA{0xff, 0x00, 0x00, 0xff} // c_major
	colGrid  = color.NRGBA{0x00, 0x00, 0x00, 0xff}
	colPlot  = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	colGap   = color.NRGBA{0x80, 0x80, 0x80, 0x4d} // over white: ColorGap
)

// PNG draws g and writes it to w as a PNG.

// Draw draws g into a new image of 500×135 pixels times g.Scale.
func Draw(g Graph) (*image.RGBA, error) {
	if err := g.check(); err != nil {
		return nil, fmt.Errorf("draw %s graph: %w", g.Period, err)
	}
	s := max(g.Scale, 1)
	img := image.NewRGBA(image.Rect(0, 0, imgW*s, imgH*s))
	if err := draw(newRGBACanvas(img), g); err != nil {
		return nil, err
	}
	return img, nil
}

// draw draws a checked g onto c, which has g's size; every pixel is set.
func draw(c *canvas, g Graph) error {
	d := &drawer{c: c, s: float64(max(g.Scale, 1)), g: g}
	if err := d.draw(); err != nil {
		return fmt.Errorf("draw %s graph: %w", g.Period, err)
	}
	return nil
}

func (g Graph) check() error {
	switch {
	case g.Period < Day || g.Period > Year:
		return ErrPeriod
	case g.Scale < 0 || g.Scale > maxScale:
		return fmt.Errorf("%w: %d, want 1 to %d", ErrScale, g.Scale, maxScale)
	case g.End.IsZero():
		return fmt.Errorf("%w: no end time", ErrTime)
	case g.Span < 0:
		return fmt.Errorf("%w: negative span %v", ErrTime, g.Span)
	}
	n := max(len(g.In), len(g.Out))
	for _, l := range []struct {
		name string
		n    int
	}{{"in", len(g.In)}, {"out", len(g.Out)}, {"max in", len(g.MaxIn)}, {"max out", len(g.MaxOut)},
		{"band low", len(g.BandLo)}, {"band high", len(g.BandHi)}, {"out band low", len(g.OutBandLo)},
		{"out band high", len(g.OutBandHi)}, {"failures", len(g.Failures)}} {
		if l.n != 0 && l.n != n {
			return fmt.Errorf("%w: %s has %d rows, want %d", ErrSeries, l.name, l.n, n)
		}
	}
	for i, l := range g.Stack {
		if n == 0 && i == 0 {
			n = len(l)
		}
		if len(l) != n {
			return fmt.Errorf("%w: stack layer %d has %d rows, want %d", ErrSeries, i, len(l), n)
		}
	}
	if n > 0 && g.Step <= 0 {
		return fmt.Errorf("%w: step %v", ErrTime, g.Step)
	}
	for _, m := range g.Marks {
		if _, ok := hexColor(m.Color); !ok {
			return fmt.Errorf("%w: mark at %s: %q, want #rrggbb", ErrColor, m.Time.Format(time.RFC3339), m.Color)
		}
	}
	return nil
}
