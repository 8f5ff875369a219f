package discover

import (
	"strings"

	"github.com/mrtgo/mrtgo/config"
)

// Found is one walked device with the interfaces chosen for it.
type Found struct {
	Name   string // device name in targets.toml
	Target Target
	Keep   []Pick
	Skip   []Skip
	// All is every interface key the agent has, chosen or not: an entry of the file
	// missing from it has vanished from the device.
	All map[string]bool
	// Speed holds per-interface speed overrides (bits/s) to write for a new device.
	Speed map[string]uint64
	// Key is what the interface names are values of ("" for ifName).
	Key Key
	// Presets are the target presets the agent answers: each is written as a
	// [[device.target]] of that name (a device that has one by that name keeps it).
	Presets []string
}

// DeviceName is the name a walked device gets in targets.toml: its sysName with slashes
// replaced (config forbids them), or the host when the agent has no sysName.
func DeviceName(d *Device) string {
	n := strings.TrimSpace(d.SysName)
	n = strings.NewReplacer("/", "_", "\\", "_").Replace(n)
	if n == "" || n == "." || n == ".." {
		return d.Target.Host
	}
	return n
}

// FileDevice is f as the targets file writes it: its chosen interfaces, each with its
// Title as comment.
func (f Found) FileDevice() config.FileDevice {
	d := config.FileDevice{Name: f.Name, Host: f.Target.Host, SNMP: f.Target.SNMP, Key: string(f.Key),
		Speed: f.Speed, Present: f.All, Targets: PresetTargets(f.Presets)}
	for _, p := range f.Keep {
		d.Interfaces = append(d.Interfaces, config.FileInterface{Key: p.Key, Comment: Title(p.Interface)})
	}
	return d
}

// File is the targets file of found: a new file has the default settings.
func File(found []Found) config.File {
	def := config.DefaultSNMP()
	f := config.File{
		Comment: "mrtgo targets — written by \"mrtgo discover\"; edit freely: a re-run keeps every line.\n" +
			"Validate with \"mrtgo check\". Unknown keys are errors.",
		SNMP: &def,
	}
	for _, fd := range found {
		f.Devices = append(f.Devices, fd.FileDevice())
	}
	return f
}

// Merge adds the found devices and interfaces to the targets file src (nil or empty for a
// new file) and returns the new text: config.Merge of File(found), which keeps every line
// of src as written.
func Merge(name string, src []byte, found []Found) ([]byte, []config.Change, error) {
	return config.Merge(name, src, File(found))
}

// Title is the comment written beside a new interface: its ifAlias and speed.
func Title(f Interface) string {
	s := config.FormatSpeed(f.Bps())
	if a := strings.TrimSpace(strings.ReplaceAll(f.Alias, "\n", " ")); a != "" {
		return a + " (" + s + ")"
	}
	return "(" + s + ")"
}

func keyOr(k Key) Key {
	if k == "" {
		return KeyName
	}
	if pk, err := ParseKey(string(k)); err == nil {
		return pk
	}
	return k
}
