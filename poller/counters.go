package poller

// The counters read beside the octets: ifAdminStatus and ifOperStatus of every
// interface, and the groups a device asks for with config's counters key (packets by
// kind, errors and discards). They are more columns of the same read (read.go), never
// more round trips, and take the octets' rules for discontinuities: an agent restart,
// a new ifIndex, a moved ifCounterDiscontinuityTime, a change of counter width or a
// 64-bit counter going backwards makes the group's sample unknown, never a spike.

import (
	"math"

	"github.com/mrtgo/mrtgo/internal/snmp"
)

// Group is one counter group of an interface as read in one cycle, its values in the
// order of the store's data sources (PacketNames, ErrorNames).
type Group struct {
	Values []uint64
	// Absent has bit i set when the agent lacks Values[i]'s counter (broadcasts on an
	// agent with neither 64-bit counters nor ifXTable): the store keeps it unknown.
	Absent uint
	Bits   int // 64 or 32
	// Discontinuity is set when these counters cannot be compared with the group's
	// previous sample (see Sample.Discontinuity; also on the group's first sample).
	Discontinuity bool
}

// Interface states of ifAdminStatus and ifOperStatus (IF-MIB).
const (
	StatusUp      = 1
	StatusDown    = 2
	StatusTesting = 3
)

// PacketNames and ErrorNames name the values of the packet and error groups, as the
// store's data sources do.
var (
	PacketNames = []string{"ucast_in", "ucast_out", "mcast_in", "mcast_out", "bcast_in", "bcast_out"}
	ErrorNames  = []string{"err_in", "err_out", "disc_in", "disc_out"}
)

// Columns of the groups, in PacketNames and ErrorNames order.
var (
	packetColumnsHC = []string{
		".1.3.6.1.2.1.31.1.1.1.7",  // ifHCInUcastPkts
		".1.3.6.1.2.1.31.1.1.1.11", // ifHCOutUcastPkts
		".1.3.6.1.2.1.31.1.1.1.8",  // ifHCInMulticastPkts
		".1.3.6.1.2.1.31.1.1.1.12", // ifHCOutMulticastPkts
		".1.3.6.1.2.1.31.1.1.1.9",  // ifHCInBroadcastPkts
		".1.3.6.1.2.1.31.1.1.1.13", // ifHCOutBroadcastPkts
	}
	// The 32-bit columns have non-unicast packets (multicast and broadcast) where
	// the 64-bit ones have multicast; broadcasts come from ifXTable's 32-bit columns
	// where the agent has them, and are taken off the non-unicast count.
	packetColumns32 = []string{
		".1.3.6.1.2.1.2.2.1.11",   // ifInUcastPkts
		".1.3.6.1.2.1.2.2.1.17",   // ifOutUcastPkts
		".1.3.6.1.2.1.2.2.1.12",   // ifInNUcastPkts
		".1.3.6.1.2.1.2.2.1.18",   // ifOutNUcastPkts
		".1.3.6.1.2.1.31.1.1.1.3", // ifInBroadcastPkts
		".1.3.6.1.2.1.31.1.1.1.5", // ifOutBroadcastPkts
	}
	errorColumns = []string{
		".1.3.6.1.2.1.2.2.1.14", // ifInErrors
		".1.3.6.1.2.1.2.2.1.20", // ifOutErrors
		".1.3.6.1.2.1.2.2.1.13", // ifInDiscards
		".1.3.6.1.2.1.2.2.1.19", // ifOutDiscards
	}
)

// How an interface's packets are read, remembered in last.pkMode.
const (
	pkHC   = 0 // ifHC*Pkts
	pk32   = 1 // ifTable's 32-bit columns: the agent lacks the 64-bit ones
	pkNone = 2 // neither: packets are not read
	// pkTable: ifTable's columns without ifXTable's broadcasts, which an SNMPv1 agent
	// would refuse a PDU for in every cycle; broadcasts are unknown.
	pkTable = 3
)

// layout is where each column of an interface sits in a reading: offsets into its
// stride values, -1 for a column not read.
type layout struct {
	disc, status, packets, errs int
	stride                      int
}

// layout is the columns read per interface with the device's settings now.
func (d *device) layout() layout {
	l := layout{disc: -1, packets: -1, errs: -1}
	n := 2 // in and out octets
	if !d.noDisc {
		l.disc, n = n, n+1
	}
	l.status, n = n, n+2
	if d.cfg.Counters.Packets {
		l.packets, n = n, n+len(PacketNames)
	}
	if d.cfg.Counters.Errors {
		l.errs, n = n, n+len(ErrorNames)
	}
	l.stride = n
	return l
}

// columns are the columns read for the interface, in layout order. An interface whose
// packets are not read asks for its octets again in their place, so that every
// interface has the same stride; what comes back is ignored.
func (d *device) columns(name string, l layout) []string {
	in, out := d.counterColumns(name)
	cols := make([]string, 0, l.stride)
	cols = append(cols, in, out)
	if l.disc >= 0 {
		cols = append(cols, oidIfCounterDiscontinuityTime)
	}
	cols = append(cols, oidIfAdminStatus, oidIfOperStatus)
	if l.packets >= 0 {
		switch d.packetMode(name) {
		case pk32:
			cols = append(cols, packetColumns32...)
		case pkTable:
			cols = append(cols, packetColumns32[:4]...)
			cols = append(cols, in, out)
		case pkNone:
			for range PacketNames {
				cols = append(cols, in)
			}
		default:
			cols = append(cols, packetColumnsHC...)
		}
	}
	if l.errs >= 0 {
		cols = append(cols, errorColumns...)
	}
	return cols
}

// packetMode is how the interface's packets are read: 32-bit on SNMPv1, else as the
// agent showed.
func (d *device) packetMode(name string) int {
	m := d.last[name].pkMode
	if m == pkHC && d.cfg.SNMP.Version == "1" {
		return pk32
	}
	return m
}

// status is the interface's ifAdminStatus and ifOperStatus, 0 where unknown.
func (r reading) status(i int) (admin, oper int) {
	a, _ := r.per[r.stride*i+r.lay.status].Uint64()
	o, _ := r.per[r.stride*i+r.lay.status+1].Uint64()
	if a > 7 {
		a = 0
	}
	if o > 7 {
		o = 0
	}
	return int(a), int(o)
}

// packets is interface i's packet columns, nil when not read.
func (r reading) packets(i int) []snmp.Value {
	if r.lay.packets < 0 {
		return nil
	}
	at := r.stride*i + r.lay.packets
	return r.per[at : at+len(PacketNames)]
}

// errors is interface i's error columns, nil when not read.
func (r reading) errors(i int) []snmp.Value {
	if r.lay.errs < 0 {
		return nil
	}
	at := r.stride*i + r.lay.errs
	return r.per[at : at+len(ErrorNames)]
}

// packetsFallback takes the 32-bit packet columns of the interfaces (positions in
// d.ifaces) whose 64-bit ones the agent lacks, as read in got (packetColumns32 for
// each), into vals, and remembers how each interface's packets are read from now on.
// Interfaces in gone vanished altogether: nothing is learnt of them.
func (d *device) packetsFallback(retry []int, got []snmp.Value, vals [][]snmp.Value, gone map[int]bool) {
	var fell, none []string
	for k, i := range retry {
		if gone[i] {
			continue
		}
		f := d.ifaces[i]
		vs := got[len(packetColumns32)*k : len(packetColumns32)*(k+1)]
		l := d.last[f.name]
		switch {
		case vs[0].Absent() || vs[1].Absent():
			l.pkMode, vals[i] = pkNone, nil
			none = append(none, f.name)
		case vs[4].Absent() || vs[5].Absent():
			l.pkMode, vals[i] = pkTable, vs
			fell = append(fell, f.name)
		default:
			l.pkMode, vals[i] = pk32, vs
			fell = append(fell, f.name)
		}
		d.last[f.name] = l
		d.readPlan = nil
	}
	if len(fell) > 0 {
		d.log.Info("no 64-bit packet counters; using ifInUcastPkts and ifInNUcastPkts", "count", len(fell), "interfaces", abbrev(fell, 8))
	}
	if len(none) > 0 {
		d.log.Info("no packet counters; not asking for them", "count", len(none), "interfaces", abbrev(none, 8))
	}
}

// tableOnly notes that the interface's packets are read from ifTable alone from the
// next cycle: the agent lacks ifXTable's broadcast columns.
func (d *device) tableOnly(name string) {
	l := d.last[name]
	l.pkMode = pkTable
	d.last[name] = l
	d.readPlan = nil
}

// untrusted reports whether the last packet counters of an interface cannot be the
// start of a rate: its unicast packets read zero in a direction whose octets did not.
// net-snmp answers ifInUcastPkts 0 to the first request after it starts, and the real
// count to the next: taken as a rate, that would be every packet since boot in one
// step.
func untrusted(l last) bool {
	p := l.packets
	return p.Absent&1 == 0 && p.Values[0] == 0 && l.in > 0 ||
		p.Absent&2 == 0 && p.Values[1] == 0 && l.out > 0
}

// group turns the values of one group into its sample. mode tells the packet
// columns' width (pkHC or pk32; errors pass pk32: IF-MIB has them as Counter32 only).
// base is the interface's discontinuity before the group's own checks; prev its last
// sample of the group (nil: none). Every column absent is no group at all.
func group(vs []snmp.Value, mode int, packets bool, base bool, prev *Group) *Group {
	if len(vs) == 0 {
		return nil
	}
	g := &Group{Values: make([]uint64, len(vs)), Bits: 64}
	if mode != pkHC {
		g.Bits = 32
	}
	absent := 0
	for k, v := range vs {
		n, ok := v.Uint64()
		if v.Absent() || !ok {
			g.Absent |= 1 << k
			absent++
			continue
		}
		if v.Counter32() {
			g.Bits = 32
		}
		g.Values[k] = n
	}
	if absent == len(vs) {
		return nil
	}
	if g.Bits == 32 {
		for k := range g.Values {
			g.Values[k] &= math.MaxUint32
		}
	}
	if packets && (mode == pk32 || mode == pkTable) {
		// Non-unicast less broadcast is multicast, modulo 2^32 as the counters wrap;
		// without the broadcast column the non-unicast count stands as multicast.
		for _, k := range []int{2, 3} {
			if g.Absent&(1<<(k+2)) == 0 && g.Absent&(1<<k) == 0 {
				g.Values[k] = (g.Values[k] - g.Values[k+2]) & math.MaxUint32
			}
		}
	}
	switch {
	case base, prev == nil, prev.Bits != g.Bits, prev.Absent != g.Absent:
		g.Discontinuity = true
	case g.Bits == 64:
		for k, v := range g.Values {
			if v < prev.Values[k] {
				g.Discontinuity = true
			}
		}
	}
	return g
}
