package snmp

// Against a real net-snmp snmpd on 127.0.0.1 (internal/testsnmpd).

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/testsnmpd"
)

const (
	oidSysUpTime = ".1.3.6.1.2.1.1.3.0"
	oidSysName   = ".1.3.6.1.2.1.1.5.0"
	oidIfNumber  = ".1.3.6.1.2.1.2.1.0"
	colType      = ".1.3.6.1.2.1.2.2.1.3"
	colName      = ".1.3.6.1.2.1.31.1.1.1.1"
)

func dialSnmpd(t *testing.T, a *testsnmpd.Agent, s config.SNMP, onSent func()) *Conn {
	t.Helper()
	s.Port, s.Timeout, s.Retries = a.Port, 2*time.Second, 1
	c, err := Dial(context.Background(), a.Host, s, onSent)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A walk of several columns returns what walks of one column each return, over GETBULK
// of any size and over SNMPv1's GETNEXT, and holds exactly the agent's ifNumber rows.
func TestSnmpdWalk(t *testing.T) {
	a := testsnmpd.Start(t, "w4lk", "")
	cols := []string{colDescr, colType, colAdmin, colName}
	var first []map[int]Value
	for _, tt := range []struct {
		version string
		maxOIDs int
	}{{"2c", 60}, {"2c", 3}, {"1", 60}} {
		c := dialSnmpd(t, a, config.SNMP{Version: tt.version, Community: a.Community}, nil)
		pdu := tt.maxOIDs
		s := &Session{Client: c, V1: tt.version == "1", MaxOIDs: &pdu}
		n, err := s.Get([]string{oidIfNumber})
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := n[0].Uint64()
		got, err := s.Walk(cols)
		if err != nil {
			t.Fatalf("v%s, %d OIDs: %v", tt.version, tt.maxOIDs, err)
		}
		for i, col := range cols {
			if col != colName && uint64(len(got[i])) != rows {
				t.Errorf("v%s: %d rows of %s, ifNumber %d", tt.version, len(got[i]), col, rows)
			}
			one, err := s.Walk([]string{col})
			if err != nil {
				t.Fatal(err)
			}
			if !maps.EqualFunc(got[i], one[0], sameValue) {
				t.Errorf("v%s, %d OIDs: %s walked with others %v, alone %v", tt.version, tt.maxOIDs, col, got[i], one[0])
			}
		}
		if !hasText(got[3], "lo") {
			t.Errorf("v%s: no lo in ifName %v", tt.version, got[3])
		}
		if first == nil {
			first = got
			continue
		}
		for i := range cols {
			if !maps.EqualFunc(got[i], first[i], sameValue) {
				t.Errorf("v%s, %d OIDs: %s = %v, want %v", tt.version, tt.maxOIDs, cols[i], got[i], first[i])
			}
		}
	}
}

func sameValue(a, b Value) bool {
	return a.PDU.Name == b.PDU.Name && a.PDU.Type == b.PDU.Type && a.Text() == b.Text() && a.MAC() == b.MAC() &&
		func() bool { x, _ := a.Uint64(); y, _ := b.Uint64(); return x == y }()
}

func hasText(m map[int]Value, s string) bool {
	for _, v := range m {
		if v.Text() == s {
			return true
		}
	}
	return false
}

// A GET of objects the agent has and lacks, one OID per PDU or all in one, on v1 and
// v2c, gives the same values.
func TestSnmpdGet(t *testing.T) {
	a := testsnmpd.Start(t, "g3t", "sysName get.example\n")
	oids := []string{oidSysName, ".1.3.6.1.2.1.1.99.0", oidSysUpTime, Instance(colDescr, 1)}
	for _, tt := range []struct {
		version           string
		maxOIDs, requests int
	}{{"2c", 60, 1}, {"2c", 1, 4}, {"1", 60, 2}} {
		sent := 0
		c := dialSnmpd(t, a, config.SNMP{Version: tt.version, Community: a.Community}, func() { sent++ })
		pdu := tt.maxOIDs
		s := &Session{Client: c, V1: tt.version == "1", MaxOIDs: &pdu}
		vs, err := s.Get(oids)
		if err != nil {
			t.Fatalf("v%s: %v", tt.version, err)
		}
		up, ok := vs[2].Ticks()
		if vs[0].Text() != "get.example" || !vs[1].Absent() || !ok || up == 0 || vs[3].Text() == "" || vs[0].At.IsZero() {
			t.Errorf("v%s: values %+v", tt.version, vs)
		}
		if s.Requests != tt.requests || sent != tt.requests {
			t.Errorf("v%s, %d OIDs: %d requests, %d datagrams, want %d", tt.version, tt.maxOIDs, s.Requests, sent, tt.requests)
		}
	}
}

// An SNMPv3 client discovers the agent's engine before its first request and reads
// through authentication and privacy.
func TestSnmpdV3(t *testing.T) {
	a := testsnmpd.Start(t, "unused", "createUser ops SHA-256 \"ops-auth-pass\" AES \"ops-priv-pass\"\nrouser ops priv\n")
	sent := 0
	c := dialSnmpd(t, a, config.SNMP{Version: "3", Username: "ops", SecurityLevel: config.AuthPriv,
		AuthProtocol: "SHA-256", AuthPassword: "ops-auth-pass", PrivProtocol: "AES", PrivPassword: "ops-priv-pass"}, func() { sent++ })
	if c.EngineKnown() {
		t.Fatal("engine known before any request")
	}
	s := &Session{Client: c}
	vs, err := s.Get([]string{oidSysUpTime})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := vs[0].Ticks(); !ok || !c.EngineKnown() {
		t.Errorf("sysUpTime %+v, engine known %v", vs[0], c.EngineKnown())
	}
	if sent != 2 || s.Requests != 1 {
		t.Errorf("%d datagrams for %d requests, want engine discovery and the GET", sent, s.Requests)
	}
	tab, err := s.Walk([]string{colName})
	if err != nil || !hasText(tab[0], "lo") {
		t.Errorf("walk ifName over v3: %v, %v", tab, err)
	}
}
