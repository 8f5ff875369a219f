package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets that are not interfaces, MRTG's model: any OID of a device ([[device.target]])
// or a program's output, kept as a series of one or two values (in, out), and sums of
// interfaces and targets ([[aggregate]]).

// Target is one [[device.target]]: a series of a device that is not an interface's
// octets. Its values come from OIDs (GET in the device's cycle) or from Command.
type Target struct {
	Name string // unique within the device; names the series and the page
	// Preset is the preset it was written with ("" none); the keys written beside it
	// override what the preset fills in.
	Preset string
	// OIDs are one or two numeric OIDs, without a leading dot: in, and out when given.
	OIDs []string
	// Column makes each OID a table column whose rows are averaged (hrProcessorLoad
	// over the processors): the OIDs are walked, not got. Only presets set it.
	Column bool
	// Sensor makes the OID ENTITY-SENSOR-MIB's entPhySensorValue column: the rows of
	// the celsius sensors that are ok, each scaled by its entPhySensorScale and
	// entPhySensorPrecision, give in the hottest and out their average. Only presets
	// set it.
	Sensor bool
	// Storage makes the OIDs HOST-RESOURCES-MIB's hrStorageUsed and hrStorageSize
	// columns: the rows whose hrStorageType is hrStorageRam give in the memory used
	// and out its size, times their hrStorageAllocationUnits. Only presets set it.
	Storage bool
	// Used makes in the first OID's value less the second's, out the first's
	// (memTotalReal and memAvailReal: memory used and total). Only presets set it.
	Used bool
	// Command is a program and its arguments, run instead of a GET: it prints four
	// lines, in, out, uptime and a name (MRTG's backtick targets). Timeout bounds it.
	Command []string
	Timeout time.Duration
	Kind    string  // one of TargetKinds; "counter" by default
	Factor  float64 // each value is multiplied by it; 1 by default
	Per     string  // one of TargetPers: how rates are shown; "second" by default
	// Max is the ceiling of the shown value (after Factor, per second for rates): above
	// it a value is unknown, and it is the graph's 100 %. NaN is none.
	Max       float64
	Unit      string   // MRTG's ShortLegend, shown after numbers
	Title     string   // page title; the name when empty
	YLegend   string   // MRTG's YLegend
	LegendIn  string   // MRTG's LegendI
	LegendOut string   // MRTG's LegendO
	KMG       []string // MRTG's kMG prefixes, for powers of 1000 from 1
	// Unscaled lists the periods (d, w, m, y) whose graphs reach Max whatever the data.
	Unscaled string
	Swap     bool // in and out swapped (MRTG's "-" before a target)
	Line     int  // line of the [[device.target]] header
}

// Target kinds: the store's data source types (RRDtool's COUNTER, GAUGE, DERIVE,
// ABSOLUTE).
const (
	KindCounter  = "counter"
	KindGauge    = "gauge"
	KindDerive   = "derive"
	KindAbsolute = "absolute"
)

// TargetKinds lists the kinds a target may have.
var TargetKinds = []string{KindCounter, KindGauge, KindDerive, KindAbsolute}

// TargetPers lists how rates may be shown: per second, minute or hour.
var TargetPers = []string{"second", "minute", "hour"}

// DefaultKMG are MRTG's kMG prefixes.
var DefaultKMG = []string{"", "k", "M", "G", "T", "P"}

// PerSeconds is the number of seconds in the target's Per: a rate per second is
// multiplied by it to be shown.
func (t Target) PerSeconds() float64 {
	switch t.Per {
	case "minute":
		return 60
	case "hour":
		return 3600
	}
	return 1
}

// StoredMax is the store's ceiling for the target's raw values: Max undone of Factor
// and Per. NaN when the target has none.
func (t Target) StoredMax() float64 {
	if math.IsNaN(t.Max) || t.Factor == 0 {
		return math.NaN()
	}
	m := t.Max / math.Abs(t.Factor)
	if t.Kind != KindGauge {
		m /= t.PerSeconds()
	}
	return m
}

// UnscaledFor reports whether the graph of period p ("day", "week", "month", "year")
// reaches Max whatever its data.
func (t Target) UnscaledFor(period string) bool {
	return period != "" && strings.ContainsRune(t.Unscaled, rune(period[0]))
}

// targetFile is a [[device.target]] as written.
type targetFile struct {
	Name      *string   `toml:"name"`
	Preset    *string   `toml:"preset"`
	OIDs      []string  `toml:"oids"`
	Command   []string  `toml:"command"`
	Timeout   *duration `toml:"timeout"`
	Kind      *string   `toml:"kind"`
	Factor    *float64  `toml:"factor"`
	Per       *string   `toml:"per"`
	Max       *float64  `toml:"max"`
	Unit      *string   `toml:"unit"`
	Title     *string   `toml:"title"`
	YLegend   *string   `toml:"ylegend"`
	LegendIn  *string   `toml:"legend_in"`
	LegendOut *string   `toml:"legend_out"`
	KMG       []string  `toml:"kmg"`
	Unscaled  *string   `toml:"unscaled"`
	Swap      *bool     `toml:"swap"`
}

// targets checks the targets of a device, whose earlier devices wrote first
// targets before it (the locator counts [[device.target]] over the whole file).
func (p *parser) targets(first int, d *deviceFile, dev *Device, step time.Duration) {
	seen := map[string]int{}
	for j := range d.Targets {
		t, ok := p.target(first+j, &d.Targets[j], step)
		if !ok {
			continue
		}
		if k, dup := seen[t.Name]; dup {
			line, _ := p.loc.line("device.target", first+k, "name")
			p.targetBad(first+j, "name", "duplicate target name %q in device %q (first at line %d)", t.Name, dev.Name, line)
			continue
		}
		seen[t.Name] = j
		dev.Targets = append(dev.Targets, t)
	}
}

// targetBad reports a mistake in field of the idx-th [[device.target]] of the file.
func (p *parser) targetBad(idx int, field, format string, args ...any) {
	p.bad("device.target", idx, field, nil, format, args...)
}

// target checks the idx-th [[device.target]] of the file; ok is false when it has a
// mistake (reported).
func (p *parser) target(idx int, f *targetFile, step time.Duration) (Target, bool) {
	before := len(p.errs)
	fail := func(field, format string, args ...any) { p.targetBad(idx, field, format, args...) }
	t := Target{Kind: KindCounter, Factor: 1, Per: "second", Max: math.NaN()}
	t.Line, _ = p.loc.line("device.target", idx, "")
	if f.Preset != nil {
		pr, ok := Presets[*f.Preset]
		if !ok {
			fail("preset", "unknown preset %q (one of %s)%s", *f.Preset, strings.Join(PresetNames(), ", "), hint(*f.Preset, PresetNames()))
		} else {
			t = pr.Target
			t.Preset = *f.Preset
			t.OIDs = slices.Clone(pr.OIDs)
			t.KMG = slices.Clone(pr.KMG)
			t.Max = pr.Max
			if t.Factor == 0 {
				t.Factor = 1
			}
		}
	}
	str := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	str(&t.Name, f.Name)
	t.Name = strings.TrimSpace(t.Name)
	switch {
	case t.Name == "":
		fail("name", "target has no name")
	case strings.ContainsAny(t.Name, "/\\") || t.Name == "." || t.Name == "..":
		fail("name", "target name %q may not contain / or \\ or be . or ..", t.Name)
	}
	if f.OIDs != nil {
		t.OIDs, t.Column, t.Used, t.Sensor, t.Storage = nil, false, false, false, false
		if len(f.OIDs) == 0 || len(f.OIDs) > 2 {
			fail("oids", "give one or two OIDs (in, out), not %d", len(f.OIDs))
		}
		for _, o := range f.OIDs {
			n, err := ParseOID(o)
			if err != nil {
				fail("oids", "%v", err)
				continue
			}
			t.OIDs = append(t.OIDs, n)
		}
	}
	if f.Command != nil {
		t.Command = f.Command
		switch {
		case len(f.Command) == 0 || strings.TrimSpace(f.Command[0]) == "":
			fail("command", "command is empty (give the program and its arguments: [\"/path/prog\", \"arg\"])")
		case f.OIDs != nil || f.Preset != nil:
			fail("command", "give either command or oids (or a preset), not both")
		}
		t.OIDs = nil
	}
	if len(t.Command) == 0 && len(t.OIDs) == 0 && f.OIDs == nil && f.Command == nil && f.Preset == nil {
		fail("oids", "target %q has neither oids, command nor preset", t.Name)
	}
	if f.Timeout != nil {
		switch {
		case f.Timeout.err != nil:
			fail("timeout", "%v", f.Timeout.err)
		case len(t.Command) == 0:
			fail("timeout", "timeout is for command targets (the SNMP timeout is the device's)")
		case f.Timeout.d <= 0 || f.Timeout.d >= step:
			fail("timeout", "timeout %s must be positive and shorter than the step %s", f.Timeout.d, step)
		default:
			t.Timeout = f.Timeout.d
		}
	}
	if len(t.Command) > 0 && t.Timeout == 0 {
		t.Timeout = min(DefaultCommandTimeout, step/3)
	}
	if f.Kind != nil {
		if k, ok := canonical(*f.Kind, TargetKinds); ok {
			t.Kind = k
		} else {
			fail("kind", "kind %q is not one of %s%s", *f.Kind, strings.Join(TargetKinds, ", "), hint(*f.Kind, TargetKinds))
		}
	}
	if f.Factor != nil {
		if v := *f.Factor; v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			fail("factor", "factor must be a finite number other than 0")
		} else {
			t.Factor = v
		}
	}
	if f.Per != nil {
		if v, ok := canonical(*f.Per, TargetPers); ok {
			t.Per = v
		} else {
			fail("per", "per %q is not one of %s%s", *f.Per, strings.Join(TargetPers, ", "), hint(*f.Per, TargetPers))
		}
	}
	if f.Max != nil {
		if v := *f.Max; !(v > 0) || math.IsInf(v, 0) {
			fail("max", "max must be a positive number")
		} else {
			t.Max = v
		}
	}
	str(&t.Unit, f.Unit)
	str(&t.Title, f.Title)
	str(&t.YLegend, f.YLegend)
	str(&t.LegendIn, f.LegendIn)
	str(&t.LegendOut, f.LegendOut)
	if f.KMG != nil {
		if len(f.KMG) == 0 {
			fail("kmg", "kmg must list at least one prefix (MRTG's: [\"\", \"k\", \"M\", \"G\"])")
		}
		t.KMG = f.KMG
	}
	if f.Unscaled != nil {
		u := strings.ToLower(*f.Unscaled)
		if strings.Trim(u, "dwmy") != "" {
			fail("unscaled", "unscaled %q may hold only d, w, m and y (day, week, month, year)", *f.Unscaled)
		} else {
			t.Unscaled = u
		}
	}
	if f.Swap != nil {
		t.Swap = *f.Swap
	}
	if t.Swap && len(t.OIDs) == 1 {
		fail("swap", "swap needs two values (in and out); target %q has one OID", t.Name)
	}
	if len(t.KMG) == 0 {
		t.KMG = slices.Clone(DefaultKMG)
	}
	if t.Title == "" {
		t.Title = t.Name
	}
	return t, len(p.errs) == before
}

// DefaultCommandTimeout bounds a command target that sets no timeout (a third of the
// step when that is shorter).
const DefaultCommandTimeout = 10 * time.Second

// ParseOID reads a numeric OID ("1.3.6.1.2.1.1.3.0", a leading dot allowed) and
// returns it without the leading dot.
func ParseOID(s string) (string, error) {
	o := strings.TrimPrefix(strings.TrimSpace(s), ".")
	parts := strings.Split(o, ".")
	if len(parts) < 2 {
		return "", fmt.Errorf("%q is not a numeric OID (use e.g. \"1.3.6.1.4.1.2021.10.1.5.1\")", s)
	}
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 32); err != nil {
			return "", fmt.Errorf("%q is not a numeric OID (use e.g. \"1.3.6.1.4.1.2021.10.1.5.1\")", s)
		}
	}
	return o, nil
}

// TargetNames lists the names of d's targets.
func (d Device) TargetNames() []string {
	names := make([]string, len(d.Targets))
	for i, t := range d.Targets {
		names[i] = t.Name
	}
	return names
}

// Target returns d's target of that name.
func (d Device) Target(name string) (Target, bool) {
	for _, t := range d.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}
