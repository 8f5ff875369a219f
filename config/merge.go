package config

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Change is what Merge did to one device.
type Change struct {
	Device   string
	New      bool     // a [[device]] table was appended
	Empty    bool     // a new device with no interface chosen: nothing written
	Wildcard bool     // the table polls ["*"]: nothing to add
	Added    []string // interface keys added
	// AddedTargets are the targets added (by name); a target the device has by that
	// name already is left as written.
	AddedTargets []string
	Vanished     []string // keys in the file the device no longer has (left in place)
	Skipped      []string // keys in the file that were not chosen this time (left in place)
	// SpeedNotWritten lists interfaces added to an existing device whose speed override
	// was not written: an existing speed table is left as the user wrote it.
	SpeedNotWritten []string
	// KeyConflict is the interface_key of an existing device that differs from the one
	// the device was found with; nothing is added to such a device.
	KeyConflict string
}

// Merge adds the devices of f to the targets file src and returns the new text and,
// per device of f, what was done. It works on lines: every line of src is kept as
// written, in order; new interfaces go before the closing bracket of a device's
// interfaces array, new devices at the end. The only edit to an existing line is a
// comma added after the last entry of an array that gets new entries. A device of f is
// the file's table of the same name or, failing that, of the same host.
//
// An empty src starts from the top-level settings and [snmp] of f (see Format), and
// stays empty when no device is written. The result is checked with Parse; name is the
// file's name in errors.
func Merge(name string, src []byte, f File) ([]byte, []Change, error) {
	orig := src
	if len(bytes.TrimSpace(src)) == 0 {
		src = []byte(header(f))
	}
	cfg, err := Parse(name, src)
	if err != nil {
		return nil, nil, fmt.Errorf("read existing targets: %w", err)
	}
	defaults := cfg.SNMP
	lines := splitLines(src)
	var changes []Change
	var appended []string
	used := map[string]bool{}
	for _, d := range f.Devices {
		blocks, err := deviceBlocks(lines)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		ch := Change{Device: d.Name}
		b := pickBlock(blocks, d)
		if b == nil {
			if len(d.Interfaces) == 0 && len(d.Targets) == 0 {
				ch.Empty = true // Parse requires a non-empty list: write nothing
				changes = append(changes, ch)
				continue
			}
			if used[d.Name] {
				return nil, nil, fmt.Errorf("device name %q given twice", d.Name)
			}
			used[d.Name] = true
			ch.New = true
			for _, e := range d.Interfaces {
				ch.Added = append(ch.Added, e.Key)
			}
			appended = append(appended, deviceBlock(d, defaults, cfg.Counters)...)
			appended = append(appended, targetBlocks(d.Targets, cfg.Step)...)
			for _, t := range d.Targets {
				ch.AddedTargets = append(ch.AddedTargets, t.Name)
			}
			changes = append(changes, ch)
			continue
		}
		ch.Device = b.name
		lines = addTargets(lines, b, d, cfg, &ch)
		if b.ifaces == nil && len(d.Interfaces) == 0 {
			changes = append(changes, ch) // a device of targets only
			continue
		}
		if b.ifaces == nil {
			return nil, nil, fmt.Errorf("%s:%d: device %q: no interfaces array found", name, b.start+1, b.name)
		}
		if keyOr(b.key) != keyOr(d.Key) {
			ch.KeyConflict = keyOr(b.key)
			changes = append(changes, ch)
			continue
		}
		lines = extend(lines, b.ifaces, d, &ch)
		changes = append(changes, ch)
	}
	out := strings.Join(lines, "")
	if len(bytes.TrimSpace(orig)) == 0 && len(appended) == 0 {
		return orig, changes, nil // nothing found: do not create a file of defaults
	}
	if len(appended) > 0 {
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += strings.Join(appended, "")
	}
	if _, err := Parse(name, []byte(out)); err != nil {
		return nil, nil, fmt.Errorf("merged targets do not validate: %w", err)
	}
	return []byte(out), changes, nil
}

// extend adds to the interfaces array arr of an existing device what d chose that the
// array lacks, and notes in ch what was added, what vanished and what was not chosen.
func extend(lines []string, arr *array, d FileDevice, ch *Change) []string {
	have := map[string]bool{}
	for _, e := range arr.entries {
		have[e.value] = true
		if e.value == "*" {
			ch.Wildcard = true
		}
	}
	if ch.Wildcard {
		return lines
	}
	kept := map[string]bool{}
	for _, e := range d.Interfaces {
		kept[e.Key] = true
	}
	for _, e := range arr.entries {
		switch {
		case d.Present != nil && !d.Present[e.value]:
			ch.Vanished = append(ch.Vanished, e.value)
		case !kept[e.value]:
			ch.Skipped = append(ch.Skipped, e.value)
		}
	}
	var add []FileInterface
	for _, e := range d.Interfaces {
		if !have[e.Key] {
			add = append(add, e)
			ch.Added = append(ch.Added, e.Key)
			if _, ok := d.Speed[e.Key]; ok {
				ch.SpeedNotWritten = append(ch.SpeedNotWritten, e.Key)
			}
		}
	}
	return insertEntries(lines, arr, add)
}

func pickBlock(blocks []*block, d FileDevice) *block {
	for _, b := range blocks {
		if b.name == d.Name {
			return b
		}
	}
	for _, b := range blocks {
		// The file may write the host in another form ("[::1]:161" for "::1").
		if h, _, err := ParseHost(b.host); err == nil && h == d.Host {
			return b
		}
	}
	return nil
}

// insertEntries adds entries to arr. An array whose "]" stands alone on its line gets
// one line per entry, with its comment; otherwise the entries go before the "]".
func insertEntries(lines []string, arr *array, add []FileInterface) []string {
	if len(add) == 0 {
		return lines
	}
	closing := lines[arr.close]
	alone := strings.TrimSpace(closing[:arr.closeCol]) == "" && arr.close > arr.open
	if n := len(arr.entries); n > 0 && !arr.entries[n-1].comma && alone {
		e := arr.entries[n-1]
		lines[e.line] = lines[e.line][:e.end] + "," + lines[e.line][e.end:]
	}
	if !alone {
		var b strings.Builder
		sep := ", "
		if n := len(arr.entries); n == 0 || arr.entries[n-1].comma {
			sep = " "
			if n == 0 {
				sep = ""
			}
		}
		for i, e := range add {
			if i > 0 {
				b.WriteString(", ")
			} else {
				b.WriteString(sep)
			}
			b.WriteString(quote(e.Key))
		}
		lines[arr.close] = closing[:arr.closeCol] + b.String() + closing[arr.closeCol:]
		return lines
	}
	indent := "  "
	if n := len(arr.entries); n > 0 {
		l := lines[arr.entries[n-1].line]
		indent = l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if strings.TrimSpace(indent) != "" || arr.entries[n-1].line == arr.open {
			indent = "  "
		}
	}
	return slices.Insert(lines, arr.close, entryLines(indent, add)...)
}

// addTargets adds to the device table b the targets of d it lacks by name, after its
// last table.
func addTargets(lines []string, b *block, d FileDevice, cfg *Config, ch *Change) []string {
	have := map[string]bool{}
	for _, dev := range cfg.Devices {
		if dev.Name == b.name {
			for _, t := range dev.Targets {
				have[t.Name] = true
			}
		}
	}
	var add []Target
	for _, t := range d.Targets {
		if !have[t.Name] {
			add = append(add, t)
			ch.AddedTargets = append(ch.AddedTargets, t.Name)
		}
	}
	if len(add) == 0 {
		return lines
	}
	end := deviceEnd(lines, b.start)
	if end > 0 && !strings.HasSuffix(lines[end-1], "\n") {
		lines[end-1] += "\n"
	}
	return slices.Insert(lines, end, targetBlocks(add, cfg.Step)...)
}
