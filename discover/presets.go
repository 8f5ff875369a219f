package discover

import (
	"fmt"
	"slices"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/snmp"
)

// presets returns the names of the target presets (config.Presets) the agent answers:
// every OID of a preset present, or for a preset that averages a table, rows in its
// probe column.
func presets(s *snmp.Session) ([]string, error) {
	var found []string
	for _, name := range config.PresetNames() {
		p := config.Presets[name]
		if p.Column || p.Sensor || p.Storage {
			col := p.Probe
			if col == "" {
				col = p.OIDs[0]
			}
			tab, err := s.Walk([]string{"." + col})
			if err != nil {
				return nil, fmt.Errorf("walk %s for preset %s: %w", col, name, err)
			}
			if len(tab[0]) > 0 {
				found = append(found, name)
			}
			continue
		}
		oids := make([]string, len(p.OIDs))
		for i, o := range p.OIDs {
			oids[i] = "." + o
		}
		vs, err := s.Get(oids)
		if err != nil {
			return nil, fmt.Errorf("get %s for preset %s: %w", p.OIDs[0], name, err)
		}
		all := true
		for _, v := range vs {
			all = all && !v.Absent()
		}
		if all {
			found = append(found, name)
		}
	}
	all := slices.Clone(found)
	return slices.DeleteFunc(found, func(name string) bool {
		return slices.Contains(all, config.Presets[name].Unless)
	}), nil
}

// PresetTargets are the targets written for the presets an agent answers, each named
// as its preset.
func PresetTargets(names []string) []config.Target {
	var ts []config.Target
	for _, n := range names {
		if t, ok := config.PresetTarget(n, n); ok {
			ts = append(ts, t)
		}
	}
	return ts
}
