package rrd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The catalog reader's shortcut reads exactly what encoding/json writes for a series,
// and leaves every other shape to encoding/json.
func TestSplitStoredSeries(t *testing.T) {
	spec := Spec{Step: 5 * time.Minute, Heartbeat: 10 * time.Minute,
		DS:       []DS{{Name: "in", Type: Counter, Bits: 64, Min: 0, Max: 1.25e8}, {Name: "out", Type: Counter, Bits: 32, Min: math.NaN(), Max: math.NaN()}},
		Archives: []Archive{{Average, 1, 8928, 0.5}, {Max, 288, 800, 0.5}}}
	for _, st := range []storedSeries{{Group: 0, Col: 0, Spec: toStored(spec)}, {Group: 4294967295, Col: 123456, Spec: toStored(spec)}} {
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		raw, ok := splitStoredSeries(b)
		if !ok {
			t.Fatalf("%s: not read", b)
		}
		var want rawSeries
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(raw, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", b, raw, want)
		}
	}
	for _, b := range []string{
		`{"Col":1,"Group":2,"Spec":{}}`,
		`{"Group":1,"Col":2,"Spec":{}} `,
		`{"Group":99999999999,"Col":2,"Spec":{}}`,
		`{"Group":,"Col":2,"Spec":{}}`,
		`{"Group":1, "Col":2,"Spec":{}}`,
		`{"Group":1,"Col":2,"Spec":[]}`,
	} {
		if raw, ok := splitStoredSeries([]byte(b)); ok {
			t.Errorf("%s read as %+v; want it left to encoding/json", b, raw)
		}
	}
}

// Opening a store that is already made writes nothing (no commit, no fdatasync: a cron
// poll opens it every run), and a store of another format version is refused.
func TestOpenMadeStoreWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("opening a made store changed the file")
	}

	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte("version"), []byte("0")) })
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if db, err := Open(path, nil); err == nil || !strings.Contains(err.Error(), `format version "0"`) {
		if db != nil {
			db.Close()
		}
		t.Errorf("open of another format version: %v, want an error naming it", err)
	}
}

// A background open answers Meta at once and everything else once the catalog is
// read; a catalog that cannot be read fails those calls as Open would have.
func TestOpenBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Step: time.Minute, Heartbeat: 2 * time.Minute, DS: []DS{{Name: "in", Type: Gauge, Min: math.NaN(), Max: math.NaN()}},
		Archives: []Archive{{Average, 1, 10, 0.5}}}
	if err := db.CreateBatch([]string{"a", "b"}, spec, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutMeta(map[string][]byte{"k": []byte("v")}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path, &Options{Background: true})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.Meta("k"); err != nil || string(v) != "v" {
		t.Errorf("Meta = %q, %v", v, err)
	}
	if names, err := db.Series(); err != nil || !reflect.DeepEqual(names, []string{"a", "b"}) {
		t.Errorf("Series = %v, %v", names, err)
	}
	db.Close()

	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSeries).Put([]byte("c"), []byte("{garbage")) })
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, nil); err == nil || !strings.Contains(err.Error(), "load catalog") {
		t.Errorf("Open of a damaged catalog: %v, want a load catalog error", err)
	}
	db, err = Open(path, &Options{Background: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.Meta("k"); err != nil || string(v) != "v" {
		t.Errorf("Meta of a store with a damaged catalog = %q, %v", v, err)
	}
	if _, err := db.Series(); err == nil || !strings.Contains(err.Error(), "load catalog") {
		t.Errorf("Series: %v, want a load catalog error", err)
	}
	if err := db.Update([]Update{{Series: "a", Time: time.Unix(60, 0), Values: []Value{Float(1)}}}); err == nil {
		t.Error("Update on a damaged catalog succeeded")
	}
}

// A reopened store's series share blocks of memory for their catalog entries, their
// data sources and archive maps: each must still be its own, of every shape, more
// series than the groups' columns promised included, and a change to one leaves the
// others as they were.
func TestCatalogEntriesAreTheirOwn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	two := Spec{Step: 10 * time.Second, Heartbeat: 20 * time.Second,
		DS:       []DS{{Name: "in", Type: Counter, Min: 0, Max: 100, Bits: 64}, {Name: "out", Type: Counter, Min: 0, Max: 100, Bits: 64}},
		Archives: []Archive{{CF: Average, Steps: 1, Rows: 100, XFF: 0.5}, {CF: Max, Steps: 3, Rows: 50, XFF: 0.5}, {CF: Average, Steps: 6, Rows: 20, XFF: 0.5}}}
	one := oneDSSpec(DS{Name: "g", Type: Gauge, Min: 0, Max: 5, Bits: 64})
	one.Heartbeat = 20 * time.Second
	want := map[string]Spec{}
	for i := range 40 {
		name, spec := fmt.Sprintf("s%02d", i), two
		if i%3 == 1 {
			spec = one // another shape, another group, interleaved
		}
		spec.DS = slices.Clone(spec.DS)
		spec.DS[0].Max = float64(100 + i)
		if err := db.Create(name, spec, at(t0)); err != nil {
			t.Fatal(err)
		}
		want[name] = spec
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(path, nil); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.SetMax("s05", 0, 7); err != nil {
		t.Fatal(err)
	}
	if err := db.SetBits("s06", 1, 32); err != nil {
		t.Fatal(err)
	}
	want["s05"].DS[0].Max = 7
	want["s06"].DS[1].Bits = 32
	for name, w := range want {
		got, err := db.Spec(name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.DS, w.DS) || !reflect.DeepEqual(got.Archives, w.Archives) || got.Step != w.Step || got.Heartbeat != w.Heartbeat {
			t.Errorf("%s: spec %+v, want %+v", name, got, w)
		}
	}
	// Both shapes update through their archive maps.
	if err := db.Update([]Update{{Series: "s00", Time: at(t0 + 10), Values: []Value{Uint(0), Uint(0)}},
		{Series: "s01", Time: at(t0 + 10), Values: []Value{Float(3)}}}); err != nil {
		t.Fatal(err)
	}
	if got := pdps(t, db, "s01", 0, t0+10, t0+10)[t0+10]; got != 3 {
		t.Errorf("s01 rate %v, want 3", got)
	}
}
