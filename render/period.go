package render

import (
	"fmt"
	"time"
)

// Period is one of MRTG's four graphs.
type Period int

// The four graphs. Their order is the order of the pages.
const (
	Day Period = iota
	Week
	Month
	Year
)

// Periods lists every period, finest first.
var Periods = []Period{Day, Week, Month, Year}

// plotColumns is the width of MRTG's plot in pixels; at one consolidated row
// per column it fixes the time each graph covers.
const plotColumns = 400

// String returns the lower-case name used in file names: "day", "week",
// "month" or "year".
func (p Period) String() string {
	switch p {
	case Day:
		return "day"
	case Week:
		return "week"
	case Month:
		return "month"
	case Year:
		return "year"
	}
	return fmt.Sprintf("Period(%d)", int(p))
}

// ParsePeriod is the inverse of String.
func ParsePeriod(s string) (Period, error) {
	for _, p := range Periods {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("parse period %q: want day, week, month or year", s)
}

// Steps is the number of base steps consolidated into one row of the
// period's archive: 1, 6, 24 and 288 (MRTG's 5 min, 30 min, 2 h and 1 day for
// a 5-minute step).
func (p Period) Steps() int {
	switch p {
	case Day:
		return 1
	case Week:
		return 6
	case Month:
		return 24
	case Year:
		return 288
	}
	return 0
}

// Resolution is the row spacing of the period for MRTG's 5-minute step:
// 5m, 30m, 2h and 24h.
func (p Period) Resolution() time.Duration { return p.ResolutionFor(5 * time.Minute) }

// ResolutionFor is the row spacing of the period for a base step.
func (p Period) ResolutionFor(step time.Duration) time.Duration {
	return time.Duration(p.Steps()) * step
}

// Span is the time the graph covers for a 5-minute step, as in MRTG: one row
// per column of the 400-pixel plot, so the day graph shows 33h20m, the week
// graph 8d8h, the month graph 33d8h and the year graph 400 days.
func (p Period) Span() time.Duration { return p.SpanFor(5 * time.Minute) }

// SpanFor is the time the graph covers for a base step (one row per column).
func (p Period) SpanFor(step time.Duration) time.Duration {
	return plotColumns * p.ResolutionFor(step)
}
