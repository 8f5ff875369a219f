package config

import (
	"maps"
	"math"
	"slices"
)

// Preset is what `preset = "name"` fills into a [[device.target]]: the OIDs of a
// standard MIB and how to show them. Keys written beside the preset override it.
type Preset struct {
	Target
	// About says in a few words what the preset graphs, for discover's comments.
	About string
	// Probe is a table column whose rows show that the agent has what a Column
	// preset reads, before it has values (net-snmp answers hrProcessorLoad only a
	// minute after it starts, hrProcessorFrwID at once). "" probes the OIDs.
	Probe string
	// Unless names a preset that reads the same from another MIB: discover proposes
	// this one only for agents that lack that one.
	Unless string
}

// Presets are the targets MRTG users graph most, from MIBs most agents answer:
//
//   - "cpu": UCD-SNMP-MIB laLoadInt.1 and .2, the 1- and 5-minute load averages
//     (hundredths, so factor 0.01);
//   - "cpu-hr": HOST-RESOURCES-MIB hrProcessorLoad, the percentage of the last minute
//     each processor was busy, averaged over the processors;
//   - "memory": UCD-SNMP-MIB memTotalReal and memAvailReal (kB): in is the memory
//     used (total less available), out the total, in bytes;
//   - "memory-hr": HOST-RESOURCES-MIB hrStorageUsed and hrStorageSize of the
//     hrStorageRam row, times its hrStorageAllocationUnits: in is the memory used,
//     out the total, in bytes (agents without UCD-SNMP-MIB answer it);
//   - "temperature": ENTITY-SENSOR-MIB entPhySensorValue of the celsius sensors that
//     are ok, scaled by their entPhySensorScale and entPhySensorPrecision: in is the
//     hottest, out the average.
var Presets = map[string]Preset{
	"cpu": {About: "load average (UCD-SNMP-MIB laLoadInt)", Target: Target{
		OIDs: []string{"1.3.6.1.4.1.2021.10.1.5.1", "1.3.6.1.4.1.2021.10.1.5.2"},
		Kind: KindGauge, Factor: 0.01, Per: "second", Max: math.NaN(),
		Title: "Load average", YLegend: "load", LegendIn: "1 min", LegendOut: "5 min",
		KMG: []string{""},
	}},
	"cpu-hr": {About: "processor load % (HOST-RESOURCES-MIB hrProcessorLoad)", Target: Target{
		OIDs: []string{"1.3.6.1.2.1.25.3.3.1.2"}, Column: true,
		Kind: KindGauge, Factor: 1, Per: "second", Max: 100, Unit: "%",
		Title: "CPU load", YLegend: "busy %", LegendIn: "all processors",
		KMG: []string{""}, Unscaled: "dwmy",
	}, Probe: "1.3.6.1.2.1.25.3.3.1.1"},
	"memory": {About: "memory used and total (UCD-SNMP-MIB memTotalReal, memAvailReal)", Target: Target{
		OIDs: []string{"1.3.6.1.4.1.2021.4.5.0", "1.3.6.1.4.1.2021.4.6.0"}, Used: true,
		Kind: KindGauge, Factor: 1024, Per: "second", Max: math.NaN(), Unit: "B",
		Title: "Memory", YLegend: "bytes", LegendIn: "used", LegendOut: "total",
		KMG: []string{"", "k", "M", "G", "T"},
	}},
	"memory-hr": {About: "memory used and total (HOST-RESOURCES-MIB hrStorageUsed, hrStorageSize of hrStorageRam)", Target: Target{
		OIDs: []string{"1.3.6.1.2.1.25.2.3.1.6", "1.3.6.1.2.1.25.2.3.1.5"}, Storage: true,
		Kind: KindGauge, Factor: 1, Per: "second", Max: math.NaN(), Unit: "B",
		Title: "Memory", YLegend: "bytes", LegendIn: "used", LegendOut: "total",
		KMG: []string{"", "k", "M", "G", "T"},
	}, Probe: "1.3.6.1.2.1.25.2.3.1.2", Unless: "memory"},
	"temperature": {About: "hottest and average temperature (ENTITY-SENSOR-MIB entPhySensorValue)", Target: Target{
		OIDs: []string{"1.3.6.1.2.1.99.1.1.1.4"}, Sensor: true,
		Kind: KindGauge, Factor: 1, Per: "second", Max: math.NaN(), Unit: "°C",
		Title: "Temperature", YLegend: "°C", LegendIn: "hottest", LegendOut: "average",
		KMG: []string{""},
	}},
}

// PresetNames lists the presets, sorted.
func PresetNames() []string { return slices.Sorted(maps.Keys(Presets)) }

// PresetTarget is the target named name that `preset = "preset"` alone makes, as Load
// reads it; false for an unknown preset.
func PresetTarget(name, preset string) (Target, bool) {
	p, ok := Presets[preset]
	if !ok {
		return Target{}, false
	}
	t := p.Target
	t.Name, t.Preset = name, preset
	t.OIDs, t.KMG = slices.Clone(p.OIDs), slices.Clone(p.KMG)
	if t.Title == "" {
		t.Title = name
	}
	return t, true
}
