package config

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// What Merge reads of a targets file's lines: the [[device]] tables, and in each the
// name, host, interface_key and the interfaces array token by token, so that entries
// can be added without rewriting a line a person wrote.

// splitLines splits src into lines that keep their "\n".
func splitLines(src []byte) []string {
	var out []string
	for l := range bytes.Lines(src) {
		out = append(out, string(l))
	}
	return out
}

// block is a [[device]] table as the merge sees it.
type block struct {
	start, end int // line indexes: the [[device]] header, one past the last line
	name, host string
	key        string
	ifaces     *array
}

// array is an interfaces array as written, spread over lines.
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

// deviceBlocks finds the [[device]] tables and, in each, name, host, interface_key and
// the interfaces array. Multi-line values other than interfaces are skipped over.
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
			cur.key = decodeString(rest)
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
