package remotewrite

import (
	"fmt"
	"math"
	"slices"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// Remote-write 2.0 (prometheus/prometheus prompb/io/prometheus/write/v2/types.proto,
// and the specification at prometheus.io/docs/specs/remote_write_spec_2_0, 2.0-rc.4):
//
//	message Request    { repeated string symbols = 4; repeated TimeSeries timeseries = 5; } // 1 to 3 reserved: a v1 WriteRequest read as v2 is empty, and the other way round
//	message TimeSeries { repeated uint32 labels_refs = 1; repeated Sample samples = 2; Metadata metadata = 5; ... }
//	message Sample     { double value = 1; int64 timestamp = 2; }
//	message Metadata   { MetricType type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; } // METRIC_TYPE_GAUGE = 2
//
// Every string (label names and values, help, unit) is sent once, in symbols, and
// referred to by its index there; symbols must begin with the empty string, so that a
// reference of 0 (an optional help or unit not set) is "". labels_refs is a list of
// (name, value) pairs of references, sorted by label name. A request is sent with
// "Content-Type: application/x-protobuf;proto=io.prometheus.write.v2.Request" and
// "X-Prometheus-Remote-Write-Version: 2.0.0", snappy-compressed as v1's.
const (
	fieldV2Symbols    protowire.Number = 4 // Request.symbols
	fieldV2Timeseries protowire.Number = 5 // Request.timeseries
	fieldV2LabelRefs  protowire.Number = 1 // TimeSeries.labels_refs (packed uint32)
	fieldV2Samples    protowire.Number = 2 // TimeSeries.samples
	fieldV2Metadata   protowire.Number = 5 // TimeSeries.metadata
	fieldV2MetaType   protowire.Number = 1 // Metadata.type
	metricTypeGauge                    = 2 // Metadata.MetricType METRIC_TYPE_GAUGE: every series mrtgo sends is a rate
)

// ContentTypeV2 is the Content-Type of a remote-write 2.0 request.
const ContentTypeV2 = "application/x-protobuf;proto=io.prometheus.write.v2.Request"

// EncodeV2 appends the remote-write 2.0 Request of batch to dst, uncompressed: its
// symbols table (the empty string first, then each label name and value once, in the
// order met) and its series, each with its labels as references sorted by name, its
// samples in the order given and its metadata (a gauge). Encode does not change batch.
func EncodeV2(dst []byte, batch []Series) []byte {
	symbols := []string{""}
	index := map[string]uint32{"": 0}
	ref := func(s string) uint32 {
		if i, ok := index[s]; ok {
			return i
		}
		i := uint32(len(symbols))
		symbols = append(symbols, s)
		index[s] = i
		return i
	}
	// Every series' label refs in one slice: series i's are refs[at[i]:at[i+1]].
	var refs []uint32
	at := make([]int, 1, len(batch)+1)
	var labels []Label
	for _, s := range batch {
		labels = append(labels[:0], s.Labels...)
		if !slices.IsSortedFunc(labels, compareLabels) {
			slices.SortFunc(labels, compareLabels)
		}
		for _, l := range labels {
			refs = append(refs, ref(l.Name), ref(l.Value))
		}
		at = append(at, len(refs))
	}
	for _, s := range symbols {
		dst = protowire.AppendTag(dst, fieldV2Symbols, protowire.BytesType)
		dst = protowire.AppendString(dst, s)
	}
	meta := protowire.SizeTag(fieldV2MetaType) + protowire.SizeVarint(metricTypeGauge)
	for i, s := range batch {
		own := refs[at[i]:at[i+1]]
		packed := 0
		for _, r := range own {
			packed += protowire.SizeVarint(uint64(r))
		}
		size := protowire.SizeTag(fieldV2LabelRefs) + protowire.SizeBytes(packed)
		for _, p := range s.Samples {
			size += protowire.SizeTag(fieldV2Samples) + protowire.SizeBytes(sampleSize(p))
		}
		size += protowire.SizeTag(fieldV2Metadata) + protowire.SizeBytes(meta)
		dst = protowire.AppendTag(dst, fieldV2Timeseries, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(size))
		dst = protowire.AppendTag(dst, fieldV2LabelRefs, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(packed))
		for _, r := range own {
			dst = protowire.AppendVarint(dst, uint64(r))
		}
		for _, p := range s.Samples { // Sample's fields are numbered as v1's
			dst = protowire.AppendTag(dst, fieldV2Samples, protowire.BytesType)
			dst = protowire.AppendVarint(dst, uint64(sampleSize(p)))
			dst = protowire.AppendTag(dst, fieldSampleValue, protowire.Fixed64Type)
			dst = protowire.AppendFixed64(dst, math.Float64bits(p.Value))
			dst = protowire.AppendTag(dst, fieldSampleTime, protowire.VarintType)
			dst = protowire.AppendVarint(dst, uint64(p.Time.UnixMilli()))
		}
		dst = protowire.AppendTag(dst, fieldV2Metadata, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(meta))
		dst = protowire.AppendTag(dst, fieldV2MetaType, protowire.VarintType)
		dst = protowire.AppendVarint(dst, metricTypeGauge)
	}
	return dst
}

// v2Body turns a queued record's body (a snappy-compressed v1 WriteRequest) into a
// snappy-compressed v2 Request of the same series: the queue keeps v1, whichever
// version is sent, so that a queue outlives a change of protocol or receiver.
func v2Body(v1 []byte) ([]byte, error) {
	raw, err := snappy.Decode(nil, v1)
	if err != nil {
		return nil, fmt.Errorf("queued record: %w", err)
	}
	batch, err := Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("queued record: %w", err)
	}
	return snappy.Encode(nil, EncodeV2(raw[:0], batch)), nil
}
