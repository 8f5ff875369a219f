package poller

// Sampling: the counters a cycle read become samples, and a sample is marked
// discontinuous when it cannot be compared with the interface's previous one.

import (
	"fmt"
	"math"
	"slices"

	"github.com/mrtgo/mrtgo/internal/snmp"
)

// last is what the previous sample of an interface needs to tell a discontinuity.
type last struct {
	index    int
	in, out  uint64
	bits     int
	disc     uint32 // ifCounterDiscontinuityTime
	haveDisc bool
	// pkMode is how the packets are read (pkHC, pk32, pkNone); packets and errs the
	// groups' last samples, nil when none.
	pkMode        int
	packets, errs *Group
}

func (d *device) counterColumns(name string) (in, out string) {
	if d.is32(name) {
		return oidIfInOctets, oidIfOutOctets
	}
	return oidIfHCInOctets, oidIfHCOutOctets
}

// is32 reports whether the interface is read with 32-bit counters: always on SNMPv1,
// which cannot carry Counter64, and where the agent showed it lacks ifHC*.
func (d *device) is32(name string) bool {
	return d.cfg.SNMP.Version == "1" || d.bits32[name]
}

// samples turns the counter values (two per interface, and the groups) into samples.
// Interfaces without 64-bit counters fall back to 32-bit ones, read at once and
// remembered, in one GET with the 32-bit packet counters of interfaces that lack the
// 64-bit ones; interfaces with neither octet counter are returned as vanished.
func (d *device) samples(s *session, rd reading, disc bool) ([]Sample, []string, error) {
	// Slots keep configuration order whatever the fallbacks do.
	slots := make([]Sample, len(d.ifaces))
	have := make([]bool, len(d.ifaces))
	ins, outs := make([]snmp.Value, len(d.ifaces)), make([]snmp.Value, len(d.ifaces))
	var retry []int   // positions in d.ifaces needing 32-bit counters now
	var pkRetry []int // and 32-bit packet counters
	var vanished []string
	pk := make([][]snmp.Value, len(d.ifaces))
	for i, f := range d.ifaces {
		ins[i], outs[i] = rd.counters(i)
		if ins[i].Absent() || outs[i].Absent() {
			if d.is32(f.name) {
				vanished = append(vanished, f.name)
				continue
			}
			retry = append(retry, i)
		}
		pk[i] = rd.packets(i)
		switch d.packetMode(f.name) {
		case pkNone:
			pk[i] = nil
		case pkHC:
			if pk[i] != nil && (pk[i][0].Absent() || pk[i][1].Absent()) {
				pkRetry = append(pkRetry, i)
			}
		case pk32:
			if pk[i] != nil && !pk[i][0].Absent() && (pk[i][4].Absent() || pk[i][5].Absent()) {
				d.tableOnly(f.name)
			}
		case pkTable:
			// The places of the broadcasts hold the octets again: not counters of theirs.
			pk[i] = append(slices.Clip(pk[i][:4]), snmp.AbsentValue, snmp.AbsentValue)
		}
	}
	if len(retry)+len(pkRetry) > 0 {
		oids := make([]string, 0, 2*len(retry)+len(packetColumns32)*len(pkRetry))
		for _, i := range retry {
			f := d.ifaces[i]
			oids = append(oids, instance(oidIfInOctets, f.index), instance(oidIfOutOctets, f.index))
		}
		for _, i := range pkRetry {
			for _, c := range packetColumns32 {
				oids = append(oids, instance(c, d.ifaces[i].index))
			}
		}
		vals32, err := s.Get(oids)
		if err != nil {
			return nil, nil, fmt.Errorf("get 32-bit counters: %w", err)
		}
		var fell []string
		gone := map[int]bool{}
		for k, i := range retry {
			f := d.ifaces[i]
			in, out := vals32[2*k], vals32[2*k+1]
			if in.Absent() || out.Absent() {
				vanished = append(vanished, f.name)
				gone[i] = true
				continue
			}
			ins[i], outs[i] = in, out
			d.bits32[f.name] = true
			d.readPlan = nil
			fell = append(fell, f.name)
		}
		if len(fell) > 0 {
			// Once per interface and device lifetime, in one line per cycle.
			d.log.Info("no 64-bit counters; using ifInOctets/ifOutOctets", "count", len(fell), "interfaces", abbrev(fell, 8))
		}
		d.packetsFallback(pkRetry, vals32[2*len(retry):], pk, gone)
	}
	for i, f := range d.ifaces {
		if ins[i].Absent() || outs[i].Absent() {
			continue // vanished
		}
		slots[i], have[i] = d.sample(f, ins[i], outs[i], rd, i, disc, pk[i]), true
	}
	return compact(slots, have), vanished, nil
}

func compact(slots []Sample, have []bool) []Sample {
	out := slots[:0]
	for i, s := range slots {
		if have[i] {
			out = append(out, s)
		}
	}
	return out
}

// sample builds the sample of f (interface i of the reading) and remembers it. Besides an
// agent restart (disc), a sample is discontinuous when its interface now has another
// ifIndex or counter width, when its ifCounterDiscontinuityTime moved ("clear
// counters"), or when a 64-bit counter went backwards (a reset: 64-bit counters do not
// wrap in practice; 32-bit decreases are left to the store, which can tell a wrap from
// the speed).
func (d *device) sample(f iface, in, out snmp.Value, rd reading, i int, disc bool, pk []snmp.Value) Sample {
	inV, _ := in.Uint64()
	outV, _ := out.Uint64()
	at := in.At
	if out.At.After(at) {
		at = out.At
	}
	bits := 64
	if in.Counter32() || d.is32(f.name) {
		bits = 32
		// A broken agent may send a Counter32 wider than 32 bits: keep what such a
		// counter holds, so that the store can still tell a wrap.
		inV, outV = inV&math.MaxUint32, outV&math.MaxUint32
	}
	dt, haveDT := rd.discTime(i)
	prev, seen := d.last[f.name]
	// An entry without an ifIndex holds only how packets are read (packetsFallback
	// learnt it this cycle), no sample.
	seen = seen && prev.index > 0
	if !seen && d.distrust {
		// The memory of the last cycle was of another agent or unreadable: nothing
		// vouches that these counters continue the ones stored under this name.
		disc = true
	}
	// base holds what breaks every counter of the interface; the groups add their
	// own widths and decreases (group).
	base := disc || !seen
	if seen && !disc {
		switch {
		case prev.index != f.index:
			disc, base = true, true
		case haveDT && prev.haveDisc && dt != prev.disc:
			disc, base = true, true
			d.log.Info("ifCounterDiscontinuityTime moved; marking a discontinuity", "interface", f.name,
				"before", prev.disc, "now", dt)
		case prev.bits != bits:
			disc = true
		case bits == 64 && (inV < prev.in || outV < prev.out):
			disc = true
			d.log.Info("64-bit counter went backwards; marking a discontinuity", "interface", f.name,
				"in_before", prev.in, "in_now", inV, "out_before", prev.out, "out_now", outV)
		}
	}
	mode, pkMode := d.packetMode(f.name), prev.pkMode
	if disc && pkMode == pkNone {
		// The agent restarted, maybe with new software: ask for the packets again.
		pkMode, d.readPlan = pkHC, nil
	}
	packets := group(pk, mode, true, base, prev.packets)
	if packets != nil && prev.packets != nil && untrusted(prev) {
		packets.Discontinuity = true
	}
	errs := group(rd.errors(i), pk32, false, base, prev.errs)
	admin, oper := rd.status(i)
	d.last[f.name] = last{index: f.index, in: inV, out: outV, bits: bits, disc: dt, haveDisc: haveDT,
		pkMode: pkMode, packets: packets, errs: errs}
	return Sample{
		Device:        d.cfg.Name,
		Interface:     f.name,
		Index:         f.index,
		Time:          at,
		In:            inV,
		Out:           outV,
		Bits:          bits,
		Speed:         f.speed,
		Descr:         f.descr,
		Alias:         f.alias,
		Discontinuity: disc,
		Packets:       packets,
		Errors:        errs,
		Admin:         admin,
		Oper:          oper,
	}
}
