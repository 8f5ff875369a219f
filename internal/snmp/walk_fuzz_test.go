package snmp

import (
	"errors"
	"strconv"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// scriptedAgent answers each GETNEXT or GETBULK as the fuzzer's bytes say: the next row,
// the OID asked again, an earlier row, a row with a two-arc index, the column after, the
// end of the MIB, an error status, too few or too many varbinds. The script starts over
// when it runs out, so an agent can repeat itself for ever; rows end at maxRow, so one
// that keeps going forward cannot.
type scriptedAgent struct {
	script   []byte
	pos      int
	requests int
}

const maxRow = 50

func (a *scriptedAgent) take() (byte, bool) {
	if len(a.script) == 0 {
		return 0, false
	}
	b := a.script[a.pos%len(a.script)]
	a.pos++
	return b, true
}

func (a *scriptedAgent) Connect() error { return nil }
func (a *scriptedAgent) Close() error   { return nil }
func (a *scriptedAgent) Get([]string) (*gosnmp.SnmpPacket, error) {
	return nil, errors.New("no GET in a walk")
}

func (a *scriptedAgent) GetNext(oids []string) (*gosnmp.SnmpPacket, error) {
	return a.answer(oids, 1)
}

func (a *scriptedAgent) GetBulk(oids []string, _ uint8, reps uint32) (*gosnmp.SnmpPacket, error) {
	return a.answer(oids, int(reps))
}

func (a *scriptedAgent) answer(oids []string, reps int) (*gosnmp.SnmpPacket, error) {
	a.requests++
	if a.requests > 100_000 {
		return nil, errEndless
	}
	if b, ok := a.take(); ok {
		switch b % 16 {
		case 0:
			return &gosnmp.SnmpPacket{Error: gosnmp.TooBig}, nil
		case 1:
			return &gosnmp.SnmpPacket{Error: gosnmp.NoSuchName, ErrorIndex: uint8(b >> 4)}, nil
		case 2:
			return &gosnmp.SnmpPacket{Error: gosnmp.GenErr, ErrorIndex: 1}, nil
		}
	}
	cur := append([]string(nil), oids...)
	pkt := &gosnmp.SnmpPacket{}
	n := reps * len(oids)
	if b, ok := a.take(); ok && b%8 == 0 {
		n = int(b>>3) % (n + 2) // too few or too many
	}
	for i := range n {
		c := i % len(oids)
		pdu := gosnmp.SnmpPDU{Name: cur[c], Type: gosnmp.EndOfMibView}
		if b, ok := a.take(); ok {
			col, row := splitRow(cur[c])
			name := cur[c]
			switch b % 7 {
			case 0, 1:
				name = col + "." + strconv.Itoa(row+1+int(b>>5))
			case 2: // the same again
			case 3:
				name = col + "." + strconv.Itoa(max(row-1-int(b>>5), 0))
			case 4:
				name = col + "." + strconv.Itoa(row) + "." + strconv.Itoa(int(b>>5))
			case 5:
				name = col + "9.1"
			case 6:
				name = ""
			}
			if _, r := splitRow(name); name != "" && r <= maxRow {
				pdu = gosnmp.SnmpPDU{Name: name, Type: gosnmp.Integer, Value: int(b)}
			}
		}
		cur[c] = pdu.Name
		pkt.Variables = append(pkt.Variables, pdu)
	}
	return pkt, nil
}

// splitRow cuts an OID of the fuzzed columns into the column and its first index arc
// (0 for the column itself).
func splitRow(oid string) (string, int) {
	for _, col := range []string{colDescr, colAdmin} {
		if len(oid) > len(col) && oid[:len(col)+1] == col+"." {
			rest := oid[len(col)+1:]
			for i := range len(rest) {
				if rest[i] == '.' {
					rest = rest[:i]
					break
				}
			}
			n, _ := strconv.Atoi(rest)
			return col, n
		}
		if oid == col {
			return col, 0
		}
	}
	return oid, 0
}

// Whatever an agent answers, a walk ends, and what it returns is each column's own rows.
func FuzzWalk(f *testing.F) {
	f.Add([]byte{0, 1, 1, 1, 1, 1, 1}, false, uint8(0))
	f.Add([]byte{3, 2, 2, 2, 2, 2}, false, uint8(4))
	f.Add([]byte{3, 9, 9, 3, 3, 3, 7, 7, 7}, true, uint8(0))
	f.Add([]byte{16, 0, 32, 0, 0, 0, 0, 1}, false, uint8(2))
	f.Fuzz(func(t *testing.T, script []byte, v1 bool, maxReps uint8) {
		a := &scriptedAgent{script: script}
		pdu := 6
		s := &Session{Client: a, V1: v1, MaxOIDs: &pdu, MaxRepetitions: int(maxReps % 8)}
		cols := []string{colDescr, colAdmin}
		got, err := s.Walk(cols)
		if errors.Is(err, errEndless) {
			t.Fatalf("walk did not end after %d requests", a.requests)
		}
		if s.Requests != a.requests {
			t.Errorf("Requests %d, agent answered %d", s.Requests, a.requests)
		}
		if err != nil {
			return
		}
		for i, m := range got {
			for idx, v := range m {
				if trimDot(v.PDU.Name) != trimDot(Instance(cols[i], idx)) {
					t.Errorf("column %s row %d holds %s", cols[i], idx, v.PDU.Name)
				}
			}
		}
	})
}
