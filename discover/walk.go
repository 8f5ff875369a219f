package discover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/poller"
)

// Target is one agent to walk, with the SNMP settings targets.toml knows (SNMP.MaxOIDs
// is not used: walks use GETBULK or GETNEXT).
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
	c, err := dial(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(); err != nil {
		return nil, fmt.Errorf("connect %s: %w", t.Host, err)
	}
	defer c.Conn.Close()
	w := walker{c: c, v1: c.Version == gosnmp.Version1, reps: t.MaxRepetitions}
	if w.reps <= 0 {
		w.reps = 50
	}

	dev := &Device{Target: t}
	pkt, err := c.Get([]string{oidSysName, oidSysDescr})
	if err != nil {
		return nil, fmt.Errorf("get sysName from %s: %w", t.Host, err)
	}
	if pkt.Error != gosnmp.NoError {
		return nil, fmt.Errorf("get sysName from %s: agent error %v", t.Host, pkt.Error)
	}
	for _, v := range pkt.Variables {
		switch strings.TrimPrefix(v.Name, ".") {
		case oidSysName[1:]:
			dev.SysName = poller.PDUString(v)
		case oidSysDescr[1:]:
			dev.SysDescr = poller.PDUString(v)
		}
	}

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
		set func(f *Interface, v gosnmp.SnmpPDU)
	}{
		{oidIfDescr, func(f *Interface, v gosnmp.SnmpPDU) { f.Descr = poller.PDUString(v) }},
		{oidIfType, func(f *Interface, v gosnmp.SnmpPDU) { f.Type = int(num(v)) }},
		{oidIfSpeed, func(f *Interface, v gosnmp.SnmpPDU) { f.Speed = num(v) }},
		{oidIfAdminStatus, func(f *Interface, v gosnmp.SnmpPDU) { f.Admin = int(num(v)) }},
		{oidIfOperStatus, func(f *Interface, v gosnmp.SnmpPDU) { f.Oper = int(num(v)) }},
		{oidIfPhysAddress, func(f *Interface, v gosnmp.SnmpPDU) { f.MAC = poller.PDUMAC(v) }},
		{oidIfName, func(f *Interface, v gosnmp.SnmpPDU) { f.Name = poller.PDUString(v) }},
		{oidIfHighSpeed, func(f *Interface, v gosnmp.SnmpPDU) { f.HighSpeed = num(v) }},
		{oidIfAlias, func(f *Interface, v gosnmp.SnmpPDU) { f.Alias = poller.PDUString(v) }},
	}
	for _, col := range columns {
		err := w.walk(col.oid, func(idx int, v gosnmp.SnmpPDU) {
			// ifXTable rows without an ifTable row are ignored below.
			col.set(row(idx), v)
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s on %s: %w", col.oid, t.Host, err)
		}
	}
	for _, f := range rows {
		if f.Type == 0 && f.Descr == "" && f.Admin == 0 {
			continue // only in ifXTable
		}
		dev.Interfaces = append(dev.Interfaces, *f)
	}
	slices.SortFunc(dev.Interfaces, func(a, b Interface) int { return a.Index - b.Index })
	return dev, nil
}

func dial(ctx context.Context, t Target) (*gosnmp.GoSNMP, error) {
	v, err := poller.Version(t.Version)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", t.Host, err)
	}
	port := t.Port
	if port == 0 {
		port = 161
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("dial %s: port %d out of range", t.Host, port)
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	c := &gosnmp.GoSNMP{
		Target:    t.Host,
		Port:      uint16(port),
		Transport: "udp",
		Community: t.Community,
		Version:   v,
		Context:   ctx,
		Timeout:   timeout,
		Retries:   max(t.Retries, 0),
		MaxOids:   gosnmp.MaxOids,
	}
	if v == gosnmp.Version3 {
		if err := poller.SetupUSM(c, t.SNMP); err != nil {
			return nil, fmt.Errorf("dial %s: %w", t.Host, err)
		}
		c.Community = ""
	}
	return c, nil
}

// walker walks one table column at a time: GETBULK for v2c, GETNEXT for v1. gosnmp's own
// BulkWalk is not used because it stops without an error on tooBig.
type walker struct {
	c    *gosnmp.GoSNMP
	v1   bool
	reps int
}

var errLoop = errors.New("agent does not advance")

func (w *walker) walk(column string, fn func(idx int, v gosnmp.SnmpPDU)) error {
	prefix := strings.TrimPrefix(column, ".") + "."
	cur := column
	for {
		var pkt *gosnmp.SnmpPacket
		var err error
		if w.v1 {
			pkt, err = w.c.GetNext([]string{cur})
		} else {
			pkt, err = w.c.GetBulk([]string{cur}, 0, uint32(w.reps))
		}
		if err != nil {
			return err
		}
		switch pkt.Error {
		case gosnmp.NoError:
		case gosnmp.TooBig:
			if w.v1 || w.reps == 1 {
				return fmt.Errorf("agent answers tooBig for one value")
			}
			w.reps /= 2
			continue
		case gosnmp.NoSuchName: // v1: end of the MIB
			return nil
		default:
			return fmt.Errorf("agent error %v", pkt.Error)
		}
		if len(pkt.Variables) == 0 {
			return nil
		}
		for _, v := range pkt.Variables {
			switch v.Type {
			case gosnmp.EndOfMibView, gosnmp.NoSuchObject, gosnmp.NoSuchInstance:
				return nil
			}
			name := strings.TrimPrefix(v.Name, ".")
			if !strings.HasPrefix(name, prefix) {
				return nil
			}
			if "."+name == cur || !oidAfter("."+name, cur) {
				return fmt.Errorf("%w: %s after %s", errLoop, v.Name, cur)
			}
			cur = "." + name
			idx, err := strconv.Atoi(name[len(prefix):])
			if err != nil || idx < 0 {
				continue // not a single-integer index
			}
			fn(idx, v)
		}
	}
}

// oidAfter reports whether dotted OID a sorts after b.
func oidAfter(a, b string) bool {
	as := strings.Split(strings.TrimPrefix(a, "."), ".")
	bs := strings.Split(strings.TrimPrefix(b, "."), ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.ParseUint(as[i], 10, 64)
		y, _ := strconv.ParseUint(bs[i], 10, 64)
		if x != y {
			return x > y
		}
	}
	return len(as) > len(bs)
}

// num reads a number column; 0 when the value is not an unsigned number.
func num(v gosnmp.SnmpPDU) uint64 {
	n, _ := poller.PDUUint64(v)
	return n
}

// LookupIP returns the ifIndex of the interface holding the IPv4 address ip (ipAdEntIfIndex).
func LookupIP(ctx context.Context, t Target, ip string) (int, error) {
	c, err := dial(ctx, t)
	if err != nil {
		return 0, err
	}
	if err := c.Connect(); err != nil {
		return 0, fmt.Errorf("connect %s: %w", t.Host, err)
	}
	defer c.Conn.Close()
	oid := ".1.3.6.1.2.1.4.20.1.2." + ip
	pkt, err := c.Get([]string{oid})
	if err != nil {
		return 0, fmt.Errorf("get ipAdEntIfIndex.%s from %s: %w", ip, t.Host, err)
	}
	if pkt.Error != gosnmp.NoError || len(pkt.Variables) != 1 {
		return 0, fmt.Errorf("get ipAdEntIfIndex.%s from %s: agent error %v", ip, t.Host, pkt.Error)
	}
	v := pkt.Variables[0]
	switch v.Type {
	case gosnmp.NoSuchInstance, gosnmp.NoSuchObject, gosnmp.Null:
		return 0, fmt.Errorf("%s has no interface with address %s", t.Host, ip)
	}
	return int(num(v)), nil
}
