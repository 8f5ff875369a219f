package snmp

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Value is one object as the agent answered it, and when the answer arrived (zero for
// values read by Walk).
type Value struct {
	PDU gosnmp.SnmpPDU
	At  time.Time
}

// AbsentValue stands for an object not asked for, or that the agent lacks.
var AbsentValue = Value{PDU: gosnmp.SnmpPDU{Type: gosnmp.NoSuchObject}}

// Absent reports whether the agent has no such object or instance.
func (v Value) Absent() bool {
	switch v.PDU.Type {
	case gosnmp.NoSuchInstance, gosnmp.NoSuchObject, gosnmp.EndOfMibView, gosnmp.Null:
		return true
	}
	return false
}

// Uint64 reads an unsigned value (Counter32/64, Gauge32, TimeTicks, Integer ≥ 0).
func (v Value) Uint64() (uint64, bool) {
	switch x := v.PDU.Value.(type) {
	case uint64:
		return x, true
	case uint:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case int:
		if x >= 0 {
			return uint64(x), true
		}
	case int64:
		if x >= 0 {
			return uint64(x), true
		}
	}
	return 0, false
}

// Ticks reads a TimeTicks or integer object that some agents lack (ifTableLastChange.0,
// ifNumber.0, ifCounterDiscontinuityTime), cut to 32 bits; false when it is absent or
// not a number.
func (v Value) Ticks() (uint32, bool) {
	if v.Absent() {
		return 0, false
	}
	n, ok := v.Uint64()
	return uint32(n), ok
}

// Text reads an OCTET STRING (DisplayString) value, "" for any other type.
func (v Value) Text() string {
	switch x := v.PDU.Value.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	}
	return ""
}

// MAC reads an ifPhysAddress as interface_key "mac" names it (aa:bb:cc:dd:ee:ff), ""
// unless it is six bytes.
func (v Value) MAC() string {
	b, ok := v.PDU.Value.([]byte)
	if !ok || len(b) != 6 {
		return ""
	}
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

// Counter32 reports whether the value is a Counter32, which wraps at 2^32.
func (v Value) Counter32() bool { return v.PDU.Type == gosnmp.Counter32 }

// Instance is the OID of row index of a table column indexed by one integer.
func Instance(column string, index int) string {
	return column + "." + strconv.Itoa(index)
}

// isInstance reports whether oid is Instance(column, index), leading dots aside,
// without making that string: Rows checks every varbind of a read.
func isInstance(oid, column string, index int) bool {
	oid, column = trimDot(oid), trimDot(column)
	if len(oid) <= len(column) || oid[:len(column)] != column || oid[len(column)] != '.' {
		return false
	}
	var buf [20]byte
	return oid[len(column)+1:] == string(strconv.AppendInt(buf[:0], int64(index), 10))
}

func trimDot(oid string) string { return strings.TrimPrefix(oid, ".") }

// compareOID orders two dotted OIDs (a leading dot or not) as agents order them:
// arc by arc numerically, a prefix before what extends it. Arcs that are not numbers
// compare as strings after every number, so that garbage still has a fixed place.
func compareOID(a, b string) int {
	a, b = trimDot(a), trimDot(b)
	for a != "" && b != "" {
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if c := compareArc(x, y); c != 0 {
			return c
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

func compareArc(x, y string) int {
	n, errX := strconv.ParseUint(x, 10, 64)
	m, errY := strconv.ParseUint(y, 10, 64)
	switch {
	case errX == nil && errY == nil:
		switch {
		case n < m:
			return -1
		case n > m:
			return 1
		}
		return 0
	case errX == nil:
		return -1
	case errY == nil:
		return 1
	}
	return strings.Compare(x, y)
}
