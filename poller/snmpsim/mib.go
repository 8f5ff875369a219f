package snmpsim

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// column is one scalar or one table column of the served MIB. A scalar has
// the single instance 0; a table column has one instance per ifIndex.
type column struct {
	oid    []uint32
	scalar bool
	hc     bool // Counter64: hidden from SNMPv1 and in 32-bit-only mode
	value  func(a *Agent, r *request, pos int) (gosnmp.Asn1BER, any)
}

// request holds what one PDU's values are computed from.
type request struct {
	now      time.Time
	uptime   uint32
	cachePos int
	in, out  uint64
}

func (r *request) octets(a *Agent, pos int) (in, out uint64) {
	if r.cachePos != pos {
		r.in, r.out = a.octets(pos, r.now)
		r.cachePos = pos
	}
	return r.in, r.out
}

// ticks is d in hundredths of a second, as TimeTicks (wrapping).
func ticks(d time.Duration) uint32 {
	if d < 0 {
		return 0
	}
	return uint32(d / (10 * time.Millisecond))
}

func mustOID(s string) []uint32 {
	o, ok := parseOID(s)
	if !ok {
		panic("snmpsim: bad built-in OID " + s)
	}
	return o
}

// mibColumns lists the served objects in lexicographic OID order.
func mibColumns() []column {
	str := func(s string) (gosnmp.Asn1BER, any) { return gosnmp.OctetString, s }
	sys := func(n string, v func(a *Agent, r *request) (gosnmp.Asn1BER, any)) column {
		return column{oid: mustOID(".1.3.6.1.2.1.1." + n), scalar: true,
			value: func(a *Agent, r *request, _ int) (gosnmp.Asn1BER, any) { return v(a, r) }}
	}
	ift := func(n string, v func(a *Agent, r *request, pos int) (gosnmp.Asn1BER, any)) column {
		return column{oid: mustOID(".1.3.6.1.2.1.2.2.1." + n), value: v}
	}
	ifx := func(n string, hc bool, v func(a *Agent, r *request, pos int) (gosnmp.Asn1BER, any)) column {
		return column{oid: mustOID(".1.3.6.1.2.1.31.1.1.1." + n), hc: hc, value: v}
	}
	status := func(a *Agent, _ *request, pos int) (gosnmp.Asn1BER, any) {
		if a.ifs[pos].cfg.Up {
			return gosnmp.Integer, 1
		}
		return gosnmp.Integer, 2
	}
	cols := []column{
		sys("1", func(a *Agent, _ *request) (gosnmp.Asn1BER, any) { return str(a.dev.Descr) }),
		sys("2", func(a *Agent, _ *request) (gosnmp.Asn1BER, any) { return gosnmp.ObjectIdentifier, a.dev.ObjectID }),
		sys("3", func(_ *Agent, r *request) (gosnmp.Asn1BER, any) { return gosnmp.TimeTicks, r.uptime }),
		sys("4", func(a *Agent, _ *request) (gosnmp.Asn1BER, any) { return str(a.dev.Contact) }),
		sys("5", func(a *Agent, _ *request) (gosnmp.Asn1BER, any) { return str(a.dev.Name) }),
		sys("6", func(a *Agent, _ *request) (gosnmp.Asn1BER, any) { return str(a.dev.Location) }),
		{oid: mustOID(".1.3.6.1.2.1.2.1"), scalar: true, value: func(a *Agent, _ *request, _ int) (gosnmp.Asn1BER, any) {
			return gosnmp.Integer, len(a.ifs)
		}},
		ift("1", func(a *Agent, _ *request, pos int) (gosnmp.Asn1BER, any) { return gosnmp.Integer, a.indexes[pos] }),
		ift("2", func(a *Agent, _ *request, pos int) (gosnmp.Asn1BER, any) { return str(a.ifs[pos].descr) }),
		ift("3", func(a *Agent, _ *request, pos int) (gosnmp.Asn1BER, any) { return gosnmp.Integer, a.ifs[pos].ifType }),
		ift("4", func(a *Agent, _ *request, pos int) (gosnmp.Asn1BER, any) { return gosnmp.Integer, a.ifs[pos].mtu }),
		ift("5", func(a *Agent, _ *request, pos int) (gosnmp.Asn1BER, any) {
			return gosnmp.Gauge32, uint32(min(a.ifs[pos].cfg.Speed, 4294967295))
		}),
		ift("6", func(a *Agent, _ *request, pos int) (gosnmp.Asn1BER, any) { return gosnmp.OctetString, a.ifs[pos].mac }),
		ift("7", status),
		ift("8", status),
		ift("9", func(_ *Agent, _ *request, _ int) (gosnmp.Asn1BER, any) { return gosnmp.TimeTicks, uint32(0) }),
		ift("10", func(a *Agent, r *request, pos int) (gosnmp.Asn1BER, any) {
			in, _ := r.octets(a, pos)
			return gosnmp.Counter32, uint32(in)
		}),
		ift("11", func(a *Agent, r *request, pos int) (gosnmp.Asn1BER, any) {
			in, _ := r.octets(a, pos)
			return gosnmp.Counter32, uint32(uint64(float64(in) / a.ifs[pos].inPkt))
		}),
		ift("14", func(a *Agent, r *request, pos int) (gosnmp.Asn1BER, any) {
			in, _ := r.octets(a, pos)
			return gosnmp.Counter32, uint32(in / 7_000_000_000)
		}),
		ift("16", func(a *Agent, r *request, pos int) (gosnmp.Asn1BER, any) {
			_, out := r.octets(a, pos)
			return gosnmp.Counter32, uint32(out)
		}),
		ift("17", func(a *Agent, r *request, pos int) (gosnmp.Asn1BER, any) {
			_, out := r.octets(a, pos)
			return gosnmp.Counter32, uint32(uint64(float64(out) / a.ifs[pos].outPk))
		}),
		ift("20", func(a *Agent, r *request, pos int) (gosnmp.Asn1BER, any) {
			_, out := r.octets(a, pos)
			return gosnmp.Counter32, uint32(out / 11_000_000_000)
		}),
		ifx("1", false, func(a *Agent, _ *request, pos int) (gosnmp.Asn1BER, any) { return str(a.ifs[pos].cfg.Name) }),
		ifx("6", true, func(a *Agent, r *request, pos int) (gosnmp.Asn1BER, any) {
			in, _ := r.octets(a, pos)
			return gosnmp.Counter64, in
		}),
		ifx("10", true, func(a *Agent, r *request, pos int) (gosnmp.Asn1BER, any) {
			_, out := r.octets(a, pos)
			return gosnmp.Counter64, out
		}),
		ifx("15", false, func(a *Agent, _ *request, pos int) (gosnmp.Asn1BER, any) {
			return gosnmp.Gauge32, uint32(min(a.ifs[pos].cfg.Speed/1_000_000, 4294967295))
		}),
		ifx("18", false, func(a *Agent, _ *request, pos int) (gosnmp.Asn1BER, any) { return str(a.ifs[pos].cfg.Alias) }),
		ifx("19", false, func(a *Agent, _ *request, pos int) (gosnmp.Asn1BER, any) {
			c, ok := a.cleared[pos]
			if !ok {
				return gosnmp.TimeTicks, uint32(0)
			}
			return gosnmp.TimeTicks, ticks(c.Sub(a.boot))
		}),
		{oid: mustOID(".1.3.6.1.2.1.31.1.5"), scalar: true, value: func(a *Agent, _ *request, _ int) (gosnmp.Asn1BER, any) {
			if a.tableChange.IsZero() {
				return gosnmp.TimeTicks, uint32(0)
			}
			return gosnmp.TimeTicks, ticks(a.tableChange.Sub(a.boot))
		}},
	}
	slices.SortFunc(cols, func(x, y column) int { return compareOID(x.oid, y.oid) })
	return cols
}

// parseOID parses a dotted OID with or without a leading dot.
func parseOID(s string) ([]uint32, bool) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return nil, false
	}
	out := make([]uint32, 0, 16)
	for part := range strings.SplitSeq(s, ".") {
		v, err := strconv.ParseUint(part, 10, 32)
		if err != nil {
			return nil, false
		}
		out = append(out, uint32(v))
	}
	return out, true
}

func formatOID(o []uint32) string {
	b := make([]byte, 0, 4*len(o))
	for _, v := range o {
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return string(b)
}

func compareOID(x, y []uint32) int {
	for i := range min(len(x), len(y)) {
		if x[i] != y[i] {
			if x[i] < y[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(x) < len(y):
		return -1
	case len(x) > len(y):
		return 1
	}
	return 0
}

func hasPrefix(o, prefix []uint32) bool {
	return len(o) >= len(prefix) && slices.Equal(o[:len(prefix)], prefix)
}

// visible reports whether column c is served to this request. Callers hold mu.
func (a *Agent) visible(c *column, v1 bool) bool {
	return !c.hc || (!v1 && !a.only32)
}

// instanceAfter returns the first instance of c greater than the one-arc
// suffix s (or the first instance when from is false). Callers hold mu.
func (a *Agent) instanceAfter(c *column, s uint32, from bool) (int, bool) {
	if c.scalar {
		return 0, !from
	}
	i := 0
	if from {
		i, _ = slices.BinarySearch(a.sorted, int(s)+1)
	}
	if i >= len(a.sorted) {
		return 0, false
	}
	return a.sorted[i], true
}

// lookup finds the object instance o. found is false with col >= 0 when the
// object exists but not the instance. Callers hold mu.
func (a *Agent) lookup(o []uint32, v1 bool) (col, pos int, found bool) {
	for ci := range a.cols {
		c := &a.cols[ci]
		if !hasPrefix(o, c.oid) {
			continue
		}
		if !a.visible(c, v1) {
			return -1, 0, false
		}
		suffix := o[len(c.oid):]
		if len(suffix) != 1 {
			return ci, 0, false
		}
		if c.scalar {
			return ci, 0, suffix[0] == 0
		}
		p, ok := a.posOf[int(suffix[0])]
		return ci, p, ok
	}
	return -1, 0, false
}

// next finds the first served instance after o in lexicographic order and
// returns its column, position and OID. Callers hold mu.
func (a *Agent) next(o []uint32, v1 bool) (col, pos int, oid []uint32, ok bool) {
	for ci := range a.cols {
		c := &a.cols[ci]
		if !a.visible(c, v1) {
			continue
		}
		var idx int
		var found bool
		switch {
		case hasPrefix(o, c.oid):
			suffix := o[len(c.oid):]
			if len(suffix) == 0 {
				idx, found = a.instanceAfter(c, 0, false)
			} else {
				idx, found = a.instanceAfter(c, suffix[0], true)
			}
		case compareOID(o, c.oid) < 0:
			idx, found = a.instanceAfter(c, 0, false)
		}
		if !found {
			continue
		}
		oid = append(slices.Clip(c.oid), uint32(idx))
		if c.scalar {
			return ci, 0, oid, true
		}
		return ci, a.posOf[idx], oid, true
	}
	return -1, 0, nil, false
}
