package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// Error is a mistake in a targets file. Its text names the file and, where it can be
// found, the line and the key.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // dotted key, e.g. "device[2].timeout"; may be empty
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every mistake found in a targets file, in file order (those whose line is
// unknown last). Loading goes on after a mistake wherever the rest can still be
// checked, so that one run lists them all; a TOML syntax error stops it. errors.As
// finds the first *Error in it.
type Errors []*Error

// Error is one mistake per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the mistakes, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// decodeError turns a decoder error into an *Error with the line when the decoder knows it.
func decodeError(name string, err error) *Error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if msg == "" {
			msg = pe.Error()
		}
		line := pe.Position.Line
		if strings.Contains(msg, `got '\n'`) && line > 1 {
			line-- // the parser stands on the newline that ends the bad line
		}
		return &Error{File: name, Line: line, Key: pe.LastKey, Msg: msg}
	}
	// Type mismatches carry "line N (last key "k"): ..." in their text only.
	m := typeErr().FindStringSubmatch(err.Error())
	if m != nil {
		var line int
		fmt.Sscan(m[1], &line)
		return &Error{File: name, Line: line, Key: m[2], Msg: m[3]}
	}
	return &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

// typeErr is compiled on first use: most runs load a file without a mistake.
var typeErr = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)
})
