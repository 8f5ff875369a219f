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
	// Each table type with the path of a table of its type.
	types := []struct {
		typ  reflect.Type
		path []string
	}{
		{reflect.TypeFor[file](), nil},
		{retention.Type, []string{"retention"}},
		{reflect.TypeFor[snmpFile](), []string{"snmp"}},
		{reflect.TypeFor[deviceFile](), []string{"device"}},
		{reflect.TypeFor[thresholdsFile](), []string{"thresholds"}},
		{reflect.TypeFor[globalThresholdsFile](), []string{"thresholds"}},
		{reflect.TypeFor[flowsFile](), []string{"flows"}},
		{reflect.TypeFor[detectFile](), []string{"detect"}},
		{reflect.TypeFor[detectNetworkFile](), []string{"detect", "network"}},
		{reflect.TypeFor[detectThresholdsFile](), []string{"detect", "network"}},
		{reflect.TypeFor[captureFile](), []string{"detect", "capture"}},
		{reflect.TypeFor[eventsFile](), []string{"events"}},
	}
	n := 0
	for _, tt := range types {
		for f := range tt.typ.Fields() {
			tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			n++
			for _, typo := range []string{tag + "x", tag[1:], tag[:len(tag)-1] + "z"} {
				if got, want := suggestIn(tt.path, typo), ` (did you mean "`+tag+`"?)`; got != want {
					t.Errorf("%s.%s: suggestIn(%v, %q) = %q, want %q", tt.typ.Name(), f.Name, tt.path, typo, got, want)
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
