package snmpsim_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

func Example() {
	ctx := context.Background()
	clock := snmpsim.NewManualClock(time.Date(2026, time.March, 18, 12, 0, 0, 0, time.UTC))
	dev := snmpsim.DemoNetwork()[4] // wan1
	agent, err := snmpsim.Start(ctx, "127.0.0.1:0", dev, &snmpsim.Options{Now: clock.Now})
	if err != nil {
		log.Fatal(err)
	}
	defer agent.Close()

	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(agent.Port()), Community: "public",
		Version: gosnmp.Version2c, Timeout: 2 * time.Second}
	if err := g.Connect(); err != nil {
		log.Fatal(err)
	}
	defer g.Conn.Close()
	names, err := g.BulkWalkAll(".1.3.6.1.2.1.31.1.1.1.1")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range names[:3] {
		fmt.Printf("%s %s\n", p.Name, p.Value)
	}

	// Counters are a pure function of the clock: five minutes later the
	// served counter has grown by exactly what Counters says.
	in1, _ := agent.Counters(1, clock.Now())
	in2, _ := agent.Counters(1, clock.Advance(5*time.Minute))
	res, err := g.Get([]string{".1.3.6.1.2.1.31.1.1.1.6.1"})
	if err != nil {
		log.Fatal(err)
	}
	served := gosnmp.ToBigInt(res.Variables[0].Value).Uint64()
	fmt.Println(served == in2, in2 > in1)
	// Output:
	// .1.3.6.1.2.1.31.1.1.1.1.1 ge-0/0/0
	// .1.3.6.1.2.1.31.1.1.1.1.2 ge-0/0/1
	// .1.3.6.1.2.1.31.1.1.1.1.3 ge-0/0/2
	// true true
}
