package rrd

import (
	"fmt"
	"math"
	"strconv"
)

// Value is one input reading: an exact unsigned or signed integer (counters),
// a float (gauges), or unknown. The zero Value is unknown.
type Value struct {
	kind valueKind
	bits uint64
}

type valueKind uint8

const (
	kindUnknown valueKind = iota
	kindUint
	kindInt
	kindFloat
)

// Uint returns an exact unsigned reading, as SNMP counters arrive.
func Uint(v uint64) Value { return Value{kindUint, v} }

// Int returns an exact signed reading (for Derive).
func Int(v int64) Value { return Value{kindInt, uint64(v)} }

// Float returns a floating-point reading; NaN gives Unknown.
func Float(f float64) Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}
	}
	return Value{kindFloat, math.Float64bits(f)}
}

// Unknown returns the unknown reading.
func Unknown() Value { return Value{} }

// IsUnknown reports whether v is unknown.
func (v Value) IsUnknown() bool { return v.kind == kindUnknown }

// Float64 returns v as a float64 (NaN when unknown).
func (v Value) Float64() float64 {
	switch v.kind {
	case kindUint:
		return float64(v.bits)
	case kindInt:
		return float64(int64(v.bits))
	case kindFloat:
		return math.Float64frombits(v.bits)
	}
	return math.NaN()
}

// String formats v as RRDtool's update syntax would ("U" when unknown).
func (v Value) String() string {
	switch v.kind {
	case kindUint:
		return strconv.FormatUint(v.bits, 10)
	case kindInt:
		return strconv.FormatInt(int64(v.bits), 10)
	case kindFloat:
		return strconv.FormatFloat(math.Float64frombits(v.bits), 'g', -1, 64)
	}
	return "U"
}

// isInteger reports whether v is an exact integer reading.
func (v Value) isInteger() bool { return v.kind == kindUint || v.kind == kindInt }

// diff returns v - w as exactly as float64 allows (both integers: the exact
// difference rounded once, as RRDtool's string arithmetic does).
func diff(v, w Value) float64 {
	if v.kind == kindUint && w.kind == kindUint {
		if v.bits >= w.bits {
			return float64(v.bits - w.bits)
		}
		return -float64(w.bits - v.bits)
	}
	if v.isInteger() && w.isInteger() {
		a, aok := asInt64(v)
		b, bok := asInt64(w)
		if aok && bok {
			d := a - b
			if (a >= 0) == (b >= 0) || (d >= 0) == (a >= 0) {
				return float64(d)
			}
		}
	}
	return v.Float64() - w.Float64()
}

func asInt64(v Value) (int64, bool) {
	if v.kind == kindInt {
		return int64(v.bits), true
	}
	if v.bits > math.MaxInt64 {
		return 0, false
	}
	return int64(v.bits), true
}

// checkValue reports whether v is acceptable input for a data source of type t.
func checkValue(t DSType, v Value) error {
	if v.kind == kindUnknown {
		return nil
	}
	switch t {
	case Counter:
		if v.kind == kindUint || (v.kind == kindInt && int64(v.bits) >= 0) {
			return nil
		}
		return fmt.Errorf("%w: counter needs a non-negative integer, got %s", ErrBadValue, v)
	case Derive:
		if v.isInteger() {
			return nil
		}
		return fmt.Errorf("%w: derive needs an integer, got %s", ErrBadValue, v)
	}
	return nil
}
