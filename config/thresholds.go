package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Thresholds are the limits on an interface's rates that call for help, MRTG's
// ThreshMaxI/O and ThreshMinI/O. They are set in [thresholds] for every interface, in
// a device's thresholds table for its interfaces, and in its interface_thresholds
// table for one interface; the most specific setting of each limit wins.
type Thresholds struct {
	InMax, OutMax Limit // rate above which the interface is "exceeded"
	InMin, OutMin Limit // rate below which the interface is "exceeded"
	// Hysteresis is the fraction of a limit the rate must move back past it before the
	// interface counts as recovered (0.05: a 100M maximum recovers below 95M), so that
	// a rate hovering at the limit does not call for help at every step.
	Hysteresis float64
}

// Limit is one threshold: bits/s, or a percentage of the interface speed.
type Limit struct {
	Set     bool
	Value   float64 // bits/s, or percent when Percent
	Percent bool
}

// Bits returns the limit in bits/s for an interface of speed bits/s, and false when it
// is not set or is a percentage of an unknown speed.
func (l Limit) Bits(speed float64) (float64, bool) {
	switch {
	case !l.Set:
		return 0, false
	case l.Percent && speed <= 0:
		return 0, false
	case l.Percent:
		return l.Value / 100 * speed, true
	}
	return l.Value, true
}

// Any reports whether any limit is set.
func (t Thresholds) Any() bool { return t.InMax.Set || t.OutMax.Set || t.InMin.Set || t.OutMin.Set }

// Alert is how mrtgo calls for help when an interface crosses a threshold: a command
// run with the facts in its environment (MRTGO_DEVICE, MRTGO_INTERFACE,
// MRTGO_DIRECTION, MRTGO_BOUND, MRTGO_VALUE, MRTGO_THRESHOLD, MRTGO_STATE, MRTGO_TIME).
type Alert struct {
	Command string        // run with /bin/sh -c; "" logs only
	Timeout time.Duration // the command is killed after it
}

// thresholdsFile is a thresholds table as written.
type thresholdsFile struct {
	InMax      *limit   `toml:"in_max"`
	OutMax     *limit   `toml:"out_max"`
	InMin      *limit   `toml:"in_min"`
	OutMin     *limit   `toml:"out_min"`
	Hysteresis *percent `toml:"hysteresis"`
}

// globalThresholdsFile is [thresholds]: the limits and the alert command.
type globalThresholdsFile struct {
	thresholdsFile
	Command *string   `toml:"command"`
	Timeout *duration `toml:"command_timeout"`
}

// limit is "90%" or a rate as ParseSpeed reads it ("800M", 1000000). A bad value does
// not stop the decoder: it is kept in err and reported with the others.
type limit struct {
	Limit
	err error
}

func (l *limit) UnmarshalText(b []byte) error {
	t := strings.TrimSpace(string(b))
	bad := fmt.Errorf("bad threshold %q (use a rate such as \"800M\" or a percentage of the speed such as \"90%%\")", b)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v > 1000 || v != v {
			l.err = bad
			return nil
		}
		l.Limit = Limit{Set: true, Value: v, Percent: true}
		return nil
	}
	v, err := ParseSpeed(t)
	if err != nil {
		l.err = bad
		return nil
	}
	l.Limit = Limit{Set: true, Value: float64(v)}
	return nil
}

// percent is "5%", as a fraction; a bad value is kept in err.
type percent struct {
	v   float64
	err error
}

func (p *percent) UnmarshalText(b []byte) error {
	t, ok := strings.CutSuffix(strings.TrimSpace(string(b)), "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if !ok || err != nil || v < 0 || v >= 100 {
		p.err = fmt.Errorf("bad hysteresis %q (use a percentage below 100%%, e.g. \"5%%\")", b)
		return nil
	}
	p.v = v / 100
	return nil
}

// over returns t with the limits set in f replacing its own. A bad value is reported
// to bad, by its key, and leaves t's.
func (f *thresholdsFile) over(t Thresholds, bad func(field string, err error)) Thresholds {
	if f == nil {
		return t
	}
	for _, x := range []struct {
		key string
		src *limit
		dst *Limit
	}{{"in_max", f.InMax, &t.InMax}, {"out_max", f.OutMax, &t.OutMax}, {"in_min", f.InMin, &t.InMin}, {"out_min", f.OutMin, &t.OutMin}} {
		switch {
		case x.src == nil:
		case x.src.err != nil:
			bad(x.key, x.src.err)
		default:
			*x.dst = x.src.Limit
		}
	}
	switch h := f.Hysteresis; {
	case h == nil:
	case h.err != nil:
		bad("hysteresis", h.err)
	default:
		t.Hysteresis = h.v
	}
	return t
}
