package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/snmp"
)

// device is what the Poller knows about one agent between cycles. Only the goroutine
// polling it in the current cycle touches it.
type device struct {
	cfg     config.Device
	log     *slog.Logger
	maxOIDs int // PDU size the agent accepts; starts at the configured size
	window  int // GETBULKs of a read in flight at once (config's max_inflight)

	resolved bool
	ifaces   []iface
	missing  []string // configured names the last resolve did not find

	uptime     uint32 // sysUpTime of the last cycle, in hundredths of a second
	haveUptime bool
	change     uint32 // ifTableLastChange of the last cycle
	haveChange bool   // the last cycle read ifTableLastChange
	noChange   bool   // the agent lacks ifTableLastChange: stop asking
	number     uint32 // ifNumber of the last cycle
	haveNumber bool   // the last cycle read ifNumber
	noNumber   bool   // the agent lacks ifNumber: stop asking
	noDisc     bool   // the agent lacks ifCounterDiscontinuityTime: stop asking
	// haveDiscProbe: a resolve has asked for one ifCounterDiscontinuityTime.
	haveDiscProbe bool
	lastOK        time.Time       // end of the last cycle the device answered
	failed        bool            // the last cycle ended in an error
	bits32        map[string]bool // interfaces known to lack ifHC* counters, by name
	last          map[string]last // previous sample of each interface, by name
	readPlan      *readPlan       // how a cycle reads the counters; nil when the interfaces changed
	// rows are the agent's interface table rows (ifIndexes, ascending) as the last
	// resolve walked them: interfaces on consecutive rows are read with GETBULK.
	rows []int
	// resolveEvery is the number of cycles after which a device polling ["*"], or
	// missing some configured interfaces, resolves again to pick up new ones (<= 0: never).
	resolveEvery int
	sinceResolve int // cycles since the last resolve

	// client is kept between cycles for SNMPv3, so that engine discovery and key
	// localisation happen once; it is dropped after an error and dialled again.
	client snmp.Client
	cur    *session // the cycle in flight, which counts the datagrams client sends

	// mappingHash identifies the mapping last handed back in a Result (or restored),
	// so that it is handed back again only when it changes.
	mappingHash  uint64
	mappingStale bool // a resolve since the mapping was last encoded
	// distrust is set when the memory a previous process left was of another agent
	// (host, port, version, context or interface key changed) or unreadable: the first
	// sample of each interface is then a discontinuity. A device without any memory
	// (a new store, or one imported from MRTG, which ends on MRTG's last counters)
	// trusts the store, as a new daemon does.
	distrust bool
}

// last is what the previous sample of an interface needs to tell a discontinuity.
type last struct {
	index    int
	in, out  uint64
	bits     int
	disc     uint32 // ifCounterDiscontinuityTime
	haveDisc bool
}

// iface is one polled interface as resolved.
type iface struct {
	name         string
	index        int
	speed        uint64
	descr, alias string
}

// DefaultResolveEvery is how many cycles pass before a device polling ["*"] (or missing
// some of its configured interfaces) walks its interface names again, when
// Options.ResolveEvery is 0: an hour at the usual five-minute step. Added or removed
// ifTable rows are noticed at once through ifNumber and ifTableLastChange; this catches
// interfaces that came up, and agents that keep neither.
const DefaultResolveEvery = 12

func newDevice(d config.Device, log *slog.Logger) *device {
	return &device{cfg: d, log: log, maxOIDs: snmp.MaxOIDs(d.SNMP), resolveEvery: DefaultResolveEvery, window: maxInflight(d),
		bits32: map[string]bool{}, last: map[string]last{}}
}

// poll runs one cycle on the device with a client of its own.
func (d *device) poll(ctx context.Context, dial dialFunc, now func() time.Time) Result {
	start := time.Now() // wall time spent, whatever clock the samples are stamped with
	res := Result{Device: d.cfg.Name}
	s := &session{Session: snmp.Session{V1: d.cfg.SNMP.Version == "1", MaxOIDs: &d.maxOIDs, Now: now}}
	s.OnShrink = func(from, to int) {
		d.log.Info("agent answered tooBig; fewer OIDs per PDU", "from", from, "to", to)
	}
	err := ctx.Err()
	if err == nil {
		d.cur = s
		err = d.cycle(ctx, dial, s, &res)
		d.cur = nil
	}
	discovered := false
	if err != nil && d.client != nil {
		if e, ok := d.client.(engineKnower); ok {
			discovered = e.EngineKnown()
		}
		// A v3 session that failed may hold a stale engine time or boots: start over.
		_ = d.client.Close()
		d.client = nil
	}
	res.Requests = s.Requests
	res.Retries = max(s.sent-s.Requests, 0)
	res.Timeouts = res.Retries
	if snmp.TimedOut(err) {
		res.Timeouts++
	}
	res.Duration = time.Since(start)
	d.failed = err != nil
	if err == nil {
		d.lastOK = now()
	}
	res.LastSuccess = d.lastOK
	res.Mapping, res.State = d.memory(now())
	if err != nil {
		if d.cfg.SNMP.Version == "3" {
			err = snmp.USMError(err, d.cfg.SNMP, discovered)
		}
		res.Err = fmt.Errorf("poll %s: %w", d.cfg.Name, err)
		res.Samples = nil
		d.log.Warn("poll failed", "err", err, "requests", s.Requests, "retries", res.Retries, "duration", res.Duration)
	}
	return res
}

// connect returns the client for this cycle: a new one for v1 and v2c (closed by the
// caller through the returned func), the kept one for v3.
func (d *device) connect(ctx context.Context, dial dialFunc) (snmp.Client, func(), error) {
	if d.client != nil {
		if cs, ok := d.client.(contextSetter); ok {
			cs.SetContext(ctx)
		}
		return d.client, func() {}, nil
	}
	c, err := dial(ctx, d.cfg, func() {
		if d.cur != nil {
			d.cur.sent++
		}
	})
	if err != nil {
		return nil, nil, err
	}
	if err := c.Connect(); err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	if d.cfg.SNMP.Version == "3" {
		// The first request of a new v3 client is preceded by engine discovery, one
		// more round trip: count it as a request, not as a retry.
		if d.cur != nil {
			d.cur.Requests++
		}
		d.client = c
		return c, func() {}, nil
	}
	return c, func() { _ = c.Close() }, nil
}

// close releases the client kept between cycles.
func (d *device) close() {
	if d.client != nil {
		_ = d.client.Close()
		d.client = nil
	}
}

func (d *device) cycle(ctx context.Context, dial dialFunc, s *session, res *Result) error {
	c, done, err := d.connect(ctx, dial)
	if err != nil {
		return err
	}
	defer done()
	s.Client = c
	if v := d.cfg.SNMP.Version; (v == "2c" || v == "") && d.window > 1 {
		s.window = d.window
		s.more = func(onSent func()) (snmp.Client, func(), error) {
			c, err := dial(ctx, d.cfg, onSent)
			if err != nil {
				return nil, nil, err
			}
			if err := c.Connect(); err != nil {
				return nil, nil, err
			}
			return c, func() { _ = c.Close() }, nil
		}
	}

	d.sinceResolve++
	if d.resolved && d.resolveEvery > 0 && d.sinceResolve >= d.resolveEvery &&
		(d.cfg.AllInterfaces() || len(d.missing) > 0) {
		d.log.Debug("resolving interfaces again to pick up new ones", "cycles", d.sinceResolve)
		d.resolved = false
	}
	if !d.resolved {
		if err := d.resolve(s); err != nil {
			return err
		}
	}
	rd, err := d.read(s)
	if err != nil {
		return err
	}
	up, ok := rd.uptime.Uint64()
	if rd.uptime.Absent() || !ok {
		return errors.New("get sysUpTime: agent has no sysUpTime.0")
	}
	change, haveChange := rd.change.Ticks()
	number, haveNumber := rd.number.Ticks()
	disc := d.haveUptime && uint32(up) < d.uptime
	moved := !disc && haveChange && d.haveChange && change != d.change
	grew := !disc && !moved && haveNumber && d.haveNumber && number != d.number
	if disc || moved || grew {
		// The agent restarted, or rows were added to or removed from ifTable: ifIndexes
		// may have moved, so resolve again and read the counters of the interfaces as
		// they are now numbered. After a restart every counter starts over; after a
		// renumbering only interfaces with a new ifIndex do (see sample).
		switch {
		case disc:
			d.log.Info("agent restarted (sysUpTime went back); resolving interfaces again",
				"uptime_before", d.uptime, "uptime_now", up)
		case moved:
			d.log.Info("ifTableLastChange moved; resolving interfaces again",
				"before", d.change, "now", change)
		default:
			d.log.Info("ifNumber changed; resolving interfaces again", "before", d.number, "now", number)
		}
		if err := d.resolve(s); err != nil {
			return err
		}
		if rd, err = d.read(s); err != nil {
			return err
		}
		if u, ok := rd.uptime.Uint64(); ok {
			up = u
		}
		change, haveChange = rd.change.Ticks()
		number, haveNumber = rd.number.Ticks()
	}
	d.uptime, d.haveUptime = uint32(up), true
	d.change, d.haveChange = change, haveChange
	d.number, d.haveNumber = number, haveNumber
	res.Uptime = time.Duration(uint32(up)) * 10 * time.Millisecond

	samples, vanished, err := d.samples(s, rd, disc)
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
func (d *device) samples(s *session, rd reading, disc bool) ([]Sample, []string, error) {
	// Slots keep configuration order whatever the fallbacks do.
	slots := make([]Sample, len(d.ifaces))
	have := make([]bool, len(d.ifaces))
	var retry []int // positions in d.ifaces needing 32-bit counters now
	var vanished []string
	for i, f := range d.ifaces {
		in, out := rd.counters(i)
		if in.Absent() || out.Absent() {
			if d.is32(f.name) {
				vanished = append(vanished, f.name)
			} else {
				retry = append(retry, i)
			}
			continue
		}
		slots[i], have[i] = d.sample(f, in, out, rd, i, disc), true
	}
	if len(retry) == 0 {
		return compact(slots, have), vanished, nil
	}
	oids := make([]string, 0, 2*len(retry))
	for _, i := range retry {
		f := d.ifaces[i]
		oids = append(oids, instance(oidIfInOctets, f.index), instance(oidIfOutOctets, f.index))
	}
	vals32, err := s.Get(oids)
	if err != nil {
		return nil, nil, fmt.Errorf("get 32-bit counters: %w", err)
	}
	var fell []string
	for k, i := range retry {
		f := d.ifaces[i]
		in, out := vals32[2*k], vals32[2*k+1]
		if in.Absent() || out.Absent() {
			vanished = append(vanished, f.name)
			continue
		}
		d.bits32[f.name] = true
		d.readPlan = nil
		fell = append(fell, f.name)
		slots[i], have[i] = d.sample(f, in, out, rd, i, disc), true
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

// sample builds the sample of f (interface i of the reading) and remembers it. Besides an
// agent restart (disc), a sample is discontinuous when its interface now has another
// ifIndex or counter width, when its ifCounterDiscontinuityTime moved ("clear
// counters"), or when a 64-bit counter went backwards (a reset: 64-bit counters do not
// wrap in practice; 32-bit decreases are left to the store, which can tell a wrap from
// the speed).
func (d *device) sample(f iface, in, out snmp.Value, rd reading, i int, disc bool) Sample {
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
	if !seen && d.distrust {
		// The memory of the last cycle was of another agent or unreadable: nothing
		// vouches that these counters continue the ones stored under this name.
		disc = true
	}
	if seen && !disc {
		switch {
		case prev.index != f.index, prev.bits != bits:
			disc = true
		case haveDT && prev.haveDisc && dt != prev.disc:
			disc = true
			d.log.Info("ifCounterDiscontinuityTime moved; marking a discontinuity", "interface", f.name,
				"before", prev.disc, "now", dt)
		case bits == 64 && (inV < prev.in || outV < prev.out):
			disc = true
			d.log.Info("64-bit counter went backwards; marking a discontinuity", "interface", f.name,
				"in_before", prev.in, "in_now", inV, "out_before", prev.out, "out_now", outV)
		}
	}
	d.last[f.name] = last{index: f.index, in: inV, out: outV, bits: bits, disc: dt, haveDisc: haveDT}
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

// keyColumns maps config's interface keys to the column walked to find them (for
// ifIndex, any column present on every row).
var keyColumns = map[string]struct{ oid, name string }{
	config.KeyIfName:  {oidIfName, "ifName"},
	config.KeyIfDescr: {oidIfDescr, "ifDescr"},
	config.KeyIfAlias: {oidIfAlias, "ifAlias"},
	config.KeyMAC:     {oidIfPhysAddress, "ifPhysAddress"},
	config.KeyIfIndex: {oidIfDescr, "ifDescr"},
}

// keyOf is the interface key of row idx whose key column holds v, "" if it has none.
func (d *device) keyOf(idx int, v snmp.Value) string {
	switch d.cfg.Key {
	case config.KeyIfIndex:
		return strconv.Itoa(idx)
	case config.KeyMAC:
		return v.MAC()
	}
	return v.Text()
}

// resolve maps the configured interfaces to ifIndex by walking the column of the
// device's interface key (ifName by default; ifDescr on agents without ifXTable), picks
// every interface up if the device asks for ["*"], and reads speed, ifDescr and ifAlias
// of the chosen ones.
func (d *device) resolve(s *session) error {
	all := d.cfg.AllInterfaces()
	key, ok := keyColumns[d.cfg.Key]
	if !ok {
		key = keyColumns[config.KeyIfName]
	}
	cols := []string{key.oid}
	if all {
		cols = append(cols, oidIfAdminStatus, oidIfOperStatus)
	}
	tables, err := s.Walk(cols)
	if err != nil {
		return fmt.Errorf("walk %s: %w", key.name, err)
	}
	names := tables[0]
	if len(names) == 0 && key.oid == oidIfName {
		t, err := s.Walk([]string{oidIfDescr})
		if err != nil {
			return fmt.Errorf("walk ifDescr: %w", err)
		}
		names = t[0]
	}
	indexes := make([]int, 0, len(names))
	for idx := range names {
		indexes = append(indexes, idx)
	}
	slices.Sort(indexes)
	byName, err := d.pickTwins(s, key.name, indexes, names)
	if err != nil {
		return err
	}

	var chosen []iface
	var missing []string
	if all {
		for _, idx := range indexes {
			n := d.keyOf(idx, names[idx])
			if n == "" || byName[n] != idx {
				continue
			}
			admin, _ := tables[1][idx].Uint64()
			oper, _ := tables[2][idx].Uint64()
			_, polled := d.last[n] // keep an interface once polled, even when it goes down
			if admin == 1 && oper == 1 || polled {
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
	probe := !d.noDisc && !d.haveDiscProbe && len(chosen) > 0
	if probe {
		// Ask for one ifCounterDiscontinuityTime before asking for all in every cycle:
		// an SNMPv1 agent without it would refuse each in a PDU of its own.
		oids = append(oids, instance(oidIfCounterDiscontinuityTime, chosen[0].index))
	}
	vals, err := s.Get(oids)
	if err != nil {
		return fmt.Errorf("get interface speed and names: %w", err)
	}
	if probe {
		d.haveDiscProbe = true
		if vals[len(vals)-1].Absent() {
			d.noDisc = true
			d.log.Debug("agent has no ifCounterDiscontinuityTime; not asking for it")
		}
	}
	for i := range chosen {
		high, speed, descr, alias := vals[4*i], vals[4*i+1], vals[4*i+2], vals[4*i+3]
		if v, ok := high.Uint64(); ok && !high.Absent() && v > 0 {
			chosen[i].speed = v * 1_000_000
		} else if v, ok := speed.Uint64(); ok && !speed.Absent() {
			chosen[i].speed = v
		}
		if v, ok := d.cfg.Speed[chosen[i].name]; ok {
			chosen[i].speed = v // the operator knows better (lo, tunnels, sub-rate circuits)
		}
		chosen[i].descr = descr.Text()
		chosen[i].alias = alias.Text()
	}
	d.ifaces, d.missing, d.resolved, d.readPlan = chosen, missing, true, nil
	d.mappingStale = true
	d.rows = indexes
	d.sinceResolve = 0
	d.log.Debug("interfaces resolved", "polled", len(chosen), "missing", len(missing))
	return nil
}

// pickTwins maps each interface key to its ifIndex. Where several rows share a key (an
// agent such as net-snmp keeps a deleted interface under its name, down and with frozen
// counters, beside the re-created one at a higher ifIndex) the live one wins: up in
// both ifAdminStatus and ifOperStatus, then the most recent ifLastChange, then the
// highest ifIndex. Never a dead twin over a live one. The twins' status is read with one
// GET, so agents without twins pay nothing.
func (d *device) pickTwins(s *session, keyName string, indexes []int, names map[int]snmp.Value) (map[string]int, error) {
	byName := make(map[string]int, len(names))
	twins := map[string][]int{}
	for _, idx := range indexes {
		n := d.keyOf(idx, names[idx])
		if n == "" {
			continue
		}
		if prev, dup := byName[n]; dup {
			if len(twins[n]) == 0 {
				twins[n] = append(twins[n], prev)
			}
			twins[n] = append(twins[n], idx)
			continue
		}
		byName[n] = idx
	}
	if len(twins) == 0 {
		return byName, nil
	}
	var dups []int
	for _, idxs := range twins {
		dups = append(dups, idxs...)
	}
	slices.Sort(dups)
	oids := make([]string, 0, 3*len(dups))
	for _, idx := range dups {
		oids = append(oids, instance(oidIfAdminStatus, idx), instance(oidIfOperStatus, idx), instance(oidIfLastChange, idx))
	}
	vals, err := s.Get(oids)
	if err != nil {
		return nil, fmt.Errorf("get status of interfaces sharing a %s: %w", keyName, err)
	}
	type status struct {
		up     bool
		change uint32
	}
	st := make(map[int]status, len(dups))
	for k, idx := range dups {
		a, _ := vals[3*k].Uint64()
		o, _ := vals[3*k+1].Uint64()
		c, _ := vals[3*k+2].Ticks()
		st[idx] = status{up: a == 1 && o == 1, change: c}
	}
	names2 := make([]string, 0, len(twins))
	for n := range twins {
		names2 = append(names2, n)
	}
	slices.Sort(names2)
	for _, n := range names2 {
		idxs := twins[n]
		best := idxs[0]
		for _, idx := range idxs[1:] {
			b, c := st[best], st[idx]
			switch {
			case c.up != b.up:
				if c.up {
					best = idx
				}
			case c.change != b.change:
				if c.change > b.change {
					best = idx
				}
			case idx > best:
				best = idx
			}
		}
		byName[n] = best
		d.log.Info("interface key on several ifIndexes; polling the live one", "key", keyName, "interface", n,
			"ifindex", best, "up", st[best].up, "twins", fmt.Sprint(idxs))
	}
	return byName, nil
}

// abbrev keeps log lines short on devices with thousands of interfaces.
func abbrev(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ",")
	}
	return strings.Join(names[:n], ",") + fmt.Sprintf(",… (%d more)", len(names)-n)
}
