package remotewrite

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestEncodeDecode(t *testing.T) {
	at := time.UnixMilli(1764400000123)
	batch := []Series{
		{Labels: []Label{{"device", "core1"}, {"__name__", "mrtgo_interface_bits_per_second"}, {"direction", "in"}},
			Samples: []Sample{{at, 1.5e9}, {at.Add(5 * time.Minute), 0}}},
		{Labels: []Label{{"__name__", "x"}}, Samples: []Sample{{at, math.Inf(1)}, {at, -2.25}}},
	}
	got, err := Decode(Encode(nil, batch))
	if err != nil {
		t.Fatal(err)
	}
	want := []Series{
		// Labels come back sorted by name; __name__ sorts first.
		{Labels: []Label{{"__name__", "mrtgo_interface_bits_per_second"}, {"device", "core1"}, {"direction", "in"}},
			Samples: batch[0].Samples},
		batch[1],
	}
	for i := range want {
		for j := range want[i].Samples {
			if !got[i].Samples[j].Time.Equal(want[i].Samples[j].Time) {
				t.Errorf("series %d sample %d: time %v, want %v", i, j, got[i].Samples[j].Time, want[i].Samples[j].Time)
			}
			got[i].Samples[j].Time = want[i].Samples[j].Time
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode(Encode(batch)) =\n%+v\nwant\n%+v", got, want)
	}
	if batch[0].Labels[0].Name != "device" {
		t.Error("Encode reordered the caller's labels")
	}
	if _, err := Decode([]byte{0x0a, 0x05, 0x01}); err == nil {
		t.Error("a truncated request decodes")
	}
}

func BenchmarkEncode(b *testing.B) {
	batch := steps(1000, 1, time.Unix(1764400000, 0))
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = Encode(buf[:0], batch)
	}
	b.ReportMetric(float64(len(buf))/float64(Samples(batch)), "B/sample")
}
