package poller

// Targets that are not interfaces: any OID of the device, got in the device's cycle
// after its interfaces (one GET of every target's OIDs, as many PDUs as max_oids
// needs), a table column averaged over its rows (hrProcessorLoad), or a program's
// output (command.go). Their values go back raw: the kind, factor and ceiling are the
// store's and the pages' business.

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/snmp"
)

// TargetSample is one target's values as read in one cycle.
type TargetSample struct {
	Device, Target string    // configured names
	Time           time.Time // when the answer (or the program's output) arrived
	In, Out        Reading   // Out is unknown for a target of one value
	// Bits is the counter width of a Counter32 answer (32), 64 otherwise.
	Bits int
	// Discontinuity is set when the values cannot be compared with the previous
	// sample's: the agent restarted (sysUpTime went back).
	Discontinuity bool
	// Uptime is what a command printed on its third line, when a number (seconds):
	// the recorder, which keeps the last in the store, marks a sample whose uptime
	// went back as a discontinuity, for cron's runs as for the daemon's.
	Uptime     float64
	HaveUptime bool
}

// Reading is one value of a target: unknown, an exact unsigned integer (as counters
// arrive) or any number.
type Reading struct {
	Known bool
	Exact bool   // Uint holds the value exactly
	Uint  uint64 // when Exact
	Float float64
}

// Unknown is the reading of a value the agent lacks or a program did not print.
var Unknown = Reading{Float: math.NaN()}

// Uint is an exact reading.
func Uint(v uint64) Reading { return Reading{Known: true, Exact: true, Uint: v, Float: float64(v)} }

// Float is a reading of any number; NaN and infinities are unknown.
func Float(f float64) Reading {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Unknown
	}
	if f >= 0 && f == math.Trunc(f) && f < 1<<53 {
		return Uint(uint64(f))
	}
	return Reading{Known: true, Float: f}
}

// readingOf turns an SNMP answer into a Reading: numbers of every integer type, and
// strings that hold a number (UCD's laLoad is "0.15").
func readingOf(v snmp.Value) Reading {
	if v.Absent() {
		return Unknown
	}
	if u, ok := v.Uint64(); ok {
		return Uint(u)
	}
	switch x := v.PDU.Value.(type) {
	case int:
		return Float(float64(x))
	case int64:
		return Float(float64(x))
	case int32:
		return Float(float64(x))
	case float32:
		return Float(float64(x))
	case float64:
		return Float(x)
	}
	if t := strings.TrimSpace(v.Text()); t != "" {
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return Float(f)
		}
	}
	return Unknown
}

// snmpTargets are the device's targets read over SNMP.
func (d *device) snmpTargets() []config.Target {
	var ts []config.Target
	for _, t := range d.cfg.Targets {
		if len(t.Command) == 0 {
			ts = append(ts, t)
		}
	}
	return ts
}

// readTargets reads the device's SNMP targets: one GET for the OIDs of them all, a
// walk for each averaged column. A value the agent lacks is unknown, and said once per
// target until the agent has it again.
func (d *device) readTargets(s *session, disc bool) ([]TargetSample, error) {
	ts := d.snmpTargets()
	if len(ts) == 0 {
		return nil, nil
	}
	var oids []string
	for _, t := range ts {
		if !t.Column && !t.Sensor && !t.Storage {
			for _, o := range t.OIDs {
				oids = append(oids, "."+o)
			}
		}
	}
	var vals []snmp.Value
	if len(oids) > 0 {
		var err error
		if vals, err = s.Get(oids); err != nil {
			return nil, err
		}
	}
	out := make([]TargetSample, 0, len(ts))
	for _, t := range ts {
		ts := TargetSample{Device: d.cfg.Name, Target: t.Name, Out: Unknown, Bits: 64, Discontinuity: disc}
		var got []snmp.Value
		if t.Column || t.Sensor || t.Storage {
			averages := d.averages
			if t.Sensor {
				averages = d.sensors
			}
			if t.Storage {
				averages = d.storage
			}
			rs, at, err := averages(s, t)
			if err != nil {
				return nil, err
			}
			ts.In, ts.Time = rs[0], at
			if len(rs) > 1 {
				ts.Out = rs[1]
			}
		} else {
			got, vals = vals[:len(t.OIDs)], vals[len(t.OIDs):]
			rs := make([]Reading, len(got))
			for i, v := range got {
				rs[i] = readingOf(v)
				if v.At.After(ts.Time) {
					ts.Time = v.At
				}
				if v.PDU.Type == gosnmp.Counter32 {
					ts.Bits = 32
				}
			}
			ts.In = rs[0]
			if len(rs) > 1 {
				ts.Out = rs[1]
			}
			if t.Used && len(rs) == 2 {
				// memTotalReal and memAvailReal: used and total.
				ts.In, ts.Out = Float(rs[0].Float-rs[1].Float), rs[0]
			}
		}
		if ts.Time.IsZero() {
			ts.Time = s.Now()
		}
		d.noteTarget(t, ts, got)
		out = append(out, ts)
	}
	return out, nil
}

// averages walks the target's columns and returns each column's mean over its rows.
func (d *device) averages(s *session, t config.Target) ([]Reading, time.Time, error) {
	cols := make([]string, len(t.OIDs))
	for i, o := range t.OIDs {
		cols[i] = "." + o
	}
	tables, err := s.Walk(cols)
	at := s.Now()
	if err != nil {
		return nil, at, err
	}
	rs := make([]Reading, len(tables))
	for i, rows := range tables {
		sum, n := 0.0, 0
		for _, v := range rows {
			if r := readingOf(v); r.Known {
				sum += r.Float
				n++
			}
		}
		rs[i] = Unknown
		if n > 0 {
			rs[i] = Float(sum / float64(n))
		}
	}
	return rs, at, nil
}

// noteTarget logs a target whose values the agent lacks, once until it has them again.
func (d *device) noteTarget(t config.Target, ts TargetSample, got []snmp.Value) {
	unknown := !ts.In.Known || len(t.OIDs) > 1 && !ts.Out.Known
	if d.targetWarned == nil {
		d.targetWarned = map[string]bool{}
	}
	switch {
	case unknown && !d.targetWarned[t.Name]:
		d.targetWarned[t.Name] = true
		var absent []string
		for i, v := range got {
			if v.Absent() || !readingOf(v).Known {
				absent = append(absent, t.OIDs[i])
			}
		}
		d.log.Warn("target has no value; stored as unknown", "target", t.Name, "oids", strings.Join(absent, ","))
	case !unknown && d.targetWarned[t.Name]:
		delete(d.targetWarned, t.Name)
		d.log.Info("target has its values again", "target", t.Name)
	}
}

// Now is the session's clock.
func (s *session) Now() time.Time {
	if s.Session.Now != nil {
		return s.Session.Now()
	}
	return time.Now()
}

// commandTargets starts the device's command targets and returns a function that
// waits for their samples. They run beside the SNMP cycle, each bounded by its timeout.
func (d *device) commandTargets(ctx context.Context, now func() time.Time) func() []TargetSample {
	var ts []config.Target
	for _, t := range d.cfg.Targets {
		if len(t.Command) > 0 {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return func() []TargetSample { return nil }
	}
	chans := make([]chan TargetSample, len(ts))
	for i, t := range ts {
		chans[i] = make(chan TargetSample, 1)
		go func() { chans[i] <- runCommand(ctx, d.cfg.Name, t, now, d.log) }()
	}
	return func() []TargetSample {
		out := make([]TargetSample, len(ts))
		for i, c := range chans {
			out[i] = <-c
		}
		return out
	}
}
