package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
)

// device is what the Poller knows about one agent between cycles. Only the goroutine
// polling it in the current cycle touches it.
type device struct {
	cfg     config.Device
	log     *slog.Logger
	maxOIDs int // PDU size the agent accepts; starts at the configured size

	resolved bool
	ifaces   []iface
	missing  []string // configured names the last resolve did not find

	uptime     uint32 // sysUpTime of the last cycle, in hundredths of a second
	haveUptime bool
	change     uint32          // ifTableLastChange of the last cycle
	haveChange bool            // the last cycle read ifTableLastChange
	noChange   bool            // the agent lacks ifTableLastChange: stop asking
	lastOK     time.Time       // end of the last cycle the device answered
	bits32     map[string]bool // interfaces known to lack ifHC* counters, by name
	last       map[string]last // previous sample of each interface, by name
	readOIDs   []string        // the counter GET of a cycle; nil when the interfaces changed
}

// last is what the previous sample of an interface needs to tell a discontinuity.
type last struct {
	index   int
	in, out uint64
	bits    int
}

// iface is one polled interface as resolved.
type iface struct {
	name         string
	index        int
	speed        uint64
	descr, alias string
}

func newDevice(d config.Device, log *slog.Logger) *device {
	return &device{cfg: d, log: log, maxOIDs: maxOIDs(d),
		bits32: map[string]bool{}, last: map[string]last{}}
}

// poll runs one cycle on the device with a client of its own.
func (d *device) poll(ctx context.Context, dial dialFunc, now func() time.Time) Result {
	start := now()
	res := Result{Device: d.cfg.Name}
	s := &session{v1: d.cfg.SNMP.Version == "1", maxOIDs: &d.maxOIDs, now: now}
	s.onShrink = func(from, to int) {
		d.log.Info("agent answered tooBig; fewer OIDs per PDU", "from", from, "to", to)
	}
	err := ctx.Err()
	if err == nil {
		err = d.cycle(ctx, dial, s, &res)
	}
	res.Requests = s.requests
	res.Retries = max(s.sent-s.requests, 0)
	end := now()
	res.Duration = end.Sub(start)
	if err == nil {
		d.lastOK = end
	}
	res.LastSuccess = d.lastOK
	if err != nil {
		res.Err = fmt.Errorf("poll %s: %w", d.cfg.Name, err)
		res.Samples = nil
		d.log.Warn("poll failed", "err", err, "requests", s.requests, "retries", res.Retries, "duration", res.Duration)
	}
	return res
}

func (d *device) cycle(ctx context.Context, dial dialFunc, s *session, res *Result) error {
	c, err := dial(ctx, d.cfg, func() { s.sent++ })
	if err != nil {
		return err
	}
	if err := c.Connect(); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Close()
	s.c = c

	if !d.resolved {
		if err := d.resolve(s); err != nil {
			return err
		}
	}
	rd, err := d.read(s)
	if err != nil {
		return err
	}
	up, ok := toUint64(rd.uptime.pdu)
	if rd.uptime.absent() || !ok {
		return errors.New("get sysUpTime: agent has no sysUpTime.0")
	}
	change, haveChange := lastChange(rd.change)
	disc := d.haveUptime && uint32(up) < d.uptime
	moved := !disc && haveChange && d.haveChange && change != d.change
	if disc || moved {
		// The agent restarted, or rows were added to or removed from ifTable: ifIndexes
		// may have moved, so resolve again and read the counters of the interfaces as
		// they are now numbered. After a restart every counter starts over; after a
		// renumbering only interfaces with a new ifIndex do (see sample).
		if disc {
			d.log.Info("agent restarted (sysUpTime went back); resolving interfaces again",
				"uptime_before", d.uptime, "uptime_now", up)
		} else {
			d.log.Info("ifTableLastChange moved; resolving interfaces again",
				"before", d.change, "now", change)
		}
		if err := d.resolve(s); err != nil {
			return err
		}
		if rd, err = d.read(s); err != nil {
			return err
		}
		if u, ok := toUint64(rd.uptime.pdu); ok {
			up = u
		}
		change, haveChange = lastChange(rd.change)
	}
	d.uptime, d.haveUptime = uint32(up), true
	d.change, d.haveChange = change, haveChange
	res.Uptime = time.Duration(uint32(up)) * 10 * time.Millisecond

	samples, vanished, err := d.samples(s, rd.counters, disc)
	if err != nil {
		return err
	}
	res.Samples = samples
	res.Missing = append(slices.Clone(d.missing), vanished...)
	if len(vanished) > 0 {
		d.log.Warn("interfaces vanished; resolving again next cycle", "count", len(vanished), "interfaces", abbrev(vanished, 8))
		d.resolved = false
	}
	return nil
}

// reading is one cycle's GET answer.
type reading struct {
	uptime   value   // sysUpTime.0
	change   value   // ifTableLastChange.0; absent where the agent lacks it
	counters []value // in and out of each of d.ifaces, in order
}

// read GETs sysUpTime.0, ifTableLastChange.0 (until the agent shows it lacks it: on
// SNMPv1 asking costs a second PDU) and, per interface, the in and out counters of the
// width known for it.
func (d *device) read(s *session) (reading, error) {
	if d.readOIDs == nil {
		d.readOIDs = make([]string, 0, 2+2*len(d.ifaces))
		d.readOIDs = append(d.readOIDs, oidSysUpTime)
		if !d.noChange {
			d.readOIDs = append(d.readOIDs, oidIfTableLastChange)
		}
		for _, f := range d.ifaces {
			in, out := d.counterColumns(f.name)
			d.readOIDs = append(d.readOIDs, instance(in, f.index), instance(out, f.index))
		}
	}
	vals, err := s.get(d.readOIDs)
	if err != nil {
		return reading{}, fmt.Errorf("get counters: %w", err)
	}
	r := reading{uptime: vals[0], change: value{pdu: gosnmp.SnmpPDU{Type: gosnmp.NoSuchObject}}}
	head := 1
	if !d.noChange {
		r.change = vals[1]
		head = 2
		if r.change.absent() {
			d.noChange, d.readOIDs = true, nil
		}
	}
	r.counters = vals[head:]
	return r, nil
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

// samples turns the counter values (two per interface) into samples. Interfaces without
// 64-bit counters fall back to 32-bit ones, read at once and remembered; interfaces with
// neither are returned as vanished.
func (d *device) samples(s *session, vals []value, disc bool) ([]Sample, []string, error) {
	// Slots keep configuration order whatever the fallbacks do.
	slots := make([]Sample, len(d.ifaces))
	have := make([]bool, len(d.ifaces))
	var retry []int // positions in d.ifaces needing 32-bit counters now
	var vanished []string
	for i, f := range d.ifaces {
		in, out := vals[2*i], vals[2*i+1]
		if in.absent() || out.absent() {
			if d.is32(f.name) {
				vanished = append(vanished, f.name)
			} else {
				retry = append(retry, i)
			}
			continue
		}
		slots[i], have[i] = d.sample(f, in, out, disc), true
	}
	if len(retry) == 0 {
		return compact(slots, have), vanished, nil
	}
	oids := make([]string, 0, 2*len(retry))
	for _, i := range retry {
		f := d.ifaces[i]
		oids = append(oids, instance(oidIfInOctets, f.index), instance(oidIfOutOctets, f.index))
	}
	vals32, err := s.get(oids)
	if err != nil {
		return nil, nil, fmt.Errorf("get 32-bit counters: %w", err)
	}
	var fell []string
	for k, i := range retry {
		f := d.ifaces[i]
		in, out := vals32[2*k], vals32[2*k+1]
		if in.absent() || out.absent() {
			vanished = append(vanished, f.name)
			continue
		}
		d.bits32[f.name] = true
		d.readOIDs = nil
		fell = append(fell, f.name)
		slots[i], have[i] = d.sample(f, in, out, disc), true
	}
	if len(fell) > 0 {
		// Once per interface and device lifetime, in one line per cycle.
		d.log.Info("no 64-bit counters; using ifInOctets/ifOutOctets", "count", len(fell), "interfaces", abbrev(fell, 8))
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

// sample builds the sample of f and remembers it. Besides an agent restart (disc), a
// sample is discontinuous when its interface now has another ifIndex or counter width, or
// when a 64-bit counter went backwards (a reset: 64-bit counters do not wrap in practice;
// 32-bit decreases are left to the store, which can tell a wrap from the speed).
func (d *device) sample(f iface, in, out value, disc bool) Sample {
	inV, _ := toUint64(in.pdu)
	outV, _ := toUint64(out.pdu)
	at := in.at
	if out.at.After(at) {
		at = out.at
	}
	bits := 64
	if in.pdu.Type == gosnmp.Counter32 || d.is32(f.name) {
		bits = 32
	}
	prev, seen := d.last[f.name]
	if seen && !disc {
		switch {
		case prev.index != f.index, prev.bits != bits:
			disc = true
		case bits == 64 && (inV < prev.in || outV < prev.out):
			disc = true
			d.log.Info("64-bit counter went backwards; marking a discontinuity", "interface", f.name,
				"in_before", prev.in, "in_now", inV, "out_before", prev.out, "out_now", outV)
		}
	}
	d.last[f.name] = last{index: f.index, in: inV, out: outV, bits: bits}
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
	}
}

// resolve maps the configured interface names to ifIndex by walking ifName (ifDescr on
// agents without ifXTable), picks every interface up if the device asks for ["*"], and
// reads speed, ifDescr and ifAlias of the chosen ones.
func (d *device) resolve(s *session) error {
	all := d.cfg.AllInterfaces()
	cols := []string{oidIfName}
	if all {
		cols = append(cols, oidIfAdminStatus, oidIfOperStatus)
	}
	tables, err := s.walk(cols)
	if err != nil {
		return fmt.Errorf("walk ifName: %w", err)
	}
	names := tables[0]
	if len(names) == 0 {
		t, err := s.walk([]string{oidIfDescr})
		if err != nil {
			return fmt.Errorf("walk ifDescr: %w", err)
		}
		names = t[0]
	}
	byName := make(map[string]int, len(names))
	indexes := make([]int, 0, len(names))
	for idx := range names {
		indexes = append(indexes, idx)
	}
	slices.Sort(indexes)
	for _, idx := range indexes {
		n := toString(names[idx])
		if n == "" {
			continue
		}
		if prev, dup := byName[n]; dup {
			d.log.Warn("interface name on several ifIndexes; using the lowest", "interface", n, "ifindex", prev, "duplicate", idx)
			continue
		}
		byName[n] = idx
	}

	var chosen []iface
	var missing []string
	if all {
		for _, idx := range indexes {
			n := toString(names[idx])
			if n == "" || byName[n] != idx {
				continue
			}
			admin, _ := toUint64(tables[1][idx])
			oper, _ := toUint64(tables[2][idx])
			if admin == 1 && oper == 1 {
				chosen = append(chosen, iface{name: n, index: idx})
			}
		}
	} else {
		for _, n := range d.cfg.Interfaces {
			idx, ok := byName[n]
			if !ok {
				missing = append(missing, n)
				continue
			}
			chosen = append(chosen, iface{name: n, index: idx})
		}
	}
	if len(missing) > 0 {
		d.log.Warn("configured interfaces not found on the agent", "count", len(missing), "interfaces", abbrev(missing, 8))
	}

	oids := make([]string, 0, 4*len(chosen))
	for _, f := range chosen {
		oids = append(oids,
			instance(oidIfHighSpeed, f.index), instance(oidIfSpeed, f.index),
			instance(oidIfDescr, f.index), instance(oidIfAlias, f.index))
	}
	vals, err := s.get(oids)
	if err != nil {
		return fmt.Errorf("get interface speed and names: %w", err)
	}
	for i := range chosen {
		high, speed, descr, alias := vals[4*i], vals[4*i+1], vals[4*i+2], vals[4*i+3]
		if v, ok := toUint64(high.pdu); ok && !high.absent() && v > 0 {
			chosen[i].speed = v * 1_000_000
		} else if v, ok := toUint64(speed.pdu); ok && !speed.absent() {
			chosen[i].speed = v
		}
		if v, ok := d.cfg.Speed[chosen[i].name]; ok {
			chosen[i].speed = v // the operator knows better (lo, tunnels, sub-rate circuits)
		}
		chosen[i].descr = toString(descr.pdu)
		chosen[i].alias = toString(alias.pdu)
	}
	d.ifaces, d.missing, d.resolved, d.readOIDs = chosen, missing, true, nil
	d.log.Debug("interfaces resolved", "polled", len(chosen), "missing", len(missing))
	return nil
}

// abbrev keeps log lines short on devices with thousands of interfaces.
func abbrev(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ",")
	}
	return strings.Join(names[:n], ",") + fmt.Sprintf(",… (%d more)", len(names)-n)
}

// lastChange reads ifTableLastChange.0, which agents without IF-MIB's ifMIBObjects lack.
func lastChange(v value) (uint32, bool) {
	if v.absent() {
		return 0, false
	}
	n, ok := toUint64(v.pdu)
	return uint32(n), ok
}
