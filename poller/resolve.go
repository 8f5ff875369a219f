package poller

// Resolving: the configured interface names (by interface key) become ifIndexes, the
// live row winning where several share a name, with the speed and descriptions of each.

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/snmp"
)

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
