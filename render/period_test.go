package render

import (
	"testing"
	"time"
)

func TestPeriod(t *testing.T) {
	tests := []struct {
		p          Period
		name       string
		resolution time.Duration
		span       time.Duration
	}{
		{Day, "day", 5 * time.Minute, 33*time.Hour + 20*time.Minute},
		{Week, "week", 30 * time.Minute, 8*24*time.Hour + 8*time.Hour},
		{Month, "month", 2 * time.Hour, 33*24*time.Hour + 8*time.Hour},
		{Year, "year", 24 * time.Hour, 400 * 24 * time.Hour},
	}
	for i, tt := range tests {
		if Periods[i] != tt.p {
			t.Errorf("Periods[%d] = %v, want %v", i, Periods[i], tt.p)
		}
		if got := tt.p.String(); got != tt.name {
			t.Errorf("%d.String() = %q, want %q", int(tt.p), got, tt.name)
		}
		if got := tt.p.Resolution(); got != tt.resolution {
			t.Errorf("%v.Resolution() = %v, want %v", tt.p, got, tt.resolution)
		}
		if got := tt.p.Span(); got != tt.span {
			t.Errorf("%v.Span() = %v, want %v", tt.p, got, tt.span)
		}
		if got := tt.p.SpanFor(10 * time.Second); got != tt.span/30 {
			t.Errorf("%v.SpanFor(10s) = %v, want %v", tt.p, got, tt.span/30)
		}
		if got, err := ParsePeriod(tt.name); got != tt.p || err != nil {
			t.Errorf("ParsePeriod(%q) = %v, %v, want %v", tt.name, got, err, tt.p)
		}
	}
	if _, err := ParsePeriod("hour"); err == nil {
		t.Error("ParsePeriod(hour) succeeded, want an error")
	}
	if got := Period(7).String(); got != "Period(7)" {
		t.Errorf("Period(7).String() = %q", got)
	}
}
