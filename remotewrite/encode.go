// Package remotewrite sends samples to a Prometheus-compatible engine (Prometheus,
// VictoriaMetrics, Grafana Mimir, Thanos Receive, Cortex) with the remote-write
// protocol, version 1: a snappy-compressed protobuf WriteRequest in an HTTP POST, or
// version 2 (a Request with a symbols table) where the receiver takes it.
//
// Samples go through a queue on disk (Queue) before they are sent, so that nothing is
// lost while the receiver is down or the process restarts: a Writer sends the queue's
// records one at a time, oldest first, and forgets a record only when the receiver
// took it. A cron run puts its step in the queue and sends what it can before its
// deadline; the daemon sends as the queue fills. Both keep the order of the steps.
//
// The files: encode.go (the WriteRequest), encodev2.go (v2's Request), queue.go (the
// queue), write.go (the sender).
package remotewrite

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Label is a label of a series; the metric name is the label "__name__".
type Label struct {
	Name, Value string
}

// Sample is one value of a series at a time, sent with millisecond precision.
type Sample struct {
	Time  time.Time
	Value float64
}

// Series is one series' labels and the samples sent of it.
type Series struct {
	Labels  []Label
	Samples []Sample
}

// Samples counts the samples of a batch.
func Samples(batch []Series) int {
	n := 0
	for _, s := range batch {
		n += len(s.Samples)
	}
	return n
}

// Field numbers of prometheus/prompb's remote.proto and types.proto.
const (
	fieldTimeseries  protowire.Number = 1 // WriteRequest.timeseries
	fieldLabels      protowire.Number = 1 // TimeSeries.labels
	fieldSamples     protowire.Number = 2 // TimeSeries.samples
	fieldLabelName   protowire.Number = 1 // Label.name
	fieldLabelValue  protowire.Number = 2 // Label.value
	fieldSampleValue protowire.Number = 1 // Sample.value (double)
	fieldSampleTime  protowire.Number = 2 // Sample.timestamp (int64, ms)
)

// Encode appends the WriteRequest of batch to dst, uncompressed. Labels are written
// sorted by name, as the protocol requires; a series' samples in the order given
// (oldest first is the caller's part). Encode does not change batch. Each message's
// size is worked out before it is written, so that nothing is written twice.
func Encode(dst []byte, batch []Series) []byte {
	var labels []Label
	for _, s := range batch {
		labels = append(labels[:0], s.Labels...)
		if !slices.IsSortedFunc(labels, compareLabels) {
			slices.SortFunc(labels, compareLabels)
		}
		size := 0
		for _, l := range labels {
			n := labelSize(l)
			size += protowire.SizeTag(fieldLabels) + protowire.SizeBytes(n)
		}
		for _, p := range s.Samples {
			n := sampleSize(p)
			size += protowire.SizeTag(fieldSamples) + protowire.SizeBytes(n)
		}
		dst = protowire.AppendTag(dst, fieldTimeseries, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(size))
		for _, l := range labels {
			dst = protowire.AppendTag(dst, fieldLabels, protowire.BytesType)
			dst = protowire.AppendVarint(dst, uint64(labelSize(l)))
			dst = protowire.AppendTag(dst, fieldLabelName, protowire.BytesType)
			dst = protowire.AppendString(dst, l.Name)
			dst = protowire.AppendTag(dst, fieldLabelValue, protowire.BytesType)
			dst = protowire.AppendString(dst, l.Value)
		}
		for _, p := range s.Samples {
			dst = protowire.AppendTag(dst, fieldSamples, protowire.BytesType)
			dst = protowire.AppendVarint(dst, uint64(sampleSize(p)))
			dst = protowire.AppendTag(dst, fieldSampleValue, protowire.Fixed64Type)
			dst = protowire.AppendFixed64(dst, math.Float64bits(p.Value))
			dst = protowire.AppendTag(dst, fieldSampleTime, protowire.VarintType)
			dst = protowire.AppendVarint(dst, uint64(p.Time.UnixMilli()))
		}
	}
	return dst
}

func compareLabels(a, b Label) int { return strings.Compare(a.Name, b.Name) }

func labelSize(l Label) int {
	return protowire.SizeTag(fieldLabelName) + protowire.SizeBytes(len(l.Name)) +
		protowire.SizeTag(fieldLabelValue) + protowire.SizeBytes(len(l.Value))
}

func sampleSize(p Sample) int {
	return protowire.SizeTag(fieldSampleValue) + protowire.SizeFixed64() +
		protowire.SizeTag(fieldSampleTime) + protowire.SizeVarint(uint64(p.Time.UnixMilli()))
}

// Decode reads a WriteRequest written by Encode (or any remote-write v1 sender),
// skipping the fields it does not know: metadata, exemplars, histograms.
func Decode(b []byte) ([]Series, error) {
	var out []Series
	err := fields(b, func(num protowire.Number, v []byte) error {
		if num != fieldTimeseries {
			return nil
		}
		var s Series
		err := fields(v, func(num protowire.Number, v []byte) error {
			switch num {
			case fieldLabels:
				var l Label
				err := fields(v, func(num protowire.Number, v []byte) error {
					switch num {
					case fieldLabelName:
						l.Name = string(v)
					case fieldLabelValue:
						l.Value = string(v)
					}
					return nil
				})
				s.Labels = append(s.Labels, l)
				return err
			case fieldSamples:
				p, err := decodeSample(v)
				s.Samples = append(s.Samples, p)
				return err
			}
			return nil
		})
		out = append(out, s)
		return err
	})
	return out, err
}

// fields calls fn with the number and bytes of each length-delimited field of msg and
// checks the others' encoding.
func fields(msg []byte, fn func(protowire.Number, []byte) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return fmt.Errorf("bad tag: %w", protowire.ParseError(n))
		}
		msg = msg[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, msg)
			if n < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
			}
			msg = msg[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(msg)
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		msg = msg[n:]
		if err := fn(num, v); err != nil {
			return err
		}
	}
	return nil
}

func decodeSample(b []byte) (Sample, error) {
	var p Sample
	var ms int64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return p, fmt.Errorf("sample: bad tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == fieldSampleValue && typ == protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				return p, fmt.Errorf("sample value: %w", protowire.ParseError(n))
			}
			p.Value, b = math.Float64frombits(v), b[n:]
		case num == fieldSampleTime && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return p, fmt.Errorf("sample timestamp: %w", protowire.ParseError(n))
			}
			ms, b = int64(v), b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return p, fmt.Errorf("sample field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	p.Time = time.UnixMilli(ms)
	return p, nil
}
