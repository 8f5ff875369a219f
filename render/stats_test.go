package render

import (
	"math"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	nan := math.NaN()
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(100 - i) // 100 … 1, unsorted
	}
	tests := []struct {
		name   string
		values []float64
		p      float64
		want   float64
	}{
		{"1..100", hundred, 95, 95},
		{"1..100 max", hundred, 100, 100},
		{"1..100 min", hundred, 1, 1},
		{"unknown ignored", []float64{nan, 5, nan, 1, 3}, 50, 3},
		{"one", []float64{7}, 95, 7},
		{"twenty", []float64{20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 95, 19},
		{"none", []float64{nan, nan}, 95, nan},
		{"empty", nil, 95, nan},
	}
	for _, tt := range tests {
		got := Percentile(tt.values, tt.p)
		if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
			t.Errorf("%s: Percentile(%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	rates := []float64{8e6, nan, 16e6, 24e6, nan}
	s := Summarize(rates, 5*time.Minute, 100e6)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"Max", s.Max, 24e6},
		{"Average", s.Average, 16e6},
		{"P95", s.P95, 24e6},
		{"Current", s.Current, nan},
		{"Bytes", s.Bytes, (8e6 + 16e6 + 24e6) * 300 / 8},
		{"MaxPct", s.MaxPct, 24},
		{"AveragePct", s.AveragePct, 16},
		{"CurrentPct", s.CurrentPct, nan},
		{"Known", float64(s.Known), 3},
		{"Rows", float64(s.Rows), 5},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-9*math.Abs(c.want) && !(math.IsNaN(c.got) && math.IsNaN(c.want)) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	s = Summarize([]float64{1e6, 2e6}, time.Minute, 0)
	if s.Current != 2e6 || !math.IsNaN(s.MaxPct) {
		t.Errorf("Current = %v, MaxPct = %v; want 2e6 and NaN without a speed", s.Current, s.MaxPct)
	}
	s = Summarize(nil, time.Minute, 1e9)
	if !math.IsNaN(s.Max) || !math.IsNaN(s.Average) || s.Bytes != 0 {
		t.Errorf("empty: Max = %v, Average = %v, Bytes = %v; want NaN, NaN, 0", s.Max, s.Average, s.Bytes)
	}
}
