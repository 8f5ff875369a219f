package flowtop_test

import (
	"fmt"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/flowtop"
)

func Example() {
	dir, err := os.MkdirTemp("", "flowtop-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := flowtop.Open(filepath.Join(dir, "flowtop.db"), nil) // 5-minute steps, MRTG's layout
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// The collector hands every record over as it arrives...
	web, client := netip.MustParseAddr("192.0.2.80"), netip.MustParseAddr("198.51.100.7")
	for i, r := range []flow.Record{
		{Src: client, Dst: web, SrcPort: 51000, DstPort: 443, Proto: 6, Bytes: 1_200, Packets: 20},
		{Src: web, Dst: client, SrcPort: 443, DstPort: 51000, Proto: 6, Bytes: 48_000, Packets: 40},
		{Src: client, Dst: netip.MustParseAddr("192.0.2.53"), SrcPort: 40000, DstPort: 53, Proto: 17, Bytes: 300, Packets: 4},
	} {
		f := flow.Flow{Record: r, Device: "core1", In: "ge-0/0/1", Out: "ge-0/0/2"}
		if i == 1 {
			f.In, f.Out = "ge-0/0/2", "ge-0/0/1"
		}
		s.Add(&f)
	}
	// ... and the daemon ends each step.
	end := time.Date(2026, 1, 15, 12, 5, 0, 0, time.UTC)
	if err := s.Commit(end); err != nil {
		log.Fatal(err)
	}

	res, err := s.Top(flowtop.Query{Device: "core1", Interface: "ge-0/0/1", Direction: flowtop.Both,
		Dimension: flowtop.Service, By: flowtop.Bytes, From: end.Add(-time.Hour), To: end, N: 1})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range res.Entries {
		fmt.Printf("%s %d bytes (exact: %v)\n", e.Key, e.Weight, e.Err == 0 && e.Miss == 0)
	}
	fmt.Printf("other %d of %d bytes, rows of %v from %s\n", res.Other, res.Total, res.Step, res.From.Format(time.Kitchen))
	// Output:
	// tcp/443 49200 bytes (exact: true)
	// other 300 of 49500 bytes, rows of 5m0s from 11:05AM
}
