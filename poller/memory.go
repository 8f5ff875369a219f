package poller

// A device's memory between processes. The daemon keeps what it learnt about an agent
// (the ifIndex of each interface, counter widths, sysUpTime, ifTableLastChange, ifNumber,
// ifCounterDiscontinuityTime and the last counters) in the Poller; "poll --once" from cron
// is a new process every step. So that both take the same decision on the same agent,
// every cycle hands its device's memory back in the Result, the caller keeps it beside
// the rates it stores, and a new Poller is given it again with Restore.
//
// The memory is two blobs. The mapping (the resolved interfaces with their names, speeds
// and descriptions) changes only when the agent renumbers or the configuration changes,
// and is handed back only then; the state (the agent's clocks and the last counters,
// about 20 bytes an interface) changes every cycle. The state names the mapping it goes
// with by a hash, and both name the configuration they were learnt under. A mapping of
// another interface list is walked again; memory of another host, port, version,
// context or interface key, or an unreadable one, is dropped, and then every
// interface's next sample is a discontinuity.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/mrtgo/mrtgo/config"
)

// memoryVersion changes with the layout of the mapping blob, stateVersion with that of
// the state. State version 1 is read too: it is version 2 without the counter groups,
// whose flags it never sets.
const (
	memoryVersion = 1
	stateVersion  = 2
)

// errMemory says a blob is truncated or malformed.
var errMemory = errors.New("malformed poller memory")

// state flags.
const (
	stResolved = 1 << iota
	stHaveUptime
	stHaveChange
	stNoChange
	stHaveNumber
	stNoNumber
	stNoDisc
	stHaveDiscProbe
	stFailed
)

// per-interface flags.
const (
	lfBits32      = 1 << iota // read through ifInOctets/ifOutOctets (bits32)
	lfHaveDisc                // last.haveDisc
	lfWidth32                 // last.bits == 32
	lfLast                    // a last sample exists
	lfPackets                 // last.packets, its values follow
	lfErrors                  // last.errs, its values follow
	lfPackets32               // last.packets.Bits == 32
	lfPkMode32                // last.pkMode == pk32
	lfPkModeNone              // last.pkMode == pkNone
	lfPkModeTable             // last.pkMode == pkTable
)

// agentPrint identifies the agent and how its interfaces are named: memory learnt under
// another host, port, context, SNMP version or interface key is about something else.
func agentPrint(d config.Device) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%d\x00%s\x00%s\x00%s", d.Host, d.SNMP.Port, d.SNMP.Context, d.SNMP.Version, d.Key)
	return h.Sum64()
}

// mappingPrint identifies what the mapping was resolved for: the interfaces asked for
// and the speeds configured for them.
func mappingPrint(d config.Device) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00", agentPrint(d))
	for _, n := range d.Interfaces {
		fmt.Fprintf(h, "%s\x00", n)
	}
	names := make([]string, 0, len(d.Speed))
	for n := range d.Speed {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s=%d\x00", n, d.Speed[n])
	}
	return h.Sum64()
}

// encodeMapping is the mapping blob of the device's resolved interfaces.
func (d *device) encodeMapping() []byte {
	b := make([]byte, 0, 16+len(d.ifaces)*48)
	b = append(b, memoryVersion)
	b = binary.LittleEndian.AppendUint64(b, mappingPrint(d.cfg))
	b = appendStrings(b, d.missing)
	b = binary.AppendUvarint(b, uint64(len(d.ifaces)))
	for _, f := range d.ifaces {
		b = appendString(b, f.name)
		b = binary.AppendUvarint(b, uint64(f.index))
		b = binary.AppendUvarint(b, f.speed)
		b = appendString(b, f.descr)
		b = appendString(b, f.alias)
	}
	// The table's rows, as deltas: which polled interfaces are consecutive rows.
	b = binary.AppendUvarint(b, uint64(len(d.rows)))
	prev := 0
	for _, idx := range d.rows {
		b = binary.AppendUvarint(b, uint64(idx-prev))
		prev = idx
	}
	return b
}

func mappingHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// memory returns the device's memory after a cycle: the state, and the mapping when it
// differs from the one last handed back or restored.
func (d *device) memory(now time.Time) (mapping, state []byte) {
	var mhash uint64
	if d.resolved {
		if d.mappingStale {
			// Encoded only after a resolve: an identical one (every ResolveEvery
			// cycles on ["*"]) is not handed back again.
			m := d.encodeMapping()
			if h := mappingHash(m); h != d.mappingHash {
				mapping, d.mappingHash = m, h
			}
			d.mappingStale = false
		}
		mhash = d.mappingHash
	}
	var fl uint64
	for _, f := range []struct {
		on   bool
		flag uint64
	}{
		{d.resolved, stResolved}, {d.haveUptime, stHaveUptime}, {d.haveChange, stHaveChange},
		{d.noChange, stNoChange}, {d.haveNumber, stHaveNumber}, {d.noNumber, stNoNumber},
		{d.noDisc, stNoDisc}, {d.haveDiscProbe, stHaveDiscProbe}, {d.failed, stFailed},
	} {
		if f.on {
			fl |= f.flag
		}
	}
	b := make([]byte, 0, 64+len(d.ifaces)*24)
	b = append(b, stateVersion)
	b = binary.LittleEndian.AppendUint64(b, agentPrint(d.cfg))
	b = binary.LittleEndian.AppendUint64(b, mhash)
	b = binary.AppendVarint(b, now.UnixMicro())
	b = binary.AppendUvarint(b, fl)
	b = binary.AppendUvarint(b, uint64(d.uptime))
	b = binary.AppendUvarint(b, uint64(d.change))
	b = binary.AppendUvarint(b, uint64(d.number))
	b = binary.AppendUvarint(b, uint64(d.maxOIDs))
	b = binary.AppendUvarint(b, uint64(max(d.sinceResolve, 0)))
	b = binary.AppendVarint(b, unixMicro(d.lastOK))

	// The interfaces of the mapping by position, without their names; then, by name,
	// what is remembered of interfaces outside it (usually nothing: it is looked for
	// only when the mapping does not account for every remembered name).
	covered := 0 // names of the mapping in d.last or d.bits32
	var ifs []iface
	if d.resolved {
		ifs = d.ifaces
	}
	b = binary.AppendUvarint(b, uint64(len(ifs)))
	for _, f := range ifs {
		b = d.appendIface(b, f.name)
		if _, ok := d.last[f.name]; ok {
			covered++
		}
		if d.bits32[f.name] {
			covered++
		}
	}
	var rest []string
	if covered < len(d.last)+len(d.bits32) {
		inMap := make(map[string]bool, len(ifs))
		for _, f := range ifs {
			inMap[f.name] = true
		}
		for n := range d.last {
			if !inMap[n] {
				rest = append(rest, n)
			}
		}
		for n := range d.bits32 {
			if _, ok := d.last[n]; !ok && !inMap[n] {
				rest = append(rest, n)
			}
		}
	}
	slices.Sort(rest)
	b = binary.AppendUvarint(b, uint64(len(rest)))
	for _, n := range rest {
		b = appendString(b, n)
		b = d.appendIface(b, n)
	}
	return mapping, b
}

func (d *device) appendIface(b []byte, name string) []byte {
	l, ok := d.last[name]
	var fl uint64
	if d.bits32[name] {
		fl |= lfBits32
	}
	if ok {
		fl |= lfLast
		if l.haveDisc {
			fl |= lfHaveDisc
		}
		if l.bits == 32 {
			fl |= lfWidth32
		}
		if l.packets != nil {
			fl |= lfPackets
			if l.packets.Bits == 32 {
				fl |= lfPackets32
			}
		}
		if l.errs != nil {
			fl |= lfErrors
		}
		switch l.pkMode {
		case pk32:
			fl |= lfPkMode32
		case pkNone:
			fl |= lfPkModeNone
		case pkTable:
			fl |= lfPkModeTable
		}
	}
	// A uvarint: the flags of state version 1 fit its one byte.
	b = binary.AppendUvarint(b, fl)
	if !ok {
		return b
	}
	b = binary.AppendUvarint(b, uint64(l.index))
	b = binary.AppendUvarint(b, l.in)
	b = binary.AppendUvarint(b, l.out)
	b = binary.AppendUvarint(b, uint64(l.disc))
	for _, g := range []*Group{l.packets, l.errs} {
		if g == nil {
			continue
		}
		b = binary.AppendUvarint(b, uint64(g.Absent))
		for _, v := range g.Values {
			b = binary.AppendUvarint(b, v)
		}
	}
	return b
}

func unixMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// restore loads a device's memory. Memory that does not match the device as configured
// now is ignored (nil error); a malformed blob is an error and leaves the device fresh.
func (d *device) restore(mapping, state []byte) (err error) {
	if len(state) == 0 {
		return nil
	}
	r := &reader{b: state}
	if v := r.byte(); v != stateVersion && v != 1 {
		if r.err == nil {
			d.log.Info("poller memory of another format; starting afresh", "format", v)
		}
		return r.err
	}
	if r.u64() != agentPrint(d.cfg) {
		if r.err == nil {
			d.log.Info("device's host, port, version or interface key changed; starting afresh")
			d.distrust = true
		}
		return r.err
	}
	mhash := r.u64()
	_ = r.varint() // when it was written: for people reading a dump
	fl := r.uvarint()
	uptime, change, number := uint32(r.uvarint()), uint32(r.uvarint()), uint32(r.uvarint())
	maxOIDs, since := int(r.uvarint()), int(r.uvarint())
	lastOK := r.varint()

	// The mapping counts only if it is the one the state was written with and it was
	// resolved for the interfaces configured now.
	var ifaces []iface
	var missing []string
	var rows []int
	useMap := fl&stResolved != 0 && len(mapping) > 0 && mappingHash(mapping) == mhash
	if useMap {
		m := &reader{b: mapping}
		if m.byte() != memoryVersion || m.u64() != mappingPrint(d.cfg) {
			useMap = false
		} else {
			missing = m.strings()
			n := m.count()
			ifaces = make([]iface, 0, n)
			for range n {
				f := iface{name: m.string(), index: int(m.uvarint()), speed: m.uvarint()}
				f.descr, f.alias = m.string(), m.string()
				ifaces = append(ifaces, f)
			}
			n = m.count()
			rows = make([]int, 0, n)
			prev := 0
			for range n {
				prev += int(m.uvarint())
				rows = append(rows, prev)
			}
			if m.err != nil {
				return fmt.Errorf("read interface mapping: %w", m.err)
			}
		}
	}
	lasts := make(map[string]last, len(ifaces))
	bits32 := map[string]bool{}
	readGroup := func(n, bits int) *Group {
		g := &Group{Absent: uint(r.uvarint()), Values: make([]uint64, n), Bits: bits}
		for k := range g.Values {
			g.Values[k] = r.uvarint()
		}
		return g
	}
	readIface := func(name string) {
		f := r.uvarint()
		if f&lfBits32 != 0 {
			bits32[name] = true
		}
		if f&lfLast == 0 {
			return
		}
		l := last{index: int(r.uvarint()), in: r.uvarint(), out: r.uvarint(), disc: uint32(r.uvarint()), bits: 64}
		l.haveDisc = f&lfHaveDisc != 0
		if f&lfWidth32 != 0 {
			l.bits = 32
		}
		if f&lfPackets != 0 {
			bits := 64
			if f&lfPackets32 != 0 {
				bits = 32
			}
			l.packets = readGroup(len(PacketNames), bits)
		}
		if f&lfErrors != 0 {
			l.errs = readGroup(len(ErrorNames), 32)
		}
		switch {
		case f&lfPkMode32 != 0:
			l.pkMode = pk32
		case f&lfPkModeNone != 0:
			l.pkMode = pkNone
		case f&lfPkModeTable != 0:
			l.pkMode = pkTable
		}
		lasts[name] = l
	}
	n := r.count()
	if fl&stResolved != 0 && mhash != 0 && useMap && n != len(ifaces) {
		return fmt.Errorf("%w: %d interfaces in the state, %d in the mapping", errMemory, n, len(ifaces))
	}
	for i := range n {
		if useMap {
			readIface(ifaces[i].name)
			continue
		}
		// Without a mapping the positions name nothing: read past them.
		readIface("")
	}
	delete(lasts, "")
	delete(bits32, "")
	for k := r.count(); k > 0; k-- {
		readIface(r.string())
	}
	if r.err != nil {
		return fmt.Errorf("read poller state: %w", r.err)
	}
	if !useMap && n > 0 {
		d.log.Info("interface mapping of the last cycle unusable (configuration changed); walking again")
	}

	d.resolved = useMap
	d.ifaces, d.missing, d.rows = ifaces, missing, rows
	if useMap {
		d.mappingHash = mhash
	}
	d.uptime, d.haveUptime = uptime, fl&stHaveUptime != 0
	d.change, d.haveChange, d.noChange = change, fl&stHaveChange != 0, fl&stNoChange != 0
	d.number, d.haveNumber, d.noNumber = number, fl&stHaveNumber != 0, fl&stNoNumber != 0
	d.noDisc, d.haveDiscProbe = fl&stNoDisc != 0, fl&stHaveDiscProbe != 0
	d.failed = fl&stFailed != 0
	if maxOIDs > 0 && maxOIDs < d.maxOIDs {
		d.maxOIDs = maxOIDs
	}
	d.sinceResolve = since
	if lastOK != 0 {
		d.lastOK = time.UnixMicro(lastOK)
	}
	d.last, d.bits32 = lasts, bits32
	d.readPlan = nil
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// reader reads a blob, remembering the first error; reads after it return zeros.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errMemory
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u64() uint64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length, refusing one longer than what is left could hold.
func (r *reader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *reader) string() string {
	n := r.count()
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) strings() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	ss := make([]string, 0, n)
	for range n {
		ss = append(ss, r.string())
	}
	return ss
}
