package rrd

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Holt-Winters aberrant behaviour detection, as RRDtool 1.7 does it for
// one data source with the archives HWPREDICT (or MHWPREDICT), SEASONAL,
// DEVSEASONAL, DEVPREDICT and FAILURES (rrd_hw.c, rrd_hw_update.c,
// rrd_hw_math.c, and the scheduling in rrd_update.c), checked step by step
// against rrdtool itself (holtwinters_test.go).
//
// A HoltWinters is fed one primary data point (a step's rate) at a time.
// It keeps a baseline (intercept) and slope, one seasonal coefficient and
// one seasonal deviation per row of the period, and a window of recent
// violations. Each step yields what each archive's row holds:
//
//   - HWPREDICT: the prediction for this step, made before the step's
//     value is learned: intercept + slope × steps since the last known
//     value + seasonal coefficient (MHWPREDICT: (intercept + slope × n) ×
//     coefficient). Unknown until the first period has been seen.
//   - SEASONAL: the row's seasonal coefficient after learning the value.
//   - DEVSEASONAL: the row's deviation after learning: gamma × |prediction
//     − value| + (1 − gamma) × the previous deviation of that row.
//   - DEVPREDICT: the deviation the row had before the step (the width of
//     the band the value was judged against).
//   - FAILURES: 1 when at least Threshold of the last Window steps were
//     violations: a value above prediction + DeltaPos × deviation, below
//     prediction − DeltaNeg × deviation, or unknown once a deviation is
//     known.
//
// Initialisation is RRDtool's: the first known value becomes the intercept
// with a slope of 0; the first period's coefficients are value − intercept
// (value / intercept) and predictions start with the second period; the
// first deviation of a row is |prediction − value|. An unknown value
// updates nothing (the intercept's step count grows, so the slope is
// applied over the gap), and its rows keep their old coefficient and
// deviation.
//
// Each time either periodic array wraps during the first periods
// (burn-in), and after that each time either array writes its row
// SmoothRow, RRDtool smooths both arrays with a centred moving average
// over SmoothingWindow of the period and moves the seasonal array's mean
// into the intercept. It does so at the end of the update, after the
// coefficient and deviation the next step will use have been read: that
// step still sees them unsmoothed. All of that is reproduced, with the
// rows of the two arrays where rrdtool keeps them, since the rows decide
// when the smoother runs.
//
// One value is one update call of rrdtool, covering one step. rrdtool
// treats an update spanning more than two steps as a bulk update (its
// rows unknown, the arrays skipped ahead, the violations erased) and
// smooths at most once per call; here each step is learned, unknown if
// its value is.

// HWParams are the parameters of Holt-Winters aberrant behaviour detection.
// The zero values of the optional fields mean RRDtool's defaults.
type HWParams struct {
	// Multiplicative selects MHWPREDICT: seasonal coefficients multiply
	// the baseline instead of adding to it.
	Multiplicative bool
	// Alpha (baseline) and Beta (slope) are the smoothing parameters of
	// HWPREDICT: Alpha in (0, 1), Beta in [0, 1].
	Alpha, Beta float64
	// Gamma adapts the seasonal coefficients, in (0, 1); 0 means Alpha,
	// as for the SEASONAL archive rrdtool creates with HWPREDICT.
	Gamma float64
	// DevGamma adapts the seasonal deviations, in (0, 1); 0 means Gamma.
	DevGamma float64
	// Period is the length of a season in steps (288 for a day of
	// five-minute steps); at least 2.
	Period int
	// SmoothingWindow is the fraction of the period the smoother averages
	// over; 0 means RRDtool's 0.05, a negative value turns smoothing off
	// (as for an MHWPREDICT archive's implicit arrays in rrdtool 1.7).
	// The smoother runs only when the window spans at least 3 rows.
	SmoothingWindow float64
	// DeltaPos and DeltaNeg scale the deviation into the band a value must
	// stay within; 0 means 2.
	DeltaPos, DeltaNeg float64
	// Threshold violations within the last Window steps are a failure;
	// both 0 mean 7 of 9. Window is at most 28.
	Threshold, Window int
	// SmoothRow is the row of the period after whose update the smoother
	// runs once burn-in is over (rrdtool: a hash of the file name modulo
	// the period, seasonal_smooth_idx in its dump).
	SmoothRow int
	// SeasonalRow and DeviationRow are the rows of the seasonal and the
	// deviation arrays the first step goes to (rrdtool picks them at
	// random when it creates a file: its info's cur_row + 1). They decide
	// where the smoother's window wraps and when burn-in ends.
	SeasonalRow, DeviationRow int
}

// burnInCycles is RRDtool's BURNIN_CYCLES: the smoother runs at each of
// the first wraps of an array, then once a period at SmoothRow.
const burnInCycles = 3

// maxFailureWindow is RRDtool's MAX_FAILURES_WINDOW_LEN.
const maxFailureWindow = 28

func (p HWParams) normalize() (HWParams, error) {
	n := p
	if !(p.Alpha > 0 && p.Alpha < 1) {
		return n, fmt.Errorf("holt-winters alpha %g: must be in (0, 1)", p.Alpha)
	}
	if !(p.Beta >= 0 && p.Beta <= 1) {
		return n, fmt.Errorf("holt-winters beta %g: must be in [0, 1]", p.Beta)
	}
	if n.Gamma == 0 {
		n.Gamma = n.Alpha
	}
	if n.DevGamma == 0 {
		n.DevGamma = n.Gamma
	}
	if !(n.Gamma > 0 && n.Gamma < 1) || !(n.DevGamma > 0 && n.DevGamma < 1) {
		return n, fmt.Errorf("holt-winters gamma %g, deviation gamma %g: must be in (0, 1)", n.Gamma, n.DevGamma)
	}
	if p.Period < 2 || p.Period > 1<<20 {
		return n, fmt.Errorf("holt-winters period %d: must be 2 to %d rows", p.Period, 1<<20)
	}
	switch {
	case n.SmoothingWindow == 0:
		n.SmoothingWindow = 0.05
	case n.SmoothingWindow < 0:
		n.SmoothingWindow = -1
	case n.SmoothingWindow > 1:
		return n, fmt.Errorf("holt-winters smoothing window %g: must be at most 1", p.SmoothingWindow)
	}
	if n.DeltaPos == 0 {
		n.DeltaPos = 2
	}
	if n.DeltaNeg == 0 {
		n.DeltaNeg = 2
	}
	if !(n.DeltaPos > 0) || !(n.DeltaNeg > 0) {
		return n, fmt.Errorf("holt-winters deltas %g, %g: must be positive", p.DeltaPos, p.DeltaNeg)
	}
	if n.Window == 0 && n.Threshold == 0 {
		n.Window, n.Threshold = 9, 7
	}
	if n.Window < 1 || n.Window > maxFailureWindow || n.Threshold < 1 || n.Threshold > n.Window {
		return n, fmt.Errorf("holt-winters failure threshold %d of window %d: need 1 ≤ threshold ≤ window ≤ %d", p.Threshold, p.Window, maxFailureWindow)
	}
	for _, r := range []int{p.SmoothRow, p.SeasonalRow, p.DeviationRow} {
		if r < 0 || r >= p.Period {
			return n, fmt.Errorf("holt-winters row %d: must be in [0, period %d)", r, p.Period)
		}
	}
	return n, nil
}

// smoothOffset is the half-width of the smoother's window in rows; 0 means
// no smoothing (rrd_hw.c: floor(window / 2 × rows)).
func (p HWParams) smoothOffset() int {
	if p.SmoothingWindow <= 0 {
		return 0
	}
	return int(math.Floor(p.SmoothingWindow / 2 * float64(p.Period)))
}

// HWRow is what one step writes to each Holt-Winters archive. Unknown
// values are NaN.
type HWRow struct {
	Prediction  float64 // HWPREDICT / MHWPREDICT
	Seasonal    float64 // SEASONAL, before any smoothing at the end of the step
	DevSeasonal float64 // DEVSEASONAL, likewise
	Deviation   float64 // DEVPREDICT
	Failure     bool    // FAILURES
}

// HWState is the whole state of a HoltWinters, as RRDtool keeps it in its
// archives' rows and consolidation scratch areas. Seasonal and Deviation
// are in row order; their Row fields are the next row each step writes.
type HWState struct {
	Intercept, LastIntercept float64
	Slope, LastSlope         float64
	NullCount, LastNullCount int64

	Seasonal                     []float64
	SeasonalRow                  int
	SeasonalNext, SeasonalLast   float64 // coefficient of the next row, as read; of the last row
	SeasonalBurnIn               int
	Deviation                    []float64
	DeviationRow                 int
	DeviationNext, DeviationLast float64
	DeviationBurnIn              int

	// Violations holds the last Window violations, the newest first.
	Violations []bool
}

// HoltWinters is Holt-Winters aberrant behaviour detection for one data
// source. It is not safe for concurrent use.
type HoltWinters struct {
	p HWParams
	s HWState
}

// NewHoltWinters returns a detector in RRDtool's initial state.
func NewHoltWinters(p HWParams) (*HoltWinters, error) {
	n, err := p.normalize()
	if err != nil {
		return nil, err
	}
	nan := math.NaN()
	h := &HoltWinters{p: n, s: HWState{
		Intercept: nan, LastIntercept: nan, Slope: nan, LastSlope: nan,
		NullCount: 1, LastNullCount: 1,
		Seasonal: make([]float64, n.Period), SeasonalRow: n.SeasonalRow,
		SeasonalNext: nan, SeasonalLast: nan, SeasonalBurnIn: 1,
		Deviation: make([]float64, n.Period), DeviationRow: n.DeviationRow,
		DeviationNext: nan, DeviationLast: nan, DeviationBurnIn: 1,
		Violations: make([]bool, n.Window),
	}}
	for i := range h.s.Seasonal {
		h.s.Seasonal[i], h.s.Deviation[i] = nan, nan
	}
	return h, nil
}

// Params returns the parameters, defaults filled in.
func (h *HoltWinters) Params() HWParams { return h.p }

// State returns a copy of the state.
func (h *HoltWinters) State() HWState {
	s := h.s
	s.Seasonal = append([]float64(nil), s.Seasonal...)
	s.Deviation = append([]float64(nil), s.Deviation...)
	s.Violations = append([]bool(nil), s.Violations...)
	return s
}

// RestoreHoltWinters returns a detector with parameters p in state s, as
// returned by State.
func RestoreHoltWinters(p HWParams, s HWState) (*HoltWinters, error) {
	h, err := NewHoltWinters(p)
	if err != nil {
		return nil, err
	}
	P := h.p.Period
	if len(s.Seasonal) != P || len(s.Deviation) != P || len(s.Violations) != h.p.Window ||
		s.SeasonalRow < 0 || s.SeasonalRow >= P || s.DeviationRow < 0 || s.DeviationRow >= P {
		return nil, fmt.Errorf("restore holt-winters: state does not fit period %d and window %d", P, h.p.Window)
	}
	h.s = s
	h.s.Seasonal = append([]float64(nil), s.Seasonal...)
	h.s.Deviation = append([]float64(nil), s.Deviation...)
	h.s.Violations = append([]bool(nil), s.Violations...)
	return h, nil
}

// hwArrays is where a detector's seasonal coefficients and deviations are
// kept, by row of the period: a HoltWinters keeps them in its HWState, a
// series in the store's rows of its group (hwrows.go).
type hwArrays interface {
	seasonal(row int) float64
	setSeasonal(row int, v float64)
	deviation(row int) float64
	setDeviation(row int, v float64)
	// smooth applies f to the whole arrays, in row order, and keeps what
	// f leaves in them.
	smooth(f func(seasonal, deviation []float64))
}

// stateArrays are the arrays of an HWState.
type stateArrays struct{ s *HWState }

func (a stateArrays) seasonal(row int) float64        { return a.s.Seasonal[row] }
func (a stateArrays) setSeasonal(row int, v float64)  { a.s.Seasonal[row] = v }
func (a stateArrays) deviation(row int) float64       { return a.s.Deviation[row] }
func (a stateArrays) setDeviation(row int, v float64) { a.s.Deviation[row] = v }
func (a stateArrays) smooth(f func(seasonal, deviation []float64)) {
	f(a.s.Seasonal, a.s.Deviation)
}

// predict is hw_additive_calculate_prediction and its multiplicative twin.
func (p *HWParams) predict(intercept, slope float64, n int64, coef float64) float64 {
	if p.Multiplicative {
		return (intercept + slope*float64(n)) * coef
	}
	return intercept + slope*float64(n) + coef
}

// initSeasonality is hw_*_init_seasonality.
func (p *HWParams) initSeasonality(v, intercept float64) float64 {
	if p.Multiplicative {
		if intercept <= 0 {
			return math.NaN()
		}
		return v / intercept
	}
	return v - intercept
}

// Observe learns the primary data point x of the next step (NaN if
// unknown) and returns what the step writes to each archive.
func (h *HoltWinters) Observe(x float64) HWRow {
	return h.p.observe(&h.s, stateArrays{&h.s}, x)
}

// observe is one step of a detector with normalized parameters p, state s
// (whose Seasonal and Deviation are not read: a holds the arrays).
func (p *HWParams) observe(s *HWState, a hwArrays, x float64) HWRow {
	P := p.Period

	// rrd_update.c do_schedule_smooth, evaluated before the rows are
	// written, for the seasonal then the deviation array.
	smooth := false
	for _, a := range []struct {
		row    int
		burnIn *int
	}{{s.SeasonalRow, &s.SeasonalBurnIn}, {s.DeviationRow, &s.DeviationBurnIn}} {
		if *a.burnIn > burnInCycles {
			if a.row == p.SmoothRow {
				smooth = true
			}
		} else if a.row == 0 {
			*a.burnIn++
			smooth = true
		}
	}

	var out HWRow

	// update_hwpredict
	s.LastIntercept, s.LastSlope, s.LastNullCount = s.Intercept, s.Slope, s.NullCount
	coef := s.SeasonalNext
	if math.IsNaN(s.Intercept) || math.IsNaN(s.Slope) || math.IsNaN(coef) {
		out.Prediction = math.NaN()
		if math.IsNaN(s.Intercept) && !math.IsNaN(x) {
			s.Intercept, s.LastIntercept = x, x
			s.Slope, s.LastSlope = 0, 0
			s.NullCount, s.LastNullCount = 1, 1
		}
	} else {
		out.Prediction = p.predict(s.Intercept, s.Slope, s.NullCount, coef)
		if math.IsNaN(x) {
			s.NullCount++
		} else {
			level := s.Intercept + s.Slope*float64(s.NullCount)
			if p.Multiplicative {
				if coef <= 0 {
					s.Intercept = math.NaN()
				} else {
					s.Intercept = p.Alpha*(x/coef) + (1-p.Alpha)*level
				}
			} else {
				s.Intercept = p.Alpha*(x-coef) + (1-p.Alpha)*level
			}
			s.Slope = p.Beta*(s.Intercept-s.LastIntercept) + (1-p.Beta)*s.Slope
			s.NullCount = 1
		}
	}

	// update_seasonal (HWPREDICT already updated)
	seasonal := s.SeasonalNext
	s.SeasonalLast = seasonal
	s.SeasonalNext = a.seasonal((s.SeasonalRow + 1) % P)
	switch {
	case math.IsNaN(x):
		out.Seasonal = seasonal
	case math.IsNaN(s.LastIntercept) || math.IsNaN(s.LastSlope):
		out.Seasonal = math.NaN()
	case math.IsNaN(seasonal):
		out.Seasonal = p.initSeasonality(x, s.LastIntercept)
	case p.Multiplicative:
		if s.Intercept <= 0 {
			out.Seasonal = math.NaN()
		} else {
			out.Seasonal = p.Gamma*(x/s.Intercept) + (1-p.Gamma)*seasonal
		}
	default:
		out.Seasonal = p.Gamma*(x-s.Intercept) + (1-p.Gamma)*seasonal
	}
	a.setSeasonal(s.SeasonalRow, out.Seasonal)
	s.SeasonalRow = (s.SeasonalRow + 1) % P

	// update_devseasonal (HWPREDICT and SEASONAL already updated)
	s.DeviationLast = s.DeviationNext
	s.DeviationNext = a.deviation((s.DeviationRow + 1) % P)
	coef = s.SeasonalLast
	if math.IsNaN(s.LastIntercept) || math.IsNaN(s.LastSlope) || math.IsNaN(coef) {
		out.DevSeasonal = math.NaN()
	} else {
		pred := p.predict(s.LastIntercept, s.LastSlope, s.LastNullCount, coef)
		switch {
		case math.IsNaN(x):
			out.DevSeasonal = s.DeviationLast
		case math.IsNaN(s.DeviationLast):
			out.DevSeasonal = math.Abs(pred - x)
		default:
			out.DevSeasonal = p.DevGamma*math.Abs(pred-x) + (1-p.DevGamma)*s.DeviationLast
		}
	}
	a.setDeviation(s.DeviationRow, out.DevSeasonal)
	s.DeviationRow = (s.DeviationRow + 1) % P

	// update_devpredict (DEVSEASONAL already updated)
	out.Deviation = s.DeviationLast

	// update_failures (all three already updated)
	violation := false
	if dev := s.DeviationLast; !math.IsNaN(dev) {
		pred := p.predict(s.LastIntercept, s.LastSlope, s.LastNullCount, s.SeasonalLast)
		violation = math.IsNaN(x) || x > pred+p.DeltaPos*dev || x < pred-p.DeltaNeg*dev
	}
	copy(s.Violations[1:], s.Violations[:len(s.Violations)-1])
	s.Violations[0] = violation
	count := 0
	for _, v := range s.Violations {
		if v {
			count++
		}
	}
	out.Failure = count >= p.Threshold

	// smooth_all_rras runs at the end of the update, on every periodic
	// array, whichever asked for it.
	if smooth {
		a.smooth(func(seas, dev []float64) {
			if baseline, ok := p.smoothArray(seas); ok {
				for i, v := range seas {
					seas[i] = p.initSeasonality(v, baseline)
				}
				s.Intercept += baseline
			}
			p.smoothArray(dev)
		})
	}
	return out
}

// smoothArray is rrd_hw.c's apply_smoother on one array: each row becomes
// the mean of the 2×offset+1 rows centred on it, the window wrapping around
// the period, all read from the array as it was before smoothing. The sum
// is kept running in rrdtool's order (add the row entering the window,
// subtract the one leaving it), so the results agree to the last bit. It
// returns the mean of the smoothed rows, and false (leaving a untouched)
// while any row is unknown or the window is under 3 rows.
func (p *HWParams) smoothArray(a []float64) (float64, bool) {
	off := p.smoothOffset()
	if off == 0 {
		return 0, false
	}
	for _, v := range a {
		if math.IsNaN(v) {
			return 0, false
		}
	}
	P := len(a)
	at := func(i int) int { return ((i % P) + P) % P }
	orig := append([]float64(nil), a...)
	sum := 0.0
	for i := -off; i < off; i++ {
		sum += orig[at(i)]
	}
	baseline := 0.0
	for c := 0; c < P; c++ {
		sum += orig[at(c+off)]
		a[c] = sum / float64(2*off+1)
		baseline += a[c]
		sum -= orig[at(c-off)]
	}
	return baseline / float64(P), true
}

// hwStateVersion is the first byte of an encoded HWState.
const hwStateVersion = 1

// MarshalBinary encodes the state, for keeping it beside a series' other
// update state: a version byte, little-endian float64s and integers, the
// violations as bits.
func (s HWState) MarshalBinary() ([]byte, error) {
	P, W := len(s.Seasonal), len(s.Violations)
	if len(s.Deviation) != P {
		return nil, fmt.Errorf("encode holt-winters state: %d seasonal rows, %d deviation rows", P, len(s.Deviation))
	}
	b := make([]byte, 0, 1+4+4+8*(12+2*P)+(W+7)/8)
	b = append(b, hwStateVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(P))
	b = binary.LittleEndian.AppendUint32(b, uint32(W))
	f := func(v float64) { b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v)) }
	for _, v := range []float64{s.Intercept, s.LastIntercept, s.Slope, s.LastSlope,
		s.SeasonalNext, s.SeasonalLast, s.DeviationNext, s.DeviationLast} {
		f(v)
	}
	for _, v := range []int64{s.NullCount, s.LastNullCount,
		int64(s.SeasonalRow) | int64(s.SeasonalBurnIn)<<32, int64(s.DeviationRow) | int64(s.DeviationBurnIn)<<32} {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	for _, v := range s.Seasonal {
		f(v)
	}
	for _, v := range s.Deviation {
		f(v)
	}
	bits := make([]byte, (W+7)/8)
	for i, v := range s.Violations {
		if v {
			bits[i/8] |= 1 << (i % 8)
		}
	}
	return append(b, bits...), nil
}

// UnmarshalBinary decodes a state encoded by MarshalBinary.
func (s *HWState) UnmarshalBinary(data []byte) error {
	if len(data) < 9 || data[0] != hwStateVersion {
		return fmt.Errorf("decode holt-winters state: not a version %d state", hwStateVersion)
	}
	P, W := int(binary.LittleEndian.Uint32(data[1:])), int(binary.LittleEndian.Uint32(data[5:]))
	if P > 1<<20 || W > maxFailureWindow || len(data) != 9+8*(12+2*P)+(W+7)/8 {
		return fmt.Errorf("decode holt-winters state: %d bytes for period %d and window %d", len(data), P, W)
	}
	d := data[9:]
	u := func() uint64 { v := binary.LittleEndian.Uint64(d); d = d[8:]; return v }
	f := func() float64 { return math.Float64frombits(u()) }
	var n HWState
	n.Intercept, n.LastIntercept, n.Slope, n.LastSlope = f(), f(), f(), f()
	n.SeasonalNext, n.SeasonalLast, n.DeviationNext, n.DeviationLast = f(), f(), f(), f()
	n.NullCount, n.LastNullCount = int64(u()), int64(u())
	sr, dr := u(), u()
	n.SeasonalRow, n.SeasonalBurnIn = int(uint32(sr)), int(sr>>32)
	n.DeviationRow, n.DeviationBurnIn = int(uint32(dr)), int(dr>>32)
	n.Seasonal, n.Deviation = make([]float64, P), make([]float64, P)
	for i := range n.Seasonal {
		n.Seasonal[i] = f()
	}
	for i := range n.Deviation {
		n.Deviation[i] = f()
	}
	n.Violations = make([]bool, W)
	for i := range n.Violations {
		n.Violations[i] = d[i/8]&(1<<(i%8)) != 0
	}
	*s = n
	return nil
}
