package mrtgimport

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/discover"
)

// TargetsFile is the targets file of an import of c: found (from Translate) as its
// devices, with the [[device.target]] tables of plans; a new file takes MRTG's Interval
// as its step and SNMPv1, MRTG's default, as its version. The [[aggregate]] tables of
// the plans are added by AppendAggregates.
func TargetsFile(c *Config, found []discover.Found, plans []*Plan) config.File {
	step := c.Interval.Truncate(time.Second)
	if step < time.Second {
		step = time.Second
	}
	snmp := config.DefaultSNMP()
	snmp.Version = "1"
	f := config.File{
		Comment: fmt.Sprintf("mrtgo targets — translated from %s by \"mrtgo import\"; edit freely.\n", c.File) +
			"Validate with \"mrtgo check\". Unknown keys are errors.",
		Step: step,
		SNMP: &snmp,
		Notes: map[string]string{
			"step":         "MRTG's Interval",
			"snmp.version": `MRTG's default; targets with ":::::2" use "2c"`,
		},
	}
	at := map[string]int{}
	for _, fd := range found {
		at[fd.Name] = len(f.Devices)
		f.Devices = append(f.Devices, fd.FileDevice())
	}
	for _, p := range plans {
		for _, dt := range p.Targets {
			if i, ok := at[dt.Device]; ok {
				f.Devices[i].Targets = append(f.Devices[i].Targets, dt.Target)
			}
		}
	}
	return f
}

// Aggregates are the [[aggregate]] tables of the plans' sums, in order.
func Aggregates(plans []*Plan) []config.Aggregate {
	var out []config.Aggregate
	for _, p := range plans {
		if p.Aggregate != nil && p.Series != "" {
			out = append(out, *p.Aggregate)
		}
	}
	return out
}

// AppendAggregates adds to the targets file src (named name in errors) the aggregates
// it lacks by name, after everything else, and returns the new text and the names
// added; the result is checked with config.Parse. An aggregate the file has by that
// name is left as written.
func AppendAggregates(name string, src []byte, aggs []config.Aggregate) ([]byte, []string, error) {
	cfg, err := config.Parse(name, src)
	if err != nil {
		return nil, nil, fmt.Errorf("read targets: %w", err)
	}
	have := map[string]bool{}
	for _, a := range cfg.Aggregates {
		have[a.Name] = true
	}
	var b strings.Builder
	b.Write(src)
	var added []string
	for _, a := range aggs {
		if have[a.Name] {
			continue
		}
		have[a.Name] = true
		added = append(added, a.Name)
		if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
			b.WriteString("\n")
		}
		members := make([]string, len(a.Members))
		for i, m := range a.Members {
			members[i] = config.Quote(m.String())
		}
		fmt.Fprintf(&b, "\n[[aggregate]]\nname = %s\nsum = [%s]\n", config.Quote(a.Name), strings.Join(members, ", "))
	}
	out := []byte(b.String())
	if _, err := config.Parse(name, out); err != nil {
		return nil, nil, fmt.Errorf("targets with the aggregates do not validate: %w", err)
	}
	return out, added, nil
}

// Report writes what became of every target: where it went or why it was skipped, and
// every keyword not translated.
func Report(w io.Writer, c *Config, plans []*Plan) {
	for _, n := range c.Notes {
		fmt.Fprintf(w, "%s\n", n)
	}
	ok, skipped := 0, 0
	for _, p := range plans {
		t := p.Target
		if p.Series == "" {
			skipped++
			fmt.Fprintf(w, "%s:%d: Target[%s]: not translated: %s\n", t.File, t.Line, t.Name, trimKey(t))
		} else {
			ok++
			fmt.Fprintf(w, "%s:%d: Target[%s]: -> %s\n", t.File, t.Line, t.Name, p.where())
		}
		for _, n := range t.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	fmt.Fprintf(w, "%d targets translated, %d not\n", ok, skipped)
}

// where says what the plan made of its target.
func (p *Plan) where() string {
	switch {
	case p.Aggregate != nil:
		ms := make([]string, len(p.Aggregate.Members))
		for i, m := range p.Aggregate.Members {
			ms[i] = m.String()
		}
		return fmt.Sprintf("aggregate %q of %s", p.Aggregate.Name, strings.Join(ms, ", "))
	case p.Interface == "" && len(p.Targets) == 1:
		t := p.Targets[0].Target
		what := "OIDs " + strings.Join(t.OIDs, ", ")
		if len(t.Command) > 0 {
			what = "command " + strings.Join(t.Command, " ")
		}
		return fmt.Sprintf("device %q target %q (%s, %s)", p.Device, t.Name, t.Kind, what)
	}
	return fmt.Sprintf("device %q interface %q", p.Device, p.Interface)
}

// trimKey drops the "Target[x]: " the reason starts with, already on the line.
func trimKey(t *Target) string {
	p := "Target[" + t.Name + "]: "
	if len(t.Skip) > len(p) && t.Skip[:len(p)] == p {
		return t.Skip[len(p):]
	}
	return t.Skip
}

// ReportHistory writes what each history import did.
func ReportHistory(w io.Writer, ims []Imported) {
	for _, im := range ims {
		if im.Skipped != "" {
			fmt.Fprintf(w, "history of Target[%s]: not imported: %s\n", im.Plan.Target.Name, im.Skipped)
			continue
		}
		merged := ""
		if im.Merged {
			merged = " (merged by time: the series' own rows are kept)"
		}
		fmt.Fprintf(w, "history of Target[%s]: %d rows from %s to %s into %s%s\n", im.Plan.Target.Name, im.Rows,
			im.From.UTC().Format(time.RFC3339), im.To.UTC().Format(time.RFC3339), im.Plan.Series, merged)
	}
}
