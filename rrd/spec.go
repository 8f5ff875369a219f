package rrd

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// DSType says how a data source turns input values into rates.
type DSType int

// Data-source types, with RRDtool's meaning.
const (
	// Gauge stores the value itself (temperature, CPU load).
	Gauge DSType = iota
	// Counter is an ever-increasing counter (ifHCInOctets); the rate is
	// the increase per second. See DS.Bits for what a decrease means.
	Counter
	// Derive is like Counter but may decrease; a negative rate is kept.
	Derive
	// Absolute is a counter that is reset on every read; the rate is
	// value / seconds since the previous update.
	Absolute
)

var dsTypeNames = [...]string{"GAUGE", "COUNTER", "DERIVE", "ABSOLUTE"}

// String returns RRDtool's name for the type, e.g. "COUNTER".
func (t DSType) String() string {
	if t < 0 || int(t) >= len(dsTypeNames) {
		return fmt.Sprintf("DSType(%d)", int(t))
	}
	return dsTypeNames[t]
}

// CF is a consolidation function: how several primary data points make one
// archive row.
type CF int

// Consolidation functions, with RRDtool's meaning.
const (
	Average CF = iota
	Max
	Min
	Last
)

var cfNames = [...]string{"AVERAGE", "MAX", "MIN", "LAST"}

// String returns RRDtool's name for the function, e.g. "AVERAGE".
func (c CF) String() string {
	if c < 0 || int(c) >= len(cfNames) {
		return fmt.Sprintf("CF(%d)", int(c))
	}
	return cfNames[c]
}

// ParseCF returns the CF named s ("AVERAGE", "MAX", "MIN", "LAST").
func ParseCF(s string) (CF, error) {
	for i, n := range cfNames {
		if n == s {
			return CF(i), nil
		}
	}
	return 0, fmt.Errorf("parse consolidation function %q: unknown", s)
}

// DS describes one data source of a series.
type DS struct {
	Name string
	Type DSType
	// Min and Max bound the rate (per second; for Gauge the value). A rate
	// outside them is stored as unknown. math.NaN() means no bound; the zero
	// value is a bound of 0, so set NaN explicitly.
	Min, Max float64
	// Bits is the counter width for Counter: 32 or 64 (0 means 64). A 64-bit
	// counter that goes backwards is a discontinuity; a 32-bit counter that
	// goes backwards has wrapped, if the implied rate is within Max.
	Bits int
}

// Archive is one round-robin archive: Rows rows, each consolidating Steps
// primary data points with CF. XFF is the fraction of unknown primary data
// points a row may hold and still be known.
type Archive struct {
	CF    CF
	Steps int
	Rows  int
	XFF   float64
}

// Spec is the shape of a series.
type Spec struct {
	// Step is the length of one primary data point; whole seconds.
	Step time.Duration
	// Heartbeat is the longest gap between updates before the interval is
	// unknown; whole seconds; 0 means 2 × Step.
	Heartbeat time.Duration
	DS        []DS
	Archives  []Archive
	// HoltWinters, when not nil, adds RRDtool's aberrant behaviour
	// detection to every data source, learning each step's rate (the
	// primary data point, as the one-step archives keep it) in the same
	// transaction as the update; FetchHoltWinters reads its rows. Step p
	// of the series (p = Unix time / Step) goes to row p mod Period of the
	// seasonal arrays, so that every series' rows fall on the same times
	// of day: SeasonalRow and DeviationRow are ignored (normalized to 0).
	HoltWinters *HWParams
	// HWRows is how many steps of HWPREDICT, DEVPREDICT and FAILURES rows
	// are kept; 0 means two periods. Only with HoltWinters.
	HWRows int
}

// DefaultArchives is mrtgo's default retention for step: 31 days of
// one-step rows (8928 at 5 minutes, enough for an exact monthly 95th
// percentile), and AVERAGE and MAX at 6, 24 and 288 steps (MRTG's 30
// minutes, 2 hours and 1 day at 5 minutes) with 800 rows each, or more
// when the step is shorter than 5 minutes so that the spans stay MRTG's.
func DefaultArchives(step time.Duration) []Archive {
	if step <= 0 {
		step = 5 * time.Minute
	}
	rows := func(span time.Duration, steps int) int {
		n := int(span / (step * time.Duration(steps)))
		if n < 800 {
			n = 800
		}
		return n
	}
	fine := int((31 * 24 * time.Hour) / step)
	var as []Archive
	as = append(as, Archive{CF: Average, Steps: 1, Rows: fine, XFF: 0.5},
		Archive{CF: Max, Steps: 1, Rows: fine, XFF: 0.5})
	for _, s := range []struct {
		steps int
		span  time.Duration
	}{
		{6, 800 * 30 * time.Minute},
		{24, 800 * 2 * time.Hour},
		{288, 800 * 24 * time.Hour},
	} {
		as = append(as, Archive{CF: Average, Steps: s.steps, Rows: rows(s.span, s.steps), XFF: 0.5},
			Archive{CF: Max, Steps: s.steps, Rows: rows(s.span, s.steps), XFF: 0.5})
	}
	return as
}

// DefaultHoltWinters is mrtgo's Holt-Winters for a series of step: a
// season of one day (86400 s / step rows, at least 2), and the
// parameters of RRDtool's example of aberrant behaviour detection
// (alpha 0.1, beta 0.0035, gamma and the deviations' gamma 0.1), with its
// defaults for the rest: a band of ±2 deviations, a failure at 7
// violations of 9 steps, smoothing over 5 % of the day.
func DefaultHoltWinters(step time.Duration) *HWParams {
	if step <= 0 {
		step = 5 * time.Minute
	}
	return &HWParams{Alpha: 0.1, Beta: 0.0035, Gamma: 0.1, Period: max(int(24*time.Hour/step), 2)}
}

// normalize fills defaults and checks the spec.
func (s Spec) normalize() (Spec, error) {
	n := s
	if s.Step < time.Second || s.Step%time.Second != 0 {
		return n, fmt.Errorf("step %v: must be a positive whole number of seconds", s.Step)
	}
	if n.Heartbeat == 0 {
		n.Heartbeat = 2 * s.Step
	}
	if n.Heartbeat < time.Second || n.Heartbeat%time.Second != 0 {
		return n, fmt.Errorf("heartbeat %v: must be a positive whole number of seconds", s.Heartbeat)
	}
	if len(s.DS) == 0 || len(s.DS) > 255 {
		return n, fmt.Errorf("data sources: need 1 to 255, have %d", len(s.DS))
	}
	n.DS = append([]DS(nil), s.DS...)
	seen := map[string]bool{}
	for i := range n.DS {
		d := &n.DS[i]
		if d.Name == "" || seen[d.Name] {
			return n, fmt.Errorf("data source %d: name %q empty or repeated", i, d.Name)
		}
		seen[d.Name] = true
		if d.Type < Gauge || d.Type > Absolute {
			return n, fmt.Errorf("data source %s: unknown type %d", d.Name, int(d.Type))
		}
		switch d.Bits {
		case 0:
			d.Bits = 64
		case 32, 64:
		default:
			return n, fmt.Errorf("data source %s: bits %d: must be 32 or 64", d.Name, d.Bits)
		}
		if !math.IsNaN(d.Min) && !math.IsNaN(d.Max) && d.Max <= d.Min {
			return n, fmt.Errorf("data source %s: max %g not above min %g (use math.NaN() for no bound)", d.Name, d.Max, d.Min)
		}
	}
	if len(s.Archives) == 0 || len(s.Archives) > 250 {
		return n, fmt.Errorf("archives: need 1 to 250, have %d", len(s.Archives))
	}
	n.Archives = append([]Archive(nil), s.Archives...)
	for i, a := range n.Archives {
		if a.CF < Average || a.CF > Last {
			return n, fmt.Errorf("archive %d: unknown consolidation function %d", i, int(a.CF))
		}
		if a.Steps < 1 || a.Rows < 1 || a.Steps > 1<<20 || a.Rows > 1<<24 {
			return n, fmt.Errorf("archive %d: steps %d and rows %d must be positive", i, a.Steps, a.Rows)
		}
		if !(a.XFF >= 0 && a.XFF < 1) {
			return n, fmt.Errorf("archive %d: xff %g must be in [0, 1)", i, a.XFF)
		}
	}
	if n.HoltWinters == nil {
		if n.HWRows != 0 {
			return n, fmt.Errorf("holt-winters rows %d without holt-winters", n.HWRows)
		}
		return n, nil
	}
	hw, err := n.HoltWinters.normalize()
	if err != nil {
		return n, err
	}
	hw.SeasonalRow, hw.DeviationRow = 0, 0
	n.HoltWinters = &hw
	if n.HWRows == 0 {
		n.HWRows = 2 * hw.Period
	}
	if n.HWRows < 1 || n.HWRows > 1<<24 {
		return n, fmt.Errorf("holt-winters rows %d: must be 1 to %d", n.HWRows, 1<<24)
	}
	return n, nil
}

// clone returns a copy of s that shares nothing with it.
func (s Spec) clone() Spec {
	c := s
	c.DS = slices.Clone(s.DS)
	c.Archives = slices.Clone(s.Archives)
	if s.HoltWinters != nil {
		hw := *s.HoltWinters
		c.HoltWinters = &hw
	}
	return c
}

// hwLayout is what of a spec's Holt-Winters decides its storage: the
// period of the seasonal rows and the rows of results kept; zero without.
func (s Spec) hwLayout() (period, rows int) {
	if s.HoltWinters == nil {
		return 0, 0
	}
	return s.HoltWinters.Period, s.HWRows
}

// sameShape reports whether a and b differ at most in their DS bounds and
// counter widths and Holt-Winters parameters other than the period: how
// later updates are read, not how rows are kept.
func sameShape(a, b Spec) bool {
	if a.Step != b.Step || a.Heartbeat != b.Heartbeat || len(a.DS) != len(b.DS) || len(a.Archives) != len(b.Archives) {
		return false
	}
	ap, ar := a.hwLayout()
	bp, br := b.hwLayout()
	if ap != bp || ar != br {
		return false
	}
	for i := range a.DS {
		x, y := a.DS[i], b.DS[i]
		if x.Name != y.Name || x.Type != y.Type {
			return false
		}
	}
	for i := range a.Archives {
		if a.Archives[i] != b.Archives[i] {
			return false
		}
	}
	return true
}

// Errors returned by the package.
var (
	// ErrLocked means another process holds the database open for writing
	// and did not let go within Options.Timeout.
	ErrLocked = errors.New("database locked by another process")
	// ErrNoSeries means the named series does not exist.
	ErrNoSeries = errors.New("no such series")
	// ErrSpecMismatch means Create found the series with another shape.
	ErrSpecMismatch = errors.New("series exists with a different spec")
	// ErrNotAfter means an update is not later than the series' last update.
	ErrNotAfter = errors.New("update not after last update")
	// ErrReadOnly means a write was attempted on a read-only database.
	ErrReadOnly = errors.New("database opened read-only")
	// ErrBadValue means an update's values do not fit the series.
	ErrBadValue = errors.New("bad update value")
	// ErrNoHoltWinters means a series has no Holt-Winters (Spec.HoltWinters).
	ErrNoHoltWinters = errors.New("series has no holt-winters")
)
