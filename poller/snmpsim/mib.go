package snmpsim

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// column is one scalar or one table column of the served MIB. A scalar has
// the single instance 0; a table column has one instance per ifIndex.
type column struct {
	oid    []uint32
	scalar bool
	hc     bool // Counter64: hidden from SNMPv1 and in 32-bit-only mode
	value  func(a *Agent, r *request, pos int, vb *varbind)
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

func setStr(vb *varbind, s string)           { vb.tag, vb.str = tagOctetString, s }
func setNum(vb *varbind, tag byte, v uint64) { vb.tag, vb.num = tag, v }
func setInt(vb *varbind, v int)              { vb.tag, vb.num = tagInteger, uint64(int64(v)) }

// mibColumns lists the served objects in lexicographic OID order.
func mibColumns() []column {
	sys := func(n string, v func(a *Agent, r *request, vb *varbind)) column {
		return column{oid: mustOID(".1.3.6.1.2.1.1." + n), scalar: true,
			value: func(a *Agent, r *request, _ int, vb *varbind) { v(a, r, vb) }}
	}
	ift := func(n string, v func(a *Agent, r *request, pos int, vb *varbind)) column {
		return column{oid: mustOID(".1.3.6.1.2.1.2.2.1." + n), value: v}
	}
	ifx := func(n string, hc bool, v func(a *Agent, r *request, pos int, vb *varbind)) column {
		return column{oid: mustOID(".1.3.6.1.2.1.31.1.1.1." + n), hc: hc, value: v}
	}
	status := func(a *Agent, _ *request, pos int, vb *varbind) {
		if a.ifs[pos].cfg.Up {
			setInt(vb, 1)
		} else {
			setInt(vb, 2)
		}
	}
	cols := []column{
		sys("1", func(a *Agent, _ *request, vb *varbind) { setStr(vb, a.dev.Descr) }),
		sys("2", func(a *Agent, _ *request, vb *varbind) { vb.tag, vb.ref = tagOID, a.objectID }),
		sys("3", func(_ *Agent, r *request, vb *varbind) { setNum(vb, tagTimeTicks, uint64(r.uptime)) }),
		sys("4", func(a *Agent, _ *request, vb *varbind) { setStr(vb, a.dev.Contact) }),
		sys("5", func(a *Agent, _ *request, vb *varbind) { setStr(vb, a.dev.Name) }),
		sys("6", func(a *Agent, _ *request, vb *varbind) { setStr(vb, a.dev.Location) }),
		{oid: mustOID(".1.3.6.1.2.1.2.1"), scalar: true, value: func(a *Agent, _ *request, _ int, vb *varbind) {
			setInt(vb, len(a.ifs))
		}},
		ift("1", func(a *Agent, _ *request, pos int, vb *varbind) { setInt(vb, a.indexes[pos]) }),
		ift("2", func(a *Agent, _ *request, pos int, vb *varbind) { setStr(vb, a.ifs[pos].descr) }),
		ift("3", func(a *Agent, _ *request, pos int, vb *varbind) { setInt(vb, a.ifs[pos].ifType) }),
		ift("4", func(a *Agent, _ *request, pos int, vb *varbind) { setInt(vb, a.ifs[pos].mtu) }),
		ift("5", func(a *Agent, _ *request, pos int, vb *varbind) {
			setNum(vb, tagGauge32, min(a.ifs[pos].cfg.Speed, 4294967295))
		}),
		ift("6", func(a *Agent, _ *request, pos int, vb *varbind) { setStr(vb, a.ifs[pos].mac) }),
		ift("7", status),
		ift("8", status),
		ift("9", func(_ *Agent, _ *request, _ int, vb *varbind) { setNum(vb, tagTimeTicks, 0) }),
		ift("10", func(a *Agent, r *request, pos int, vb *varbind) {
			in, _ := r.octets(a, pos)
			setNum(vb, tagCounter32, in&0xffffffff)
		}),
		ift("16", func(a *Agent, r *request, pos int, vb *varbind) {
			_, out := r.octets(a, pos)
			setNum(vb, tagCounter32, out&0xffffffff)
		}),
		ifx("1", false, func(a *Agent, _ *request, pos int, vb *varbind) { setStr(vb, a.ifs[pos].cfg.Name) }),
		ifx("6", true, func(a *Agent, r *request, pos int, vb *varbind) {
			in, _ := r.octets(a, pos)
			setNum(vb, tagCounter64, in)
		}),
		ifx("10", true, func(a *Agent, r *request, pos int, vb *varbind) {
			_, out := r.octets(a, pos)
			setNum(vb, tagCounter64, out)
		}),
		ifx("15", false, func(a *Agent, _ *request, pos int, vb *varbind) {
			setNum(vb, tagGauge32, min(a.ifs[pos].cfg.Speed/1_000_000, 4294967295))
		}),
		ifx("18", false, func(a *Agent, _ *request, pos int, vb *varbind) { setStr(vb, a.ifs[pos].cfg.Alias) }),
		ifx("19", false, func(a *Agent, _ *request, pos int, vb *varbind) {
			var t uint32
			if c, ok := a.cleared[pos]; ok {
				t = ticks(c.Sub(a.boot))
			}
			setNum(vb, tagTimeTicks, uint64(t))
		}),
		{oid: mustOID(".1.3.6.1.2.1.31.1.5"), scalar: true, value: func(a *Agent, _ *request, _ int, vb *varbind) {
			var t uint32
			if !a.tableChange.IsZero() {
				t = ticks(a.tableChange.Sub(a.boot))
			}
			setNum(vb, tagTimeTicks, uint64(t))
		}},
	}
	cols = append(cols, packetColumns()...)
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

// firstColumn is the first column that can hold o or an instance after it:
// the column whose OID prefixes o if there is one, else the first column
// above o. Columns are sorted and none prefixes another.
func (a *Agent) firstColumn(o []uint32) int {
	i, _ := slices.BinarySearchFunc(a.cols, o, func(c column, o []uint32) int { return compareOID(c.oid, o) })
	// cols[i-1] is the last column at or below o.
	if i > 0 && hasPrefix(o, a.cols[i-1].oid) {
		return i - 1
	}
	return i
}

// lookup finds the object instance o. found is false with col >= 0 when the
// object exists but not the instance. Callers hold mu.
func (a *Agent) lookup(o []uint32, v1 bool) (col, pos int, found bool) {
	ci := a.firstColumn(o)
	if ci >= len(a.cols) {
		return -1, 0, false
	}
	c := &a.cols[ci]
	if !hasPrefix(o, c.oid) || !a.visible(c, v1) {
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

// next finds the first served instance after o in lexicographic order and
// returns its column, position and OID. Callers hold mu.
func (a *Agent) next(o []uint32, v1 bool) (col, pos int, oid []uint32, ok bool) {
	for ci := a.firstColumn(o); ci < len(a.cols); ci++ {
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
