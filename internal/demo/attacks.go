package demo

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

// The attacks the demo stages, so that its events page, the marks on its graphs and
// "mrtgo events" have something to show. They come in on core1's transit link for
// the customers behind it, beside the model's traffic and not in its counters (a few
// megabits on a link of gigabits), in the back-filled flows and the live export alike.
const (
	attackDevice = "core1"
	attackIface  = "xe-0/0/1"
)

// stagedAttacks returns the flows of the staged attacks that end in (from, to], coming
// in on ifIndex:
//
//   - every hour at :12, a port scan: 203.0.113.66 probes 300 TCP ports of 10.1.20.10
//     in a minute, one SYN each;
//   - at :37 of even hours, a SYN flood: 198.51.100.23 sends 1,500 SYN/s from one port
//     to 10.1.20.80:443 for three minutes (a flow a second);
//   - at :37 of odd hours, a DNS reflection: the answers of 64 open resolvers, 3,200
//     packets/s of 1,400 bytes in all, to 10.1.20.99 for two minutes (a flow per
//     resolver every five seconds).
func stagedAttacks(ifIndex int, from, to time.Time) []snmpsim.Flow {
	var out []snmpsim.Flow
	add := func(f snmpsim.Flow) {
		if f.End.After(from) && !f.End.After(to) {
			f.InIf = ifIndex
			out = append(out, f)
		}
	}
	for h := from.Truncate(time.Hour).Add(-time.Hour); h.Before(to); h = h.Add(time.Hour) {
		scan := h.Add(12 * time.Minute)
		for i := range 300 {
			at := scan.Add(time.Duration(i) * 200 * time.Millisecond)
			add(snmpsim.Flow{Src: netip.MustParseAddr("203.0.113.66"), Dst: netip.MustParseAddr("10.1.20.10"),
				SrcPort: 61000, DstPort: uint16(1 + i*3), Proto: 6, TCPFlags: 0x02, Bytes: 44, Packets: 1, Start: at, End: at})
		}
		at := h.Add(37 * time.Minute)
		if h.Hour()%2 == 0 {
			for s := range 180 {
				t := at.Add(time.Duration(s) * time.Second)
				add(snmpsim.Flow{Src: netip.MustParseAddr("198.51.100.23"), Dst: netip.MustParseAddr("10.1.20.80"),
					SrcPort: 40000, DstPort: 443, Proto: 6, TCPFlags: 0x02, Bytes: 1500 * 40, Packets: 1500,
					Start: t, End: t.Add(time.Second - time.Millisecond)})
			}
			continue
		}
		for s := 0; s < 120; s += 5 {
			t := at.Add(time.Duration(s) * time.Second)
			for r := range 64 {
				add(snmpsim.Flow{Src: netip.MustParseAddr(fmt.Sprintf("198.18.%d.%d", r/32, 1+r%32*7)), Dst: netip.MustParseAddr("10.1.20.99"),
					SrcPort: 53, DstPort: 33000 + uint16(r), Proto: 17, Bytes: 250 * 1400, Packets: 250,
					Start: t, End: t.Add(5*time.Second - time.Millisecond)})
			}
		}
	}
	return out
}
