package remotewrite

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
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

// BenchmarkEncode encodes a request of 1,000 series of mrtgo's labels, one sample each
// (a step of 500 interfaces) in v1 and v2, and reports its size per sample as it goes
// on the wire, snappy-compressed.
func BenchmarkEncode(b *testing.B) {
	batch := make([]Series, 1000)
	at := time.Unix(1764400000, 0)
	for i := range batch {
		batch[i] = Series{Labels: []Label{{"__name__", "mrtgo_interface_bits_per_second"}, {"device", fmt.Sprintf("core%d", i/100)},
			{"interface", fmt.Sprintf("xe-0/0/%d", i/2%50)}, {"direction", []string{"in", "out"}[i%2]},
			{"description", fmt.Sprintf("uplink to access switch %d", i/2%50)}, {"site", "ams"}},
			Samples: []Sample{{at, float64(i) * 12345.678}}}
	}
	for _, enc := range []struct {
		name string
		f    func([]byte, []Series) []byte
	}{{"v1", Encode}, {"v2", EncodeV2}} {
		b.Run(enc.name, func(b *testing.B) {
			var buf, z []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = enc.f(buf[:0], batch)
				z = snappy.Encode(z[:cap(z)], buf)
			}
			b.ReportMetric(float64(len(buf))/float64(Samples(batch)), "B/sample")
			b.ReportMetric(float64(len(z))/float64(Samples(batch)), "snappyB/sample")
		})
	}
}
