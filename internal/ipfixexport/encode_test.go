package ipfixexport

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// records returns n records, every third one IPv6, each with distinct values.
func records(n int) []Record {
	out := make([]Record, n)
	for i := range out {
		r := Record{
			Src:     netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
			Dst:     netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}),
			SrcPort: uint16(40000 + i), DstPort: 443, Proto: 6, TCPFlags: 0x18,
			Bytes: uint64(1_000_000 + i), Packets: uint64(800 + i),
			InIf: uint32(i%7 + 1), OutIf: uint32(i % 3),
			Start: t0.Add(time.Duration(i) * time.Millisecond), End: t0.Add(5 * time.Second),
		}
		if i%3 == 2 {
			r.Src = netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", i+1))
			r.Dst = netip.MustParseAddr(fmt.Sprintf("2001:db8:8000::%x", i+1))
			r.Proto, r.TCPFlags, r.DstPort = 17, 0, 443
		}
		out[i] = r
	}
	return out
}

// decode decodes messages in order as a collector would from one exporter.
func decode(t *testing.T, d *flow.Decoder, msgs [][]byte) []flow.Record {
	t.Helper()
	from := netip.MustParseAddrPort("127.0.0.9:50000")
	var out []flow.Record
	for i, m := range msgs {
		if err := d.Decode(m, from, t0, func(r flow.Record) { out = append(out, r) }); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	return out
}

// Every record comes back from goflow2's decoder as it was encoded, in messages no
// larger than asked, with sequence numbers counting the data records before them.
func TestEncodeRoundTrip(t *testing.T) {
	for _, max := range []int{0, 300, 9000} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			enc, err := NewEncoder(42, &Options{MaxMessageSize: max})
			if err != nil {
				t.Fatal(err)
			}
			if max == 0 {
				max = DefaultMaxMessageSize
			}
			in := records(500)
			msgs, err := enc.Encode(t0, in)
			if err != nil {
				t.Fatal(err)
			}
			seq := uint32(0)
			for i, m := range msgs {
				if len(m) > max {
					t.Errorf("message %d is %d octets, max %d", i, len(m), max)
				}
				if got := int(binary.BigEndian.Uint16(m[2:])); got != len(m) {
					t.Errorf("message %d says it is %d octets, is %d", i, got, len(m))
				}
				if got := binary.BigEndian.Uint32(m[8:]); got != seq {
					t.Errorf("message %d sequence %d, want %d", i, got, seq)
				}
				if got := binary.BigEndian.Uint32(m[12:]); got != 42 {
					t.Errorf("message %d domain %d, want 42", i, got)
				}
				seq += uint32(dataRecords(m))
			}
			if enc.Sequence() != 500 {
				t.Errorf("Sequence() = %d after 500 records", enc.Sequence())
			}
			got := decode(t, flow.NewDecoder(), msgs)
			if len(got) != len(in) {
				t.Fatalf("decoded %d records, want %d", len(got), len(in))
			}
			// IPv4 first, then IPv6, each in the order given.
			var want []Record
			for _, v6 := range []bool{false, true} {
				for _, r := range in {
					if r.Src.Is6() == v6 {
						want = append(want, r)
					}
				}
			}
			for i, g := range got {
				w := want[i]
				if g.Src != w.Src || g.Dst != w.Dst || g.SrcPort != w.SrcPort || g.DstPort != w.DstPort ||
					g.Proto != w.Proto || g.TCPFlags != w.TCPFlags || g.Bytes != w.Bytes || g.Packets != w.Packets ||
					g.InIf != w.InIf || g.OutIf != w.OutIf || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) ||
					g.Kind != flow.IPFIX || g.Domain != 42 || g.SamplingRate != 1 {
					t.Fatalf("record %d decoded as\n%+v\nwant\n%+v", i, g, w)
				}
			}
		})
	}
}

// dataRecords counts the records of a message's data sets by their lengths.
func dataRecords(m []byte) int {
	n := 0
	for off := headerSize; off+setHeaderSize <= len(m); {
		id, l := binary.BigEndian.Uint16(m[off:]), int(binary.BigEndian.Uint16(m[off+2:]))
		if id >= 256 {
			n += (l - setHeaderSize) / recordSize(id == TemplateIPv6)
		}
		off += l
	}
	return n
}

// hasTemplates reports whether a message carries a template set.
func hasTemplates(m []byte) bool {
	for off := headerSize; off+setHeaderSize <= len(m); {
		if binary.BigEndian.Uint16(m[off:]) == setTemplate {
			return true
		}
		off += int(binary.BigEndian.Uint16(m[off+2:]))
	}
	return false
}

// The templates open the first message and come again every TemplateEvery messages or
// TemplateInterval of export time, whichever is first; a collector that missed them
// decodes again from the next refresh on.
func TestTemplateRefresh(t *testing.T) {
	enc, err := NewEncoder(1, &Options{TemplateEvery: 4, TemplateInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var with []int
	var all [][]byte
	now := t0
	for i := range 10 {
		msgs, err := enc.Encode(now, records(2)[:1]) // one message each
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 {
			t.Fatalf("%d messages for one record", len(msgs))
		}
		if hasTemplates(msgs[0]) {
			with = append(with, i)
		}
		all = append(all, msgs[0])
		now = now.Add(time.Second)
		if i == 5 {
			now = now.Add(2 * time.Minute) // message 6 is due by time, not by count
		}
	}
	if want := fmt.Sprint([]int{0, 4, 6}); fmt.Sprint(with) != want {
		t.Errorf("templates in messages %v, want %v", with, want)
	}
	// A collector that starts after message 0 and drops data before its template
	// decodes nothing until message 4.
	d := flow.NewDecoderWithOptions(&flow.DecoderOptions{HoldTime: -1})
	got := decode(t, d, all[1:])
	if len(got) != 10-4 {
		t.Errorf("a late collector decoded %d records, want %d", len(got), 6)
	}
	if n := d.Stats().Errors["template missing"]; n != 3 {
		t.Errorf("template missing %d times, want 3", n)
	}
	// One that holds such data (the default) decodes messages 1 to 3 when the
	// template of message 4 comes: nothing is lost.
	d = flow.NewDecoder()
	if got := decode(t, d, all[1:]); len(got) != 9 {
		t.Errorf("a late collector that holds decoded %d records, want 9", len(got))
	}
	if n := d.Stats().Errors["template missing"]; n != 0 {
		t.Errorf("holding: template missing %d times, want 0", n)
	}
}

func TestEncodeRefusesMixedFamilies(t *testing.T) {
	enc, _ := NewEncoder(1, nil)
	r := records(1)
	r[0].Dst = netip.MustParseAddr("2001:db8::1")
	if _, err := enc.Encode(t0, r); err == nil {
		t.Error("a record from IPv4 to IPv6 was encoded")
	}
	if enc.Sequence() != 0 {
		t.Errorf("a refused batch moved the sequence to %d", enc.Sequence())
	}
	if _, err := NewEncoder(1, &Options{MaxMessageSize: 100}); err == nil {
		t.Error("a 100-octet message limit was accepted")
	}
}

// Dial sends from the source address asked to the collector, and the collector sees
// that address as the exporter.
func TestExporterSends(t *testing.T) {
	col, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer col.Close()
	src := netip.MustParseAddrPort("127.0.3.7:0")
	x, err := Dial(src, col.LocalAddr().(*net.UDPAddr).AddrPort(), 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	n, err := x.Export(t0, records(60))
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("60 records in %d datagrams, want several of at most %d octets", n, DefaultMaxMessageSize)
	}
	d := flow.NewDecoder()
	got := 0
	buf := make([]byte, 65536)
	col.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range n {
		m, from, err := col.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		if from.Addr() != src.Addr() || from != x.LocalAddr() {
			t.Errorf("datagram from %v, want %v", from, x.LocalAddr())
		}
		if err := d.Decode(buf[:m], from, t0, func(r flow.Record) {
			got++
			if r.Exporter != src.Addr() {
				t.Errorf("record's exporter %v", r.Exporter)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got != 60 {
		t.Errorf("collector decoded %d records, want 60", got)
	}
}

// BenchmarkEncode is the cost of encoding one record (ns/op is per record).
func BenchmarkEncode(b *testing.B) {
	enc, _ := NewEncoder(1, nil)
	recs := records(1000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%len(recs) == 0 {
			if _, err := enc.Encode(t0, recs); err != nil {
				b.Fatal(err)
			}
		}
	}
}
