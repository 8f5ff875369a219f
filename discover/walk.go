package discover

import (
	"context"
	"fmt"
	"slices"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/snmp"
)

// Target is one agent to walk, with the SNMP settings targets.toml knows (SNMP.MaxOIDs
// bounds only the GETs of the system group: walks use GETBULK of MaxRepetitions, or
// GETNEXT on SNMPv1).
type Target struct {
	Host string
	config.SNMP
	// MaxRepetitions is the GETBULK size (v2c, v3); 0 means 50. Halved on tooBig.
	MaxRepetitions int
}

// Interface is one row of ifTable/ifXTable.
type Interface struct {
	Index     int
	Name      string // ifName; "" on agents without ifXTable
	Descr     string
	Alias     string
	Type      int    // IANAifType
	Admin     int    // ifAdminStatus: 1 up, 2 down, 3 testing
	Oper      int    // ifOperStatus: 1 up, 2 down, ...
	Speed     uint64 // ifSpeed, bits/s (saturates at 2^32-1)
	HighSpeed uint64 // ifHighSpeed, Mbit/s
	MAC       string // ifPhysAddress as aa:bb:cc:dd:ee:ff; "" unless six bytes, as the poller reads it
}

// Bps is the interface speed in bits/s: ifHighSpeed where it is set, else ifSpeed.
func (f Interface) Bps() uint64 {
	if f.HighSpeed > 0 {
		return f.HighSpeed * 1_000_000
	}
	return f.Speed
}

// Device is what a walk found on one agent.
type Device struct {
	Target     Target
	SysName    string
	SysDescr   string
	Interfaces []Interface // in ifIndex order
	// Presets are the target presets the agent answers (presets.go).
	Presets []string
}

const (
	oidSysDescr      = ".1.3.6.1.2.1.1.1.0"
	oidSysName       = ".1.3.6.1.2.1.1.5.0"
	oidIfDescr       = ".1.3.6.1.2.1.2.2.1.2"
	oidIfType        = ".1.3.6.1.2.1.2.2.1.3"
	oidIfSpeed       = ".1.3.6.1.2.1.2.2.1.5"
	oidIfAdminStatus = ".1.3.6.1.2.1.2.2.1.7"
	oidIfOperStatus  = ".1.3.6.1.2.1.2.2.1.8"
	oidIfPhysAddress = ".1.3.6.1.2.1.2.2.1.6"
	oidIfName        = ".1.3.6.1.2.1.31.1.1.1.1"
	oidIfHighSpeed   = ".1.3.6.1.2.1.31.1.1.1.15"
	oidIfAlias       = ".1.3.6.1.2.1.31.1.1.1.18"
)

// Walk reads the system group and the interface tables of t.
func Walk(ctx context.Context, t Target) (*Device, error) {
	s, closeFn, err := open(ctx, t)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	s.MaxRepetitions = t.MaxRepetitions
	if s.MaxRepetitions <= 0 {
		s.MaxRepetitions = defaultMaxRepetitions
	}

	dev := &Device{Target: t}
	sys, err := s.Get([]string{oidSysName, oidSysDescr})
	if err != nil {
		return nil, fmt.Errorf("get sysName from %s: %w", t.Host, err)
	}
	dev.SysName, dev.SysDescr = sys[0].Text(), sys[1].Text()

	rows := map[int]*Interface{}
	row := func(idx int) *Interface {
		f := rows[idx]
		if f == nil {
			f = &Interface{Index: idx}
			rows[idx] = f
		}
		return f
	}
	columns := []struct {
		oid string
		set func(f *Interface, v snmp.Value)
	}{
		{oidIfDescr, func(f *Interface, v snmp.Value) { f.Descr = v.Text() }},
		{oidIfType, func(f *Interface, v snmp.Value) { f.Type = int(num(v)) }},
		{oidIfSpeed, func(f *Interface, v snmp.Value) { f.Speed = num(v) }},
		{oidIfAdminStatus, func(f *Interface, v snmp.Value) { f.Admin = int(num(v)) }},
		{oidIfOperStatus, func(f *Interface, v snmp.Value) { f.Oper = int(num(v)) }},
		{oidIfPhysAddress, func(f *Interface, v snmp.Value) { f.MAC = v.MAC() }},
		{oidIfName, func(f *Interface, v snmp.Value) { f.Name = v.Text() }},
		{oidIfHighSpeed, func(f *Interface, v snmp.Value) { f.HighSpeed = num(v) }},
		{oidIfAlias, func(f *Interface, v snmp.Value) { f.Alias = v.Text() }},
	}
	// One column per walk: MaxRepetitions is the rows of one column per GETBULK, and
	// a size halved on tooBig stays halved for the columns after.
	for _, col := range columns {
		tab, err := s.Walk([]string{col.oid})
		if err != nil {
			return nil, fmt.Errorf("walk %s on %s: %w", col.oid, t.Host, err)
		}
		for idx, v := range tab[0] {
			// ifXTable rows without an ifTable row are ignored below.
			col.set(row(idx), v)
		}
	}
	for _, f := range rows {
		if f.Type == 0 && f.Descr == "" && f.Admin == 0 {
			continue // only in ifXTable
		}
		dev.Interfaces = append(dev.Interfaces, *f)
	}
	slices.SortFunc(dev.Interfaces, func(a, b Interface) int { return a.Index - b.Index })
	if dev.Presets, err = presets(s); err != nil {
		return nil, fmt.Errorf("%s: %w", t.Host, err)
	}
	return dev, nil
}

// defaultMaxRepetitions is the GETBULK size when Target.MaxRepetitions is 0.
const defaultMaxRepetitions = 50

// open dials and connects to t, and returns a session on it and its closer.
func open(ctx context.Context, t Target) (*snmp.Session, func(), error) {
	c, err := snmp.Dial(ctx, t.Host, t.SNMP, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %w", t.Host, err)
	}
	if err := c.Connect(); err != nil {
		return nil, nil, fmt.Errorf("connect %s: %w", t.Host, err)
	}
	pdu := snmp.MaxOIDs(t.SNMP)
	s := &snmp.Session{Client: c, V1: t.Version == "1", MaxOIDs: &pdu}
	return s, func() { _ = c.Close() }, nil
}

// num reads a number column; 0 when the value is not an unsigned number.
func num(v snmp.Value) uint64 {
	n, _ := v.Uint64()
	return n
}

// LookupIP returns the ifIndex of the interface holding the IPv4 address ip (ipAdEntIfIndex).
func LookupIP(ctx context.Context, t Target, ip string) (int, error) {
	s, closeFn, err := open(ctx, t)
	if err != nil {
		return 0, err
	}
	defer closeFn()
	vs, err := s.Get([]string{".1.3.6.1.2.1.4.20.1.2." + ip})
	if err != nil {
		return 0, fmt.Errorf("get ipAdEntIfIndex.%s from %s: %w", ip, t.Host, err)
	}
	if vs[0].Absent() {
		return 0, fmt.Errorf("%s has no interface with address %s", t.Host, ip)
	}
	return int(num(vs[0])), nil
}
