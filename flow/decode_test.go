package flow

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
)

// ipfixField is an information element of a template: its id and length.
type ipfixField struct{ id, length uint16 }

// IPFIX information elements the tests use.
var (
	fOctets   = ipfixField{1, 8}
	fPackets  = ipfixField{2, 8}
	fProto    = ipfixField{4, 1}
	fSrcAddr  = ipfixField{8, 4}
	fDstAddr  = ipfixField{12, 4}
	fOctets4  = ipfixField{1, 4} // the same element, reduced-size encoding
	fPackets4 = ipfixField{2, 4}
)

// ipfixMessage wraps sets in an IPFIX message header of the observation domain.
func ipfixMessage(domain uint32, sets ...[]byte) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint16(b[0:], 10)
	binary.BigEndian.PutUint32(b[4:], 1764400000)
	binary.BigEndian.PutUint32(b[12:], domain)
	for _, s := range sets {
		b = append(b, s...)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

func ipfixSet(id uint16, body []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

func ipfixTemplate(id uint16, fields ...ipfixField) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, uint16(len(fields)))
	for _, f := range fields {
		b = binary.BigEndian.AppendUint16(b, f.id)
		b = binary.BigEndian.AppendUint16(b, f.length)
	}
	return ipfixSet(2, b)
}

// ipfixData encodes one record per row, each value in its field's length.
func ipfixData(id uint16, fields []ipfixField, rows ...[]uint64) []byte {
	var b []byte
	for _, row := range rows {
		for i, f := range fields {
			switch f.length {
			case 1:
				b = append(b, byte(row[i]))
			case 2:
				b = binary.BigEndian.AppendUint16(b, uint16(row[i]))
			case 4:
				b = binary.BigEndian.AppendUint32(b, uint32(row[i]))
			case 8:
				b = binary.BigEndian.AppendUint64(b, row[i])
			}
		}
	}
	return ipfixSet(id, b)
}

func addr(s string) uint64 {
	a := netip.MustParseAddr(s).As4()
	return uint64(binary.BigEndian.Uint32(a[:]))
}

// decodeAll decodes datagrams in order and returns the records.
func decodeAll(t *testing.T, d *Decoder, from netip.AddrPort, datagrams ...[]byte) []Record {
	t.Helper()
	var out []Record
	for _, b := range datagrams {
		if err := d.Decode(b, from, time.Unix(1764400000, 0), func(r Record) { out = append(out, r) }); err != nil {
			t.Fatalf("decode: %v", err)
		}
	}
	return out
}

// Templates belong to their exporter and observation domain: data before its template
// is counted as such and dropped (when not held); two exporters, and two domains of one
// exporter, may use the same template id for different layouts.
func TestTemplates(t *testing.T) {
	d := NewDecoderWithOptions(&DecoderOptions{HoldTime: -1})
	a := netip.MustParseAddrPort("127.0.0.1:40001")
	b := netip.MustParseAddrPort("127.0.0.2:40001")
	wide := []ipfixField{fSrcAddr, fDstAddr, fProto, fOctets, fPackets}
	narrow := []ipfixField{fSrcAddr, fDstAddr, fOctets4, fPackets4, fProto}

	early := ipfixMessage(1, ipfixData(256, wide, []uint64{addr("10.0.0.1"), addr("10.0.0.2"), 6, 1000, 10}))
	if got := decodeAll(t, d, a, early); len(got) != 0 {
		t.Errorf("data before its template gave %d records", len(got))
	}
	if st := d.Stats(); st.Errors["template missing"] != 1 {
		t.Errorf("errors %v, want one template missing", st.Errors)
	}

	got := decodeAll(t, d, a,
		ipfixMessage(1, ipfixTemplate(256, wide...)),
		ipfixMessage(2, ipfixTemplate(256, narrow...)), // same id, another domain
		ipfixMessage(1, ipfixData(256, wide, []uint64{addr("10.0.0.1"), addr("10.0.0.2"), 6, 1000, 10})),
		ipfixMessage(2, ipfixData(256, narrow, []uint64{addr("10.0.0.3"), addr("10.0.0.4"), 2000, 20, 17})),
	)
	got = append(got, decodeAll(t, d, b,
		ipfixMessage(1, ipfixTemplate(256, narrow...)), // same id and domain, another exporter
		ipfixMessage(1, ipfixData(256, narrow, []uint64{addr("10.0.0.5"), addr("10.0.0.6"), 3000, 30, 6})),
	)...)
	want := []struct {
		exporter, src, dst string
		domain             uint32
		proto              uint8
		bytes, packets     uint64
	}{
		{"127.0.0.1", "10.0.0.1", "10.0.0.2", 1, 6, 1000, 10},
		{"127.0.0.1", "10.0.0.3", "10.0.0.4", 2, 17, 2000, 20},
		{"127.0.0.2", "10.0.0.5", "10.0.0.6", 1, 6, 3000, 30},
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		r := got[i]
		if r.Exporter.String() != w.exporter || r.Src.String() != w.src || r.Dst.String() != w.dst || r.Domain != w.domain ||
			r.Proto != w.proto || r.Bytes != w.bytes || r.Packets != w.packets || r.Kind != IPFIX || r.SamplingRate != 1 {
			t.Errorf("record %d = %+v, want %+v", i, r, w)
		}
	}
	if st := d.Stats(); st.Records != 3 || st.Datagrams != 7 || len(st.Errors) != 1 {
		t.Errorf("stats %+v", st)
	}
}

// A datagram that is no export at all is an error with its reason, and counted.
func TestDecodeRefuses(t *testing.T) {
	d := NewDecoder()
	from := netip.MustParseAddrPort("127.0.0.1:9995")
	for _, tt := range []struct {
		name   string
		b      []byte
		reason string
	}{
		{"short", []byte{0, 9}, "short"},
		{"version 7", []byte{0, 7, 0, 0, 0, 0, 0, 0}, "version"},
		{"truncated v5", []byte{0, 5, 0, 30, 0, 0, 0, 0}, "malformed"},
		{"truncated IPFIX", ipfixMessage(1, ipfixTemplate(256, fSrcAddr))[:18], "malformed"},
	} {
		err := d.Decode(tt.b, from, time.Now(), func(Record) { t.Errorf("%s: a record", tt.name) })
		e, ok := err.(*Error)
		if !ok || e.Reason != tt.reason {
			t.Errorf("%s: error %v, want reason %q", tt.name, err, tt.reason)
		}
	}
}

// Whatever arrives, decoding never panics, and every record it yields carries the
// exporter's address.
func FuzzDecode(f *testing.F) {
	wide := []ipfixField{fSrcAddr, fDstAddr, fProto, fOctets, fPackets}
	f.Add(ipfixMessage(1, ipfixTemplate(256, wide...), ipfixData(256, wide, []uint64{1, 2, 6, 100, 1})))
	f.Add(ipfixMessage(7, ipfixData(300, wide, []uint64{1, 2, 6, 100, 1})))
	f.Add([]byte{0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 9, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 8})
	f.Add([]byte{0, 0, 0, 5, 0, 0, 0, 1, 127, 0, 0, 1})
	f.Add(ipfixMessage(1, ipfixTemplate(256, wide...), withdrawal(2, 256), withdrawal(3, 3), ipfixData(256, wide, []uint64{1, 2, 6, 100, 1})))
	f.Add(v9Message(1, v9Template(256, wide...), v9OptionsTemplate(257, []ipfixField{{1, 4}}, ipfixField{34, 4}),
		ipfixData(257, []ipfixField{{1, 4}, {34, 4}}, []uint64{1, 100}), ipfixData(256, wide, []uint64{1, 2, 6, 100, 1})))
	from := netip.MustParseAddrPort("127.0.0.9:2055")
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder()
		// Twice: the first may teach templates the second uses.
		for range 2 {
			_ = d.Decode(b, from, time.Unix(0, 0), func(r Record) {
				if r.Exporter != from.Addr() {
					t.Fatalf("record from %v, want %v", r.Exporter, from.Addr())
				}
			})
		}
	})
}

// BenchmarkDecode decodes IPFIX datagrams of 30 records each, as an exporter sends
// them, and reports records/s on one goroutine.
func BenchmarkDecode(b *testing.B) {
	fields := []ipfixField{fSrcAddr, fDstAddr, fProto, fOctets, fPackets}
	rows := make([][]uint64, 30)
	for i := range rows {
		rows[i] = []uint64{addr("10.0.0.1") + uint64(i), addr("192.0.2.1"), 6, 1500 * uint64(i+1), uint64(i + 1)}
	}
	d := NewDecoder()
	from := netip.MustParseAddrPort("127.0.0.1:4739")
	now := time.Unix(1764400000, 0)
	if err := d.Decode(ipfixMessage(1, ipfixTemplate(256, fields...)), from, now, func(Record) {}); err != nil {
		b.Fatal(err)
	}
	msg := ipfixMessage(1, ipfixData(256, fields, rows...))
	n := 0
	for b.Loop() {
		if err := d.Decode(msg, from, now, func(Record) { n++ }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// sflowDatagram wraps samples in an sFlow version 5 datagram from agent 192.0.2.1.
func sflowDatagram(samples ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, 5)
	b = binary.BigEndian.AppendUint32(b, 1) // agent address: IPv4
	b = append(b, 192, 0, 2, 1)
	b = binary.BigEndian.AppendUint32(b, 0)    // sub-agent
	b = binary.BigEndian.AppendUint32(b, 1)    // sequence
	b = binary.BigEndian.AppendUint32(b, 1000) // uptime
	b = binary.BigEndian.AppendUint32(b, uint32(len(samples)))
	for _, s := range samples {
		b = append(b, s...)
	}
	return b
}

// sflowRawHeader is a raw packet header record of an Ethernet frame, as sampled.
func sflowRawHeader(frame []byte) []byte {
	padded := append(append([]byte(nil), frame...), make([]byte, (4-len(frame)%4)%4)...)
	r := binary.BigEndian.AppendUint32(nil, 1)                 // protocol: Ethernet
	r = binary.BigEndian.AppendUint32(r, uint32(len(frame)+4)) // frame length, with its FCS
	r = binary.BigEndian.AppendUint32(r, 4)                    // stripped: the FCS
	r = binary.BigEndian.AppendUint32(r, uint32(len(frame)))
	r = append(r, padded...)
	b := binary.BigEndian.AppendUint32(nil, 1) // record format: raw packet header
	b = binary.BigEndian.AppendUint32(b, uint32(len(r)))
	return append(b, r...)
}

// sflowSample is a flow sample (compact when expanded is false) of one record. in and
// out are the interface fields: format<<30|value for a compact sample.
func sflowSample(expanded bool, rate uint32, in, out [2]uint32, record []byte) []byte {
	var s []byte
	s = binary.BigEndian.AppendUint32(s, 7) // sample sequence
	if expanded {
		s = binary.BigEndian.AppendUint32(s, 0) // source id type
		s = binary.BigEndian.AppendUint32(s, 3) // source id index
	} else {
		s = binary.BigEndian.AppendUint32(s, 3)
	}
	s = binary.BigEndian.AppendUint32(s, rate)
	s = binary.BigEndian.AppendUint32(s, rate*7) // sample pool
	s = binary.BigEndian.AppendUint32(s, 0)      // drops
	if expanded {
		for _, v := range []uint32{in[0], in[1], out[0], out[1]} {
			s = binary.BigEndian.AppendUint32(s, v)
		}
	} else {
		s = binary.BigEndian.AppendUint32(s, in[0]<<30|in[1])
		s = binary.BigEndian.AppendUint32(s, out[0]<<30|out[1])
	}
	s = binary.BigEndian.AppendUint32(s, 1)
	s = append(s, record...)
	format := uint32(1)
	if expanded {
		format = 3
	}
	b := binary.BigEndian.AppendUint32(nil, format)
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// An sFlow record is its sample's packet: addresses, ports, protocol and flags from the
// raw header, interfaces from the sample (only real ifIndexes), the frame's length and
// one packet, both times the sampling rate.
func TestSFlowSamples(t *testing.T) {
	tcp := conversation{"10.0.0.1", "192.0.2.10", 40000, 443, layers.IPProtocolTCP, 1, 1400}
	udp := conversation{"10.0.0.2", "192.0.2.20", 5353, 53, layers.IPProtocolUDP, 1, 180}
	tcpFrame, udpFrame := packet(t, tcp), packet(t, udp)
	ifIndex := func(v uint32) [2]uint32 { return [2]uint32{0, v} }
	d := NewDecoder()
	from := netip.MustParseAddrPort("127.0.0.1:6343")
	got := decodeAll(t, d, from, sflowDatagram(
		sflowSample(false, 100, ifIndex(7), ifIndex(9), sflowRawHeader(tcpFrame)),
		sflowSample(false, 1, ifIndex(0x3fffffff), [2]uint32{2, 3}, sflowRawHeader(udpFrame)), // from the device itself, to 3 interfaces
		sflowSample(true, 512, ifIndex(70000), [2]uint32{1, 5}, sflowRawHeader(udpFrame)),     // dropped, reason 5
	))
	type want struct {
		src, dst         string
		srcPort, dstPort uint16
		proto, flags     uint8
		in, out          uint32
		rate, bytes      uint64
	}
	wants := []want{
		{"10.0.0.1", "192.0.2.10", 40000, 443, 6, 0x18, 7, 9, 100, 100 * uint64(len(tcpFrame)+4)},
		{"10.0.0.2", "192.0.2.20", 5353, 53, 17, 0, 0, 0, 1, uint64(len(udpFrame) + 4)},
		{"10.0.0.2", "192.0.2.20", 5353, 53, 17, 0, 70000, 0, 512, 512 * uint64(len(udpFrame)+4)},
	}
	if len(got) != len(wants) {
		t.Fatalf("%d records, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		r := got[i]
		g := want{r.Src.String(), r.Dst.String(), r.SrcPort, r.DstPort, r.Proto, r.TCPFlags, r.InIf, r.OutIf, r.SamplingRate, r.Bytes}
		if g != w || r.Packets != w.rate || r.Kind != SFlow5 || r.Exporter != from.Addr() {
			t.Errorf("record %d = %+v, want %+v and %d packets", i, r, w, w.rate)
		}
	}
}

// ipfixOptionsTemplate is an IPFIX options template set of one record.
func ipfixOptionsTemplate(id uint16, scopes []ipfixField, options ...ipfixField) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, uint16(len(scopes)+len(options)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(scopes)))
	for _, f := range append(append([]ipfixField(nil), scopes...), options...) {
		b = binary.BigEndian.AppendUint16(b, f.id)
		b = binary.BigEndian.AppendUint16(b, f.length)
	}
	return ipfixSet(3, b)
}

// withdrawal is a template withdrawal record (RFC 7011, 8.1) in a set of setID: 2
// for templates, 3 for options templates.
func withdrawal(setID, id uint16) []byte {
	return ipfixSet(setID, binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, id), 0))
}

// v9Message wraps flow sets in a NetFlow v9 header of the source id.
func v9Message(sourceID uint32, sets ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, 9)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sets)))
	b = binary.BigEndian.AppendUint32(b, 100000)     // uptime, ms
	b = binary.BigEndian.AppendUint32(b, 1764400000) // unix seconds
	b = binary.BigEndian.AppendUint32(b, 1)          // sequence
	b = binary.BigEndian.AppendUint32(b, sourceID)
	for _, s := range sets {
		b = append(b, s...)
	}
	return b
}

// v9Template is a NetFlow v9 template flow set (id 0) of one record.
func v9Template(id uint16, fields ...ipfixField) []byte {
	s := ipfixTemplate(id, fields...)
	binary.BigEndian.PutUint16(s, 0)
	return s
}

// v9OptionsTemplate is a NetFlow v9 options template flow set (id 1) of one record.
func v9OptionsTemplate(id uint16, scopes []ipfixField, options ...ipfixField) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, uint16(4*len(scopes)))
	b = binary.BigEndian.AppendUint16(b, uint16(4*len(options)))
	for _, f := range append(append([]ipfixField(nil), scopes...), options...) {
		b = binary.BigEndian.AppendUint16(b, f.id)
		b = binary.BigEndian.AppendUint16(b, f.length)
	}
	return ipfixSet(1, b)
}

// decodeAt decodes datagrams received at the given time and returns the records.
func decodeAt(t *testing.T, d *Decoder, from netip.AddrPort, at time.Time, datagrams ...[]byte) []Record {
	t.Helper()
	var out []Record
	for _, b := range datagrams {
		if err := d.Decode(b, from, at, func(r Record) { out = append(out, r) }); err != nil {
			t.Fatalf("decode: %v", err)
		}
	}
	return out
}

var (
	wide   = []ipfixField{fSrcAddr, fDstAddr, fProto, fOctets, fPackets}
	narrow = []ipfixField{fSrcAddr, fDstAddr, fOctets4, fPackets4, fProto}
	t0     = time.Unix(1764400000, 0)
)

func wideRow(src string, bytes uint64) []uint64 {
	return []uint64{addr(src), addr("192.0.2.1"), 6, bytes, 1}
}

// sources lists the records' source addresses and bytes, for comparing.
func sources(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s %d", r.Src, r.Bytes))
	}
	return out
}

// Data that comes before its template is held and decoded when the template comes,
// with the time it was received; held longer than the hold time, or beyond the bytes
// held for an exporter, it is dropped and counted as "template missing".
func TestDataBeforeTemplate(t *testing.T) {
	from := netip.MustParseAddrPort("127.0.0.1:4739")
	early := ipfixMessage(1, ipfixData(256, wide, wideRow("10.0.0.1", 100)))
	template := ipfixMessage(1, ipfixTemplate(256, wide...), ipfixData(256, wide, wideRow("10.0.0.2", 200)))

	t.Run("held", func(t *testing.T) {
		d := NewDecoderWithOptions(&DecoderOptions{HoldTime: 5 * time.Second})
		if got := decodeAt(t, d, from, t0, early); len(got) != 0 {
			t.Fatalf("records before the template: %v", sources(got))
		}
		if st := d.Stats(); st.Held != 1 || len(st.Errors) != 0 {
			t.Errorf("stats %+v, want one set held", st)
		}
		got := decodeAt(t, d, from, t0.Add(4*time.Second), template)
		if want := []string{"10.0.0.2 200", "10.0.0.1 100"}; !slices.Equal(sources(got), want) {
			t.Fatalf("records %v, want %v", sources(got), want)
		}
		if !got[1].Received.Equal(t0) {
			t.Errorf("held record received %v, want %v", got[1].Received, t0)
		}
		if st := d.Stats(); st.Held != 0 || len(st.Errors) != 0 || st.Records != 2 {
			t.Errorf("stats %+v, want two records, none held, no errors", st)
		}
	})
	t.Run("too late", func(t *testing.T) {
		d := NewDecoderWithOptions(&DecoderOptions{HoldTime: 5 * time.Second})
		decodeAt(t, d, from, t0, early)
		got := decodeAt(t, d, from, t0.Add(6*time.Second), template)
		if want := []string{"10.0.0.2 200"}; !slices.Equal(sources(got), want) {
			t.Fatalf("records %v, want %v", sources(got), want)
		}
		if st := d.Stats(); st.Held != 0 || st.Errors["template missing"] != 1 {
			t.Errorf("stats %+v, want one set dropped", st)
		}
	})
	t.Run("silent exporter", func(t *testing.T) {
		d := NewDecoderWithOptions(&DecoderOptions{HoldTime: 5 * time.Second})
		decodeAt(t, d, from, t0, early)
		d.Expire(t0.Add(5 * time.Second))
		if st := d.Stats(); st.Held != 1 {
			t.Errorf("stats %+v, want the set still held at the hold time", st)
		}
		d.Expire(t0.Add(6 * time.Second))
		if st := d.Stats(); st.Held != 0 || st.Errors["template missing"] != 1 {
			t.Errorf("stats %+v, want one set dropped", st)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		// Room for two of these messages: the third pushes the first out.
		d := NewDecoderWithOptions(&DecoderOptions{HoldBytes: 2 * len(early)})
		for i := range 3 {
			decodeAt(t, d, from, t0, ipfixMessage(1, ipfixData(256, wide, wideRow(fmt.Sprintf("10.0.1.%d", i), 100))))
		}
		if st := d.Stats(); st.Held != 2 || st.Errors["template missing"] != 1 {
			t.Errorf("stats %+v, want two held and one dropped", st)
		}
		got := decodeAt(t, d, from, t0, ipfixMessage(1, ipfixTemplate(256, wide...)))
		if want := []string{"10.0.1.1 100", "10.0.1.2 100"}; !slices.Equal(sources(got), want) {
			t.Fatalf("records %v, want %v", sources(got), want)
		}
	})
	t.Run("other template", func(t *testing.T) {
		d := NewDecoder()
		decodeAt(t, d, from, t0, early)
		// A template of another id, or of another domain, leaves the set held.
		decodeAt(t, d, from, t0, ipfixMessage(1, ipfixTemplate(257, wide...)), ipfixMessage(2, ipfixTemplate(256, wide...)))
		if st := d.Stats(); st.Held != 1 {
			t.Errorf("stats %+v, want the set still held", st)
		}
	})
}

// An IPFIX template record without fields withdraws its template (RFC 7011, 8.1);
// template id 2 in a template set withdraws every template of the domain, id 3 in an
// options template set every options template. Data for a withdrawn template is
// "template missing", not an error.
func TestTemplateWithdrawal(t *testing.T) {
	from := netip.MustParseAddrPort("127.0.0.1:4739")
	sampling := []ipfixField{{34, 4}}
	scope := []ipfixField{{149, 4}} // observationDomainId
	setup := ipfixMessage(1, ipfixTemplate(256, wide...), ipfixTemplate(257, narrow...),
		ipfixOptionsTemplate(258, scope, sampling...), ipfixOptionsTemplate(259, scope, sampling...))
	data := func() []byte {
		return ipfixMessage(1, ipfixData(256, wide, wideRow("10.0.0.1", 100)),
			ipfixData(257, narrow, []uint64{addr("10.0.0.2"), addr("192.0.2.1"), 200, 2, 17}))
	}
	options := func(id uint16) []byte {
		return ipfixMessage(1, ipfixData(id, append(scope, sampling...), []uint64{1, 10}))
	}
	for _, tt := range []struct {
		name      string
		withdraw  []byte
		sources   []string // decoded after the withdrawal
		optionsOK []uint16 // options templates still known
	}{
		{"one template", ipfixMessage(1, withdrawal(2, 256)), []string{"10.0.0.2 200"}, []uint16{258, 259}},
		{"all templates", ipfixMessage(1, withdrawal(2, 2)), nil, []uint16{258, 259}},
		{"one options template", ipfixMessage(1, withdrawal(3, 258)), []string{"10.0.0.1 100", "10.0.0.2 200"}, []uint16{259}},
		{"all options templates", ipfixMessage(1, withdrawal(3, 3)), []string{"10.0.0.1 100", "10.0.0.2 200"}, nil},
		{"withdrawal then data, one message", ipfixMessage(1, withdrawal(2, 257), ipfixData(256, wide, wideRow("10.0.0.3", 300))),
			[]string{"10.0.0.1 100"}, []uint16{258, 259}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoderWithOptions(&DecoderOptions{HoldTime: -1})
			if got := decodeAll(t, d, from, setup, data()); len(got) != 2 {
				t.Fatalf("before the withdrawal: %v", sources(got))
			}
			decodeAll(t, d, from, tt.withdraw)
			got := decodeAll(t, d, from, data())
			if !slices.Equal(sources(got), tt.sources) {
				t.Errorf("after the withdrawal: %v, want %v", sources(got), tt.sources)
			}
			st := d.Stats()
			missing := 2 - len(tt.sources)
			for _, id := range []uint16{258, 259} {
				before := st.Errors["template missing"]
				decodeAll(t, d, from, options(id))
				st = d.Stats()
				if known := st.Errors["template missing"] == before; known != slices.Contains(tt.optionsOK, id) {
					t.Errorf("options template %d known: %v, want %v", id, known, !known)
				}
			}
			if st.Errors["template missing"] != uint64(missing+2-len(tt.optionsOK)) || len(st.Errors) != 1 && st.Errors["template missing"] > 0 {
				t.Errorf("errors %v, want %d template missing", st.Errors, missing+2-len(tt.optionsOK))
			}
		})
	}
}

// An exporter that restarts may send another layout under a template id it used: the
// new template replaces the old, and the data after it is read with it.
func TestTemplateReplaced(t *testing.T) {
	d := NewDecoder()
	from := netip.MustParseAddrPort("127.0.0.1:4739")
	got := decodeAll(t, d, from,
		ipfixMessage(1, ipfixTemplate(256, wide...), ipfixData(256, wide, wideRow("10.0.0.1", 100))),
		ipfixMessage(1, ipfixTemplate(256, narrow...), ipfixData(256, narrow, []uint64{addr("10.0.0.2"), addr("192.0.2.1"), 200, 2, 17})),
		v9Message(1, v9Template(300, wide...), ipfixData(300, wide, wideRow("10.0.0.3", 300))),
		v9Message(1, v9Template(300, narrow...), ipfixData(300, narrow, []uint64{addr("10.0.0.4"), addr("192.0.2.1"), 400, 4, 17})),
	)
	if want := []string{"10.0.0.1 100", "10.0.0.2 200", "10.0.0.3 300", "10.0.0.4 400"}; !slices.Equal(sources(got), want) {
		t.Errorf("records %v, want %v", sources(got), want)
	}
	if got[1].Proto != 17 || got[1].Packets != 2 || got[3].Proto != 17 || got[3].Packets != 4 {
		t.Errorf("records after the new layouts %+v, %+v", got[1], got[3])
	}
}

// A template not sent again within the template timeout is forgotten; sending it
// again keeps it.
func TestTemplateTimeout(t *testing.T) {
	d := NewDecoderWithOptions(&DecoderOptions{TemplateTimeout: time.Minute, HoldTime: -1})
	from := netip.MustParseAddrPort("127.0.0.1:2055")
	template := v9Message(1, v9Template(300, wide...))
	data := func(src string) []byte { return v9Message(1, ipfixData(300, wide, wideRow(src, 100))) }
	var got []Record
	got = append(got, decodeAt(t, d, from, t0, template, data("10.0.0.1"))...)
	got = append(got, decodeAt(t, d, from, t0.Add(50*time.Second), template)...)
	got = append(got, decodeAt(t, d, from, t0.Add(100*time.Second), data("10.0.0.2"))...) // refreshed at 50 s
	got = append(got, decodeAt(t, d, from, t0.Add(111*time.Second), data("10.0.0.3"))...) // 61 s after
	if want := []string{"10.0.0.1 100", "10.0.0.2 100"}; !slices.Equal(sources(got), want) {
		t.Errorf("records %v, want %v", sources(got), want)
	}
	if st := d.Stats(); st.Errors["template missing"] != 1 {
		t.Errorf("errors %v, want one template missing", st.Errors)
	}
	if DefaultTemplateTimeout != 90*time.Minute {
		t.Errorf("default template timeout %v: say why in its comment", DefaultTemplateTimeout)
	}
}

// The sampling rate an exporter announces in options data (NetFlow v9 options
// templates, IPFIX options templates, in the elements of optionsSamplingRate) scales
// its records: per exporter address and port and per domain, in the datagram that
// announces it and after.
func TestOptionsSamplingRate(t *testing.T) {
	scope9 := []ipfixField{{1, 4}}    // v9 scope: system
	scope10 := []ipfixField{{149, 4}} // observationDomainId
	row := wideRow("10.0.0.1", 100)
	for _, tt := range []struct {
		name    string
		options []ipfixField
		values  []uint64
		rate    uint64
	}{
		{"samplingInterval", []ipfixField{{34, 4}, {35, 1}}, []uint64{100, 2}, 100},
		{"samplerRandomInterval", []ipfixField{{48, 1}, {49, 1}, {50, 4}}, []uint64{1, 2, 10}, 10},
		{"packet interval and space", []ipfixField{{305, 4}, {306, 4}}, []uint64{1, 9}, 10},
		{"packet interval and space, 2 of 100", []ipfixField{{305, 4}, {306, 4}}, []uint64{2, 98}, 50},
		{"size and population", []ipfixField{{309, 4}, {310, 4}}, []uint64{1, 256}, 256},
		{"probability", []ipfixField{{311, 8}}, []uint64{math.Float64bits(0.001)}, 1000},
	} {
		for _, version := range []int{9, 10} {
			if version == 9 && slices.ContainsFunc(tt.options, func(f ipfixField) bool { return f.id > 127 }) {
				continue // IPFIX elements only
			}
			t.Run(fmt.Sprintf("%s/v%d", tt.name, version), func(t *testing.T) {
				d := NewDecoder()
				from := netip.MustParseAddrPort("127.0.0.1:4739")
				values := append([]uint64{1}, tt.values...)
				var msgs [][]byte
				if version == 9 {
					msgs = [][]byte{
						v9Message(1, v9Template(256, wide...), v9OptionsTemplate(257, scope9, tt.options...),
							ipfixData(256, wide, row), ipfixData(257, append(scope9, tt.options...), values)),
						v9Message(1, ipfixData(256, wide, row)),
					}
				} else {
					msgs = [][]byte{
						ipfixMessage(1, ipfixTemplate(256, wide...), ipfixOptionsTemplate(257, scope10, tt.options...),
							ipfixData(256, wide, row), ipfixData(257, append(scope10, tt.options...), values)),
						ipfixMessage(1, ipfixData(256, wide, row)),
					}
				}
				got := decodeAll(t, d, from, msgs...)
				if len(got) != 2 {
					t.Fatalf("%d records, want 2", len(got))
				}
				for _, r := range got {
					if r.SamplingRate != tt.rate || r.Bytes != 100*tt.rate || r.Packets != tt.rate {
						t.Errorf("record %+v, want rate %d", r, tt.rate)
					}
				}
			})
		}
	}

	t.Run("by exporter port and domain", func(t *testing.T) {
		d := NewDecoder()
		announce := func(domain uint32, rate uint64) []byte {
			return ipfixMessage(domain, ipfixTemplate(256, wide...), ipfixOptionsTemplate(257, scope10, ipfixField{34, 4}),
				ipfixData(257, append(scope10, ipfixField{34, 4}), []uint64{uint64(domain), rate}))
		}
		a := netip.MustParseAddrPort("127.0.0.1:4739")
		b := netip.MustParseAddrPort("127.0.0.1:4740") // another exporter on the same host
		decodeAll(t, d, a, announce(1, 10), announce(2, 20))
		decodeAll(t, d, b, announce(1, 30))
		for _, tt := range []struct {
			from   netip.AddrPort
			domain uint32
			rate   uint64
		}{{a, 1, 10}, {a, 2, 20}, {b, 1, 30}, {b, 2, 1}} {
			got := decodeAll(t, d, tt.from, ipfixMessage(tt.domain, ipfixData(256, wide, row)))
			if tt.from == b && tt.domain == 2 {
				if len(got) != 0 {
					t.Errorf("%v domain 2 has no template: %+v", tt.from, got)
				}
				continue
			}
			if len(got) != 1 || got[0].SamplingRate != tt.rate {
				t.Errorf("%v domain %d: %+v, want rate %d", tt.from, tt.domain, got, tt.rate)
			}
		}
	})
}

// NetFlow v9 records whose template carries absolute times (IPFIX's elements, as
// pmacct exports them) start and end when they say, not at the export time.
func TestV9AbsoluteTimes(t *testing.T) {
	d := NewDecoder()
	from := netip.MustParseAddrPort("127.0.0.1:40009")
	fields := []ipfixField{fSrcAddr, fDstAddr, fOctets, fPackets, {152, 8}, {153, 8}}
	start, end := time.Date(2026, 11, 2, 10, 0, 0, 250e6, time.UTC), time.Date(2026, 11, 2, 10, 0, 9, 0, time.UTC)
	got := decodeAll(t, d, from,
		v9Message(1, v9Template(300, fields...)),
		v9Message(1, ipfixData(300, fields, []uint64{addr("10.0.0.1"), addr("10.0.0.2"), 1000, 10, uint64(start.UnixMilli()), uint64(end.UnixMilli())})),
	)
	if len(got) != 1 {
		t.Fatalf("%d records", len(got))
	}
	if !got[0].Start.Equal(start) || !got[0].End.Equal(end) {
		t.Errorf("start %v end %v, want %v and %v", got[0].Start.UTC(), got[0].End.UTC(), start, end)
	}
	for _, c := range []struct {
		element uint16
		v       uint64
		want    time.Time
	}{
		{150, uint64(start.Unix()), start.Truncate(time.Second)},
		{155, uint64(start.Unix()+2208988800)<<32 | 1<<31, start.Truncate(time.Second).Add(500 * time.Millisecond)},
	} {
		b := binary.BigEndian.AppendUint64(nil, c.v)
		ns, side, ok := absoluteTime(c.element, b)
		if !ok || side != int(c.element-150)%2 || !time.Unix(0, int64(ns)).Equal(c.want) {
			t.Errorf("element %d: %v %d %v, want %v", c.element, time.Unix(0, int64(ns)).UTC(), side, ok, c.want)
		}
	}
}

// A NetFlow v9 header whose count is the data records only (softflowd's), in a
// datagram whose templates come first, loses none of its data; ICMP's type and code
// are in the destination port, as NetFlow v5 has them.
func TestV9CountAndICMP(t *testing.T) {
	d := NewDecoder()
	from := netip.MustParseAddrPort("127.0.0.1:40010")
	icmp := []ipfixField{fSrcAddr, fDstAddr, fProto, {32, 2}, fOctets, fPackets}
	msg := v9Message(1, v9Template(300, icmp...), v9Template(301, fSrcAddr, fDstAddr, fOctets), v9Template(302, fSrcAddr, fOctets),
		ipfixData(300, icmp, []uint64{addr("10.0.0.9"), addr("192.0.2.1"), 1, 8 << 8, 84, 1}))
	binary.BigEndian.PutUint16(msg[2:], 1) // one record
	got := decodeAll(t, d, from, msg)
	if len(got) != 1 {
		t.Fatalf("%d records, want 1", len(got))
	}
	if got[0].DstPort != 2048 || got[0].Proto != 1 {
		t.Errorf("ICMP echo request: record %+v, want destination port 2048", got[0])
	}
}

// IPFIX records timed by flowStartSysUpTime and flowEndSysUpTime start and end from
// the exporter's announced systemInitTimeMilliseconds, as softflowd exports them.
func TestIPFIXSysUpTime(t *testing.T) {
	d := NewDecoder()
	from := netip.MustParseAddrPort("127.0.0.1:40011")
	boot := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fields := []ipfixField{fSrcAddr, fDstAddr, {22, 4}, {21, 4}, fOctets, fPackets}
	scope := []ipfixField{{143, 4}}
	got := decodeAll(t, d, from, ipfixMessage(1,
		ipfixTemplate(256, fields...), ipfixOptionsTemplate(257, scope, ipfixField{160, 8}),
		ipfixData(257, append(scope, ipfixField{160, 8}), []uint64{1, uint64(boot.UnixMilli())}),
		ipfixData(256, fields, []uint64{addr("10.0.0.1"), addr("10.0.0.2"), 3_600_000, 3_605_500, 100, 1})))
	if len(got) != 1 {
		t.Fatalf("%d records, want 1", len(got))
	}
	if want := boot.Add(time.Hour); !got[0].Start.Equal(want) || !got[0].End.Equal(want.Add(5500*time.Millisecond)) {
		t.Errorf("start %v end %v, want %v and 5.5 s later", got[0].Start.UTC(), got[0].End.UTC(), want)
	}
}
