package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// v2Series is a series as a v2 request carries it, its references resolved.
type v2Series struct {
	labels   []Label
	samples  []Sample
	metaType uint64
}

// decodeV2 reads an io.prometheus.write.v2.Request as the specification writes it
// (Request: symbols 4, timeseries 5; TimeSeries: labels_refs 1, samples 2,
// histograms 3, exemplars 4, metadata 5, created_timestamp 6; Sample: value 1 (double),
// timestamp 2; Metadata: type 1, help_ref 3, unit_ref 4), independently of the
// encoder: field by field with protowire, rejecting what the specification forbids
// (a symbols table not starting with "", label refs not in pairs or out of range,
// labels not sorted by name).
func decodeV2(b []byte) ([]v2Series, error) {
	var symbols []string
	var raw [][]byte // timeseries, resolved once the symbols are all read
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num >= 1 && num <= 3 {
			return nil, fmt.Errorf("field %d is reserved in v2 (a v1 WriteRequest?)", num)
		}
		if typ != protowire.BytesType {
			return nil, fmt.Errorf("field %d: wire type %d", num, typ)
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		switch num {
		case 4:
			symbols = append(symbols, string(v))
		case 5:
			raw = append(raw, v)
		}
	}
	if len(symbols) == 0 || symbols[0] != "" {
		return nil, fmt.Errorf("symbols %q do not start with the empty string", symbols)
	}
	var out []v2Series
	for _, ts := range raw {
		var s v2Series
		var refs []uint64
		for len(ts) > 0 {
			num, typ, n := protowire.ConsumeTag(ts)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			ts = ts[n:]
			switch {
			case num == 1 && typ == protowire.BytesType: // packed
				v, n := protowire.ConsumeBytes(ts)
				if n < 0 {
					return nil, protowire.ParseError(n)
				}
				ts = ts[n:]
				for len(v) > 0 {
					r, n := protowire.ConsumeVarint(v)
					if n < 0 {
						return nil, protowire.ParseError(n)
					}
					refs, v = append(refs, r), v[n:]
				}
			case num == 1 && typ == protowire.VarintType: // not packed
				r, n := protowire.ConsumeVarint(ts)
				if n < 0 {
					return nil, protowire.ParseError(n)
				}
				refs, ts = append(refs, r), ts[n:]
			case num == 2 && typ == protowire.BytesType:
				v, n := protowire.ConsumeBytes(ts)
				if n < 0 {
					return nil, protowire.ParseError(n)
				}
				ts = ts[n:]
				var p Sample
				for len(v) > 0 {
					num, typ, n := protowire.ConsumeTag(v)
					if n < 0 {
						return nil, protowire.ParseError(n)
					}
					v = v[n:]
					switch {
					case num == 1 && typ == protowire.Fixed64Type:
						x, n := protowire.ConsumeFixed64(v)
						if n < 0 {
							return nil, protowire.ParseError(n)
						}
						p.Value, v = math.Float64frombits(x), v[n:]
					case num == 2 && typ == protowire.VarintType:
						x, n := protowire.ConsumeVarint(v)
						if n < 0 {
							return nil, protowire.ParseError(n)
						}
						p.Time, v = time.UnixMilli(int64(x)), v[n:]
					default:
						return nil, fmt.Errorf("sample field %d, wire type %d", num, typ)
					}
				}
				s.samples = append(s.samples, p)
			case num == 5 && typ == protowire.BytesType:
				v, n := protowire.ConsumeBytes(ts)
				if n < 0 {
					return nil, protowire.ParseError(n)
				}
				ts = ts[n:]
				for len(v) > 0 {
					num, typ, n := protowire.ConsumeTag(v)
					if n < 0 || typ != protowire.VarintType {
						return nil, fmt.Errorf("metadata field %d, wire type %d", num, typ)
					}
					v = v[n:]
					x, n := protowire.ConsumeVarint(v)
					if n < 0 {
						return nil, protowire.ParseError(n)
					}
					v = v[n:]
					switch num {
					case 1:
						s.metaType = x
					case 3, 4:
						if x >= uint64(len(symbols)) {
							return nil, fmt.Errorf("metadata ref %d past the %d symbols", x, len(symbols))
						}
					}
				}
			default:
				n := protowire.ConsumeFieldValue(num, typ, ts)
				if n < 0 {
					return nil, protowire.ParseError(n)
				}
				ts = ts[n:]
			}
		}
		if len(refs)%2 != 0 {
			return nil, fmt.Errorf("%d label refs: not in pairs", len(refs))
		}
		for i := 0; i < len(refs); i += 2 {
			if refs[i] >= uint64(len(symbols)) || refs[i+1] >= uint64(len(symbols)) {
				return nil, fmt.Errorf("label refs %d, %d past the %d symbols", refs[i], refs[i+1], len(symbols))
			}
			s.labels = append(s.labels, Label{symbols[refs[i]], symbols[refs[i+1]]})
		}
		if !slices.IsSortedFunc(s.labels, func(a, b Label) int { return strings.Compare(a.Name, b.Name) }) {
			return nil, fmt.Errorf("labels %v not sorted by name", s.labels)
		}
		out = append(out, s)
	}
	return out, nil
}

// TestEncodeV2 encodes series whose labels come unsorted and share values, and reads
// them back with the decoder written from the specification.
func TestEncodeV2(t *testing.T) {
	t0 := time.UnixMilli(1764400000000)
	batch := []Series{
		{Labels: []Label{{"interface", "ge-0/0/1"}, {"__name__", "mrtgo_interface_bits_per_second"}, {"device", "core1"}, {"direction", "in"}},
			Samples: []Sample{{t0, 1.5e9}, {t0.Add(5 * time.Minute), 0}, {t0.Add(10 * time.Minute), math.Inf(1)}}},
		{Labels: []Label{{"__name__", "mrtgo_interface_bits_per_second"}, {"device", "core1"}, {"interface", "ge-0/0/1"}, {"direction", "out"}, {"description", ""}},
			Samples: []Sample{{t0, 123.25}}},
		{Labels: []Label{{"__name__", "mrtgo_target_value"}, {"device", "in"}}},
	}
	raw := EncodeV2(nil, batch)
	got, err := decodeV2(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(batch) {
		t.Fatalf("%d series, want %d", len(got), len(batch))
	}
	for i, s := range batch {
		want := slices.Clone(s.Labels)
		slices.SortFunc(want, compareLabels)
		if !slices.Equal(got[i].labels, want) {
			t.Errorf("series %d labels %v, want %v", i, got[i].labels, want)
		}
		if len(got[i].samples) != len(s.Samples) {
			t.Fatalf("series %d: %d samples, want %d", i, len(got[i].samples), len(s.Samples))
		}
		for k, p := range s.Samples {
			if g := got[i].samples[k]; !g.Time.Equal(p.Time) || g.Value != p.Value {
				t.Errorf("series %d sample %d: %v, want %v", i, k, g, p)
			}
		}
		if got[i].metaType != 2 {
			t.Errorf("series %d metadata type %d, want 2 (gauge)", i, got[i].metaType)
		}
	}
	// Each string once: "", the six names, and the values core1, ge-0/0/1, in, out
	// and the two metric names ("in" is a value of two labels; "" is in the table).
	if n := strings.Count(string(raw), "core1"); n != 1 {
		t.Errorf("core1 written %d times, want once in the symbols", n)
	}
	// A v1 reader finds no series in a v2 request, and the other way round: their
	// field numbers do not meet.
	if s, err := Decode(raw); err != nil || len(s) != 0 {
		t.Errorf("v2 read as v1: %v, %v; want nothing", s, err)
	}
	if _, err := decodeV2(Encode(nil, batch)); err == nil {
		t.Error("v1 read as v2: no error")
	}
}

// v2Receiver takes v2 requests (checked against the specification's headers and
// decoded with decodeV2), answering with the samples written, and, when v1 is set,
// v1 ones too; otherwise it answers a v1 request 415.
type v2Receiver struct {
	mu     sync.Mutex
	v1     bool
	got    []v2Series
	kinds  []string // "v1" or "v2", by request
	errors []string
}

func (f *v2Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, body)
	if err != nil || r.Header.Get("Content-Encoding") != "snappy" {
		http.Error(w, "not snappy", http.StatusBadRequest)
		return
	}
	switch ct := r.Header.Get("Content-Type"); ct {
	case "application/x-protobuf;proto=io.prometheus.write.v2.Request":
		if v := r.Header.Get("X-Prometheus-Remote-Write-Version"); v != "2.0.0" {
			f.errors = append(f.errors, "v2 request with version "+v)
		}
		s, err := decodeV2(raw)
		if err != nil {
			f.errors = append(f.errors, err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := 0
		for _, x := range s {
			n += len(x.samples)
		}
		f.got, f.kinds = append(f.got, s...), append(f.kinds, "v2")
		w.Header().Set("X-Prometheus-Remote-Write-Samples-Written", strconv.Itoa(n))
		w.WriteHeader(http.StatusNoContent)
	case "application/x-protobuf":
		if !f.v1 {
			http.Error(w, "v2 only", http.StatusUnsupportedMediaType)
			return
		}
		s, err := Decode(raw)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, x := range s {
			f.got = append(f.got, v2Series{labels: x.Labels, samples: x.Samples})
		}
		f.kinds = append(f.kinds, "v1")
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "content type "+ct, http.StatusUnsupportedMediaType)
	}
}

// v1Only takes v1 requests; a v2 body it answers as its kind does: 415 (a receiver
// that looks at the Content-Type) or 204 having written nothing (one that reads every
// body as a v1 WriteRequest, as prometheus 2.42 and victoria-metrics 1.79 do).
type v1Only struct {
	mu     sync.Mutex
	status int // to a v2 request
	got    []Series
	kinds  []string
}

func (f *v1Only) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	raw, _ := snappy.Decode(nil, body)
	if strings.Contains(r.Header.Get("Content-Type"), "v2") {
		f.kinds = append(f.kinds, "v2")
		if f.status != http.StatusNoContent {
			http.Error(w, "unsupported", f.status)
			return
		}
	} else {
		f.kinds = append(f.kinds, "v1")
	}
	s, err := Decode(raw) // a v2 body reads as an empty WriteRequest
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.got = append(f.got, s...)
	w.WriteHeader(http.StatusNoContent)
}

// putSteps puts n steps of two series into q, a record each.
func putSteps(t *testing.T, q *Queue, n int) []Series {
	t.Helper()
	t0 := time.Now().Truncate(time.Minute).Add(-time.Hour)
	var all []Series
	for i := range n {
		var batch []Series
		for s := range 2 {
			batch = append(batch, Series{
				Labels:  []Label{{"__name__", "mrtgo_interface_bits_per_second"}, {"device", "core1"}, {"direction", []string{"in", "out"}[s]}},
				Samples: []Sample{{t0.Add(time.Duration(i) * time.Minute), float64(i*1000 + s)}},
			})
		}
		if err := q.Put(batch); err != nil {
			t.Fatal(err)
		}
		all = append(all, batch...)
	}
	return all
}

// TestWriterProtocols sends the same queue with each protocol to receivers of v2, of
// v2 and v1, and of v1 only (answering a v2 request 415, or 204 having written
// nothing): every sample arrives once, in order, in the version the protocol and the
// receiver agree on, and "auto" falls back to v1 at the first answer of a receiver
// of v1 only and stays there.
func TestWriterProtocols(t *testing.T) {
	for _, tc := range []struct {
		name, protocol string
		recv           http.Handler
		kinds          func(*testing.T, []string) // requests' versions, in order
		want           string                     // Stats().Protocol after
	}{
		{"v2 to v2", "v2", &v2Receiver{}, allOf("v2"), "v2"},
		{"auto to v2 and v1", "auto", &v2Receiver{v1: true}, allOf("v2"), "v2"},
		{"v1 to v2 and v1", "v1", &v2Receiver{v1: true}, allOf("v1"), "v1"},
		{"auto to v1 only, 415", "auto", &v1Only{status: http.StatusUnsupportedMediaType}, fellBack, "v1"},
		{"auto to v1 only, 204 without a count", "auto", &v1Only{status: http.StatusNoContent}, fellBack, "v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.recv)
			defer srv.Close()
			q, err := OpenQueue(t.TempDir(), QueueOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			sent := putSteps(t, q, 5)
			warns := &countWarns{}
			w, err := NewWriter(q, Options{URL: srv.URL, Protocol: tc.protocol, MinBackoff: time.Millisecond, Log: slog.New(warns)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			var got []Series
			var kinds []string
			switch r := tc.recv.(type) {
			case *v2Receiver:
				if len(r.errors) > 0 {
					t.Errorf("the receiver found: %v", r.errors)
				}
				for _, s := range r.got {
					got = append(got, Series{Labels: s.labels, Samples: s.samples})
				}
				kinds = r.kinds
			case *v1Only:
				got, kinds = r.got, r.kinds
			}
			tc.kinds(t, kinds)
			if len(got) != len(sent) {
				t.Fatalf("%d series received, want %d", len(got), len(sent))
			}
			for i := range sent {
				if !slices.Equal(got[i].Labels, sent[i].Labels) || len(got[i].Samples) != 1 ||
					!got[i].Samples[0].Time.Equal(sent[i].Samples[0].Time) || got[i].Samples[0].Value != sent[i].Samples[0].Value {
					t.Errorf("series %d: got %v, sent %v", i, got[i], sent[i])
				}
			}
			if fell := tc.want == "v1" && tc.protocol == "auto"; warns.n.Load() != map[bool]int64{true: 1}[fell] {
				t.Errorf("%d warnings logged, want one for a fall-back to v1, none otherwise", warns.n.Load())
			}
			st := w.Stats()
			if st.Sent != 10 || st.Dropped != 0 || st.Protocol != tc.want {
				t.Errorf("stats: sent %d, dropped %d, protocol %s; want 10, 0, %s", st.Sent, st.Dropped, st.Protocol, tc.want)
			}
		})
	}
}

// countWarns counts the records logged at warning level and above.
type countWarns struct{ n atomic.Int64 }

func (c *countWarns) Enabled(context.Context, slog.Level) bool { return true }
func (c *countWarns) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		c.n.Add(1)
	}
	return nil
}
func (c *countWarns) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *countWarns) WithGroup(string) slog.Handler      { return c }

func allOf(kind string) func(*testing.T, []string) {
	return func(t *testing.T, kinds []string) {
		t.Helper()
		if len(kinds) != 5 || slices.ContainsFunc(kinds, func(k string) bool { return k != kind }) {
			t.Errorf("requests %v, want five of %s", kinds, kind)
		}
	}
}

// fellBack: one v2 request, then the same record and every later one in v1.
func fellBack(t *testing.T, kinds []string) {
	t.Helper()
	if want := []string{"v2", "v1", "v1", "v1", "v1", "v1"}; !slices.Equal(kinds, want) {
		t.Errorf("requests %v, want %v", kinds, want)
	}
}

// A receiver of v1 only is a refusal with protocol "v2": the record is dropped, and
// the error says why.
func TestWriterV2Refused(t *testing.T) {
	srv := httptest.NewServer(&v1Only{status: http.StatusNoContent})
	defer srv.Close()
	q, err := OpenQueue(t.TempDir(), QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	putSteps(t, q, 2)
	w, err := NewWriter(q, Options{URL: srv.URL, Protocol: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Dropped != 4 || st.Sent != 0 || !strings.Contains(st.LastError, "X-Prometheus-Remote-Write-Samples-Written") {
		t.Errorf("stats %+v: want 4 dropped, the missing header named", st)
	}
	if _, err := NewWriter(q, Options{URL: srv.URL, Protocol: "v3"}); err == nil {
		t.Error("protocol v3 taken")
	}
	var perm permanent
	if !errors.As(permanent{errNotV2}, &perm) || !errors.Is(perm, errNotV2) {
		t.Error("a permanent refusal does not unwrap")
	}
}
