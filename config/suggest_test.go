package config

import (
	"reflect"
	"strings"
	"testing"
)

// Every key of every table type is suggested for a misspelling of it, so that a key
// added to a type cannot be left out of the hints.
func TestSuggestEveryKey(t *testing.T) {
	retention, _ := reflect.TypeFor[file]().FieldByName("Retention")
	types := []reflect.Type{
		reflect.TypeFor[file](),
		retention.Type,
		reflect.TypeFor[snmpFile](),
		reflect.TypeFor[deviceFile](),
		reflect.TypeFor[thresholdsFile](),
		reflect.TypeFor[globalThresholdsFile](),
	}
	n := 0
	for _, typ := range types {
		for f := range typ.Fields() {
			tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			n++
			for _, typo := range []string{tag + "x", tag[1:], tag[:len(tag)-1] + "z"} {
				if got, want := suggest(typo), ` (did you mean "`+tag+`"?)`; got != want {
					t.Errorf("%s.%s: suggest(%q) = %q, want %q", typ.Name(), f.Name, typo, got, want)
				}
			}
		}
	}
	if n < 30 {
		t.Errorf("found %d tagged keys; the types walked have moved?", n)
	}
}

func TestSuggestNothingClose(t *testing.T) {
	if got := suggest("frobnicate"); got != "" {
		t.Errorf("suggest(frobnicate) = %q, want nothing", got)
	}
}
