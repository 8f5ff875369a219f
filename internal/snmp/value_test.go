package snmp

import (
	"testing"

	"github.com/gosnmp/gosnmp"
)

func TestValueDecoders(t *testing.T) {
	mac := []byte{0x02, 0x00, 0x5e, 0x10, 0xab, 0xff}
	for _, tt := range []struct {
		name   string
		pdu    gosnmp.SnmpPDU
		n      uint64
		isNum  bool
		ticks  uint32
		isTick bool
		text   string
		mac    string
		absent bool
		c32    bool
	}{
		{name: "Counter64", pdu: gosnmp.SnmpPDU{Type: gosnmp.Counter64, Value: uint64(1 << 40)}, n: 1 << 40, isNum: true, ticks: 0, isTick: true},
		{name: "Counter32", pdu: gosnmp.SnmpPDU{Type: gosnmp.Counter32, Value: uint(4000000000)}, n: 4000000000, isNum: true, ticks: 4000000000, isTick: true, c32: true},
		{name: "Gauge32 as uint32", pdu: gosnmp.SnmpPDU{Type: gosnmp.Gauge32, Value: uint32(7)}, n: 7, isNum: true, ticks: 7, isTick: true},
		{name: "TimeTicks", pdu: gosnmp.SnmpPDU{Type: gosnmp.TimeTicks, Value: uint32(123456)}, n: 123456, isNum: true, ticks: 123456, isTick: true},
		{name: "Integer", pdu: gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: 2}, n: 2, isNum: true, ticks: 2, isTick: true},
		{name: "negative Integer", pdu: gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: -1}},
		{name: "negative int64", pdu: gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: int64(-5)}},
		{name: "int64", pdu: gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: int64(5)}, n: 5, isNum: true, ticks: 5, isTick: true},
		{name: "DisplayString", pdu: gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte("ge-0/0/1")}, text: "ge-0/0/1"},
		{name: "string", pdu: gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: "uplink"}, text: "uplink"},
		{name: "MAC", pdu: gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: mac}, text: string(mac), mac: "02:00:5e:10:ab:ff"},
		{name: "five bytes", pdu: gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: mac[:5]}, text: string(mac[:5])},
		{name: "noSuchInstance", pdu: gosnmp.SnmpPDU{Type: gosnmp.NoSuchInstance}, absent: true},
		{name: "noSuchObject with a stray value", pdu: gosnmp.SnmpPDU{Type: gosnmp.NoSuchObject, Value: uint(3)}, n: 3, isNum: true, absent: true},
		{name: "endOfMibView", pdu: gosnmp.SnmpPDU{Type: gosnmp.EndOfMibView}, absent: true},
		{name: "Null", pdu: gosnmp.SnmpPDU{Type: gosnmp.Null}, absent: true},
	} {
		v := Value{PDU: tt.pdu}
		if n, ok := v.Uint64(); n != tt.n || ok != tt.isNum {
			t.Errorf("%s: Uint64 = %d, %v; want %d, %v", tt.name, n, ok, tt.n, tt.isNum)
		}
		if n, ok := v.Ticks(); n != tt.ticks || ok != tt.isTick {
			t.Errorf("%s: Ticks = %d, %v; want %d, %v", tt.name, n, ok, tt.ticks, tt.isTick)
		}
		if got := v.Text(); got != tt.text {
			t.Errorf("%s: Text = %q, want %q", tt.name, got, tt.text)
		}
		if got := v.MAC(); got != tt.mac {
			t.Errorf("%s: MAC = %q, want %q", tt.name, got, tt.mac)
		}
		if got := v.Absent(); got != tt.absent {
			t.Errorf("%s: Absent = %v, want %v", tt.name, got, tt.absent)
		}
		if got := v.Counter32(); got != tt.c32 {
			t.Errorf("%s: Counter32 = %v, want %v", tt.name, got, tt.c32)
		}
	}
	if !AbsentValue.Absent() {
		t.Error("AbsentValue is not absent")
	}
}

func TestCompareOID(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{".1.3.6.1", "1.3.6.1", 0},
		{".1.3.6.1.2", ".1.3.6.1.10", -1},
		{".1.3.6.1.10", ".1.3.6.1.2", 1},
		{".1.3.6", ".1.3.6.1", -1},
		{".1.3.6.1", ".1.3.6", 1},
		{".1.3.6.1.2.1.2.2.1.2.3", ".1.3.6.1.2.1.2.2.1.2.2.9", 1},
		{".1.3.6.1.2.1.2.2.1.2.2.9", ".1.3.6.1.2.1.2.2.1.2.3", -1},
		{".1.3.x", ".1.3.6", 1},
		{".1.3.6", ".1.3.x", -1},
		{".1.3.x", ".1.3.y", -1},
		{".1.18446744073709551615", ".1.18446744073709551614", 1},
	} {
		if got := compareOID(tt.a, tt.b); got != tt.want {
			t.Errorf("compareOID(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// isInstance is Instance compared, leading dots aside, without the string.
func TestIsInstance(t *testing.T) {
	const col = ".1.3.6.1.2.1.31.1.1.1.6"
	for _, tt := range []struct {
		oid   string
		index int
		want  bool
	}{
		{".1.3.6.1.2.1.31.1.1.1.6.7", 7, true},
		{"1.3.6.1.2.1.31.1.1.1.6.7", 7, true},
		{".1.3.6.1.2.1.31.1.1.1.6.1000042", 1000042, true},
		{".1.3.6.1.2.1.31.1.1.1.6.7", 8, false},
		{".1.3.6.1.2.1.31.1.1.1.6.70", 7, false},
		{".1.3.6.1.2.1.31.1.1.1.6.7.1", 7, false},
		{".1.3.6.1.2.1.31.1.1.1.60.7", 7, false}, // another column sharing the prefix
		{".1.3.6.1.2.1.31.1.1.1.6", 7, false},
		{".1.3.6.1.2.1.31.1.1.1.6.", 7, false},
		{".1.3.6.1.2.1.2.2.1.6.7", 7, false},
		{"", 7, false},
	} {
		if got := isInstance(tt.oid, col, tt.index); got != tt.want {
			t.Errorf("isInstance(%q, %q, %d) = %v, want %v", tt.oid, col, tt.index, got, tt.want)
		}
		if want := trimDot(tt.oid) == trimDot(Instance(col, tt.index)); tt.want != want {
			t.Errorf("%q, %d: table says %v, Instance says %v", tt.oid, tt.index, tt.want, want)
		}
	}
}
