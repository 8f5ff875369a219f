// Package series names the store's interface series and keeps the facts stored beside
// them: the name of a (device, interface) pair, the store layout of its series, and the
// interface facts (ifIndex, descriptions, speed, counter width) the pages show. It is a
// leaf: it knows the store and the targets file's retention, nothing of polling,
// drawing or pages, so that everything that writes series (the recorder, the importer)
// names and shapes them alike.
package series

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/rrd"
)

// Name is the store's name for one interface's series. Nothing is escaped: device
// names cannot hold a slash (config rejects it), so the first slash splits the name
// again, and an interface name may hold any number of them ("ge-0/0/1").
func Name(device, iface string) string { return device + "/" + iface }

// AppendName appends Name(device, iface) to b: a lookup by a name of bytes converted
// in place (m[string(b)]) allocates no string.
func AppendName(b []byte, device, iface string) []byte {
	return append(append(append(b, device...), '/'), iface...)
}

// Split undoes Name. ok is false for a name without a slash, which no interface
// series has, and for the name of any other kind of series (see Kind).
func Split(name string) (device, iface string, ok bool) {
	device, iface, ok = strings.Cut(name, "/")
	if strings.Contains(device, kindMark) {
		return "", "", false
	}
	return device, iface, ok
}

// Kinds of series besides an interface's octets. Their names put the kind after the
// device, joined by a backslash, which a device name may not hold (config rejects it):
// so no such name equals an interface series' name, and Split refuses them.
const (
	// KindOctets is an interface's octets in and out: Name's series.
	KindOctets = ""
	// KindPackets is an interface's unicast, multicast and broadcast packets in and
	// out; KindErrors its errors and discards in and out.
	KindPackets = "packets"
	KindErrors  = "errors"
	// KindTarget is a target of a device that is not an interface: any OID, a
	// command's output. KindAggregate is a sum of other series; it belongs to no
	// device (its device part is empty).
	KindTarget    = "target"
	KindAggregate = "aggregate"
)

const kindMark = "\\"

// KindName is the store's name for a series of the given kind: device\kind/name. For
// KindOctets it is Name(device, name).
func KindName(device, kind, name string) string {
	if kind == KindOctets {
		return Name(device, name)
	}
	return device + kindMark + kind + "/" + name
}

// Parse undoes KindName (and Name): ok is false for a name without a slash.
func Parse(series string) (device, kind, name string, ok bool) {
	head, name, ok := strings.Cut(series, "/")
	if !ok {
		return "", "", "", false
	}
	device, kind, _ = strings.Cut(head, kindMark)
	return device, kind, name, true
}

// Info is what the pages show about an interface beyond its rates. It is kept in the
// store beside the series (under InfoKey) so that a separate "mrtgo render" sees it.
type Info struct {
	Index int     `json:"index"`
	Descr string  `json:"descr,omitempty"`
	Alias string  `json:"alias,omitempty"`
	Speed float64 `json:"speed"` // bits/s, 0 unknown
	Bits  int     `json:"bits"`  // counter width polled
	// Admin and Oper are the interface's ifAdminStatus and ifOperStatus when last
	// polled (1 up, 2 down, 3 testing, ...; 0 unknown).
	Admin int `json:"admin,omitempty"`
	Oper  int `json:"oper,omitempty"`
	// Gone is when the agent was first found without the interface (it vanished
	// from its table), zero while it has it; its history stays browsable.
	Gone time.Time `json:"gone,omitzero"`
}

// Interface states (IF-MIB ifAdminStatus, ifOperStatus).
const (
	StatusUp   = 1
	StatusDown = 2
)

// AdminDown reports whether the interface was shut down by its operator.
func (i Info) AdminDown() bool { return i.Admin == StatusDown }

// OperDown reports whether the interface is enabled but not passing traffic.
func (i Info) OperDown() bool { return i.Admin != StatusDown && i.Oper != 0 && i.Oper != StatusUp }

// InfoKey is the store metadata key of a series' Info; InfoKey("") is the prefix of
// them all.
func InfoKey(series string) string { return "if:" + series }

// Interface reads the stored facts of a series. A series without stored facts gives
// the zero Info and no error.
func Interface(db interface{ Meta(string) ([]byte, error) }, series string) (Info, error) {
	var info Info
	b, err := db.Meta(InfoKey(series))
	if err != nil {
		return info, fmt.Errorf("read facts of %s: %w", series, err)
	}
	if b == nil {
		return info, nil
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("decode facts of %s: %w", series, err)
	}
	return info, nil
}

// PutInterfaces stores the facts of series created outside a poll (mrtgo import), so that
// the pages show speed and names before the first poll replaces them. Series whose facts
// are already stored are left alone.
func PutInterfaces(db *rrd.DB, infos map[string]Info) error {
	meta := make(map[string][]byte, len(infos))
	for series, info := range infos {
		if b, err := db.Meta(InfoKey(series)); err != nil {
			return fmt.Errorf("read facts of %s: %w", series, err)
		} else if b != nil {
			continue
		}
		b, err := json.Marshal(info)
		if err != nil {
			return fmt.Errorf("encode facts of %s: %w", series, err)
		}
		meta[InfoKey(series)] = b
	}
	if len(meta) == 0 {
		return nil
	}
	if err := db.PutMeta(meta); err != nil {
		return fmt.Errorf("store interface facts: %w", err)
	}
	return nil
}

// Archives turns a retention into the store's archives: AVERAGE and MAX at 1, 6, 24 and
// 288 steps (MRTG's 5 minutes, 30 minutes, 2 hours and 1 day), each keeping its time.
func Archives(step time.Duration, keep config.Retention) []rrd.Archive {
	var as []rrd.Archive
	for _, a := range []struct {
		steps int
		keep  time.Duration
	}{{1, keep.Daily}, {6, keep.Weekly}, {24, keep.Monthly}, {288, keep.Yearly}} {
		res := time.Duration(a.steps) * step
		rows := int((a.keep + res - 1) / res)
		as = append(as,
			rrd.Archive{CF: rrd.Average, Steps: a.steps, Rows: rows, XFF: 0.5},
			rrd.Archive{CF: rrd.Max, Steps: a.steps, Rows: rows, XFF: 0.5})
	}
	return as
}

// Spec is the store layout of an interface series: octet counters in and out, each
// capped at the interface speed so that a rate above it is stored as unknown, kept for
// the default retention.
func Spec(step time.Duration, speed float64, bits int) rrd.Spec {
	return SpecWith(step, speed, bits, Archives(step, config.DefaultRetention))
}

// SpecWith is Spec with the given archives.
func SpecWith(step time.Duration, speed float64, bits int, archives []rrd.Archive) rrd.Spec {
	max := math.NaN()
	if speed > 0 {
		max = speed / 8
	}
	ds := func(name string) rrd.DS {
		return rrd.DS{Name: name, Type: rrd.Counter, Min: 0, Max: max, Bits: bits}
	}
	return rrd.Spec{
		Step:      step,
		Heartbeat: 2 * step,
		DS:        []rrd.DS{ds("in"), ds("out")},
		Archives:  archives,
	}
}

// The data sources of the group series: KindPackets' unicast, multicast and broadcast
// packets in and out, KindErrors' errors and discards in and out.
var (
	PacketDS = []string{"ucast_in", "ucast_out", "mcast_in", "mcast_out", "bcast_in", "bcast_out"}
	ErrorDS  = []string{"err_in", "err_out", "disc_in", "disc_out"}
)

// Smallest frames, in bits, that bound a group's rates from the interface speed: an
// Ethernet frame is at least 64 bytes; an errored one (a runt, a fragment) may be
// shorter, so errors are bounded more loosely. As for the octets, a rate above the
// bound (a 32-bit counter reset read as a wrap) is stored as unknown, never as a spike.
const (
	minFrameBits      = 64 * 8
	minErrorFrameBits = 8 * 8
)

// GroupSpecWith is the store layout of an interface's counter group (KindPackets or
// KindErrors): a counter per data source of the group, bounded by the interface speed
// (bits/s, 0 unknown), kept in the given archives.
func GroupSpecWith(kind string, step time.Duration, speed float64, bits int, archives []rrd.Archive) rrd.Spec {
	names, frame := PacketDS, float64(minFrameBits)
	if kind == KindErrors {
		names, frame = ErrorDS, minErrorFrameBits
	}
	max := math.NaN()
	if speed > 0 {
		max = speed / frame
	}
	ds := make([]rrd.DS, len(names))
	for i, n := range names {
		ds[i] = rrd.DS{Name: n, Type: rrd.Counter, Min: 0, Max: max, Bits: bits}
	}
	return rrd.Spec{Step: step, Heartbeat: 2 * step, DS: ds, Archives: archives}
}
