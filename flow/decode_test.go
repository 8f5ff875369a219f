package flow

import (
	"encoding/binary"
	"net/netip"
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
// is counted as such and dropped; two exporters, and two domains of one exporter, may
// use the same template id for different layouts.
func TestTemplates(t *testing.T) {
	d := NewDecoder()
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
	r := binary.BigEndian.AppendUint32(nil, 1)                  // protocol: Ethernet
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
		sflowSample(true, 512, ifIndex(70000), [2]uint32{1, 5}, sflowRawHeader(udpFrame)),    // dropped, reason 5
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
