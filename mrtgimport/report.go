package mrtgimport

import (
	"fmt"
	"io"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/discover"
)

// TargetsFile is the targets file of an import of c: found (from Translate) as its
// devices; a new file takes MRTG's Interval as its step and SNMPv1, MRTG's default, as
// its version.
func TargetsFile(c *Config, found []discover.Found) config.File {
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
	for _, fd := range found {
		f.Devices = append(f.Devices, fd.FileDevice())
	}
	return f
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
			fmt.Fprintf(w, "%s:%d: Target[%s]: -> device %q interface %q\n", t.File, t.Line, t.Name, p.Device, p.Interface)
		}
		for _, n := range t.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	fmt.Fprintf(w, "%d targets translated, %d not\n", ok, skipped)
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
