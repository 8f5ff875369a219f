package series

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/rrd"
)

func Example() {
	name := Name("core1", "ge-0/0/1")
	device, iface, ok := Split(name)
	fmt.Println(name, device, iface, ok)
	// Output: core1/ge-0/0/1 core1 ge-0/0/1 true
}

func TestSplit(t *testing.T) {
	for _, tt := range []struct{ device, iface string }{
		{"core1", "ge-0/0/1"}, {"r", "/"}, {"sw-1.example", ""}, {"a", "x//y"},
	} {
		d, i, ok := Split(Name(tt.device, tt.iface))
		if !ok || d != tt.device || i != tt.iface {
			t.Errorf("Split(Name(%q, %q)) = %q, %q, %v", tt.device, tt.iface, d, i, ok)
		}
		if got := AppendName([]byte("x"), tt.device, tt.iface); string(got) != "x"+Name(tt.device, tt.iface) {
			t.Errorf("AppendName(x, %q, %q) = %q, want x%q", tt.device, tt.iface, got, Name(tt.device, tt.iface))
		}
	}
	if _, _, ok := Split("no-slash"); ok {
		t.Error("Split of a name without a slash is ok")
	}
}

// Facts put by an import are read back, never overwrite facts already stored, and a
// record that does not decode is an error naming the series.
func TestInterfaceFacts(t *testing.T) {
	db, err := rrd.Open(filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, b := Name("r1", "ge-0/0/0"), Name("r1", "ge-0/0/1")
	if info, err := Interface(db, a); err != nil || info != (Info{}) {
		t.Fatalf("facts of a series never stored = %+v, %v; want zero, no error", info, err)
	}
	first := Info{Index: 3, Descr: "uplink", Speed: 1e9, Bits: 64}
	if err := PutInterfaces(db, map[string]Info{a: first}); err != nil {
		t.Fatal(err)
	}
	if err := PutInterfaces(db, map[string]Info{a: {Index: 9, Speed: 1e6, Bits: 32}, b: {Index: 4, Bits: 32}}); err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]Info{a: first, b: {Index: 4, Bits: 32}} {
		if got, err := Interface(db, s); err != nil || got != want {
			t.Errorf("facts of %s = %+v, %v; want %+v", s, got, err, want)
		}
	}
	if err := db.PutMeta(map[string][]byte{InfoKey(b): []byte("[")}); err != nil {
		t.Fatal(err)
	}
	if _, err := Interface(db, b); err == nil || !strings.Contains(err.Error(), "decode facts of r1/ge-0/0/1") {
		t.Errorf("facts that do not decode: %v, want an error naming the series", err)
	}
}

func TestSpec(t *testing.T) {
	s := Spec(5*time.Minute, 1e9, 64)
	if s.Heartbeat != 10*time.Minute || len(s.DS) != 2 || s.DS[0].Max != 1e9/8 || s.DS[1].Bits != 64 || len(s.Archives) != 8 {
		t.Errorf("Spec = %+v", s)
	}
	// Daily: 31 days of 5-minute rows; weekly: MRTG's 800 rows of 30 minutes.
	if got := s.Archives[0].Rows; got != 31*288 {
		t.Errorf("daily rows %d, want %d", got, 31*288)
	}
	if got := s.Archives[2].Rows; got != 800 {
		t.Errorf("weekly rows %d, want 800", got)
	}
}

func TestKindName(t *testing.T) {
	for _, tt := range []struct{ device, kind, name string }{
		{"core1", KindOctets, "xe-0/0/1"},
		{"core1", KindPackets, "xe-0/0/1"},
		{"core1", KindErrors, "ge-0/0/0"},
		{"core1", KindTarget, "cpu"},
		{"", KindAggregate, "customer-a"},
	} {
		n := KindName(tt.device, tt.kind, tt.name)
		d, k, name, ok := Parse(n)
		if !ok || d != tt.device || k != tt.kind || name != tt.name {
			t.Errorf("Parse(KindName(%q, %q, %q)) = %q, %q, %q, %v", tt.device, tt.kind, tt.name, d, k, name, ok)
		}
		_, _, isIface := Split(n)
		if isIface != (tt.kind == KindOctets) {
			t.Errorf("Split(%q) ok = %v, want %v", n, isIface, tt.kind == KindOctets)
		}
	}
	if KindName("core1", KindPackets, "x") == Name("core1", "x") {
		t.Error("a packets series has the octets series' name")
	}
}
