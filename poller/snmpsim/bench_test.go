package snmpsim

import (
	"fmt"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// BenchmarkCounters is one Counters call; a year of 5-minute back-fill for
// 60 interfaces is about 6.3M of them.
func BenchmarkCounters(b *testing.B) {
	dev := DemoNetwork()[0]
	a := newAgent(dev, &Options{Now: func() time.Time { return t0 }, BootTime: t0.AddDate(-1, 0, 0)})
	n := len(dev.Interfaces)
	tm := a.BootTime()
	var sink uint64
	i := 0
	for b.Loop() {
		in, out := a.Counters(1+i%n, tm)
		sink += in + out
		i++
		if i%n == 0 {
			tm = tm.Add(5 * time.Minute)
		}
	}
	_ = sink
}

// BenchmarkBackfillYear60 walks a year of 5-minute samples for 60
// interfaces, as the demo's back-fill does.
func BenchmarkBackfillYear60(b *testing.B) {
	devs := DemoNetwork()
	var agents []*Agent
	for _, d := range devs {
		agents = append(agents, newAgent(d, &Options{Now: func() time.Time { return t0 }, BootTime: t0.AddDate(-1, 0, -1)}))
	}
	for b.Loop() {
		calls := 0
		for tm := t0.AddDate(-1, 0, 0); tm.Before(t0); tm = tm.Add(5 * time.Minute) {
			for k, a := range agents {
				for i := range devs[k].Interfaces {
					a.Counters(devs[k].ifIndex(i), tm)
					calls++
				}
			}
		}
		b.ReportMetric(float64(calls), "calls/op")
	}
}

// get60 is a GET of sysUpTime plus in and out HC counters of interfaces
// 1..30 (60 OIDs with the first counter pair's ifName dropped).
func get60() []gosnmp.SnmpPDU {
	pdus := []gosnmp.SnmpPDU{{Name: oidSysUpTime, Type: gosnmp.Null}}
	for i := 1; len(pdus) < 60; i++ {
		pdus = append(pdus,
			gosnmp.SnmpPDU{Name: fmt.Sprintf("%s.%d", oidIfHCIn, i), Type: gosnmp.Null},
			gosnmp.SnmpPDU{Name: fmt.Sprintf("%s.%d", oidIfHCOut, i), Type: gosnmp.Null})
	}
	return pdus[:60]
}

// BenchmarkHandleGet60 is the agent's CPU for one 60-OID GET: decode,
// compute, encode, without the network.
func BenchmarkHandleGet60(b *testing.B) {
	dev := Network(1, 100, 1)[0]
	a := newAgent(dev, nil)
	req := &gosnmp.SnmpPacket{
		Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetRequest,
		RequestID: 1234, Variables: get60(),
	}
	msg, err := req.MarshalMsg()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if resp := a.handle(msg); resp == nil {
			b.Fatal("no response")
		}
	}
}

// BenchmarkGet60Loopback is one 60-OID GET round trip from a gosnmp client
// over loopback UDP.
func BenchmarkGet60Loopback(b *testing.B) {
	a, err := Start(b.Context(), "127.0.0.1:0", Network(1, 100, 1)[0], nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(a.Port()), Community: "public",
		Version: gosnmp.Version2c, Timeout: 2 * time.Second, MaxOids: 60}
	if err := g.Connect(); err != nil {
		b.Fatal(err)
	}
	defer g.Conn.Close()
	var oids []string
	for _, p := range get60() {
		oids = append(oids, p.Name)
	}
	for b.Loop() {
		res, err := g.Get(oids)
		if err != nil || len(res.Variables) != 60 {
			b.Fatalf("Get: %v", err)
		}
	}
}

// BenchmarkBulkWalkIfXTable walks ifXTable (16 columns) of a 1,000-interface device.
func BenchmarkBulkWalkIfXTable(b *testing.B) {
	a, err := Start(b.Context(), "127.0.0.1:0", Network(1, 1000, 1)[0], nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(a.Port()), Community: "public",
		Version: gosnmp.Version2c, Timeout: 2 * time.Second, MaxRepetitions: 50}
	if err := g.Connect(); err != nil {
		b.Fatal(err)
	}
	defer g.Conn.Close()
	for b.Loop() {
		pdus, err := g.BulkWalkAll(oidIfXTable)
		if err != nil || len(pdus) != 16*1000 { // the 16 columns the simulator answers, packets among them
			b.Fatalf("BulkWalkAll: %d varbinds, %v", len(pdus), err)
		}
	}
}
