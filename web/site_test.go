package web

import (
	"math"
	"time"
)

// sampleSite is a small site with the awkward cases: names with '/',
// hostile device-supplied text, unknown values, a missing graph, a device
// whose last poll failed.
func sampleSite() Site {
	loc := time.FixedZone("CET", 3600)
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, loc)
	nan := math.NaN()
	graphs := func(scale float64) []Graph {
		var gs []Graph
		for i, p := range []string{"day", "week", "month", "year"} {
			f := scale * float64(i+1)
			gs = append(gs, Graph{
				Period: p,
				Width:  500, Height: 135,
				In:       Stats{Max: 812e6 * f / 4, Average: 123.4e6 * f / 4, Current: 98.7e6, P95: 456e6 * f / 4, Total: 1.234e12 * f},
				Out:      Stats{Max: 45.6e6, Average: 12.3e6, Current: 999.6, P95: 33e6, Total: 98.7e9 * f},
				P95Basis: "of 5-minute averages over " + p + " <rows>",
			})
		}
		return gs
	}
	unknownGraphs := graphs(1)
	for i := range unknownGraphs {
		unknownGraphs[i].In = Stats{Max: nan, Average: nan, Current: nan, P95: nan, Total: nan}
		unknownGraphs[i].Out = Stats{Max: 0, Average: 0, Current: nan, P95: 0, Total: 0}
		unknownGraphs[i].Width, unknownGraphs[i].Height = 0, 0
	}
	day := graphs(1)
	day[0].Band = true
	day[0].Flows = &Flows{
		FlowBytes: [2]float64{1.21e12, 97e9},
		SNMPBytes: [2]float64{1.234e12, 98.7e9 * 2},
		Stack:     true,
		Lists: []TalkerList{
			{Title: "Top sources", Rows: []Talker{{"10.0.0.1", 61.2e6, 0.52, 0}, {"2001:db8::7", 30e6, 0.255, 0}, {"<b>x</b>", 1, 0, 0}},
				Other: Talker{Bits: 26.5e6, Share: 0.225}},
			{Title: "Top services", Rows: []Talker{{"tcp/443", 90e6, 0.77, 1}}, Other: Talker{Bits: 27.7e6, Share: 0.23, Layer: 2}},
		},
	}
	return Site{
		Title:     "mrtgo",
		Generated: at.Add(30 * time.Second),
		Location:  loc,
		Refresh:   5 * time.Minute,
		Devices: []Device{
			{
				Name: "core1", Host: "192.0.2.1",
				Descr:        `Juniper <b>MX</b> & "friends"`,
				Uptime:       12*24*time.Hour + 3*time.Hour + 4*time.Minute + 5*time.Second,
				LastPoll:     at,
				LastSuccess:  at,
				PollDuration: 850 * time.Millisecond,
				Requests:     17,
				Retries:      2,
				Flows: &DeviceFlows{
					Exporter: "192.0.2.1", LastSeen: at, Datagrams: 1234, Records: 40000, Errors: 3,
					Interfaces: []InterfaceFlows{{Name: "ge-0/0/0", FlowBytes: [2]float64{1.21e12, 97e9}, SNMPBytes: [2]float64{1.234e12, 98.7e9 * 2}}},
					Lists:      []TalkerList{{Title: "Top sources", Rows: []Talker{{"10.0.0.1", 61.2e6, 0.52, 0}}, Other: Talker{Bits: 56.5e6, Share: 0.48}}},
				},
				Interfaces: []Interface{
					{
						Name: "ge-0/0/0", Descr: "ge-0/0/0", Alias: "<script>alert(1)</script>",
						Status: "up", Speed: 1e9, LastUpdate: at, Graphs: day,
					},
					{
						Name: "xe-1/0/0.100", Descr: "xe-1/0/0.100", Alias: "uplink to isp \"A\" & 'B'",
						Status: "up", Speed: 10e9, LastUpdate: at, Graphs: graphs(2),
					},
					{
						Name: "index", Descr: "an interface named index", Speed: 0,
						LastUpdate: at, Graphs: unknownGraphs,
					},
				},
			},
			{
				Name: "edge 2", Host: "198.51.100.7",
				PollError: `get sysUpTime.0: timeout <after 2s>`,
				LastPoll:  at,
				Requests:  3,
				Missing:   []string{"eth9", "<b>gone</b>"},
				Interfaces: []Interface{
					{Name: "eth0", Descr: "eth0", Speed: 100e6},
				},
			},
		},
		Exporters: []Exporter{
			{Addr: "192.0.2.1", Device: "core1", LastSeen: at, Datagrams: 1234, Records: 40000, Errors: 3},
			{Addr: "203.0.113.9", LastSeen: at, Datagrams: 7, Records: 70},
		},
	}
}
