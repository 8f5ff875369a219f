package config

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// locator finds the line of a key in the source. The TOML decoder keeps key positions
// to itself, so this reads the table headers and key assignments of each line; it only
// has to be good enough to point a person at the right line. Keys inside inline tables
// and multi-line values are found at the line of the key that holds them.
type locator struct {
	keys  []keyLine
	lines []string
	// nested maps an array of tables inside another ("device.target") and the index
	// of one of its entries over the whole file to the index of the entry it is in
	// and its own index there, so that messages say "device[2].target[1]".
	nested map[string]map[int][2]int
}

// keyLine is a table header or key assignment: its full dotted path and, inside an
// array of tables ([[device]]), the index of the entry.
type keyLine struct {
	line  int
	path  []string
	idx   int // -1 outside an array of tables
	depth int // parts of path that name the array of tables idx counts in
}

func newLocator(src []byte) *locator {
	l := &locator{lines: strings.Split(string(src), "\n"), nested: map[string]map[int][2]int{}}
	local := map[string]int{} // entries of a nested array of tables in its parent's entry
	var table []string
	idx, depth := -1, 0
	count := map[string]int{}
	current := map[string]int{} // index of the entry each array of tables is in
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, len(src)+1)
	for ln := 1; sc.Scan(); ln++ {
		t := strings.TrimLeft(sc.Text(), " \t")
		switch {
		case strings.HasPrefix(t, "[["):
			k, rest, ok := parseKey(t[2:])
			if !ok || !strings.HasPrefix(rest, "]]") {
				continue
			}
			name := strings.Join(k, ".")
			table, idx, depth = k, count[name], len(k)
			count[name]++
			for a := range current {
				if strings.HasPrefix(a, name+".") {
					delete(current, a) // arrays inside the previous entry
					delete(local, a)
				}
			}
			current[name] = idx
			for n := len(k) - 1; n > 0; n-- {
				if p, ok := current[strings.Join(k[:n], ".")]; ok {
					if l.nested[name] == nil {
						l.nested[name] = map[int][2]int{}
					}
					l.nested[name][idx] = [2]int{p, local[name]}
					local[name]++
					break
				}
			}
			l.keys = append(l.keys, keyLine{ln, k, idx, depth})
		case strings.HasPrefix(t, "["):
			k, rest, ok := parseKey(t[1:])
			if !ok || !strings.HasPrefix(rest, "]") {
				continue
			}
			// A sub-table belongs to the innermost array of tables it is under:
			// [device.thresholds] after a [[device.target]] is the device's.
			idx, depth = -1, 0
			for n := len(k) - 1; n > 0; n-- {
				if i, ok := current[strings.Join(k[:n], ".")]; ok {
					idx, depth = i, n
					break
				}
			}
			table = k
			l.keys = append(l.keys, keyLine{ln, k, idx, depth})
		default:
			k, rest, ok := parseKey(t)
			if !ok || !strings.HasPrefix(rest, "=") {
				continue
			}
			l.keys = append(l.keys, keyLine{ln, append(slices.Clip(table), k...), idx, depth})
		}
	}
	return l
}

// parseKey reads a dotted TOML key (bare, "quoted" or 'literal' parts) at the start of
// s and returns its parts and the rest of s after blanks.
func parseKey(s string) (parts []string, rest string, ok bool) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return nil, "", false
		}
		var part string
		switch s[0] {
		case '"':
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return nil, "", false
			}
			part = s[1:end]
			if u, err := strconv.Unquote(s[:end+1]); err == nil {
				part = u
			}
			s = s[end+1:]
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, "", false
			}
			part, s = s[1:end+1], s[end+2:]
		default:
			n := 0
			for n < len(s) && isBare(s[n]) {
				n++
			}
			if n == 0 {
				return nil, "", false
			}
			part, s = s[:n], s[n:]
		}
		parts = append(parts, part)
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ".") {
			return parts, s, true
		}
		s = s[1:]
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// line returns the line of field in table ("" for the top level; its idx-th entry for
// an array of tables, idx -1 otherwise), or of sub within the field's value, and the key
// as messages name it ("device[2].timeout", "device[1].speed.\"ge-0/0/0\""). A key that
// is absent, or inside an inline table, is found at the nearest key or table header
// that holds it.
func (l *locator) line(table string, idx int, field string, sub ...string) (int, string) {
	var path []string
	if table != "" {
		path = strings.Split(table, ".")
	}
	path = append(append(path, field), sub...)
	key := l.key(path[:len(path)-len(sub)-1], idx, path[len(path)-len(sub)-1:])
	for n := len(path); n > 0; n-- {
		for _, k := range l.keys {
			if k.idx == idx && slices.Equal(k.path, path[:n]) {
				return k.line, key
			}
		}
	}
	return 0, key
}

// at is where one key is in the file.
type at struct {
	line int
	key  string
}

// find locates every occurrence of an undecoded key such as device.commnity (in each
// [[device]] that has it) or snmp.tmeout.
func (l *locator) find(k toml.Key) []at {
	var found []at
	for n := len(k); n > 0 && found == nil; n-- {
		for _, kl := range l.keys {
			if !slices.Equal(kl.path, k[:n]) {
				continue
			}
			// Inside an inline table: keep the lines that name the key.
			if n < len(k) && !strings.Contains(l.text(kl.line), k[len(k)-1]) {
				continue
			}
			table, rest := k[:0], []string(k)
			if kl.idx >= 0 && kl.depth <= len(k) {
				table, rest = k[:kl.depth], k[kl.depth:]
			}
			found = append(found, at{kl.line, l.key(table, kl.idx, rest)})
		}
	}
	if found == nil {
		return []at{{0, formatKey(nil, -1, k)}}
	}
	return found
}

func (l *locator) text(line int) string {
	if line < 1 || line > len(l.lines) {
		return ""
	}
	return l.lines[line-1]
}

// key is formatKey, with an entry of a nested array of tables named by its place in
// its parent's entry: "device[2].target[1].oids" rather than the file's third target.
func (l *locator) key(table []string, idx int, rest []string) string {
	if n := len(table); n >= 2 && idx >= 0 {
		if at, ok := l.nested[strings.Join(table, ".")][idx]; ok {
			return formatKey(table[:n-1], at[0], nil) + "." + formatKey(table[n-1:], at[1], rest)
		}
	}
	return formatKey(table, idx, rest)
}

// formatKey writes table[idx+1].rest, quoting the parts that are not bare keys.
func formatKey(table []string, idx int, rest []string) string {
	var b strings.Builder
	part := func(p string) {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		for i := 0; i < len(p); i++ {
			if !isBare(p[i]) {
				b.WriteString(strconv.Quote(p))
				return
			}
		}
		b.WriteString(p)
	}
	for _, p := range table {
		part(p)
	}
	if idx >= 0 && len(table) > 0 {
		fmt.Fprintf(&b, "[%d]", idx+1)
	}
	for _, p := range rest {
		part(p)
	}
	if b.Len() == 0 {
		return ""
	}
	return b.String()
}
