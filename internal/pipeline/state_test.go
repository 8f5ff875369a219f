package pipeline

import (
	"math"
	"reflect"
	"testing"

	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/web"
)

func sampleDrawn() drawnGraphs {
	return drawnGraphs{
		graphKey("core1/ge-0/0/0", render.Day): {Clock: 1764400000, Data: 1764399900, Inputs: math.MaxUint64,
			In:  web.Stats{Max: 1.5e9, Average: 2.5e8, Current: math.NaN(), P95: 9e8, Total: 1e12},
			Out: web.Stats{Max: math.Inf(1), Average: -0.5}, P95Basis: "5-minute averages"},
		graphKey("édge/πort", render.Year):  {Clock: -1, Data: 0},
		graphKey("édge/πort", render.Month): {Clock: 7, Data: 5, Pending: true},
	}
}

// The render state reads back as written, NaN and infinities included.
func TestDrawnStateRoundTrip(t *testing.T) {
	for _, d := range []drawnGraphs{{}, sampleDrawn()} {
		got, err := decodeDrawn(d.encode())
		if err != nil {
			t.Fatal(err)
		}
		// NaN != NaN: compare the encodings, which hold the bits.
		if len(got) != len(d) || !reflect.DeepEqual(got.encodeSorted(), d.encodeSorted()) {
			t.Errorf("read back %+v, want %+v", got, d)
		}
	}
	b := sampleDrawn().encode()
	for _, bad := range [][]byte{nil, []byte("mrtgo-graphs"), b[:len(b)-1], append(append([]byte{}, b...), 0),
		append([]byte("mrtgo-graphs\x02"), b[len(stateMagic)+1:]...)} {
		if _, err := decodeDrawn(bad); err == nil {
			t.Errorf("decodeDrawn(%q) took a damaged or older file", bad)
		}
	}
}

// encodeSorted is encode with the graphs in a fixed order, for comparisons.
func (d drawnGraphs) encodeSorted() map[graphID][]byte {
	out := map[graphID][]byte{}
	for id, g := range d {
		out[id] = drawnGraphs{id: g}.encode()
	}
	return out
}

// Whatever the state file holds, reading it never panics, and what it accepts
// reads back the same after writing.
func FuzzDecodeDrawn(f *testing.F) {
	f.Add(sampleDrawn().encode())
	f.Add(drawnGraphs{}.encode())
	f.Add([]byte("mrtgo-graphs\x04\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeDrawn(b)
		if err != nil {
			return
		}
		again, err := decodeDrawn(d.encode())
		if err != nil {
			t.Fatalf("re-encoded state refused: %v", err)
		}
		if !reflect.DeepEqual(again.encodeSorted(), d.encodeSorted()) {
			t.Fatal("state changed through encode")
		}
	})
}
