package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Writing targets: the [[device.target]] tables of a device, each with the keys that
// differ from what its preset (or the defaults) gives, so that a file written and
// loaded again has the same targets, and a preset's later improvements reach the
// targets that did not override them.

// targetBlocks writes the [[device.target]] tables of ts, for a file of step.
func targetBlocks(ts []Target, step time.Duration) []string {
	var out []string
	for _, t := range ts {
		out = append(out, targetBlock(t, step)...)
	}
	return out
}

// targetBlock writes one [[device.target]] table.
func targetBlock(t Target, step time.Duration) []string {
	base := Target{Kind: KindCounter, Factor: 1, Per: "second", Max: math.NaN(), KMG: DefaultKMG}
	if p, ok := Presets[t.Preset]; ok {
		base = p.Target
	}
	out := []string{"\n", "[[device.target]]\n", fmt.Sprintf("name = %s\n", quote(t.Name))}
	kv := func(k, v string) { out = append(out, fmt.Sprintf("%s = %s\n", k, v)) }
	list := func(vs []string) string {
		q := make([]string, len(vs))
		for i, v := range vs {
			q[i] = quote(v)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	if t.Preset != "" {
		kv("preset", quote(t.Preset))
	}
	if len(t.Command) > 0 {
		kv("command", list(t.Command))
		if t.Timeout != 0 && t.Timeout != min(DefaultCommandTimeout, step/3) {
			kv("timeout", quote(FormatDuration(t.Timeout)))
		}
	} else if !slices.Equal(t.OIDs, base.OIDs) || t.Column != base.Column || t.Used != base.Used || t.Sensor != base.Sensor || t.Storage != base.Storage {
		kv("oids", list(t.OIDs))
	}
	str := func(k, v, def string) {
		if v != def {
			kv(k, quote(v))
		}
	}
	str("kind", t.Kind, base.Kind)
	if t.Factor != base.Factor && t.Factor != 0 {
		kv("factor", num(t.Factor))
	}
	str("per", t.Per, base.Per)
	if !sameMax(t.Max, base.Max) && !math.IsNaN(t.Max) {
		kv("max", num(t.Max))
	}
	str("unit", t.Unit, base.Unit)
	title := base.Title
	if title == "" {
		title = t.Name
	}
	str("title", t.Title, title)
	str("ylegend", t.YLegend, base.YLegend)
	str("legend_in", t.LegendIn, base.LegendIn)
	str("legend_out", t.LegendOut, base.LegendOut)
	if len(t.KMG) > 0 && !slices.Equal(t.KMG, base.KMG) {
		kv("kmg", list(t.KMG))
	}
	str("unscaled", t.Unscaled, base.Unscaled)
	if t.Swap != base.Swap {
		kv("swap", strconv.FormatBool(t.Swap))
	}
	return out
}

func sameMax(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// deviceEnd is one past the last line of the device table starting at start: its
// sub-tables ([device.speed], [[device.target]]) included.
func deviceEnd(lines []string, start int) int {
	for i := start + 1; i < len(lines); i++ {
		t := strings.ReplaceAll(strings.TrimSpace(stripComment(strings.TrimSpace(lines[i]))), " ", "")
		if !strings.HasPrefix(t, "[") {
			continue
		}
		h := strings.Trim(t, "[]")
		if t == "[[device]]" || !strings.HasPrefix(h, "device.") {
			// Blank lines and comments before the next table stay with it.
			for i > start+1 && (strings.TrimSpace(lines[i-1]) == "" || strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#")) {
				i--
			}
			return i
		}
	}
	return len(lines)
}
