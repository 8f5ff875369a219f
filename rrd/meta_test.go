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
