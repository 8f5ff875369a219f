package snmp

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

const (
	colDescr = ".1.3.6.1.2.1.2.2.1.2"
	colAdmin = ".1.3.6.1.2.1.2.2.1.7"
	colOper  = ".1.3.6.1.2.1.2.2.1.8"
)

// tableAgent has ifDescr on rows 1, 2, 3 and 5, ifAdminStatus on rows 1 and 2 and on a
// row with a two-arc index, and ifOperStatus (the column after) on rows 1 to 3.
func tableAgent(v1 bool) *fakeAgent {
	a := newFakeAgent()
	a.v1 = v1
	for _, i := range []int{1, 2, 3, 5} {
		a.set(Instance(colDescr, i), gosnmp.OctetString, []byte(fmt.Sprintf("eth%d", i)))
	}
	a.set(Instance(colAdmin, 1), gosnmp.Integer, 1)
	a.set(Instance(colAdmin, 2), gosnmp.Integer, 2)
	a.set(colAdmin+".3.1", gosnmp.Integer, 1)
	for _, i := range []int{1, 2, 3} {
		a.set(Instance(colOper, i), gosnmp.Integer, 1)
	}
	return a
}

func texts(m map[int]Value) map[int]string {
	out := map[int]string{}
	for i, v := range m {
		out[i] = v.Text()
	}
	return out
}

func numbers(m map[int]Value) map[int]uint64 {
	out := map[int]uint64{}
	for i, v := range m {
		out[i], _ = v.Uint64()
	}
	return out
}

// A walk of two columns stops each at its last row, skips rows indexed by more than one
// integer, and never returns the column after.
func TestWalkColumns(t *testing.T) {
	for _, tt := range []struct {
		name     string
		v1       bool
		maxOIDs  int
		requests int
	}{
		// 2c: 2 columns in a PDU of 4 → 2 repetitions: (1,1) (2,2) | (3,3.1) (5,oper.1)
		// | ifDescr alone: (end, end).
		{"v2c", false, 4, 3},
		// v1: one GETNEXT per row of the longer column, and one to see its end.
		{"v1", true, 60, 5},
		{"v2c one PDU", false, 60, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := tableAgent(tt.v1)
			pdu := tt.maxOIDs
			s := &Session{Client: a, V1: tt.v1, MaxOIDs: &pdu}
			got, err := s.Walk([]string{colDescr, colAdmin})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[int]string{1: "eth1", 2: "eth2", 3: "eth3", 5: "eth5"}; !maps.Equal(texts(got[0]), want) {
				t.Errorf("ifDescr = %v, want %v", texts(got[0]), want)
			}
			if want := map[int]uint64{1: 1, 2: 2}; !maps.Equal(numbers(got[1]), want) {
				t.Errorf("ifAdminStatus = %v, want %v", numbers(got[1]), want)
			}
			if s.Requests != tt.requests || a.requests() != tt.requests {
				t.Errorf("requests counted %d, agent answered %d, want %d", s.Requests, a.requests(), tt.requests)
			}
			if pdu != tt.maxOIDs {
				t.Errorf("MaxOIDs %d after a walk, want %d unchanged", pdu, tt.maxOIDs)
			}
		})
	}
}

// An agent that answers a walk with an OID that is not after the one asked for would
// keep the walk going for ever: it is refused.
func TestWalkRefusesNoProgress(t *testing.T) {
	for _, tt := range []struct {
		name  string
		after func(oid string, found gosnmp.SnmpPDU) gosnmp.SnmpPDU
	}{
		{"repeats", func(oid string, found gosnmp.SnmpPDU) gosnmp.SnmpPDU {
			if trimDot(oid) == trimDot(Instance(colDescr, 2)) {
				found.Name = oid
			}
			return found
		}},
		{"goes back", func(oid string, found gosnmp.SnmpPDU) gosnmp.SnmpPDU {
			if trimDot(oid) == trimDot(Instance(colDescr, 3)) {
				found.Name = Instance(colDescr, 1)
			}
			return found
		}},
		{"goes back within a two-arc index", func(oid string, found gosnmp.SnmpPDU) gosnmp.SnmpPDU {
			if trimDot(oid) == trimDot(Instance(colDescr, 3)) {
				found.Name = colDescr + ".2.9"
			}
			return found
		}},
	} {
		for _, v1 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/v1=%v", tt.name, v1), func(t *testing.T) {
				a := tableAgent(v1)
				a.after = tt.after
				s := &Session{Client: a, V1: v1, MaxRepetitions: 1}
				_, err := s.Walk([]string{colDescr})
				if !errors.Is(err, ErrNoProgress) {
					t.Fatalf("err = %v, want ErrNoProgress", err)
				}
				if a.requests() > 5 {
					t.Errorf("%d requests before giving up", a.requests())
				}
			})
		}
	}
}

// With MaxRepetitions set (discover), a tooBig halves it for this walk and the next;
// without (the poller), each walk fits its GETBULK to the PDU size and halves it for
// itself only. Neither changes the GET's PDU size.
func TestWalkTooBig(t *testing.T) {
	a := tableAgent(false)
	for i := 10; i < 70; i++ {
		a.set(Instance(colDescr, i), gosnmp.OctetString, []byte("x"))
	}
	a.maxVars = 12
	pdu := 60
	s := &Session{Client: a, MaxOIDs: &pdu, MaxRepetitions: 50}
	got, err := s.Walk([]string{colDescr})
	if err != nil {
		t.Fatal(err)
	}
	if len(got[0]) != 64 {
		t.Errorf("%d rows, want 64", len(got[0]))
	}
	if want := []uint32{50, 25, 12}; !slices.Equal(a.reps[:3], want) || s.MaxRepetitions != 12 {
		t.Errorf("repetitions asked %v, MaxRepetitions %d; want to start %v and keep 12", a.reps, s.MaxRepetitions, want)
	}
	a.reps = nil
	if _, err := s.Walk([]string{colOper}); err != nil {
		t.Fatal(err)
	}
	if a.reps[0] != 12 {
		t.Errorf("next walk asked %v, want 12 at once", a.reps)
	}

	a.reps = nil
	s = &Session{Client: a, MaxOIDs: &pdu}
	if _, err := s.Walk([]string{colDescr, colAdmin}); err != nil {
		t.Fatal(err)
	}
	if want := []uint32{30, 15, 7, 3}; !slices.Equal(a.reps[:4], want) {
		t.Errorf("repetitions asked %v, want to start %v", a.reps, want)
	}
	a.reps = nil
	if _, err := s.Walk([]string{colDescr, colAdmin}); err != nil {
		t.Fatal(err)
	}
	if a.reps[0] != 30 || pdu != 60 {
		t.Errorf("second walk asked %v with MaxOIDs %d, want 30 at first and 60", a.reps, pdu)
	}

	s = &Session{Client: &tooBigClient{Client: a}, V1: true}
	if _, err := s.Walk([]string{colDescr}); !errors.Is(err, ErrTooBig) {
		t.Errorf("v1 GETNEXT refused as tooBig: err = %v, want ErrTooBig", err)
	}
}

// tooBigClient answers every request tooBig.
type tooBigClient struct{ Client }

func (c *tooBigClient) Get([]string) (*gosnmp.SnmpPacket, error) {
	return &gosnmp.SnmpPacket{Error: gosnmp.TooBig}, nil
}
func (c *tooBigClient) GetNext([]string) (*gosnmp.SnmpPacket, error) {
	return &gosnmp.SnmpPacket{Error: gosnmp.TooBig}, nil
}

// A GET is cut into PDUs of MaxOIDs; tooBig halves MaxOIDs for good, and the values come
// back in the order asked, stamped with the time their answer arrived.
func TestGetPacksAndHalves(t *testing.T) {
	a := newFakeAgent()
	var oids []string
	for i := 1; i <= 100; i++ {
		oids = append(oids, Instance(colDescr, i))
		a.set(oids[i-1], gosnmp.OctetString, []byte(fmt.Sprint(i)))
	}
	a.maxVars = 25
	pdu := 60
	var shrinks [][2]int
	tick := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &Session{Client: a, MaxOIDs: &pdu, OnShrink: func(from, to int) { shrinks = append(shrinks, [2]int{from, to}) },
		Now: func() time.Time { tick = tick.Add(time.Second); return tick }}
	vs, err := s.Get(oids)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if v.Text() != fmt.Sprint(i+1) {
			t.Fatalf("value %d = %q, want %d", i, v.Text(), i+1)
		}
	}
	var sizes []int
	for _, g := range a.gets {
		sizes = append(sizes, len(g))
	}
	// 60 → tooBig → 30 → tooBig → 15: then 15 at a time.
	if want := []int{60, 30, 15, 15, 15, 15, 15, 15, 10}; !slices.Equal(sizes, want) {
		t.Errorf("GET sizes %v, want %v", sizes, want)
	}
	if pdu != 15 || !slices.Equal(shrinks, [][2]int{{60, 30}, {30, 15}}) {
		t.Errorf("MaxOIDs %d, shrinks %v; want 15 after 60→30→15", pdu, shrinks)
	}
	if s.Requests != len(sizes) {
		t.Errorf("Requests %d, want %d", s.Requests, len(sizes))
	}
	if !vs[0].At.Before(vs[99].At) || !vs[0].At.Equal(vs[14].At) {
		t.Errorf("times %v %v %v: want one per answer", vs[0].At, vs[14].At, vs[99].At)
	}

	s = &Session{Client: &tooBigClient{Client: a}}
	if _, err := s.Get(oids[:1]); !errors.Is(err, ErrTooBig) {
		t.Errorf("tooBig for one OID: err = %v, want ErrTooBig", err)
	}
}

// SNMPv1 refuses a whole GET for one object it lacks: that object comes back absent and
// the rest are asked again.
func TestGetAbsent(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		a := tableAgent(v1)
		s := &Session{Client: a, V1: v1}
		vs, err := s.Get([]string{Instance(colDescr, 1), Instance(colDescr, 4), Instance(colAdmin, 2), Instance(colDescr, 9)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vs {
			if v.Absent() {
				got = append(got, "-")
			} else {
				got = append(got, v.Text()+fmt.Sprint(v.Uint64()))
			}
		}
		if want := []string{"eth10 false", "-", "2 true", "-"}; !slices.Equal(got, want) {
			t.Errorf("v1=%v: values %q, want %q", v1, got, want)
		}
		want := 1
		if v1 {
			want = 3
		}
		if s.Requests != want || len(a.gets) != want {
			t.Errorf("v1=%v: %d requests, agent saw %d, want %d", v1, s.Requests, len(a.gets), want)
		}
	}
}

// An answer that is not to the question is an error, not a value.
func TestGetWrongAnswer(t *testing.T) {
	a := tableAgent(false)
	c := &renameClient{Client: a}
	s := &Session{Client: c}
	if _, err := s.Get([]string{Instance(colDescr, 1)}); err == nil {
		t.Error("an answer for another OID was taken")
	}
	s = &Session{Client: &shortClient{Client: a}}
	if _, err := s.Get([]string{Instance(colDescr, 1), Instance(colDescr, 2)}); err == nil {
		t.Error("an answer with fewer varbinds was taken")
	}
}

type renameClient struct{ Client }

func (c *renameClient) Get(oids []string) (*gosnmp.SnmpPacket, error) {
	pkt, err := c.Client.Get(oids)
	if err == nil && len(pkt.Variables) > 0 {
		pkt.Variables[0].Name += ".0"
	}
	return pkt, err
}

type shortClient struct{ Client }

func (c *shortClient) Get(oids []string) (*gosnmp.SnmpPacket, error) {
	pkt, err := c.Client.Get(oids)
	if err == nil && len(pkt.Variables) > 0 {
		pkt.Variables = pkt.Variables[1:]
	}
	return pkt, err
}

// Rows reads known consecutive rows by GETBULK and stops at the first row that is not
// the one expected; tooBig lowers the PDU size for good.
func TestRows(t *testing.T) {
	a := tableAgent(false)
	pdu := 60
	s := &Session{Client: a, MaxOIDs: &pdu}
	got, err := s.Rows([]string{colDescr, colOper}, 0, []int{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2][0].Text() != "eth3" || got[2][1].Absent() || len(a.reps) != 1 || a.reps[0] != 3 {
		t.Errorf("rows %v with repetitions %v, want 3 rows in one GETBULK of 3", got, a.reps)
	}
	// Row 4 is not there: row 3 is followed by row 5, which Rows leaves to a GET.
	got, err = s.Rows([]string{colDescr}, 2, []int{3, 4, 5})
	if err != nil || len(got) != 1 || got[0][0].Text() != "eth3" {
		t.Errorf("rows %v, %v; want only row 3", got, err)
	}
	// ifOperStatus has no row 5: the row stops there.
	got, err = s.Rows([]string{colDescr, colOper}, 3, []int{5})
	if err != nil || len(got) != 0 {
		t.Errorf("rows %v, %v; want none", got, err)
	}

	a.maxVars = 4
	a.reps = nil
	got, err = s.Rows([]string{colDescr, colOper}, 0, []int{1, 2, 3})
	if err != nil || len(got) != 3 {
		t.Fatalf("rows %v, %v", got, err)
	}
	if want := []uint32{3, 1, 1, 1}; !slices.Equal(a.reps, want) || pdu != 2 {
		t.Errorf("repetitions %v, MaxOIDs %d; want %v and 2", a.reps, pdu, want)
	}
}
