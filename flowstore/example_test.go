package flowstore_test

import (
	"fmt"
	"log"
	"net/netip"
	"os"
	"time"

	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/flowstore"
)

func Example() {
	dir, err := os.MkdirTemp("", "flows")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := flowstore.Open(dir, flowstore.Options{MaxAge: 365 * 24 * time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	at := time.Date(2026, 11, 2, 10, 4, 59, 0, time.UTC)
	for i, src := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.1"} {
		f := flow.Flow{Record: flow.Record{Received: at.Add(time.Duration(i) * time.Second),
			Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr("192.0.2.10"), DstPort: 443, Proto: 6,
			Bytes: 1500 * uint64(i+1), Packets: uint64(i + 1), SamplingRate: 1}, Device: "core1", In: "ge-0/0/1"}
		if err := s.Append(f); err != nil {
			log.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		log.Fatal(err)
	}

	bytes := map[netip.Addr]uint64{}
	st, err := s.Scan(at, at.Add(time.Hour), func(fs []flow.Flow) error {
		for _, f := range fs {
			bytes[f.Src] += f.Bytes
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Records, "records:", bytes[netip.MustParseAddr("10.0.0.1")], bytes[netip.MustParseAddr("10.0.0.2")])

	segs, err := s.Segments(time.Time{}, time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	for _, seg := range segs {
		fmt.Println(seg.Start.Format("15:04"), seg.End.Format("15:04"), seg.Records)
	}
	// Output:
	// 3 records: 6000 3000
	// 10:00 10:05 1
	// 10:05 10:10 2
}
