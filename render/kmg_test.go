package render

import (
	"bytes"
	"image/png"
	"slices"
	"testing"
	"time"
)

// The y labels of a graph with its own kMG prefixes: past the last prefix the numbers
// grow in digits (MRTG's kMG with fewer prefixes).
func TestYScaleKMG(t *testing.T) {
	top, labels := yScaleKMG(250000, []string{""})
	if top != 252000 || !slices.Equal(labels, []string{"0.0", "63000.0", "126000.0", "189000.0", "252000.0"}) {
		t.Errorf("kMG [\"\"]: top %v labels %q", top, labels)
	}
	top, labels = yScaleKMG(250000, []string{"", "k"})
	if top != 252000 || labels[4] != "252.0 k" {
		t.Errorf("kMG [\"\", \"k\"]: top %v labels %q", top, labels)
	}
	if _, l := yScale(250000); !slices.Equal(l, labels) {
		t.Errorf("yScale %q differs from the default prefixes' %q", l, labels)
	}
}

// A graph with a YLegend and kMG of its own draws (the legend is text like any other).
func TestGraphYLegend(t *testing.T) {
	end := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	in := make([]float64, 400)
	for i := range in {
		in[i] = 1.5
	}
	var a, b bytes.Buffer
	g := Graph{Period: Day, Start: end.Add(-400 * 5 * time.Minute), Step: 5 * time.Minute, End: end, In: in, KMG: []string{""}}
	if err := PNG(&a, g); err != nil {
		t.Fatal(err)
	}
	g.YLegend = "load"
	if err := PNG(&b, g); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the YLegend changed nothing")
	}
	if _, err := png.Decode(&b); err != nil {
		t.Error(err)
	}
}
