package pipeline

import (
	"bytes"
	"context"
	"image/png"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/flowtop"
	"github.com/mrtgo/mrtgo/web"
)

// The pages show what flow records say beside the graphs: top talkers per period,
// a services graph, and the flows against SNMP over the same rows — 1.00 when an
// exporter saw everything, 0.50 when it saw half.
func TestPublishFlows(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	counters := map[string][2]uint64{}
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	// 1 MB/s in and 0.5 MB/s out on ge-0/0/0 for six hours.
	history(t, rec, "r1", []string{"ge-0/0/0"}, t0.Add(-6*time.Hour), t0, step, counters, steady)

	top, err := flowtop.Open(filepath.Join(t.TempDir(), "top.db"), &flowtop.Options{Step: step})
	if err != nil {
		t.Fatal(err)
	}
	defer top.Close()
	// The last two hours in flows: all the input, in three services from two
	// sources; half the output.
	for end := t0.Add(-2 * time.Hour).Add(step); !end.After(t0); end = end.Add(step) {
		in := uint64(1e6 * step.Seconds())
		for i, part := range []struct {
			src   string
			port  uint16
			share uint64
		}{{"10.0.0.1", 443, 6}, {"10.0.0.2", 53, 3}, {"10.0.0.1", 22, 1}} {
			f := flow.Flow{Record: flow.Record{Received: end.Add(-time.Second), Src: netip.MustParseAddr(part.src),
				Dst: netip.MustParseAddr("192.0.2.1"), SrcPort: 40000 + uint16(i), DstPort: part.port, Proto: 6,
				Bytes: in * part.share / 10, Packets: 10, InIf: 1, SamplingRate: 1}, Device: "r1", In: "ge-0/0/0"}
			top.Add(&f)
		}
		out := flow.Flow{Record: flow.Record{Received: end.Add(-time.Second), Src: netip.MustParseAddr("192.0.2.1"),
			Dst: netip.MustParseAddr("10.0.0.1"), Proto: 17, Bytes: uint64(0.25e6 * step.Seconds()), Packets: 1, OutIf: 1,
			SamplingRate: 1}, Device: "r1", Out: "ge-0/0/0"}
		top.Add(&out)
		if err := top.Commit(end); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	now := t0.Add(10 * time.Second)
	exporters := []web.Exporter{{Addr: "127.0.0.1", Device: "r1", LastSeen: now, Datagrams: 5, Records: 99},
		{Addr: "127.0.0.9", LastSeen: now, Datagrams: 1, Records: 1}}
	pub := &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: func() time.Time { return now },
		Flows: &FlowPages{Top: top, Exporters: func() []web.Exporter { return exporters }, Log: quiet}}
	if _, err := pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	site := readSite(t, dir)
	page := site[web.InterfacePage("r1", "ge-0/0/0")]
	for _, want := range []string{
		"Who and what, from flow records",
		`in 7.20 GB by flows, 7.20 GB by SNMP: <span class="ok">1.00</span>`,
		`out 1.80 GB by flows, 3.60 GB by SNMP: <span class="err">0.50</span>`,
		"<caption>Top sources</caption>", "<tr><td>10.0.0.1</td><td>5.60 Mb/s</td><td>56.0%</td></tr>",
		"<caption>Top services</caption>", `<span class="key l1"></span>tcp/443`, `<span class="key l2"></span>tcp/53`, `<span class="key l3"></span>no well-known port`,
		"<caption>Protocols</caption>",
		web.FlowGraphFile("r1", "ge-0/0/0", "day", 2)[len("r1/"):],
	} {
		if !strings.Contains(page, want) {
			t.Errorf("interface page lacks %q", want)
		}
	}
	// Sources over the day: 10.0.0.1 carried 70 % of the input, and the output's
	// source 192.0.2.1 comes in too (both directions count).
	if i, j := strings.Index(page, "10.0.0.1"), strings.Index(page, "10.0.0.2"); i < 0 || j < i {
		t.Errorf("10.0.0.1 is not listed above 10.0.0.2")
	}
	for _, scale := range []int{1, 2} {
		b := site[web.FlowGraphFile("r1", "ge-0/0/0", "day", scale)]
		img, err := png.Decode(bytes.NewReader([]byte(b)))
		if err != nil {
			t.Fatalf("services graph at %dx: %v", scale, err)
		}
		if got := img.Bounds().Dx(); got != 500*scale {
			t.Errorf("services graph at %dx is %d wide", scale, got)
		}
	}
	dev := site[web.DevicePage("r1")]
	for _, want := range []string{"<h2>Flows</h2>", "<tr><th>Exporter</th><td>127.0.0.1</td></tr>", "Top sources, last day"} {
		if !strings.Contains(dev, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
	if index := site["index.html"]; !strings.Contains(index, "127.0.0.9") || !strings.Contains(index, "no device claims it") {
		t.Errorf("index lacks the unclaimed exporter")
	}
}
