package poller

// The poller's side of internal/snmp: how a device is dialled (tests dial a fake agent
// instead), the optional abilities of a kept client, and the OIDs the poller reads.

import (
	"context"
	"fmt"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/snmp"
)

// dialFunc builds an unconnected client for d; ctx bounds every request it sends and
// onSent, if not nil, is called for every datagram sent (retries included). Tests dial
// a fake agent instead of dialSNMP.
type dialFunc func(ctx context.Context, d config.Device, onSent func()) (snmp.Client, error)

func dialSNMP(ctx context.Context, d config.Device, onSent func()) (snmp.Client, error) {
	c, err := snmp.Dial(ctx, d.Host, d.SNMP, onSent)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	return c, nil
}

// contextSetter is implemented by clients that outlive one cycle (SNMPv3, *snmp.Conn):
// each cycle bounds the client's requests with its own context.
type contextSetter interface {
	SetContext(ctx context.Context)
}

// engineKnower is implemented by clients that tell whether the agent answered SNMPv3
// engine discovery (*snmp.Conn).
type engineKnower interface {
	EngineKnown() bool
}

var (
	_ contextSetter = (*snmp.Conn)(nil)
	_ engineKnower  = (*snmp.Conn)(nil)
)

func maxInflight(d config.Device) int {
	if d.SNMP.MaxInflight > 0 {
		return d.SNMP.MaxInflight
	}
	return config.DefaultMaxInflight
}

// OIDs read by the poller (IF-MIB, SNMPv2-MIB).
const (
	oidSysUpTime     = ".1.3.6.1.2.1.1.3.0"
	oidIfNumber      = ".1.3.6.1.2.1.2.1.0"
	oidIfDescr       = ".1.3.6.1.2.1.2.2.1.2"
	oidIfSpeed       = ".1.3.6.1.2.1.2.2.1.5"
	oidIfPhysAddress = ".1.3.6.1.2.1.2.2.1.6"
	oidIfAdminStatus = ".1.3.6.1.2.1.2.2.1.7"
	oidIfOperStatus  = ".1.3.6.1.2.1.2.2.1.8"
	oidIfLastChange  = ".1.3.6.1.2.1.2.2.1.9"
	oidIfInOctets    = ".1.3.6.1.2.1.2.2.1.10"
	oidIfOutOctets   = ".1.3.6.1.2.1.2.2.1.16"
	oidIfName        = ".1.3.6.1.2.1.31.1.1.1.1"
	oidIfHCInOctets  = ".1.3.6.1.2.1.31.1.1.1.6"
	oidIfHCOutOctets = ".1.3.6.1.2.1.31.1.1.1.10"
	oidIfHighSpeed   = ".1.3.6.1.2.1.31.1.1.1.15"
	oidIfAlias       = ".1.3.6.1.2.1.31.1.1.1.18"
	// ifCounterDiscontinuityTime: sysUpTime of the last counter discontinuity of the
	// interface ("clear counters", a module swap), 0 if none since the agent started.
	oidIfCounterDiscontinuityTime = ".1.3.6.1.2.1.31.1.1.1.19"
	// ifTableLastChange: sysUpTime when a row was last added to or removed from ifTable.
	oidIfTableLastChange = ".1.3.6.1.2.1.31.1.5.0"
)

func instance(column string, index int) string { return snmp.Instance(column, index) }

// session is one device's client for one cycle, counting the PDUs it sends.
type session struct {
	snmp.Session
	sent int // datagrams sent, retries included
	// more opens another client to the same agent, whose datagrams are counted by
	// onSent, and its closer; nil where the cycle keeps to one (SNMPv1, SNMPv3).
	more   func(onSent func()) (snmp.Client, func(), error)
	window int // GETBULKs in flight at once when more is set
}
