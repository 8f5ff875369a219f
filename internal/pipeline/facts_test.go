package pipeline

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
)

// appendInfo must write exactly what json.Marshal writes: the stored facts are compared
// byte for byte, and a different encoding would rewrite every interface's facts.
func TestAppendInfoIsJSON(t *testing.T) {
	for _, info := range []series.Info{
		{},
		{Index: 3, Descr: "v0a", Speed: 10e9, Bits: 64, Admin: 1, Oper: 1},
		{Index: 1, Descr: "lo", Alias: "loopback", Speed: 10e6, Bits: 32},
		{Index: -1, Speed: 0, Bits: 0, Admin: 2, Oper: 7},
		{Index: 7, Descr: "ge-0/0/1", Alias: "to core <a&b>", Speed: 1e9, Bits: 64},
		{Index: 8, Descr: `quote " and \ backslash`, Speed: 1, Bits: 64},
		{Index: 9, Descr: "tab\tand\nnewline", Speed: 2},
		{Index: 10, Descr: "Ünïcode", Alias: "\u2028", Speed: 3},
		{Index: 11, Descr: "bad \xff utf-8", Speed: 4},
		{Index: 12, Descr: "del \x7f", Speed: 5},
		{Index: 13, Speed: float64(math.MaxUint64), Bits: 64},
		{Index: 14, Speed: 1e21},
		{Index: 15, Speed: 1.5},
		{Index: 16, Speed: -8},
		{Index: 17, Speed: 1e-7},
		{Index: 18, Speed: 123456789012345678},
		{Index: 19, Descr: "gone", Speed: 1e9, Gone: time.Date(2026, 3, 29, 1, 30, 0, 5, time.UTC)},
	} {
		want, err := json.Marshal(info)
		if err != nil {
			t.Fatalf("json.Marshal(%+v): %v", info, err)
		}
		if got := appendInfo([]byte("prefix"), info); string(got) != "prefix"+string(want) {
			t.Errorf("appendInfo(%+v) = %s, want prefix%s", info, got, want)
		}
	}
}

func FuzzAppendInfo(f *testing.F) {
	f.Add(3, "v0a", "", uint64(10e9), 64, 1, 1)
	f.Add(-5, "a<b>&\"c\\", "\u2029\x00", uint64(math.MaxUint64), 32, 2, 0)
	f.Fuzz(func(t *testing.T, index int, descr, alias string, speed uint64, bits, admin, oper int) {
		info := series.Info{Index: index, Descr: descr, Alias: alias, Speed: float64(speed), Bits: bits, Admin: admin, Oper: oper}
		want, err := json.Marshal(info)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendInfo(nil, info); string(got) != string(want) {
			t.Errorf("appendInfo(%+v) = %s, want %s", info, got, want)
		}
	})
}
