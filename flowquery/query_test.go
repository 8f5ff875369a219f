package flowquery

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// smallFlows are six flows over ten seconds: 10.0.0.1 sends most bytes, 10.0.0.2
// most flows, 2001:db8::1 most packets.
func smallFlows() []*flow.Flow {
	fs := []*flow.Flow{
		testFlow("10.0.0.1", "192.0.2.1", 40000, 443, 6, 0x18, 10, 9000),
		testFlow("10.0.0.1", "192.0.2.1", 40000, 443, 6, 0x18, 5, 4000),
		testFlow("10.0.0.2", "192.0.2.53", 5353, 53, 17, 0, 1, 80),
		testFlow("10.0.0.2", "192.0.2.53", 5354, 53, 17, 0, 1, 80),
		testFlow("10.0.0.2", "192.0.2.53", 5355, 53, 17, 0, 1, 80),
		testFlow("2001:db8::1", "2001:db8::2", 0, 0, 58, 0, 100, 6400),
	}
	for i, f := range fs {
		f.Start = t0.Add(time.Duration(i) * time.Second)
		f.End = f.Start.Add(5 * time.Second) // the last ends at t0+10s
	}
	return fs
}

func TestQueryResult(t *testing.T) {
	res, err := Query{Group: GroupSrc, By: ByBytes, Top: 2}.Run(slices.Values(smallFlows()))
	if err != nil {
		t.Fatal(err)
	}
	if !res.From.Equal(t0) || !res.To.Equal(t0.Add(10*time.Second)) || res.Seconds() != 10 {
		t.Errorf("range %v to %v", res.From, res.To)
	}
	want := []Row{
		{Key: Key{Src: netip.MustParseAddr("10.0.0.1")}, Counts: Counts{2, 15, 13000}, Keys: 1,
			Share: 100 * 13000.0 / 19640, BitsPerSec: 8 * 1300, PacketsPerSec: 1.5},
		{Key: Key{Src: netip.MustParseAddr("2001:db8::1")}, Counts: Counts{1, 100, 6400}, Keys: 1,
			Share: 100 * 6400.0 / 19640, BitsPerSec: 8 * 640, PacketsPerSec: 10},
	}
	if !reflect.DeepEqual(res.Rows, want) {
		t.Errorf("rows\n%+v\nwant\n%+v", res.Rows, want)
	}
	if o := res.Other; o.Counts != (Counts{3, 3, 240}) || o.Keys != 1 {
		t.Errorf("other %+v", o)
	}
	if tot := res.Total; tot.Counts != (Counts{6, 118, 19640}) || tot.Keys != 3 || tot.Share != 100 {
		t.Errorf("total %+v", tot)
	}

	// By flows, another order; conv keys are whole 5-tuples; a range given is used.
	res, err = Query{Group: GroupConv, By: ByFlows, From: t0, To: t0.Add(time.Minute)}.Run(slices.Values(smallFlows()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 5 || res.Rows[0].Key != (Key{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("192.0.2.1"),
		SrcPort: 40000, DstPort: 443, Proto: 6}) || res.Rows[0].Flows != 2 || res.Other.Keys != 0 || res.Seconds() != 60 {
		t.Errorf("conv rows %+v", res.Rows)
	}
	// Ties (the three DNS flows) go by key.
	if k := res.Rows[2].Key; k.SrcPort != 5353 || res.Rows[3].Key.SrcPort != 5354 {
		t.Errorf("ties out of order: %+v", res.Rows)
	}

	// A filter; no flow at all.
	res, err = Query{Filter: MustParseFilter("proto udp"), Group: GroupDstPort, By: ByPackets}.Run(slices.Values(smallFlows()))
	if err != nil || len(res.Rows) != 1 || res.Rows[0].Key.DstPort != 53 || res.Total.Packets != 3 {
		t.Errorf("filtered: %+v %v", res, err)
	}
	res, err = Query{Group: GroupProto}.Run(slices.Values([]*flow.Flow(nil)))
	if err != nil || len(res.Rows) != 0 || res.Total != (Row{}) || res.Seconds() != 0 {
		t.Errorf("empty: %+v %v", res, err)
	}
}

func TestQueryErrors(t *testing.T) {
	fs := smallFlows()
	for _, tt := range []struct {
		q    Query
		want string
	}{
		{Query{Group: 0}, "group Group(0) unknown"},
		{Query{Group: GroupSrc, By: 9}, "order Measure(9) unknown"},
		{Query{Group: GroupSrc, Top: -1}, "top -1 is negative"},
		{Query{Group: GroupConv, MaxKeys: 4}, "query by conv: more than 4 distinct keys: too many distinct keys"},
	} {
		_, err := tt.q.Run(slices.Values(fs))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.q, err, tt.want)
		}
	}
	_, err := Query{Group: GroupConv, MaxKeys: 4}.Run(slices.Values(fs))
	if !errors.Is(err, ErrTooManyKeys) {
		t.Errorf("%v is not ErrTooManyKeys", err)
	}
	if _, err := (Query{Group: GroupConv, MaxKeys: 5}).Run(slices.Values(fs)); err != nil {
		t.Errorf("5 keys in a limit of 5: %v", err)
	}
	wantErr := errors.New("segment 3: corrupt")
	if _, err := (Query{Group: GroupSrc}).RunScan(func(fn func(*flow.Flow) bool) error { return wantErr }); err != wantErr {
		t.Errorf("scan error %v", err)
	}
	for _, s := range []string{"src", "DST", "srcport", "dstport", "proto", "conv"} {
		if g, err := ParseGroup(s); err != nil || !strings.EqualFold(g.String(), s) {
			t.Errorf("ParseGroup(%q) = %v, %v", s, g, err)
		}
	}
	if _, err := ParseGroup("srcip"); err == nil {
		t.Error("ParseGroup(srcip) took it")
	}
	if m, err := ParseMeasure("Packets"); err != nil || m != ByPackets {
		t.Errorf("ParseMeasure = %v, %v", m, err)
	}
	if _, err := ParseMeasure("bps"); err == nil {
		t.Error("ParseMeasure(bps) took it")
	}
}

// randomFlows are n flows from a few hundred sources, over an hour.
func randomFlows(n int, seed uint64) []*flow.Flow {
	r := rand.New(rand.NewPCG(seed, 1))
	fs := make([]*flow.Flow, n)
	for i := range fs {
		src := netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(2)), byte(r.IntN(200))})
		if r.IntN(10) == 0 {
			src = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(r.IntN(50))})
		}
		f := testFlow("192.0.2.1", "192.0.2.2", uint16(1024+r.IntN(100)), uint16([]int{53, 80, 443, 22}[r.IntN(4)]),
			uint8([]int{6, 17}[r.IntN(2)]), 0, uint64(1+r.IntN(100)), uint64(40+r.IntN(100000)))
		f.Src = src
		f.Start = t0.Add(time.Duration(r.IntN(3600)) * time.Second)
		f.End = f.Start.Add(time.Duration(r.IntN(60)) * time.Second)
		fs[i] = f
	}
	return fs
}

// Per-worker aggregators merged give what one aggregator over every flow gives.
func TestMergeEqualsOne(t *testing.T) {
	fs := randomFlows(20000, 7)
	for _, g := range []Group{GroupSrc, GroupDst, GroupSrcPort, GroupDstPort, GroupProto, GroupConv} {
		q := Query{Filter: MustParseFilter("not dst port 22"), Group: g, By: ByPackets, Top: 10}
		want, err := q.Run(slices.Values(fs))
		if err != nil {
			t.Fatal(err)
		}
		workers := make([]*Aggregator, 4)
		for i := range workers {
			workers[i] = q.NewAggregator()
		}
		for i, f := range fs {
			workers[(i*7)%len(workers)].Add(f)
		}
		for _, w := range workers[1:] {
			workers[0].Merge(w)
		}
		got, err := workers[0].Result()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: merged\n%+v\nwant\n%+v", g, got, want)
		}
		if many := g == GroupSrc || g == GroupSrcPort || g == GroupConv; many && (len(got.Rows) != 10 || got.Other.Keys == 0) {
			t.Errorf("%s: %d rows, %d other keys", g, len(got.Rows), got.Other.Keys)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	res, err := Query{Group: GroupSrc, By: ByBytes, Top: 2}.Run(slices.Values(smallFlows()))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := res.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := `row,src,keys,flows,packets,bytes,share,bps,pps
1,10.0.0.1,1,2,15,13000,66.191,10400.000,1.500
2,2001:db8::1,1,1,100,6400,32.587,5120.000,10.000
other,,1,3,3,240,1.222,192.000,0.300
total,,3,6,118,19640,100.000,15712.000,11.800
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	res, err = Query{Group: GroupConv, By: ByFlows, Top: 1}.Run(slices.Values(smallFlows()))
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := res.Write(&b, "csv"); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(b.String(), "\n"); lines[0] != "row,src,dst,proto,srcport,dstport,keys,flows,packets,bytes,share,bps,pps" ||
		lines[1] != "1,10.0.0.1,192.0.2.1,6,40000,443,1,2,15,13000,33.333,10400.000,1.500" {
		t.Errorf("conv csv:\n%s", b.String())
	}
	if err := res.Write(&b, "xml"); err == nil || !strings.Contains(err.Error(), `output format "xml" unknown`) {
		t.Errorf("xml: %v", err)
	}
}

func TestWriteTable(t *testing.T) {
	fs := smallFlows()
	fs[0].Bytes = 1_234_567_890 // in G
	res, err := Query{Filter: MustParseFilter("PROTO TCP OR proto 58"), Group: GroupProto, By: ByBytes, Top: 1}.Run(slices.Values(fs))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := res.Write(&b, "table"); err != nil {
		t.Fatal(err)
	}
	want := `top 1 proto by bytes, filter: proto tcp or proto icmp6
2026-11-02 10:00:00.000 to 2026-11-02 10:00:10.000 UTC (10s)
    #  proto     flows  packets  bytes   share      bps  pps
    1  tcp           2       15  1.2 G  100.0%  987.7 M    2
other  (1 more)      1      100   6400    0.0%     5120   10
total  (2 keys)      3      115  1.2 G  100.0%  987.7 M   12
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	for _, tt := range []struct {
		v    float64
		want string
	}{{0, "0"}, {999_999, "999999"}, {1_000_000, "1.0 M"}, {1_250_000, "1.2 M"}, {3.4e9, "3.4 G"}, {5e12, "5.0 T"}, {0.4, "0"}} {
		if got := human(tt.v); got != tt.want {
			t.Errorf("human(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	res, err := Query{Filter: MustParseFilter("proto udp"), Group: GroupConv, By: ByPackets, Top: 1}.Run(slices.Values(smallFlows()))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := res.Write(&b, "json"); err != nil {
		t.Fatal(err)
	}
	want := `{
  "group": "conv",
  "by": "packets",
  "top": 1,
  "filter": "proto udp",
  "from": "2026-11-02T10:00:02Z",
  "to": "2026-11-02T10:00:09Z",
  "seconds": 7,
  "rows": [
    {
      "src": "10.0.0.2",
      "dst": "192.0.2.53",
      "proto": 17,
      "srcport": 5353,
      "dstport": 53,
      "keys": 1,
      "flows": 1,
      "packets": 1,
      "bytes": 80,
      "share": 33.333333333333336,
      "bps": 91.42857142857143,
      "pps": 0.14285714285714285
    }
  ],
  "other": {
    "keys": 2,
    "flows": 2,
    "packets": 2,
    "bytes": 160,
    "share": 66.66666666666667,
    "bps": 182.85714285714286,
    "pps": 0.2857142857142857
  },
  "total": {
    "keys": 3,
    "flows": 3,
    "packets": 3,
    "bytes": 240,
    "share": 100,
    "bps": 274.2857142857143,
    "pps": 0.42857142857142855
  }
}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestJSONLines(t *testing.T) {
	f := smallFlows()[5]
	f.Received = time.Date(2026, 11, 2, 10, 0, 5, 123456789, time.FixedZone("CET", 3600))
	f.Kind, f.Domain, f.SamplingRate, f.InIf, f.OutIf = flow.IPFIX, 7, 100, 3, 4
	var b bytes.Buffer
	w, err := NewRecordWriter("json", &b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(f); err != nil {
		t.Fatal(err)
	}
	f2 := &flow.Flow{}
	if err := w.Write(f2); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 0 {
		t.Error("written before Close")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := `{"received":"2026-11-02T09:00:05.123456789Z","start":"2026-11-02T10:00:05.000000000Z","end":"2026-11-02T10:00:10.000000000Z",` +
		`"kind":"ipfix","exporter":"192.0.2.1","domain":7,"sampling_rate":100,"device":"core1","in_if":3,"out_if":4,` +
		`"in":"Gi0/1 uplink","out":"xe-0/0/1.100","src":"2001:db8::1","dst":"2001:db8::2","src_port":0,"dst_port":0,` +
		`"proto":58,"tcp_flags":0,"packets":100,"bytes":6400}` + "\n" +
		`{"received":null,"start":null,"end":null,"kind":"unknown","exporter":null,"domain":0,"sampling_rate":0,"device":"",` +
		`"in_if":0,"out_if":0,"in":"","out":"","src":null,"dst":null,"src_port":0,"dst_port":0,"proto":0,"tcp_flags":0,"packets":0,"bytes":0}` + "\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestZeek(t *testing.T) {
	fs := smallFlows()
	fs[0].Start = fs[0].Start.Add(1500 * time.Microsecond)
	fs[0].Device, fs[0].In, fs[0].Out = "core\t1\\", "", "-"
	fs[0].Kind = flow.NetFlowV9
	opened := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	now := func() time.Time { opened = opened.Add(time.Second); return opened }
	var b bytes.Buffer
	w, err := NewRecordWriter("zeek", &b, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*flow.Flow{fs[0], fs[5], {}} {
		if err := w.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tmrtgo_flows\n" +
		"#open\t2026-11-03-08-00-01\n" +
		"#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tip_proto\tduration\torig_pkts\torig_ip_bytes\ttcp_flags\tdevice\tin_iface\tout_iface\tin_ifindex\tout_ifindex\texporter\texport\tsampling_rate\n" +
		"#types\ttime\taddr\tport\taddr\tport\tenum\tcount\tinterval\tcount\tcount\tstring\tstring\tstring\tstring\tcount\tcount\taddr\tstring\tcount\n" +
		"1793613600.001500\t10.0.0.1\t40000\t192.0.2.1\t443\ttcp\t6\t4.998500\t10\t9000\tAP\tcore\\x091\\x5c\t(empty)\t\\x2d\t0\t0\t192.0.2.1\tnetflow9\t1\n" +
		"1793613605.000000\t2001:db8::1\t0\t2001:db8::2\t0\ticmp\t58\t5.000000\t100\t6400\t-\tcore1\tGi0/1 uplink\txe-0/0/1.100\t0\t0\t192.0.2.1\tunknown\t1\n" +
		"-\t-\t0\t-\t0\tunknown_transport\t0\t-\t0\t0\t-\t(empty)\t(empty)\t(empty)\t0\t0\t-\tunknown\t0\n" +
		"#close\t2026-11-03-08-00-02\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if _, err := NewRecordWriter("pcap", &b, nil); err == nil {
		t.Error("pcap taken")
	}
}

func ExampleQuery() {
	filter, err := ParseFilter("src net 10.0.0.0/8 and proto tcp")
	if err != nil {
		fmt.Println(err)
		return
	}
	flows := []*flow.Flow{
		testFlow("10.0.0.1", "192.0.2.1", 40000, 443, 6, 0x18, 10, 9000),
		testFlow("10.0.0.2", "192.0.2.1", 40001, 443, 6, 0x18, 3, 1500),
		testFlow("10.0.0.1", "192.0.2.2", 40002, 80, 6, 0x18, 4, 2000),
		testFlow("10.0.0.3", "192.0.2.1", 5353, 53, 17, 0, 1, 80),
	}
	res, err := Query{Filter: filter, Group: GroupSrc, By: ByBytes, Top: 1}.Run(slices.Values(flows))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = res.WriteCSV(os.Stdout)

	_, err = ParseFilter("src net 10.0.0.0/8 and dst port https")
	fmt.Println(err.(*SyntaxError).String())
	// Output:
	// row,src,keys,flows,packets,bytes,share,bps,pps
	// 1,10.0.0.1,1,2,14,11000,88.000,0.000,0.000
	// other,,1,1,3,1500,12.000,0.000,0.000
	// total,,2,3,17,12500,100.000,0.000,0.000
	// filter: column 33: expected a port number (0-65535), got "https"
	//   src net 10.0.0.0/8 and dst port https
	//                                   ^
}
