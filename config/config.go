// Package config owns targets.toml, the list of devices mrtgo polls: it loads and
// validates it, and it is the one writer of it. Loading is strict: unknown keys, bad
// durations, missing hosts and duplicate names are errors that name the file and the
// line or key to fix. Format writes a new file and Merge adds devices to one that
// exists line by line, keeping every line a person wrote; both leave out what equals
// the defaults, which are set in one place (defaults.go). The package touches no
// network and no file: Load reads the one it is given, writing is the caller's.
//
// The files: load.go (Load, Parse, the top-level keys), decode.go (the types the file
// decodes into), device.go and snmp.go (validation of [[device]] and of SNMP settings),
// thresholds.go, host.go, errors.go, suggest.go ("did you mean", from the types' toml
// tags), locate.go (lines of keys), target.go, preset.go and aggregate.go (targets
// that are not interfaces, their presets, sums), write.go, writetarget.go, merge.go and
// scan.go (the writer).
package config

import (
	"fmt"
	"net/netip"
	"time"
)

// Config is a validated targets file with every default applied.
type Config struct {
	File     string         // path the configuration was read from
	Step     time.Duration  // poll interval and finest resolution
	Data     string         // bbolt store path, relative paths resolved against the file's directory
	Site     string         // static site directory, resolved like Data
	Timezone string         // as written ("Local", "UTC", "Europe/Paris")
	Location *time.Location // Timezone loaded
	SNMP     SNMP           // defaults for every device
	Devices  []Device
	// Retention is how long each resolution of the store is kept. Changing it re-shapes
	// the existing series from the data they hold; no history is deleted.
	Retention Retention
	// Thresholds are the [thresholds] limits, the base of every device's; Alert is
	// what runs when an interface crosses one.
	Thresholds Thresholds
	Alert      Alert
	// Flows is the [flows] collector: where NetFlow, IPFIX and sFlow are received.
	Flows Flows
	// Detect is [detect]: what the flow records are examined for, and the packet
	// capture an attack starts.
	Detect Detect
	// Events is [events]: the log of what was found and the command it runs.
	Events Events
	// RemoteWrite is [remote_write]: where every committed step is sent.
	RemoteWrite RemoteWrite
	// RemoteRead is [remote_read]: where the pages are drawn from instead of the
	// local store.
	RemoteRead RemoteRead
	// Shards pins sites to shards ([shards]: site = shard number), for pollers
	// started with --shard I/N; Shard is the part this configuration was cut down to
	// by ForShard (zero: the whole file).
	Shards     map[string]int
	shardLines map[string]int
	Shard      ShardSpec
	// Counters are the counter groups polled beside the octets on every device that
	// does not set its own (counters.go).
	Counters Counters
	// Aggregates are the [[aggregate]] sums of interfaces and targets.
	Aggregates []Aggregate
}

// Flows configures the flow collector of "mrtgo run".
type Flows struct {
	// Listen holds the UDP addresses ("0.0.0.0:2055", "[::]:4739", "127.0.0.1:6343")
	// on which export datagrams are received; empty means no collector.
	Listen []string
	// Data is the directory of the flow store: the raw records in time segments and
	// the top talkers per step. Load resolves it against the file's directory; when
	// the file does not set it, it is "flows" beside the rate store.
	Data string
	// Keep is how long raw records are kept (the top talkers are kept as long as the
	// rates); MaxSize caps the raw records' bytes on disk (0: no cap). The oldest
	// segments go first when either is exceeded.
	Keep    time.Duration
	MaxSize int64
}

// Retention is the time kept at each of the four resolutions behind MRTG's graphs.
type Retention struct {
	Daily   time.Duration // rows at the poll step (5-minute): the day graph and the 95th percentile
	Weekly  time.Duration // 6-step rows (30-minute), average and maximum
	Monthly time.Duration // 24-step rows (2-hour), average and maximum
	Yearly  time.Duration // 288-step rows (1-day), average and maximum
}

// SNMP holds the agent settings of one device (or the defaults for all).
type SNMP struct {
	Version   string        // "1", "2c" or "3"
	Community string        // v1 and v2c; never logged
	Port      int           // UDP port, 161 by default
	Timeout   time.Duration // per request
	Retries   int           // per request
	MaxOIDs   int           // OIDs per GET PDU
	// MaxInflight is how many GETBULKs of one read may await their answer at once
	// (SNMPv2c), each on a socket of its own.
	MaxInflight int

	// SNMPv3 (USM). Protocol names are canonical after loading: AuthProtocols and
	// PrivProtocols list them.
	Username      string // security name
	SecurityLevel string // "noAuthNoPriv", "authNoPriv" or "authPriv"
	AuthProtocol  string // "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"; "" without auth
	AuthPassword  string // never logged
	PrivProtocol  string // "DES", "AES", "AES-192", "AES-256", "AES-192C", "AES-256C"; "" without priv
	PrivPassword  string // never logged
	Context       string // context name; "" is the default context
}

// SNMPv3 security levels.
const (
	NoAuthNoPriv = "noAuthNoPriv"
	AuthNoPriv   = "authNoPriv"
	AuthPriv     = "authPriv"
)

// AuthProtocols are the SNMPv3 authentication protocols, by canonical name.
var AuthProtocols = []string{"MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"}

// PrivProtocols are the SNMPv3 privacy protocols, by canonical name. AES-192 and AES-256
// extend the key as in draft-blumenthal-aes-usm; AES-192C and AES-256C as in
// draft-reeder-snmpv3-usm-3desede (Cisco, and net-snmp's AES-192/AES-256).
var PrivProtocols = []string{"DES", "AES", "AES-192", "AES-256", "AES-192C", "AES-256C"}

// String shows the settings with the community and passwords replaced, so that a
// stray %v cannot leak them into a log or a page.
func (s SNMP) String() string {
	hide := func(v string) string {
		if v == "" {
			return ""
		}
		return "<hidden>"
	}
	if s.Version == "3" {
		return fmt.Sprintf("{v3 port=%d timeout=%s retries=%d max_oids=%d user=%q level=%s auth=%s:%s priv=%s:%s context=%q}",
			s.Port, s.Timeout, s.Retries, s.MaxOIDs, s.Username, s.SecurityLevel,
			s.AuthProtocol, hide(s.AuthPassword), s.PrivProtocol, hide(s.PrivPassword), s.Context)
	}
	return fmt.Sprintf("{v%s community=%s port=%d timeout=%s retries=%d max_oids=%d max_inflight=%d}",
		s.Version, hide(s.Community), s.Port, s.Timeout, s.Retries, s.MaxOIDs, s.MaxInflight)
}

// GoString keeps %#v from printing secrets too.
func (s SNMP) GoString() string { return "config.SNMP" + s.String() }

// Device is one SNMP agent and the interfaces to poll on it.
type Device struct {
	Name string // unique; names the device in the store and on the pages
	// Host is the agent's IP address or DNS name, bare: no brackets, no port (a port
	// written with it is in SNMP.Port). Addr joins the two for dialling.
	Host string
	// HostLine is the line of the host key in the file, for messages about it.
	HostLine int
	SNMP     SNMP // the [snmp] defaults with this device's overrides applied
	// Key is what names an interface, and so its history: one of Keys, "ifName" by
	// default. It is looked up again when the agent renumbers its interfaces.
	Key string
	// Interfaces lists the Key values to poll (MAC addresses as aa:bb:cc:dd:ee:ff,
	// ifIndex as a decimal number); ["*"] means every interface that is up.
	Interfaces []string
	// Speed overrides the agent's ifHighSpeed/ifSpeed for some interfaces, in bits/s.
	// The speed is the series' maximum: a rate above it is stored as unknown.
	Speed map[string]uint64
	// Thresholds are the limits of this device's interfaces ([thresholds] with the
	// device's own over them); InterfaceThresholds those of single interfaces, by the
	// same names as Interfaces, complete (they include the device's).
	Thresholds          Thresholds
	InterfaceThresholds map[string]Thresholds
	// FlowExporter is the source address of the device's flow exports: flow_exporter
	// when set, else Host when it is an IP address; invalid (zero) otherwise.
	FlowExporter netip.Addr
	// Site groups devices: sharded pollers keep a site's devices together. Shard,
	// when not zero, pins the device to that shard (ShardLine is the key's line).
	Site      string
	Shard     int
	ShardLine int
	// FlowSampling, when not zero, is the device's packet sampling rate (1 in N),
	// applied to its flow records instead of what its exports say: for exporters that
	// sample without saying so, or say it wrongly.
	FlowSampling uint64
	// Counters are the counter groups polled beside the octets: the device's
	// counters key, else the file's.
	Counters Counters
	// Targets are the device's [[device.target]] series that are not interfaces.
	Targets []Target
}

// ThresholdsFor returns the limits of one interface of the device.
func (d Device) ThresholdsFor(iface string) Thresholds {
	if t, ok := d.InterfaceThresholds[iface]; ok {
		return t
	}
	return d.Thresholds
}

// Interface keys: the IF-MIB object whose value names an interface.
const (
	KeyIfName  = "ifName"
	KeyIfDescr = "ifDescr"
	KeyIfAlias = "ifAlias"
	KeyMAC     = "mac" // ifPhysAddress
	KeyIfIndex = "ifIndex"
)

// Keys lists the interface keys.
var Keys = []string{KeyIfName, KeyIfDescr, KeyIfAlias, KeyMAC, KeyIfIndex}

// AllInterfaces reports whether the device polls every interface that is up.
func (d Device) AllInterfaces() bool {
	return len(d.Interfaces) == 1 && d.Interfaces[0] == "*"
}
