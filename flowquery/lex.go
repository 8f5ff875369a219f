package flowquery

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokKind is the class of a token of the filter language.
type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokWord           // a keyword, number, address, network or bare name
	tokString         // a quoted string, unquoted
	tokLParen
	tokRParen
	tokLBracket
	tokRBracket
	tokComma
	tokNot // !
	tokAnd // &&
	tokOr  // ||
	tokCmp // = == > < >= <=
)

type token struct {
	kind tokKind
	text string // the word, the string's contents or the operator
	col  int    // 1-based column in characters
}

// describe is the token as an error message quotes it.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of filter"
	case tokString:
		return fmt.Sprintf("%q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// wordByte reports whether c may appear in a bare word: letters, digits and the
// punctuation of addresses, networks and interface names (10.0.0.0/8, 2001:db8::1,
// Gi0/1, xe-0/0/1.100).
func wordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == ':' || c == '/' || c == '-' || c == '_' || c == '+' || c == '@' || c >= utf8.RuneSelf
}

// lex splits a filter into tokens, ending with tokEOF.
func lex(s string) ([]token, error) {
	var toks []token
	col := func(i int) int { return utf8.RuneCountInString(s[:i]) + 1 }
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", col(i)})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", col(i)})
			i++
		case c == '[':
			toks = append(toks, token{tokLBracket, "[", col(i)})
			i++
		case c == ']':
			toks = append(toks, token{tokRBracket, "]", col(i)})
			i++
		case c == ',':
			toks = append(toks, token{tokComma, ",", col(i)})
			i++
		case c == '&' || c == '|':
			if i+1 >= len(s) || s[i+1] != c {
				return nil, &SyntaxError{Filter: s, Column: col(i), Msg: fmt.Sprintf("expected %q, got %q", string([]byte{c, c}), string(c))}
			}
			kind := tokAnd
			if c == '|' {
				kind = tokOr
			}
			toks = append(toks, token{kind, s[i : i+2], col(i)})
			i += 2
		case c == '!':
			if i+1 < len(s) && s[i+1] == '=' {
				return nil, &SyntaxError{Filter: s, Column: col(i), Msg: `"!=" is not an operator: write "not port 22"`}
			}
			toks = append(toks, token{tokNot, "!", col(i)})
			i++
		case c == '=' || c == '<' || c == '>':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			toks = append(toks, token{tokCmp, s[i:j], col(i)})
			i = j
		case c == '"':
			text, n, err := unquote(s[i:])
			if err != nil {
				return nil, &SyntaxError{Filter: s, Column: col(i), Msg: err.Error()}
			}
			toks = append(toks, token{tokString, text, col(i)})
			i += n
		case wordByte(c):
			j := i
			for j < len(s) && wordByte(s[j]) {
				j++
			}
			if !utf8.ValidString(s[i:j]) {
				return nil, &SyntaxError{Filter: s, Column: col(i), Msg: "invalid UTF-8"}
			}
			toks = append(toks, token{tokWord, s[i:j], col(i)})
			i = j
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			return nil, &SyntaxError{Filter: s, Column: col(i), Msg: fmt.Sprintf("unexpected character %q", r)}
		}
	}
	return append(toks, token{tokEOF, "", utf8.RuneCountInString(s) + 1}), nil
}

// unquote reads a double-quoted string at the start of s, in which \" and \\ stand
// for themselves, and returns its contents and the bytes it took.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			if !utf8.ValidString(b.String()) {
				return "", 0, fmt.Errorf("invalid UTF-8 in quoted string")
			}
			return b.String(), i + 1, nil
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				i++
				b.WriteByte(s[i])
				continue
			}
			return "", 0, fmt.Errorf(`in a quoted string, "\" escapes only " and \`)
		}
		b.WriteByte(s[i])
	}
	return "", 0, fmt.Errorf("quoted string not closed")
}

// quote is the inverse of unquote.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// SyntaxError is a filter that does not parse, and where.
type SyntaxError struct {
	Filter string // the filter as given
	Column int    // 1-based, in characters, where the problem starts
	Msg    string // what was expected and what was found
}

// Error is "filter: column N: message".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter: column %d: %s", e.Column, e.Msg)
}

// String is the error followed by the filter and a caret under the column, for a
// terminal:
//
//	filter: column 18: expected a port number, got "https"
//	  src port 1 or port https
//	                     ^
func (e *SyntaxError) String() string {
	var b strings.Builder
	b.WriteString(e.Error())
	line := strings.NewReplacer("\n", " ", "\r", " ").Replace(e.Filter)
	b.WriteString("\n  ")
	b.WriteString(line)
	b.WriteString("\n  ")
	n := 0
	for _, r := range line {
		if n >= e.Column-1 {
			break
		}
		if r == '\t' {
			b.WriteByte('\t') // a tab in the filter moves the caret as far
		} else {
			b.WriteByte(' ')
		}
		n++
	}
	for ; n < e.Column-1; n++ {
		b.WriteByte(' ')
	}
	b.WriteByte('^')
	return b.String()
}
