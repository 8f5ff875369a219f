package snmp

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// fakeAgent is an in-memory agent answering GET, GETNEXT and GETBULK from a table of
// objects as v1 or v2c agents do. It records every request and can be made to refuse
// large responses (tooBig) or to answer a walk wrongly.
type fakeAgent struct {
	v1      bool
	objs    map[string]gosnmp.SnmpPDU // by OID without leading dot
	maxVars int                       // tooBig above this many varbinds in a response (0: no limit)
	// after, if set, replaces the object GETNEXT and GETBULK find after oid.
	after func(oid string, found gosnmp.SnmpPDU) gosnmp.SnmpPDU

	gets  [][]string // OIDs of each GET
	nexts [][]string // OIDs of each GETNEXT
	reps  []uint32   // max-repetitions of each GETBULK
}

var _ Client = (*fakeAgent)(nil)

func newFakeAgent() *fakeAgent { return &fakeAgent{objs: map[string]gosnmp.SnmpPDU{}} }

func (a *fakeAgent) set(oid string, typ gosnmp.Asn1BER, v any) {
	a.objs[trimDot(oid)] = gosnmp.SnmpPDU{Name: "." + trimDot(oid), Type: typ, Value: v}
}

func parseOID(s string) []int {
	var out []int
	for _, p := range strings.Split(trimDot(s), ".") {
		n, _ := strconv.Atoi(p)
		out = append(out, n)
	}
	return out
}

// next is the first object after oid, false at the end of the MIB.
func (a *fakeAgent) next(oid string) (gosnmp.SnmpPDU, bool) {
	want := parseOID(oid)
	var best []int
	var found gosnmp.SnmpPDU
	for k, pdu := range a.objs {
		o := parseOID(k)
		if slices.Compare(o, want) > 0 && (best == nil || slices.Compare(o, best) < 0) {
			best, found = o, pdu
		}
	}
	if best == nil {
		return gosnmp.SnmpPDU{}, false
	}
	if a.after != nil {
		found = a.after(oid, found)
	}
	return found, true
}

func (a *fakeAgent) tooBig(n int) bool { return a.maxVars > 0 && n > a.maxVars }

func (a *fakeAgent) Connect() error { return nil }
func (a *fakeAgent) Close() error   { return nil }

func (a *fakeAgent) Get(oids []string) (*gosnmp.SnmpPacket, error) {
	a.gets = append(a.gets, slices.Clone(oids))
	if a.tooBig(len(oids)) {
		return &gosnmp.SnmpPacket{Error: gosnmp.TooBig}, nil
	}
	pkt := &gosnmp.SnmpPacket{}
	for i, oid := range oids {
		pdu, ok := a.objs[trimDot(oid)]
		if !ok {
			if a.v1 {
				return &gosnmp.SnmpPacket{Error: gosnmp.NoSuchName, ErrorIndex: uint8(i + 1)}, nil
			}
			pdu = gosnmp.SnmpPDU{Name: oid, Type: gosnmp.NoSuchInstance}
		}
		pkt.Variables = append(pkt.Variables, pdu)
	}
	return pkt, nil
}

// errEndless is the fake's answer once a walk has asked more than any test needs.
var errEndless = errors.New("fake agent: more than 1000 requests")

func (a *fakeAgent) GetNext(oids []string) (*gosnmp.SnmpPacket, error) {
	a.nexts = append(a.nexts, slices.Clone(oids))
	if a.requests() > 1000 {
		return nil, errEndless
	}
	if a.tooBig(len(oids)) {
		return &gosnmp.SnmpPacket{Error: gosnmp.TooBig}, nil
	}
	pkt := &gosnmp.SnmpPacket{}
	for i, oid := range oids {
		pdu, ok := a.next(oid)
		if !ok {
			if a.v1 {
				return &gosnmp.SnmpPacket{Error: gosnmp.NoSuchName, ErrorIndex: uint8(i + 1)}, nil
			}
			pdu = gosnmp.SnmpPDU{Name: oid, Type: gosnmp.EndOfMibView}
		}
		pkt.Variables = append(pkt.Variables, pdu)
	}
	return pkt, nil
}

func (a *fakeAgent) GetBulk(oids []string, nonRepeaters uint8, reps uint32) (*gosnmp.SnmpPacket, error) {
	a.reps = append(a.reps, reps)
	if a.requests() > 1000 {
		return nil, errEndless
	}
	if a.v1 {
		return nil, errors.New("GETBULK sent to an SNMPv1 agent")
	}
	if nonRepeaters != 0 {
		return nil, errors.New("fake agent supports no non-repeaters")
	}
	if a.tooBig(len(oids) * int(reps)) {
		return &gosnmp.SnmpPacket{Error: gosnmp.TooBig}, nil
	}
	cur := slices.Clone(oids)
	pkt := &gosnmp.SnmpPacket{}
	for range reps {
		for i := range cur {
			pdu, ok := a.next(cur[i])
			if !ok {
				pdu = gosnmp.SnmpPDU{Name: cur[i], Type: gosnmp.EndOfMibView}
			}
			cur[i] = pdu.Name
			pkt.Variables = append(pkt.Variables, pdu)
		}
	}
	return pkt, nil
}

// requests is the number of requests the agent answered.
func (a *fakeAgent) requests() int { return len(a.gets) + len(a.nexts) + len(a.reps) }
