package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// duration is a TOML string such as "5m" or "2s". A bad value does not stop the
// decoder: it is kept in err and reported with the others, at its key's line.
type duration struct {
	d   time.Duration
	err error
}

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		d.err = fmt.Errorf("bad duration %q (use e.g. \"30s\", \"5m\", \"1h\")", b)
		return nil
	}
	d.d = v
	return nil
}

// snmpFile is the [snmp] table and the per-device overrides; pointers tell "absent"
// from "zero".
type snmpFile struct {
	Version     *string   `toml:"version"`
	Community   *string   `toml:"community"`
	Port        *int      `toml:"port"`
	Timeout     *duration `toml:"timeout"`
	Retries     *int      `toml:"retries"`
	MaxOIDs     *int      `toml:"max_oids"`
	MaxInflight *int      `toml:"max_inflight"`

	Username      *string `toml:"username"`
	SecurityLevel *string `toml:"security_level"`
	AuthProtocol  *string `toml:"auth_protocol"`
	AuthPassword  *string `toml:"auth_password"`
	PrivProtocol  *string `toml:"priv_protocol"`
	PrivPassword  *string `toml:"priv_password"`
	Context       *string `toml:"context"`
}

type deviceFile struct {
	Name       *string                    `toml:"name"`
	Host       *string                    `toml:"host"`
	Interfaces []string                   `toml:"interfaces"`
	Speed      map[string]speed           `toml:"speed"`
	Key        *string                    `toml:"interface_key"`
	Exporter   *string                    `toml:"flow_exporter"`
	Sampling   *int64                     `toml:"flow_sampling"`
	Site       *string                    `toml:"site"`
	Shard      *int                       `toml:"shard"`
	Thresholds *thresholdsFile            `toml:"thresholds"`
	IfThresh   map[string]*thresholdsFile `toml:"interface_thresholds"`
	Counters   *[]string                  `toml:"counters"` // nil: the file's
	Targets    []targetFile               `toml:"target"`   // target.go
	snmpFile
}

// speed is a rate in bits/s written as a number or with an SI suffix: 10000000, "10M",
// "1G", "2.5G", "100Mbps". A bad value is kept in err, as for duration.
type speed struct {
	v   uint64
	err error
}

func (s *speed) UnmarshalText(b []byte) error {
	s.v, s.err = ParseSpeed(string(b))
	return nil
}

// ParseSpeed reads a rate in bits/s: a plain number, or one with a k, M, G or T suffix
// (powers of 1000, as interface speeds are), optionally followed by "bps" or "b/s".
func ParseSpeed(text string) (uint64, error) {
	t := strings.TrimSpace(text)
	t = strings.TrimSuffix(strings.TrimSuffix(t, "bps"), "b/s")
	mult := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			mult = 1e3
		case 'M':
			mult = 1e6
		case 'G':
			mult = 1e9
		case 'T':
			mult = 1e12
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || v*mult > 1e15 {
		return 0, fmt.Errorf("bad speed %q (use bits/s, e.g. 1000000000, \"1G\", \"100M\")", text)
	}
	return uint64(math.Round(v * mult)), nil
}

type file struct {
	Step      *duration    `toml:"step"`
	Data      *string      `toml:"data"`
	Site      *string      `toml:"site"`
	Timezone  *string      `toml:"timezone"`
	Counters  []string     `toml:"counters"`
	SNMP      snmpFile     `toml:"snmp"`
	Devices   []deviceFile `toml:"device"`
	Retention struct {
		Daily   *span `toml:"daily"`
		Weekly  *span `toml:"weekly"`
		Monthly *span `toml:"monthly"`
		Yearly  *span `toml:"yearly"`
	} `toml:"retention"`
	Thresholds globalThresholdsFile `toml:"thresholds"`
	Flows      flowsFile            `toml:"flows"`
	Detect     *detectFile          `toml:"detect"`
	Events     eventsFile           `toml:"events"`
	// RemoteWrite is a pointer so that an empty [remote_write] (no url) is told from
	// none.
	RemoteWrite *remoteWriteFile `toml:"remote_write"`
	RemoteRead  *remoteReadFile  `toml:"remote_read"`
	Shards      map[string]int   `toml:"shards"`
	Aggregates  []aggregateFile  `toml:"aggregate"` // aggregate.go
}

// span is a retention period: a Go duration or a number of days, weeks or years
// ("31d", "8w", "2y"; a year is 365 days). A bad value is kept in err, as for duration.
type span struct {
	d   time.Duration
	err error
}

func (s *span) UnmarshalText(b []byte) error {
	s.d, s.err = ParseSpan(string(b))
	return nil
}

// ParseSpan reads a span of time: a Go duration ("90m", "36h") or a number of days,
// weeks or years ("31d", "8w", "2y"; a year is 365 days).
func ParseSpan(text string) (time.Duration, error) {
	t := strings.TrimSpace(text)
	bad := fmt.Errorf("bad span %q (use e.g. \"90m\", \"31d\", \"8w\", \"2y\")", text)
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(t, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(t, "w"):
		unit = 7 * 24 * time.Hour
	case strings.HasSuffix(t, "y"):
		unit = 365 * 24 * time.Hour
	}
	if unit != 0 {
		n, err := strconv.ParseFloat(t[:len(t)-1], 64)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, bad
		}
		return time.Duration(n * float64(unit)), nil
	}
	d, err := time.ParseDuration(t)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}
