package mrtgimport

import (
	"bytes"
	"regexp"
	"strconv"
)

// decodeDumpFast reads what ParseDump needs of "rrdtool dump" XML without
// encoding/xml, which takes about 30 ms for a two-year MRTG file, most of an import of
// it. It knows the plain shape rrdtool writes (elements without attributes, comments,
// ASCII text) and says !ok at anything else, for encoding/xml to read (and to report
// what is wrong): where it is ok, it reads what encoding/xml reads (FuzzParseDump).
func decodeDumpFast(b []byte) (d dumpXML, ok bool) {
	var stack []string
	var text []byte
	textAt := -1 // the depth at which text was last taken; -1 none
	leaf := func(name string) bool {
		switch name {
		case "step", "lastupdate", "name", "type", "last_ds", "value", "unknown_sec", "cf", "pdp_per_row", "v":
			return true
		}
		return false
	}
	// path reports whether the open elements below the root are names.
	path := func(names ...string) bool {
		if len(stack) != len(names)+1 {
			return false
		}
		for i, n := range names {
			if stack[i+1] != n {
				return false
			}
		}
		return true
	}
	num := func(t []byte) (int64, bool) {
		v, err := strconv.ParseInt(string(bytes.TrimSpace(t)), 10, 64)
		return v, err == nil
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c != '<' {
			j := bytes.IndexByte(b[i:], '<')
			if j < 0 {
				j = len(b) - i
			}
			t := b[i : i+j]
			for _, x := range t {
				if x >= 0x80 || x == '&' || x == '>' || x == '\r' || (x < 0x20 && x != '\t' && x != '\n') {
					return d, false
				}
			}
			if len(stack) == 0 || textAt == len(stack) {
				if len(bytes.TrimSpace(t)) > 0 {
					return d, false // text outside the root, or a leaf's text cut in two
				}
			} else {
				text, textAt = t, len(stack)
			}
			i += j
			continue
		}
		rest := b[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			k := bytes.Index(rest[4:], []byte("-->"))
			body := rest[4 : 4+max(k, 0)]
			if k < 0 || bytes.Contains(body, []byte("--")) || bytes.HasSuffix(body, []byte("-")) || (len(stack) > 0 && leaf(stack[len(stack)-1])) {
				return d, false
			}
			i += 4 + k + 3
			continue
		case bytes.HasPrefix(rest, []byte("<?xml ")):
			k := bytes.Index(rest, []byte("?>"))
			if len(stack) > 0 || k < 0 || i > 0 || !plainDecl.Match(rest[len("<?xml "):k]) {
				return d, false
			}
			i += k + 2
			continue
		case bytes.HasPrefix(rest, []byte("<!DOCTYPE rrd ")):
			k := bytes.IndexByte(rest, '>')
			if len(stack) > 0 || k < 0 || bytes.ContainsAny(rest[1:k], "[<") {
				return d, false
			}
			i += k + 1
			continue
		case bytes.HasPrefix(rest, []byte("<!")), bytes.HasPrefix(rest, []byte("<?")):
			return d, false
		}
		k := bytes.IndexByte(rest, '>')
		if k < 0 {
			return d, false
		}
		end := rest[1] == '/'
		name := rest[1:k]
		if end {
			name = rest[2:k]
		}
		if len(name) == 0 {
			return d, false
		}
		for j, x := range name {
			letter := x >= 'a' && x <= 'z' || x >= 'A' && x <= 'Z' || x == '_'
			if !letter && (j == 0 || !(x >= '0' && x <= '9' || x == '-' || x == '.')) {
				return d, false
			}
		}
		i += k + 1
		n := string(name)
		if !end {
			if len(stack) > 0 && leaf(stack[len(stack)-1]) && len(stack) > 1 {
				return d, false // an element inside a value
			}
			stack = append(stack, n)
			text, textAt = nil, -1
			switch {
			case path("ds"):
				d.DS = append(d.DS, struct {
					Name    string `xml:"name"`
					Type    string `xml:"type"`
					LastDS  string `xml:"last_ds"`
					Value   string `xml:"value"`
					Unknown int64  `xml:"unknown_sec"`
				}{})
			case path("rra"):
				d.RRA = append(d.RRA, struct {
					CF   string `xml:"cf"`
					PDPs int64  `xml:"pdp_per_row"`
					Rows []struct {
						V []string `xml:"v"`
					} `xml:"database>row"`
				}{})
			case path("rra", "database", "row"):
				r := &d.RRA[len(d.RRA)-1]
				r.Rows = append(r.Rows, struct {
					V []string `xml:"v"`
				}{})
			}
			continue
		}
		if len(stack) == 0 || stack[len(stack)-1] != n {
			return d, false
		}
		t := ""
		if textAt == len(stack) {
			t = string(text)
		}
		var good = true
		switch {
		case path("step"):
			d.Step, good = num([]byte(t))
		case path("lastupdate"):
			d.LastUpdate, good = num([]byte(t))
		case path("ds", "name"):
			d.DS[len(d.DS)-1].Name = t
		case path("ds", "type"):
			d.DS[len(d.DS)-1].Type = t
		case path("ds", "last_ds"):
			d.DS[len(d.DS)-1].LastDS = t
		case path("ds", "value"):
			d.DS[len(d.DS)-1].Value = t
		case path("ds", "unknown_sec"):
			d.DS[len(d.DS)-1].Unknown, good = num([]byte(t))
		case path("rra", "cf"):
			d.RRA[len(d.RRA)-1].CF = t
		case path("rra", "pdp_per_row"):
			d.RRA[len(d.RRA)-1].PDPs, good = num([]byte(t))
		case path("rra", "database", "row", "v"):
			r := &d.RRA[len(d.RRA)-1]
			row := &r.Rows[len(r.Rows)-1]
			row.V = append(row.V, t)
		}
		if !good {
			return d, false
		}
		stack = stack[:len(stack)-1]
		text, textAt = nil, -1
		if len(stack) == 0 {
			return d, true // encoding/xml reads the first element and no further
		}
	}
	return d, false
}

// plainDecl is the XML declaration the fast reader vouches for, as rrdtool dump writes
// it: version 1.0, UTF-8 or no encoding. encoding/xml reads or refuses any other (a
// version it does not support, an encoding it has no reader for).
var plainDecl = regexp.MustCompile(`^\s*version="1\.0"(\s+encoding="(?i:utf-8)")?\s*$`)
