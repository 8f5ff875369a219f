package render

import (
	"math"
	"slices"
	"testing"
)

func TestYScale(t *testing.T) {
	tests := []struct {
		max    float64
		top    float64
		labels []string
	}{
		{10e6, 10e6, []string{"0.0 M", "2.5 M", "5.0 M", "7.5 M", "10.0 M"}},
		{9.3e6, 9.6e6, []string{"0.0 M", "2.4 M", "4.8 M", "7.2 M", "9.6 M"}},
		{1234567, 1.24e6, []string{"0.0 k", "310.0 k", "620.0 k", "930.0 k", "1240.0 k"}},
		{1e9, 1e9, []string{"0.0 M", "250.0 M", "500.0 M", "750.0 M", "1000.0 M"}},
		{38e9, 40e9, []string{"0.0 G", "10.0 G", "20.0 G", "30.0 G", "40.0 G"}},
		{3000, 3200, []string{"0.0", "800.0", "1600.0", "2400.0", "3200.0"}},
		{0, 4, []string{"0.0", "1.0", "2.0", "3.0", "4.0"}},
		{math.NaN(), 4, []string{"0.0", "1.0", "2.0", "3.0", "4.0"}},
	}
	for _, tt := range tests {
		top, labels := yScale(tt.max)
		if math.Abs(top-tt.top) > 1e-9*tt.top {
			t.Errorf("yScale(%g) top = %g, want %g", tt.max, top, tt.top)
		}
		if !slices.Equal(labels, tt.labels) {
			t.Errorf("yScale(%g) labels = %q, want %q", tt.max, labels, tt.labels)
		}
	}
}

// The axis always holds the data and never wastes more than a fifth of the
// plot, over thirteen decades.
func TestYScaleCovers(t *testing.T) {
	for e := 2.0; e < 15; e += 0.0137 {
		max := math.Pow(10, e)
		top, labels := yScale(max)
		if top < max || top > 1.2*max {
			t.Errorf("yScale(%g) top = %g, want within [max, 1.2 max]", max, top)
		}
		if len(labels) != yTicks+1 {
			t.Errorf("yScale(%g) gave %d labels, want %d", max, len(labels), yTicks+1)
		}
	}
}
