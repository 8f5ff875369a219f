package poller_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

// Poll a simulated router twice, five minutes apart, and turn the counter deltas into
// rates, as the store does.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := snmpsim.NewManualClock(time.Date(2026, time.March, 18, 12, 0, 0, 0, time.UTC))
	agent, err := snmpsim.Start(ctx, "127.0.0.1:0", snmpsim.DemoNetwork()[4], &snmpsim.Options{Now: clock.Now})
	if err != nil {
		log.Fatal(err)
	}
	defer agent.Close()

	devices := []config.Device{{
		Name: "wan1",
		Host: "127.0.0.1",
		SNMP: config.SNMP{Version: "2c", Community: agent.Community(), Port: agent.Port(),
			Timeout: time.Second, Retries: 1, MaxOIDs: 60},
		Interfaces: []string{"ge-0/0/0", "ge-0/0/9"},
	}}
	p := poller.New(devices, poller.Options{Now: clock.Now})

	before := p.Poll(ctx)[0]
	clock.Advance(5 * time.Minute)
	after := p.Poll(ctx)[0]
	if after.Err != nil {
		log.Fatal(after.Err)
	}
	fmt.Println("missing:", after.Missing)
	for i, s := range after.Samples {
		prev := before.Samples[i]
		secs := s.Time.Sub(prev.Time).Seconds()
		in := float64(s.In-prev.In) * 8 / secs
		fmt.Printf("%s ifIndex %d, %d-bit, %q, speed %d bit/s, in rate within (0, speed]: %v\n",
			s.Interface, s.Index, s.Bits, s.Alias, s.Speed, in > 0 && in <= float64(s.Speed))
	}
	// Output:
	// missing: [ge-0/0/9]
	// ge-0/0/0 ifIndex 1, 64-bit, "internet: ISP A 1G", speed 1000000000 bit/s, in rate within (0, speed]: true
}
