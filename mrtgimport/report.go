package mrtgimport

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Header is the start of a new targets file for c: MRTG's Interval as the step.
func Header(c *Config) []byte {
	step := c.Interval.Truncate(time.Second)
	if step < time.Second {
		step = time.Second
	}
	return fmt.Appendf(nil, `# mrtgo targets — translated from %s by "mrtgo import"; edit freely.
# Validate with "mrtgo check". Unknown keys are errors.

# MRTG's Interval.
step     = %q
data     = "var/mrtgo.db"
site     = "var/site"
timezone = "Local"

[snmp]
version   = "1"       # MRTG's default; targets with ":::::2" use "2c"
community = "public"
port      = 161
timeout   = "2s"
retries   = 1
max_oids  = 60
`, c.File, shortDuration(step))
}

func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
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
		fmt.Fprintf(w, "history of Target[%s]: %d rows from %s to %s into %s\n", im.Plan.Target.Name, im.Rows,
			im.From.UTC().Format(time.RFC3339), im.To.UTC().Format(time.RFC3339), im.Plan.Series)
	}
}
