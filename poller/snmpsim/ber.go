package snmpsim

import (
	"errors"
	"math/bits"
)

// A small BER codec for the SNMPv1/v2c messages the agent reads and writes.
// gosnmp's SnmpDecodePacket and MarshalMsg work for this too, but take about
// three times the CPU and sixteen times the allocations per 60-OID GET,
// which matters when one machine serves 100,000 simulated interfaces to a
// poller benchmark on the same two cores. gosnmp stays the oracle in tests.

// BER tags used by SNMP.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagNull        = 0x05
	tagOID         = 0x06
	tagSequence    = 0x30
	tagCounter32   = 0x41
	tagGauge32     = 0x42
	tagTimeTicks   = 0x43
	tagCounter64   = 0x46
	tagNoSuchObj   = 0x80
	tagNoSuchInst  = 0x81
	tagEndOfMib    = 0x82

	pduGet      = 0xa0
	pduGetNext  = 0xa1
	pduResponse = 0xa2
	pduSet      = 0xa3
	pduGetBulk  = 0xa5
)

// SNMP versions and error statuses (RFC 1157, RFC 3416).
const (
	version1  = 0
	version2c = 1

	errNone       = 0
	errTooBig     = 1
	errNoSuchName = 2
	errGen        = 5
	errNoAccess   = 6
)

var errMalformed = errors.New("malformed message")

// message is a decoded request.
type message struct {
	version   int
	community []byte
	pduType   byte
	requestID []byte // the request-id INTEGER's content, echoed verbatim
	// errStatus and errIndex, or non-repeaters and max-repetitions for
	// GETBULK.
	field2, field3 int
	oids           [][]uint32
}

// readTLV splits b into the tag, content and rest of its first element.
func readTLV(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errMalformed
	}
	tag = b[0]
	n := int(b[1])
	b = b[2:]
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < k {
			return 0, nil, nil, errMalformed
		}
		n = 0
		for _, c := range b[:k] {
			n = n<<8 | int(c)
		}
		b = b[k:]
	}
	if n < 0 || n > len(b) {
		return 0, nil, nil, errMalformed
	}
	return tag, b[:n], b[n:], nil
}

func expect(b []byte, want byte) (content, rest []byte, err error) {
	tag, content, rest, err := readTLV(b)
	if err != nil {
		return nil, nil, err
	}
	if tag != want {
		return nil, nil, errMalformed
	}
	return content, rest, nil
}

// readInt decodes a small signed INTEGER (clamped to int32).
func readInt(b []byte) (int, []byte, error) {
	content, rest, err := expect(b, tagInteger)
	if err != nil || len(content) == 0 || len(content) > 8 {
		return 0, nil, errMalformed
	}
	v := int64(int8(content[0]))
	for _, c := range content[1:] {
		v = v<<8 | int64(c)
	}
	v = max(min(v, 1<<31-1), -1<<31)
	return int(v), rest, nil
}

func parseOIDBytes(b []byte) ([]uint32, error) {
	if len(b) == 0 {
		return nil, errMalformed
	}
	out := make([]uint32, 0, len(b)+1)
	var v uint64
	first := true
	for i, c := range b {
		v = v<<7 | uint64(c&0x7f)
		if v > 1<<32-1 {
			return nil, errMalformed
		}
		if c&0x80 != 0 {
			if i == len(b)-1 {
				return nil, errMalformed
			}
			continue
		}
		if first {
			switch {
			case v < 40:
				out = append(out, 0, uint32(v))
			case v < 80:
				out = append(out, 1, uint32(v-40))
			default:
				out = append(out, 2, uint32(v-80))
			}
			first = false
		} else {
			out = append(out, uint32(v))
		}
		v = 0
	}
	return out, nil
}

// decodeMessage parses an SNMPv1/v2c request.
func decodeMessage(b []byte) (*message, error) {
	body, _, err := expect(b, tagSequence)
	if err != nil {
		return nil, err
	}
	m := &message{}
	if m.version, body, err = readInt(body); err != nil {
		return nil, err
	}
	if m.community, body, err = expect(body, tagOctetString); err != nil {
		return nil, err
	}
	tag, pdu, _, err := readTLV(body)
	if err != nil {
		return nil, err
	}
	m.pduType = tag
	if m.requestID, pdu, err = expect(pdu, tagInteger); err != nil || len(m.requestID) == 0 || len(m.requestID) > 5 {
		return nil, errMalformed
	}
	if m.field2, pdu, err = readInt(pdu); err != nil {
		return nil, err
	}
	if m.field3, pdu, err = readInt(pdu); err != nil {
		return nil, err
	}
	vbl, _, err := expect(pdu, tagSequence)
	if err != nil {
		return nil, err
	}
	for len(vbl) > 0 {
		var vb []byte
		if vb, vbl, err = expect(vbl, tagSequence); err != nil {
			return nil, err
		}
		raw, _, err := expect(vb, tagOID)
		if err != nil {
			return nil, err
		}
		oid, err := parseOIDBytes(raw)
		if err != nil {
			return nil, err
		}
		m.oids = append(m.oids, oid)
	}
	return m, nil
}

// varbind is one response variable binding.
type varbind struct {
	oid []uint32
	tag byte
	num uint64   // INTEGER (as int64 bits), Counter32, Gauge32, TimeTicks, Counter64
	str string   // OCTET STRING
	ref []uint32 // OBJECT IDENTIFIER value
}

func appendLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n <= 0xff:
		return append(b, 0x81, byte(n))
	case n <= 0xffff:
		return append(b, 0x82, byte(n>>8), byte(n))
	default:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}

func lengthSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	default:
		return 4
	}
}

func subidSize(v uint32) int {
	return max(1, (bits.Len32(v)+6)/7)
}

func oidContentSize(o []uint32) int {
	if len(o) < 2 {
		return 1
	}
	n := subidSize(o[0]*40 + o[1])
	for _, v := range o[2:] {
		n += subidSize(v)
	}
	return n
}

func appendSubid(b []byte, v uint32) []byte {
	for k := subidSize(v) - 1; k > 0; k-- {
		b = append(b, byte(v>>(7*k))|0x80)
	}
	return append(b, byte(v&0x7f))
}

func appendOID(b []byte, o []uint32) []byte {
	b = append(b, tagOID)
	b = appendLength(b, oidContentSize(o))
	if len(o) < 2 {
		return append(b, 0)
	}
	b = appendSubid(b, o[0]*40+o[1])
	for _, v := range o[2:] {
		b = appendSubid(b, v)
	}
	return b
}

// unsignedSize is the content size of v as a non-negative INTEGER-like
// value (a leading zero when the top bit is set).
func unsignedSize(v uint64) int {
	return bits.Len64(v)/8 + 1
}

func appendUnsigned(b []byte, tag byte, v uint64) []byte {
	n := unsignedSize(v)
	b = append(b, tag, byte(n))
	for k := n - 1; k >= 0; k-- {
		if k >= 8 {
			b = append(b, 0)
			continue
		}
		b = append(b, byte(v>>(8*k)))
	}
	return b
}

func signedSize(v int64) int {
	n := 1
	for v > 127 || v < -128 {
		v >>= 8
		n++
	}
	return n
}

func appendSigned(b []byte, v int64) []byte {
	n := signedSize(v)
	b = append(b, tagInteger, byte(n))
	for k := n - 1; k >= 0; k-- {
		b = append(b, byte(v>>(8*k)))
	}
	return b
}

func (v *varbind) valueSize() int {
	switch v.tag {
	case tagInteger:
		return 2 + signedSize(int64(v.num))
	case tagCounter32, tagGauge32, tagTimeTicks, tagCounter64:
		return 2 + unsignedSize(v.num)
	case tagOctetString:
		return 1 + lengthSize(len(v.str)) + len(v.str)
	case tagOID:
		n := oidContentSize(v.ref)
		return 1 + lengthSize(n) + n
	default: // Null and the v2c exceptions
		return 2
	}
}

func (v *varbind) size() int {
	n := oidContentSize(v.oid)
	content := 1 + lengthSize(n) + n + v.valueSize()
	return 1 + lengthSize(content) + content
}

func (v *varbind) appendTo(b []byte) []byte {
	n := oidContentSize(v.oid)
	b = append(b, tagSequence)
	b = appendLength(b, 1+lengthSize(n)+n+v.valueSize())
	b = appendOID(b, v.oid)
	switch v.tag {
	case tagInteger:
		return appendSigned(b, int64(v.num))
	case tagCounter32, tagGauge32, tagTimeTicks, tagCounter64:
		return appendUnsigned(b, v.tag, v.num)
	case tagOctetString:
		b = append(b, tagOctetString)
		b = appendLength(b, len(v.str))
		return append(b, v.str...)
	case tagOID:
		return appendOID(b, v.ref)
	default:
		return append(b, v.tag, 0)
	}
}

// response is a GetResponse under construction.
type response struct {
	version   int
	community []byte
	requestID []byte
	errStatus int
	errIndex  int
	vbs       []varbind
}

// size is the encoded size of the first n varbinds' response.
func (r *response) size(n int) int {
	vbl := 0
	for i := range r.vbs[:n] {
		vbl += r.vbs[i].size()
	}
	pdu := 2 + len(r.requestID) + 2 + signedSize(int64(r.errStatus)) + 2 + signedSize(int64(r.errIndex)) +
		1 + lengthSize(vbl) + vbl
	msg := 3 + 1 + lengthSize(len(r.community)) + len(r.community) + 1 + lengthSize(pdu) + pdu
	return 1 + lengthSize(msg) + msg
}

// encode writes the response with its first n varbinds.
func (r *response) encode(n int) []byte {
	total := r.size(n)
	vbl := 0
	for i := range r.vbs[:n] {
		vbl += r.vbs[i].size()
	}
	pdu := 2 + len(r.requestID) + 2 + signedSize(int64(r.errStatus)) + 2 + signedSize(int64(r.errIndex)) +
		1 + lengthSize(vbl) + vbl
	msg := 3 + 1 + lengthSize(len(r.community)) + len(r.community) + 1 + lengthSize(pdu) + pdu

	b := make([]byte, 0, total)
	b = append(b, tagSequence)
	b = appendLength(b, msg)
	b = appendSigned(b, int64(r.version))
	b = append(b, tagOctetString)
	b = appendLength(b, len(r.community))
	b = append(b, r.community...)
	b = append(b, pduResponse)
	b = appendLength(b, pdu)
	b = append(b, tagInteger, byte(len(r.requestID)))
	b = append(b, r.requestID...)
	b = appendSigned(b, int64(r.errStatus))
	b = appendSigned(b, int64(r.errIndex))
	b = append(b, tagSequence)
	b = appendLength(b, vbl)
	for i := range r.vbs[:n] {
		b = r.vbs[i].appendTo(b)
	}
	return b
}
