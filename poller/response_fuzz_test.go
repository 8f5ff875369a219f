package poller

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
)

// FuzzResponses feeds the poller an agent whose objects are overwritten, between
// cycles, with arbitrary types and values: wrong ASN.1 types, Go values that do not
// match their type, missing varbinds, huge counters, negative time ticks. Whatever
// the agent says, a cycle returns one Result naming only configured interfaces, and
// nothing panics.
//
// The input is a list of 12-byte edits: column, interface index, type, kind of Go
// value, then 8 bytes of value; an edit with a zero type deletes the object. A zero
// column byte ends a cycle.
func FuzzResponses(f *testing.F) {
	f.Add([]byte{})
	f.Add(edit(9, 1, 6, 0, math.MaxUint64))                                          // Counter64 at its maximum on ifHCInOctets
	f.Add(append(edit(1, 0, 5, 1, 1<<63), edit(9, 2, 6, 2, 0)...))                   // negative sysUpTime; ifHCInOctets as a string
	f.Add(append(edit(2, 1, 0, 0, 0), append([]byte{0}, edit(2, 1, 3, 2, 7)...)...)) // ifName missing, then an integer
	f.Add(append(edit(12, 2, 8, 3, 0), edit(11, 1, 10, 0, 5)...))                    // ifHighSpeed as NoSuchInstance; ifOutOctets as Null
	f.Fuzz(func(t *testing.T, data []byte) {
		a, names := agentWith(3, false)
		p := newPoller([]config.Device{dev("r1", "2c", 4, names[0], names[1], "missing")}, Options{ResolveEvery: 1}, (&fakeNet{agents: map[string]*fakeAgent{"r1": a}}).dial)
		defer p.Close()
		configured := []string{names[0], names[1], "missing"}
		for cycle := 0; cycle < 4; cycle++ {
			for len(data) > 0 && data[0] != 0 {
				if len(data) < 12 {
					data = nil
					break
				}
				applyEdit(a, data[:12])
				data = data[12:]
			}
			if len(data) > 0 {
				data = data[1:]
			}
			rs := p.Poll(context.Background())
			if len(rs) != 1 || rs[0].Device != "r1" {
				t.Fatalf("cycle %d: got %d results (%v), want one for r1", cycle, len(rs), rs)
			}
			for _, s := range rs[0].Samples {
				if !slices.Contains(configured, s.Interface) {
					t.Errorf("cycle %d: sample for unconfigured interface %q", cycle, s.Interface)
				}
				if s.Bits != 32 && s.Bits != 64 {
					t.Errorf("cycle %d: %s counter width %d", cycle, s.Interface, s.Bits)
				}
				if s.Bits == 32 && (s.In > math.MaxUint32 || s.Out > math.MaxUint32) {
					t.Errorf("cycle %d: %s 32-bit sample with counters %d %d", cycle, s.Interface, s.In, s.Out)
				}
			}
		}
	})
}

// edit encodes one edit of FuzzResponses' input.
func edit(col, index, typ, kind byte, v uint64) []byte {
	b := []byte{col, index, typ, kind}
	return binary.BigEndian.AppendUint64(b, v)
}

var fuzzColumns = []string{"", oidSysUpTime, oidIfName, oidIfDescr, oidIfAlias, oidIfOperStatus, oidIfAdminStatus,
	oidIfSpeed, oidIfInOctets, oidIfHCInOctets, oidIfHCOutOctets, oidIfOutOctets, oidIfHighSpeed, oidIfTableLastChange,
	oidIfPhysAddress, oidIfCounterDiscontinuityTime}

var fuzzTypes = []gosnmp.Asn1BER{0, gosnmp.Integer, gosnmp.OctetString, gosnmp.Counter32, gosnmp.Gauge32,
	gosnmp.TimeTicks, gosnmp.Counter64, gosnmp.Null, gosnmp.NoSuchInstance, gosnmp.NoSuchObject,
	gosnmp.EndOfMibView, gosnmp.IPAddress, gosnmp.ObjectIdentifier, gosnmp.Opaque, gosnmp.Uinteger32}

func applyEdit(a *fakeAgent, e []byte) {
	col := fuzzColumns[int(e[0])%len(fuzzColumns)]
	if col == "" {
		return
	}
	oid := col
	if col != oidSysUpTime && col != oidIfTableLastChange {
		oid = instance(col, int(e[1]%5)) // indexes 0..4: the three interfaces and two that are not there
	}
	typ := fuzzTypes[int(e[2])%len(fuzzTypes)]
	if typ == 0 {
		a.del(oid)
		return
	}
	v := binary.BigEndian.Uint64(e[4:])
	var val any
	switch e[3] % 8 {
	case 0:
		val = v
	case 1:
		val = int(int64(v))
	case 2:
		val = string(e[4:])
	case 3:
		val = nil
	case 4:
		val = uint32(v)
	case 5:
		val = []byte(e[4:])
	case 6:
		val = uint(v)
	case 7:
		val = int64(v)
	}
	a.set(oid, typ, val)
}
