package snmpsim

import (
	"fmt"
	"time"
)

// Interface describes one simulated interface.
type Interface struct {
	Name  string // ifName, e.g. "ge-0/0/0"
	Descr string // ifDescr; Name when empty
	Alias string // ifAlias
	// Index is the initial ifIndex; 0 means DeviceConfig.FirstIndex plus the
	// interface's position.
	Index int
	Speed uint64 // bits per second
	// Up reports the interface administratively and operationally up. A
	// down interface carries no traffic.
	Up bool
	// MeanBps is the mean inbound traffic in bits per second over a week;
	// it is lowered when the daily peak would exceed Speed.
	MeanBps float64
	// MeanOutBps is the mean outbound traffic; 0 means a seeded fraction
	// (50 to 90 %) of MeanBps.
	MeanOutBps float64
	Type       int    // ifType; 0 means 6 (ethernetCsmacd)
	MTU        int    // ifMtu; 0 means 1500
	MAC        []byte // ifPhysAddress; nil means a seeded locally administered address
}

// DeviceConfig describes one simulated device; each is served by its own
// Agent on its own UDP socket.
type DeviceConfig struct {
	Name       string // sysName
	Community  string // read community; "" means "public"
	Interfaces []Interface
	// Seed makes the traffic noise, MAC addresses and phases of this device
	// distinct from others; the same seed gives the same counters.
	Seed     int64
	Descr    string // sysDescr; a generic description when empty
	ObjectID string // sysObjectID; ".1.3.6.1.4.1.8072.3.2.10" when empty
	Contact  string // sysContact
	Location string // sysLocation
	// FirstIndex is the ifIndex of the first interface whose Index is 0;
	// 0 means 1.
	FirstIndex int
	// Zone sets the daily rhythm (nil means UTC). Its standard offset is
	// used all year so that days stay 24 hours long.
	Zone *time.Location
}

func (d *DeviceConfig) validate() error {
	if d.Name == "" {
		return fmt.Errorf("device name is empty")
	}
	if d.ObjectID != "" {
		if o, ok := parseOID(d.ObjectID); !ok || len(o) < 2 {
			return fmt.Errorf("device %s: sysObjectID %q is not a dotted OID", d.Name, d.ObjectID)
		}
	}
	seen := make(map[int]string, len(d.Interfaces))
	names := make(map[string]bool, len(d.Interfaces))
	for i, ifc := range d.Interfaces {
		if ifc.Name == "" {
			return fmt.Errorf("device %s: interface %d: name is empty", d.Name, i)
		}
		if names[ifc.Name] {
			return fmt.Errorf("device %s: interface %s: duplicate name", d.Name, ifc.Name)
		}
		names[ifc.Name] = true
		idx := d.ifIndex(i)
		if idx <= 0 || idx > 2147483647 {
			return fmt.Errorf("device %s: interface %s: ifIndex %d out of range", d.Name, ifc.Name, idx)
		}
		if other, ok := seen[idx]; ok {
			return fmt.Errorf("device %s: interface %s: ifIndex %d already used by %s", d.Name, ifc.Name, idx, other)
		}
		seen[idx] = ifc.Name
		if ifc.MAC != nil && len(ifc.MAC) != 6 {
			return fmt.Errorf("device %s: interface %s: MAC has %d bytes, want 6", d.Name, ifc.Name, len(ifc.MAC))
		}
	}
	return nil
}

func (d *DeviceConfig) ifIndex(pos int) int {
	if idx := d.Interfaces[pos].Index; idx != 0 {
		return idx
	}
	first := d.FirstIndex
	if first == 0 {
		first = 1
	}
	return first + pos
}

// zoneOffset is the standard UTC offset of the device's zone, taken at a
// fixed instant so that it is the same whenever the agent starts.
func (d *DeviceConfig) zoneOffset() int64 {
	if d.Zone == nil {
		return 0
	}
	_, off := time.Date(2025, time.January, 15, 12, 0, 0, 0, time.UTC).In(d.Zone).Zone()
	return int64(off)
}
