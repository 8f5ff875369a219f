package snmpsim

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// TestEncodeDecodesWithGosnmp checks the encoder against gosnmp's decoder
// on values at every length boundary.
func TestEncodeDecodesWithGosnmp(t *testing.T) {
	long := strings.Repeat("x", 300)
	bigOID := []uint32{1, 3, 6, 1, 4, 1, 127, 128, 16383, 16384, 2097151, 2097152, math.MaxUint32}
	vbs := []varbind{
		{tag: tagInteger, num: 0},
		{tag: tagInteger, num: 127},
		{tag: tagInteger, num: 128},
		{tag: tagInteger, num: 2147483647},
		{tag: tagCounter32, num: 0x80000000},
		{tag: tagCounter32, num: math.MaxUint32},
		{tag: tagGauge32, num: 255},
		{tag: tagTimeTicks, num: 12345678},
		{tag: tagCounter64, num: 0},
		{tag: tagCounter64, num: 1 << 63},
		{tag: tagCounter64, num: math.MaxUint64},
		{tag: tagOctetString, str: ""},
		{tag: tagOctetString, str: strings.Repeat("y", 127)},
		{tag: tagOctetString, str: strings.Repeat("z", 128)},
		{tag: tagOctetString, str: long},
		{tag: tagOID, ref: bigOID},
		{tag: tagNoSuchObj},
		{tag: tagNoSuchInst},
		{tag: tagEndOfMib},
	}
	for i := range vbs {
		vbs[i].oid = append(slices.Clone(bigOID), uint32(i))
	}
	for _, reqID := range [][]byte{{0x01}, {0x7f, 0xff, 0xff, 0xff}, {0x00, 0x80, 0x00, 0x00, 0x00}} {
		r := &response{version: version2c, community: []byte("public"), requestID: reqID, vbs: vbs}
		msg := r.encode(len(vbs))
		if len(msg) != r.size(len(vbs)) {
			t.Fatalf("encoded %d octets, size said %d", len(msg), r.size(len(vbs)))
		}
		var g gosnmp.GoSNMP
		pkt, err := g.SnmpDecodePacket(msg)
		if err != nil {
			t.Fatalf("gosnmp decode: %v", err)
		}
		var wantID uint32
		for _, c := range reqID {
			wantID = wantID<<8 | uint32(c)
		}
		if pkt.RequestID != wantID || pkt.PDUType != gosnmp.GetResponse || pkt.Community != "public" {
			t.Errorf("header: id %d type %v community %q; want %d GetResponse public", pkt.RequestID, pkt.PDUType, pkt.Community, wantID)
		}
		if len(pkt.Variables) != len(vbs) {
			t.Fatalf("got %d varbinds, want %d", len(pkt.Variables), len(vbs))
		}
		for i, p := range pkt.Variables {
			want := vbs[i]
			if p.Name != formatOID(want.oid) {
				t.Errorf("varbind %d: name %s, want %s", i, p.Name, formatOID(want.oid))
			}
			var got string
			switch v := p.Value.(type) {
			case []byte:
				got = string(v)
			default:
				got = fmt.Sprint(v)
			}
			var wantVal string
			switch want.tag {
			case tagOctetString:
				wantVal = want.str
			case tagOID:
				wantVal = formatOID(want.ref)
			case tagNoSuchObj, tagNoSuchInst, tagEndOfMib:
				wantVal = "<nil>"
			default:
				wantVal = fmt.Sprint(want.num)
			}
			if byte(p.Type) != want.tag || got != wantVal {
				t.Errorf("varbind %d: got %#x %.40s, want %#x %.40s", i, byte(p.Type), got, want.tag, wantVal)
			}
		}
	}
}

// TestDecodeGosnmpRequests checks the decoder on requests gosnmp encodes.
func TestDecodeGosnmpRequests(t *testing.T) {
	oids := []string{".1.3.6.1.2.1.1.3.0", ".1.3.6.1.4.1.2636.3.1.13.1.8.9.1.0.0", ".1.3.6.1.2.1.31.1.1.1.6.4294967295", ".2.999.1"}
	tests := []struct {
		version gosnmp.SnmpVersion
		typ     gosnmp.PDUType
		reqID   uint32
		nonRep  uint8
		maxRep  uint32
	}{
		{gosnmp.Version1, gosnmp.GetRequest, 1, 0, 0},
		{gosnmp.Version2c, gosnmp.GetNextRequest, 2147483647, 0, 0},
		{gosnmp.Version2c, gosnmp.GetBulkRequest, 300, 2, 1000},
	}
	for _, tt := range tests {
		var pdus []gosnmp.SnmpPDU
		for _, o := range oids {
			pdus = append(pdus, gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null})
		}
		pkt := &gosnmp.SnmpPacket{Version: tt.version, Community: "c0mm", PDUType: tt.typ, RequestID: tt.reqID,
			NonRepeaters: tt.nonRep, MaxRepetitions: tt.maxRep, Variables: pdus}
		raw, err := pkt.MarshalMsg()
		if err != nil {
			t.Fatalf("MarshalMsg: %v", err)
		}
		m, err := decodeMessage(raw)
		if err != nil {
			t.Fatalf("decodeMessage(%v): %v", tt.typ, err)
		}
		if m.version != int(tt.version) || string(m.community) != "c0mm" || m.pduType != byte(tt.typ) {
			t.Errorf("%v: got version %d community %q type %#x", tt.typ, m.version, m.community, m.pduType)
		}
		if tt.typ == gosnmp.GetBulkRequest && (m.field2 != int(tt.nonRep) || m.field3 != int(tt.maxRep)) {
			t.Errorf("GETBULK: got non-repeaters %d max-repetitions %d, want %d %d", m.field2, m.field3, tt.nonRep, tt.maxRep)
		}
		var got []string
		for _, o := range m.oids {
			got = append(got, formatOID(o))
		}
		if !slices.Equal(got, oids) {
			t.Errorf("%v: OIDs %v, want %v", tt.typ, got, oids)
		}
	}
}

// FuzzHandle feeds arbitrary datagrams to the agent: it must never panic,
// and whatever it answers must decode.
func FuzzHandle(f *testing.F) {
	for _, typ := range []gosnmp.PDUType{gosnmp.GetRequest, gosnmp.GetNextRequest, gosnmp.GetBulkRequest, gosnmp.SetRequest} {
		pkt := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: typ, RequestID: 7,
			MaxRepetitions: 3, Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.2.2.1.10", Type: gosnmp.Null}}}
		raw, err := pkt.MarshalMsg()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(raw[:len(raw)-3])
	}
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	a := newAgent(Network(1, 8, 1)[0], nil)
	f.Fuzz(func(t *testing.T, msg []byte) {
		resp := a.handle(msg)
		if resp == nil {
			return
		}
		var g gosnmp.GoSNMP
		if _, err := g.SnmpDecodePacket(resp); err != nil {
			t.Errorf("response does not decode: %v", err)
		}
	})
}
