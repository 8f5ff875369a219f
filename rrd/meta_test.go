package rrd

import (
	"errors"
	"testing"
)

// UpdateMeta commits the updates that apply and the facts together; an update that
// cannot apply is reported and skipped, and the facts are kept all the same.
func TestUpdateMeta(t *testing.T) {
	db := openTest(t)
	if err := db.Create("s", oneDSSpec(DS{Name: "in", Type: Gauge, Min: 0, Max: 100}), at(t0)); err != nil {
		t.Fatal(err)
	}
	err := db.UpdateMeta([]Update{
		{Series: "s", Time: at(t0 + 10), Values: []Value{Float(5)}},
		{Series: "nope", Time: at(t0 + 10), Values: []Value{Float(5)}},
		{Series: "s", Time: at(t0 + 20), Values: []Value{Float(7)}},
	}, map[string][]byte{"dev/health": []byte("ok"), "gone": nil})
	if !errors.Is(err, ErrNoSeries) {
		t.Errorf("err %v, want the skipped update reported", err)
	}
	if got := pdps(t, db, "s", 0, t0+20, t0+20)[t0+20]; got != 7 {
		t.Errorf("rate %v, want 7", got)
	}
	if v, err := db.Meta("dev/health"); err != nil || string(v) != "ok" {
		t.Errorf("meta %q, %v; want \"ok\"", v, err)
	}
	// Facts alone, and a deletion.
	if err := db.UpdateMeta(nil, map[string][]byte{"dev/health": nil}); err != nil {
		t.Fatal(err)
	}
	if v, _ := db.Meta("dev/health"); v != nil {
		t.Errorf("meta %q after deleting it", v)
	}
	if err := db.UpdateMeta([]Update{{Series: "s", Time: at(t0 + 30), Values: []Value{Float(9)}}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := pdps(t, db, "s", 0, t0+30, t0+30)[t0+30]; got != 9 {
		t.Errorf("rate %v after an update without facts, want 9", got)
	}
}

// MetaPrefix returns every value under the prefix and nothing else, each a copy of its
// own: a caller may append to one without changing another, or the store.
func TestMetaPrefix(t *testing.T) {
	db := openTest(t)
	if err := db.PutMeta(map[string][]byte{"if:a/1": []byte("one"), "if:a/2": []byte("two"),
		"if:b/3": []byte(""), "if;": []byte("after"), "i": []byte("before")}); err != nil {
		t.Fatal(err)
	}
	got, err := db.MetaPrefix("if:")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"if:a/1": "one", "if:a/2": "two", "if:b/3": ""}
	if len(got) != len(want) {
		t.Errorf("MetaPrefix(\"if:\") = %q, want %q", got, want)
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("MetaPrefix(\"if:\")[%q] = %q, want %q", k, got[k], v)
		}
	}
	if v, ok := got["if:b/3"]; !ok || v != nil {
		t.Errorf("empty value %#v, %v; want nil, as Meta gives an empty one", v, ok)
	}
	_ = append(got["if:a/1"], "XXX"...)
	if string(got["if:a/2"]) != "two" {
		t.Errorf("appending to one value changed the next: %q", got["if:a/2"])
	}
	if v, _ := db.Meta("if:a/1"); string(v) != "one" {
		t.Errorf("stored value %q after appending to the copy, want \"one\"", v)
	}
	if got, err := db.MetaPrefix("none:"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("MetaPrefix of no key = %#v, %v; want an empty map", got, err)
	}
}
