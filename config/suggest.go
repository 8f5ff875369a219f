package config

import (
	"encoding"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// known lists every key the file's types decode, for spelling suggestions. It is read
// from their toml tags, so that a key added to a type is suggested without more ado,
// on first use: only a mistake needs it, and every process (a cron poll included)
// would otherwise pay the reflection at its start.
var known = sync.OnceValue(func() []string { return tomlKeys(reflect.TypeFor[file]()) })

// tomlKeys returns the sorted toml tag names of t and of every table type below it:
// fields of struct, pointer, slice and map types are followed, embedded structs too;
// values that decode from text (durations, speeds, limits) are leaves.
func tomlKeys(t reflect.Type) []string {
	set := map[string]bool{}
	var walk func(reflect.Type)
	seen := map[reflect.Type]bool{}
	text := reflect.TypeFor[encoding.TextUnmarshaler]()
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] || reflect.PointerTo(t).Implements(text) {
			return
		}
		seen[t] = true
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			switch {
			case name == "-":
				continue
			case name != "":
				set[name] = true
			case !f.Anonymous:
				continue // untagged and not embedded: the decoder does not fill it
			}
			walk(f.Type)
		}
	}
	walk(t)
	return slices.Sorted(maps.Keys(set))
}

// suggest is the hint added to "unknown key" for k: the nearest known key, within two
// edits.
func suggest(k string) string { return hint(k, known()) }

// suggestIn is suggest for a key written in the table at path (["detect", "capture"]):
// the keys of that table first, so that "interfacx" in [detect.capture] is its
// "interface" and not a device's "interfaces".
func suggestIn(path []string, k string) string {
	if h := hint(k, tableKeys(path)); h != "" {
		return h
	}
	return suggest(k)
}

func hint(k string, keys []string) string {
	best, bd := "", 3
	for _, w := range keys {
		if d := EditDistance(k, w); d < bd {
			best, bd = w, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// tableKeys lists the keys of the table at path, nil for a path the types do not have.
func tableKeys(path []string) []string {
	t := reflect.TypeFor[file]()
	for _, name := range path {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := fieldByTag(t, name)
		if !ok {
			return nil
		}
		t = f.Type
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("toml"), ","); name != "" && name != "-" {
			keys = append(keys, name)
		} else if f.Anonymous {
			keys = append(keys, tableKeysOf(f.Type)...)
		}
	}
	return keys
}

func tableKeysOf(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("toml"), ","); name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// fieldByTag finds the field of struct t (or of a struct it embeds) tagged name.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if tag == name {
			return f, true
		}
		if tag == "" && f.Anonymous {
			if g, ok := fieldByTag(f.Type, name); ok {
				return g, true
			}
		}
	}
	return reflect.StructField{}, false
}

// EditDistance is the Levenshtein distance between a and b, for "did you mean" hints
// on misspelt keys (here and in MRTG configurations).
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
