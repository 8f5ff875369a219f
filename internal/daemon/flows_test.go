package daemon

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/flow"
	"github.com/mrtgo/mrtgo/flowtop"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
	"github.com/mrtgo/mrtgo/remotewrite"
	"github.com/mrtgo/mrtgo/rrd"
)

// ipfix is one IPFIX message of observation domain 1 with a template of source and
// destination address, ingress and egress ifIndex, octets and packets, and one record
// of each of rows (in, out ifIndex; octets; packets); with template false, only data.
func ipfix(template bool, rows ...[4]uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint16(b, 10)
	binary.BigEndian.PutUint32(b[12:], 1)
	fields := [][2]uint16{{8, 4}, {12, 4}, {10, 4}, {14, 4}, {1, 8}, {2, 8}}
	if template {
		b = binary.BigEndian.AppendUint16(b, 2)
		b = binary.BigEndian.AppendUint16(b, uint16(4+4+4*len(fields)))
		b = binary.BigEndian.AppendUint16(b, 256)
		b = binary.BigEndian.AppendUint16(b, uint16(len(fields)))
		for _, f := range fields {
			b = binary.BigEndian.AppendUint16(b, f[0])
			b = binary.BigEndian.AppendUint16(b, f[1])
		}
	}
	if len(rows) > 0 {
		b = binary.BigEndian.AppendUint16(b, 256)
		b = binary.BigEndian.AppendUint16(b, uint16(4+32*len(rows)))
		for _, r := range rows {
			b = append(b, 10, 0, 0, 1, 192, 0, 2, 1)
			b = binary.BigEndian.AppendUint32(b, uint32(r[0]))
			b = binary.BigEndian.AppendUint32(b, uint32(r[1]))
			b = binary.BigEndian.AppendUint64(b, r[2])
			b = binary.BigEndian.AppendUint64(b, r[3])
		}
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// "mrtgo run" with [flows] collects on its listen address: records of the device's
// exporter (its host address) count against the interfaces the poller named, by
// ifIndex; an unpolled ifIndex counts under its number; an exporter no device claims
// is counted and listed, its records merged nowhere.
func TestDaemonCollectsFlows(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agents, err := snmpsim.StartNetwork(ctx, "127.0.0.1:0", []snmpsim.DeviceConfig{{Name: "r1", Seed: 3, Interfaces: []snmpsim.Interface{
		{Name: "ge-0/0/0", Index: 1, Speed: 1e9, Up: true, MeanBps: 1e8},
		{Name: "ge-0/0/1", Index: 2, Speed: 1e9, Up: true, MeanBps: 1e8},
	}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, a := range agents {
			a.Close()
		}
	}()
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := probe.LocalAddr().String()
	probe.Close()

	// A receiver of remote writes, keeping every flow series it is sent.
	var rwMu sync.Mutex
	var flowSeries []string
	rw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		raw, err := snappy.Decode(nil, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		batch, err := remotewrite.Decode(raw)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rwMu.Lock()
		defer rwMu.Unlock()
		for _, s := range batch {
			var ls []string
			for _, l := range s.Labels {
				ls = append(ls, l.Name+"="+l.Value)
			}
			if line := strings.Join(ls, ","); strings.Contains(line, "mrtgo_flow") {
				flowSeries = append(flowSeries, fmt.Sprintf("%s %g", line, s.Samples[0].Value))
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rw.Close()

	dir := t.TempDir()
	file := filepath.Join(dir, "targets.toml")
	src := fmt.Sprintf("step = \"1m\"\ndata = \"mrtgo.db\"\nsite = \"site\"\n\n[flows]\nlisten = [%q]\n\n[remote_write]\nurl = %q\n\n[[device]]\nname = \"r1\"\nhost = \"127.0.0.1\"\nport = %d\ninterfaces = [\"*\"]\n",
		listen, rw.URL+"/api/v1/write", agents[0].Port())
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	db, err := rrd.Open(cfg.Data, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(db, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := New(cfg, w, Options{Interval: 100 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	// The flow store's step boundary comes when the test says. The clock starts an
	// hour ahead: records are stamped with the real time they arrive, which must fall
	// before the first boundary wherever the minute stands when the test runs.
	var clockMu sync.Mutex
	clock := time.Now().Add(time.Hour)
	d.flows.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	ran := make(chan error, 1)
	go func() { ran <- d.Run(ctx) }()
	scrape := func() string {
		rec := httptest.NewRecorder()
		d.Metrics().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			m := scrape()
			if ok(m) {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 30 s:\n%s", what, m)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("poll", func(m string) bool { return strings.Contains(m, `mrtgo_device_up{device="r1"} 1`) })

	send := func(from string, b []byte) {
		t.Helper()
		c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(mustAddrPort(from+":0")), net.UDPAddrFromAddrPort(mustAddrPort(listen)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	send("127.0.0.1", ipfix(true, [4]uint64{1, 2, 1500, 1}, [4]uint64{2, 1, 3000, 2}, [4]uint64{1, 7, 100, 1}))
	send("127.0.0.2", ipfix(true, [4]uint64{1, 2, 99999, 9}))
	m := waitFor("flows", func(m string) bool {
		return strings.Contains(m, `mrtgo_flow_records_total{device="",exporter="127.0.0.2"} 1`) &&
			strings.Contains(m, `mrtgo_flow_records_total{device="r1",exporter="127.0.0.1"} 3`)
	})
	for _, want := range []string{
		`mrtgo_flow_interface_octets_total{device="r1",direction="in",interface="ge-0/0/0"} 1600`,
		`mrtgo_flow_interface_octets_total{device="r1",direction="out",interface="ge-0/0/1"} 1500`,
		`mrtgo_flow_interface_octets_total{device="r1",direction="in",interface="ge-0/0/1"} 3000`,
		`mrtgo_flow_interface_octets_total{device="r1",direction="out",interface="ge-0/0/0"} 3000`,
		`mrtgo_flow_interface_octets_total{device="r1",direction="out",interface="ifIndex 7"} 100`,
		`mrtgo_flow_interface_packets_total{device="r1",direction="in",interface="ge-0/0/0"} 2`,
		`mrtgo_flow_unknown_exporters 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Only the interface series: anywhere else in the scrape (a latency, a byte
	// count of the process) 99999 may turn up by chance.
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, "mrtgo_flow_interface_") && strings.Contains(line, "99999") {
			t.Errorf("an unknown exporter's octets were merged into a device: %s", line)
		}
	}

	// The step ends: its top talkers are committed, by the poller's names.
	clockMu.Lock()
	boundary := nextBoundary(clock, cfg.Step)
	clock = boundary.Add(time.Second)
	clockMu.Unlock()
	var top flowtop.Result
	deadline := time.Now().Add(10 * time.Second)
	for {
		top, err = d.flows.top.Top(flowtop.Query{Device: "r1", Interface: "ge-0/0/0", Direction: flowtop.Both,
			Dimension: flowtop.Service, By: flowtop.Bytes, From: boundary.Add(-cfg.Step), To: boundary, N: 5})
		if err == nil && top.Total > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || top.Total != 1600+3000 || len(top.Entries) != 1 || top.Entries[0].Weight != 4600 {
		t.Errorf("top talkers of ge-0/0/0: %+v, %v; want 4600 bytes in one entry", top, err)
	}
	// And its aggregates are sent to the remote-write receiver, in bits/s.
	wantFlow := fmt.Sprintf("__name__=%s,device=r1,direction=in,interface=ge-0/0/0 %g", MetricFlowBits, 1600*8/60.)
	deadline = time.Now().Add(10 * time.Second)
	for {
		rwMu.Lock()
		got := slices.Contains(flowSeries, wantFlow)
		sent := slices.Clone(flowSeries)
		rwMu.Unlock()
		if got {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote write: no %q in\n%s", wantFlow, strings.Join(sent, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}

	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	// Every record is in the raw segments, the unknown exporter's with no device.
	raw, _, err := OpenFlowStores(cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var got []string
	if _, err := raw.Scan(time.Time{}, time.Time{}, func(fs []flow.Flow) error {
		for _, f := range fs {
			got = append(got, fmt.Sprintf("%s %s>%s %d", f.Device, f.In, f.Out, f.Bytes))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{" > 99999", "r1 ge-0/0/0>ge-0/0/1 1500", "r1 ge-0/0/0>ifIndex 7 100", "r1 ge-0/0/1>ge-0/0/0 3000"}
	if !slices.Equal(got, want) {
		t.Errorf("stored flows %q, want %q", got, want)
	}
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// A device's configured sampling rate replaces the one its records were scaled by.
func TestResample(t *testing.T) {
	for _, c := range []struct{ rate, bytes, packets, n, wantBytes, wantPackets uint64 }{
		{1, 1500, 3, 100, 150000, 300},
		{10, 15000, 30, 100, 150000, 300},
		{0, 1500, 3, 100, 150000, 300},
		{100, 150000, 300, 1, 1500, 3},
	} {
		r := flow.Record{SamplingRate: c.rate, Bytes: c.bytes, Packets: c.packets}
		resample(&r, c.n)
		if r.Bytes != c.wantBytes || r.Packets != c.wantPackets || r.SamplingRate != c.n {
			t.Errorf("%+v: got %d bytes %d packets rate %d", c, r.Bytes, r.Packets, r.SamplingRate)
		}
	}
}

// A sharded poller keeps the records of its own devices' exporters and drops, counted,
// those of every other exporter: they are another poller's, or nobody's.
func TestShardedPollerKeepsOwnFlows(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte(`
[[device]]
name = "mine"
host = "192.0.2.1"
interfaces = ["*"]
shard = 1

[[device]]
name = "theirs"
host = "192.0.2.2"
interfaces = ["*"]
shard = 2
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		shard         config.ShardSpec
		kept, foreign int
	}{{config.ShardSpec{}, 3, 0}, {config.ShardSpec{I: 1, N: 2}, 1, 2}} {
		c := cfg
		if tt.shard.N > 0 {
			if c, err = cfg.ForShard(tt.shard); err != nil {
				t.Fatal(err)
			}
		}
		f := &flows{log: slog.New(slog.DiscardHandler), names: map[string]map[int]string{}, counts: map[ifDir]*ifCount{}, unknowns: map[netip.Addr]bool{}}
		f.configure(c)
		for _, ex := range []string{"192.0.2.1", "192.0.2.2", "198.51.100.9"} {
			f.record(flow.Record{Exporter: netip.MustParseAddr(ex), Bytes: 100, Packets: 1})
		}
		if len(f.pending) != tt.kept || f.foreign != uint64(tt.foreign) {
			t.Errorf("shard %v: kept %d records, %d foreign; want %d and %d", tt.shard, len(f.pending), f.foreign, tt.kept, tt.foreign)
		}
	}
}
