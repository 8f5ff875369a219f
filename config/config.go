// Package config loads and validates targets.toml, the list of devices mrtgo polls.
// Loading is strict: unknown keys, bad durations, missing hosts and duplicate names are
// errors that name the file and the line or key to fix. The package touches nothing but
// the file it is asked to read.
package config

import "time"

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
}

// SNMP holds the agent settings of one device (or the defaults for all).
type SNMP struct {
	Version   string        // "1" or "2c"
	Community string        // never logged
	Port      int           // UDP port, 161 by default
	Timeout   time.Duration // per request
	Retries   int           // per request
	MaxOIDs   int           // OIDs per GET PDU
}

// Device is one SNMP agent and the interfaces to poll on it.
type Device struct {
	Name       string   // unique; names the device in the store and on the pages
	Host       string   // address or host name of the agent
	SNMP       SNMP     // the [snmp] defaults with this device's overrides applied
	Interfaces []string // ifName values; ["*"] means every interface that is up
	// Speed overrides the agent's ifHighSpeed/ifSpeed for some interfaces, in bits/s.
	// The speed is the series' maximum: a rate above it is stored as unknown.
	Speed map[string]uint64
}

// AllInterfaces reports whether the device polls every interface that is up.
func (d Device) AllInterfaces() bool {
	return len(d.Interfaces) == 1 && d.Interfaces[0] == "*"
}
