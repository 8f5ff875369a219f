package discover

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

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
}

// Change is what a merge did to one device.
type Change struct {
	Device   string
	New      bool     // a [[device]] block was appended
	Empty    bool     // a new device with no interface chosen: nothing written
	Wildcard bool     // the block polls ["*"]: nothing to add
	Added    []string // interface keys added
	Vanished []string // keys in the file the agent no longer has (left in place)
	Skipped  []string // keys in the file the selection would now skip (left in place)
	// SpeedNotWritten lists interfaces added to an existing device whose speed override
	// was not written: an existing speed table is left as the user wrote it.
	SpeedNotWritten []string
	// KeyConflict is the interface_key of an existing device that differs from the one
	// discovered with; nothing is added to such a device.
	KeyConflict Key
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

// Merge adds the found devices and interfaces to the targets file src (nil or empty for a
// new file) and returns the new text. It works on lines: every line of src is kept as
// written, in order; new interfaces go before the closing bracket of a device's
// interfaces array, new devices at the end. The only edit to an existing line is a
// comma added after the last entry of an array that gets new entries.
func Merge(name string, src []byte, found []Found) ([]byte, []Change, error) {
	orig := src
	if len(bytes.TrimSpace(src)) == 0 {
		src = []byte(header)
	}
	cfg, err := config.Parse(name, src)
	if err != nil {
		return nil, nil, fmt.Errorf("read existing targets: %w", err)
	}
	defaults := cfg.SNMP
	lines := splitLines(src)
	var changes []Change
	var appended []string
	used := map[string]bool{}
	for _, f := range found {
		blocks, err := deviceBlocks(lines)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		ch := Change{Device: f.Name}
		b := pickBlock(blocks, f)
		if b == nil {
			if len(f.Keep) == 0 {
				ch.Empty = true // config requires a non-empty list: write nothing
				changes = append(changes, ch)
				continue
			}
			if used[f.Name] {
				return nil, nil, fmt.Errorf("device name %q given twice", f.Name)
			}
			used[f.Name] = true
			ch.New = true
			for _, p := range f.Keep {
				ch.Added = append(ch.Added, p.Key)
			}
			appended = append(appended, newBlock(f, defaults)...)
			changes = append(changes, ch)
			continue
		}
		ch.Device = b.name
		if b.ifaces == nil {
			return nil, nil, fmt.Errorf("%s:%d: device %q: no interfaces array found", name, b.start+1, b.name)
		}
		if keyOr(b.key) != keyOr(f.Key) {
			ch.KeyConflict = keyOr(b.key)
			changes = append(changes, ch)
			continue
		}
		arr := b.ifaces
		have := map[string]bool{}
		for _, e := range arr.entries {
			have[e.value] = true
			if e.value == "*" {
				ch.Wildcard = true
			}
		}
		kept := map[string]bool{}
		for _, p := range f.Keep {
			kept[p.Key] = true
		}
		if !ch.Wildcard {
			for _, e := range arr.entries {
				switch {
				case !f.All[e.value]:
					ch.Vanished = append(ch.Vanished, e.value)
				case !kept[e.value]:
					ch.Skipped = append(ch.Skipped, e.value)
				}
			}
			var add []Pick
			for _, p := range f.Keep {
				if !have[p.Key] {
					add = append(add, p)
					ch.Added = append(ch.Added, p.Key)
					if _, ok := f.Speed[p.Key]; ok {
						ch.SpeedNotWritten = append(ch.SpeedNotWritten, p.Key)
					}
				}
			}
			lines = insertEntries(lines, arr, add)
		}
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
	if _, err := config.Parse(name, []byte(out)); err != nil {
		return nil, nil, fmt.Errorf("merged targets do not validate: %w", err)
	}
	return []byte(out), changes, nil
}

const header = `# mrtgo targets — written by "mrtgo discover"; edit freely: a re-run keeps every line.
# Validate with "mrtgo check". Unknown keys are errors.

step     = "5m"
data     = "var/mrtgo.db"
site     = "var/site"
timezone = "Local"

[snmp]
version   = "2c"
community = "public"
port      = 161
timeout   = "2s"
retries   = 1
max_oids  = 60
`

// splitLines splits src into lines that keep their "\n".
func splitLines(src []byte) []string {
	var out []string
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			out = append(out, string(src))
			break
		}
		out = append(out, string(src[:i+1]))
		src = src[i+1:]
	}
	return out
}

type block struct {
	start, end int // line indexes: the [[device]] header, one past the last line
	name, host string
	key        Key
	ifaces     *array
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

type array struct {
	open, close int // line of "interfaces = [", line of the closing "]"
	closeCol    int // byte offset of "]" in lines[close]
	entries     []entry
}

type entry struct {
	value string
	line  int
	end   int // byte offset just past the string token in its line
	comma bool
}

// deviceBlocks finds the [[device]] tables and, in each, name, host and the interfaces
// array. Multi-line values other than interfaces are skipped over by the scanner.
func deviceBlocks(lines []string) ([]*block, error) {
	var blocks []*block
	var cur *block
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if strings.HasPrefix(t, "[") {
			if cur != nil {
				cur.end = i
				cur = nil
			}
			h := strings.TrimSpace(stripComment(t))
			if strings.ReplaceAll(h, " ", "") == "[[device]]" {
				cur = &block{start: i, end: len(lines)}
				blocks = append(blocks, cur)
			}
			continue
		}
		if cur == nil {
			continue
		}
		key, rest, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		switch strings.Trim(strings.TrimSpace(key), `"'`) {
		case "name":
			cur.name = decodeString(rest)
		case "host":
			cur.host = decodeString(rest)
		case "interface_key":
			cur.key = Key(decodeString(rest))
		case "interfaces":
			a, last, err := scanArray(lines, i)
			if err != nil {
				return nil, err
			}
			cur.ifaces = a
			i = last
		}
	}
	return blocks, nil
}

// decodeString reads the TOML string value at the start of s ("x" # comment).
func decodeString(s string) string {
	var v struct{ V string }
	if _, err := toml.Decode("V = "+strings.TrimSpace(s), &v); err != nil {
		return ""
	}
	return v.V
}

// stripComment drops a trailing comment from a header line (headers hold no strings with #).
func stripComment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// scanArray tokenizes the array value starting on line i (after "interfaces ="),
// following it over lines, and returns it with the index of its last line.
func scanArray(lines []string, i int) (*array, int, error) {
	a := &array{open: i}
	l := lines[i]
	col := strings.IndexByte(l, '=') + 1
	depth := 0
	started := false
	for ln := i; ln < len(lines); ln, col = ln+1, 0 {
		l = lines[ln]
		for col < len(l) {
			c := l[col]
			switch {
			case c == ' ' || c == '\t' || c == '\r' || c == '\n':
				col++
			case c == '#':
				col = len(l)
			case c == '[':
				depth++
				started = true
				col++
			case c == ']':
				depth--
				if depth == 0 {
					a.close, a.closeCol = ln, col
					return a, ln, nil
				}
				col++
			case c == ',':
				if n := len(a.entries); n > 0 {
					a.entries[n-1].comma = true
				}
				col++
			case c == '"' || c == '\'':
				if !started {
					return nil, 0, fmt.Errorf("line %d: interfaces is not an array", i+1)
				}
				end, err := stringEnd(l, col)
				if err != nil {
					return nil, 0, fmt.Errorf("line %d: %w", ln+1, err)
				}
				a.entries = append(a.entries, entry{value: decodeString(l[col:end]), line: ln, end: end})
				col = end
			default:
				return nil, 0, fmt.Errorf("line %d: unexpected %q in interfaces", ln+1, c)
			}
		}
	}
	return nil, 0, fmt.Errorf("line %d: interfaces array is not closed", i+1)
}

// stringEnd returns the offset just past the TOML string starting at l[col].
func stringEnd(l string, col int) (int, error) {
	q := l[col]
	if strings.HasPrefix(l[col:], strings.Repeat(string(q), 3)) {
		return 0, fmt.Errorf("multi-line strings are not supported in interfaces")
	}
	for j := col + 1; j < len(l); j++ {
		switch l[j] {
		case '\\':
			if q == '"' {
				j++
			}
		case q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string")
}

func pickBlock(blocks []*block, f Found) *block {
	for _, b := range blocks {
		if b.name == f.Name {
			return b
		}
	}
	for _, b := range blocks {
		// The file may write the host in another form ("[::1]:161" for "::1").
		if h, _, err := config.ParseHost(b.host); err == nil && h == f.Target.Host {
			return b
		}
	}
	return nil
}

// insertEntries adds picks to arr. An array whose "]" stands alone on its line gets one
// line per entry, with the title as a comment; otherwise the entries go before the "]".
func insertEntries(lines []string, arr *array, add []Pick) []string {
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
		for i, p := range add {
			if i > 0 {
				b.WriteString(", ")
			} else {
				b.WriteString(sep)
			}
			b.WriteString(quote(p.Key))
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

func entryLines(indent string, ps []Pick) []string {
	w := 0
	for _, p := range ps {
		w = max(w, len(quote(p.Key))+1)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%s%-*s # %s\n", indent, w, quote(p.Key)+",", Title(p.Interface))
	}
	return out
}

// Title is the comment written beside a new interface: its ifAlias and speed.
func Title(f Interface) string {
	s := FormatSpeed(f.Bps())
	if a := strings.TrimSpace(strings.ReplaceAll(f.Alias, "\n", " ")); a != "" {
		return a + " (" + s + ")"
	}
	return "(" + s + ")"
}

// FormatSpeed writes bits/s as "10G", "100M", "1.5M".
func FormatSpeed(bps uint64) string {
	if bps == 0 {
		return "speed unknown"
	}
	for _, u := range []struct {
		div  float64
		name string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if float64(bps) >= u.div {
			return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", float64(bps)/u.div), "0"), ".") + u.name
		}
	}
	return fmt.Sprintf("%d", bps)
}

// newBlock writes a [[device]] table, with the SNMP keys that differ from the defaults.
func newBlock(f Found, d config.SNMP) []string {
	out := []string{"\n", "[[device]]\n",
		fmt.Sprintf("name = %s\n", quote(f.Name)),
		fmt.Sprintf("host = %s\n", quote(f.Target.Host))}
	t := f.Target
	str := func(key, v, def string) {
		if v != def {
			out = append(out, fmt.Sprintf("%s = %s\n", key, quote(v)))
		}
	}
	version := t.Version
	if version == "" {
		version = d.Version
	}
	str("version", version, d.Version)
	if version == "3" {
		str("username", t.Username, d.Username)
		str("security_level", t.SecurityLevel, d.SecurityLevel)
		str("auth_protocol", t.AuthProtocol, d.AuthProtocol)
		str("auth_password", t.AuthPassword, d.AuthPassword)
		str("priv_protocol", t.PrivProtocol, d.PrivProtocol)
		str("priv_password", t.PrivPassword, d.PrivPassword)
		str("context", t.Context, d.Context)
	} else {
		str("community", t.Community, d.Community)
	}
	if t.Port != 0 && t.Port != d.Port {
		out = append(out, fmt.Sprintf("port = %d\n", t.Port))
	}
	if t.Timeout != 0 && t.Timeout != d.Timeout {
		out = append(out, fmt.Sprintf("timeout = %s\n", quote(t.Timeout.String())))
	}
	if t.Retries != d.Retries {
		out = append(out, fmt.Sprintf("retries = %d\n", t.Retries))
	}
	if k := keyOr(f.Key); k != KeyName {
		out = append(out, fmt.Sprintf("interface_key = %s\n", quote(string(k))))
	}
	out = append(out, "interfaces = [\n")
	out = append(out, entryLines("  ", f.Keep)...)
	out = append(out, "]\n")
	if len(f.Speed) > 0 {
		var parts []string
		for _, p := range f.Keep {
			if v, ok := f.Speed[p.Key]; ok {
				sv := FormatSpeed(v)
				if got, err := config.ParseSpeed(sv); err != nil || got != v {
					sv = fmt.Sprint(v) // keep it exact
				}
				parts = append(parts, fmt.Sprintf("%s = %s", quote(p.Key), quote(sv)))
			}
		}
		if len(parts) > 0 {
			out = append(out, "speed = { "+strings.Join(parts, ", ")+" }\n")
		}
	}
	return out
}

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
