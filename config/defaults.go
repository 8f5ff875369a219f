package config

import (
	"time"
)

// Defaults applied when a key is absent. This file is the one place the defaults of
// targets.toml are set: Load applies them, and Format and Merge write what differs
// from them.
const (
	DefaultStep      = 5 * time.Minute
	DefaultData      = "var/mrtgo.db"
	DefaultSite      = "var/site"
	DefaultTimezone  = "Local"
	DefaultVersion   = "2c"
	DefaultCommunity = "public"
	DefaultPort      = 161
	DefaultTimeout   = 2 * time.Second
	DefaultRetries   = 1
	DefaultMaxOIDs   = 60
	// DefaultMaxInflight: the agent answers one GETBULK while the last answer is
	// decoded here. On a net-snmp agent with 1,000 interfaces three in flight take a
	// cycle from 14.6 to 11.4 ms; the agent does the same work either way.
	DefaultMaxInflight = 3
)

// DefaultRetention keeps 31 days of 5-minute rows (an exact 95th percentile over a
// billing month) and MRTG's 800 rows at each coarser resolution.
var DefaultRetention = Retention{
	Daily:   31 * 24 * time.Hour,
	Weekly:  800 * 30 * time.Minute,
	Monthly: 800 * 2 * time.Hour,
	Yearly:  800 * 24 * time.Hour,
}

// DefaultHysteresis and DefaultAlertTimeout apply when [thresholds] does not set them.
const (
	DefaultHysteresis   = 0.05
	DefaultAlertTimeout = 10 * time.Second
)

// DefaultSNMP is the [snmp] table of a file that sets none of its keys.
func DefaultSNMP() SNMP {
	return SNMP{
		Version:     DefaultVersion,
		Community:   DefaultCommunity,
		Port:        DefaultPort,
		Timeout:     DefaultTimeout,
		Retries:     DefaultRetries,
		MaxOIDs:     DefaultMaxOIDs,
		MaxInflight: DefaultMaxInflight,
	}
}
