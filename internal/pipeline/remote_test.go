package pipeline

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/remotewrite"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
)

// drain takes every record out of q and returns the samples by series (labels as
// name=value pairs joined by commas).
func drain(t *testing.T, q *remotewrite.Queue) map[string][]remotewrite.Sample {
	t.Helper()
	out := map[string][]remotewrite.Sample{}
	for {
		r, err := q.Next()
		if errors.Is(err, remotewrite.ErrEmpty) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		raw, err := snappy.Decode(nil, r.Body)
		if err != nil {
			t.Fatal(err)
		}
		batch, err := remotewrite.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range batch {
			var ls []string
			for _, l := range s.Labels {
				ls = append(ls, l.Name+"="+l.Value)
			}
			k := strings.Join(ls, ",")
			out[k] = append(out[k], s.Samples...)
		}
		if err := q.Ack(r.Seq); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRemoteExportEqualsFetch records cycles of two devices, one of which misses three
// cycles and answers late once, exporting after each commit through a queue that a
// new process takes over halfway: every row "mrtgo fetch" shows with a value is sent
// exactly once, with its value, in order, and nothing else is.
func TestRemoteExportEqualsFetch(t *testing.T) {
	dir := t.TempDir()
	db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const step = 10 * time.Second
	log := slog.New(slog.DiscardHandler)
	rec := NewRecorder(db, step, nil, log)
	qdir := filepath.Join(dir, "queue")
	q, err := remotewrite.OpenQueue(qdir, remotewrite.QueueOptions{MaxSamples: 7})
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewRemote(db, q, map[string]string{"site": "ams"}, log)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1764400000, 0).UTC().Truncate(step)
	var in, out [2]uint64
	got := map[string][]remotewrite.Sample{}
	const cycles = 30
	for k := range cycles {
		var rs []poller.Result
		for d, dev := range []string{"core1", "late"} {
			at := start.Add(time.Duration(k)*step + 3*time.Second)
			if d == 1 && k == 12 {
				at = at.Add(9 * time.Second) // answers just after the next boundary
			}
			if d == 1 && k >= 5 && k < 8 {
				rs = append(rs, poller.Result{Device: dev, Err: errors.New("timeout")})
				continue
			}
			in[d] += uint64(1000 * (k%7 + 1) * (d + 1))
			out[d] += uint64(333 * (k%5 + 2))
			rs = append(rs, poller.Result{Device: dev, Samples: []poller.Sample{{
				Device: dev, Interface: "xe-0/0/1", Index: 1, Time: at, In: in[d], Out: out[d], Bits: 64,
				Speed: 1e9, Alias: "uplink " + dev}}})
		}
		if err := rec.Record(rs); err != nil {
			t.Fatal(err)
		}
		if _, err := x.Export(); err != nil {
			t.Fatal(err)
		}
		if k == cycles/2 {
			// Another process takes over: it continues from the queue's position.
			for key, s := range drain(t, q) {
				got[key] = append(got[key], s...)
			}
			q.Close()
			if q, err = remotewrite.OpenQueue(qdir, remotewrite.QueueOptions{MaxSamples: 7}); err != nil {
				t.Fatal(err)
			}
			if x, err = NewRemote(db, q, map[string]string{"site": "ams"}, log); err != nil {
				t.Fatal(err)
			}
		}
	}
	for key, s := range drain(t, q) {
		got[key] = append(got[key], s...)
	}
	q.Close()
	end := start.Add(cycles * step)
	for _, dev := range []string{"core1", "late"} {
		r, err := FetchRates(db, series.Name(dev, "xe-0/0/1"), render.Day, end)
		if err != nil {
			t.Fatal(err)
		}
		speed := got[fmt.Sprintf("__name__=%s,device=%s,interface=xe-0/0/1,site=ams", MetricInterfaceSpeed, dev)]
		if in := got[fmt.Sprintf("__name__=%s,description=uplink %s,device=%s,direction=in,interface=xe-0/0/1,site=ams", MetricInterfaceBits, dev, dev)]; len(speed) != len(in) || len(speed) == 0 || speed[0].Value != 1e9 {
			t.Errorf("%s: %d speed samples (first %v), %d rate samples in", dev, len(speed), speed, len(in))
		}
		for d, dir := range []string{"in", "out"} {
			key := fmt.Sprintf("__name__=%s,description=uplink %s,device=%s,direction=%s,interface=xe-0/0/1,site=ams", MetricInterfaceBits, dev, dev, dir)
			sent := got[key]
			if len(sent) == 0 {
				t.Errorf("%s: nothing sent; sent: %v", key, slices.Collect(func(yield func(string) bool) {
					for k := range got {
						if !yield(k) {
							return
						}
					}
				}))
				continue
			}
			var want []remotewrite.Sample
			col := r.In
			if d == 1 {
				col = r.Out
			}
			for i, v := range col {
				if tm := r.Time(i); tm.After(start) && !math.IsNaN(v) && !tm.After(end) {
					want = append(want, remotewrite.Sample{Time: tm, Value: v})
				}
			}
			if len(sent) != len(want) || len(want) < cycles-6 {
				t.Errorf("%s: %d samples sent, fetch shows %d known rows", key, len(sent), len(want))
			}
			for i := range min(len(sent), len(want)) {
				if !sent[i].Time.Equal(want[i].Time) || sent[i].Value != want[i].Value {
					t.Errorf("%s sample %d: sent %v = %v, fetch %v = %v", key, i, sent[i].Time, sent[i].Value, want[i].Time, want[i].Value)
					break
				}
			}
		}
	}
}

// BenchmarkRemoteExport is the cost of one step's export for a store of 10,000
// interfaces: reading the step's rows of 20,000 series and queueing 30,000 samples
// (rates in and out and the speed) with their labels, synced.
func BenchmarkRemoteExport(b *testing.B) {
	const ifaces = 10000
	const step = 10 * time.Second
	dir := b.TempDir()
	db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)
	rec := NewRecorder(db, step, nil, log)
	rec.SetHoltWinters(nil)
	q, err := remotewrite.OpenQueue(filepath.Join(dir, "queue"), remotewrite.QueueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	x, err := NewRemote(db, q, nil, log)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Unix(1764400000, 0).UTC()
	var k int
	cycle := func() {
		var rs []poller.Result
		for d := range ifaces / 1000 {
			r := poller.Result{Device: fmt.Sprintf("dev%02d", d)}
			for i := range 1000 {
				c := uint64(k) * uint64(1000+i) * 1000
				r.Samples = append(r.Samples, poller.Sample{Device: r.Device, Interface: fmt.Sprintf("ge-0/0/%d", i), Index: i + 1,
					Time: start.Add(time.Duration(k)*step + time.Second), In: c, Out: c / 2, Bits: 64, Speed: 1e9, Alias: "customer link"})
			}
			rs = append(rs, r)
		}
		if err := rec.Record(rs); err != nil {
			b.Fatal(err)
		}
		k++
	}
	for range 3 {
		cycle()
		x.Export()
	}
	samples := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		cycle()
		for {
			r, err := q.Next()
			if err != nil {
				break
			}
			q.Ack(r.Seq)
		}
		b.StartTimer()
		n, err := x.Export()
		if err != nil {
			b.Fatal(err)
		}
		samples += n
	}
	b.ReportMetric(float64(samples)/float64(b.N), "samples/op")
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
}

// The packet and error series go out as their own metrics, one series per type and
// direction, equal to their stored rows.
func TestRemoteExportCounters(t *testing.T) {
	dir := t.TempDir()
	db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const step = 10 * time.Second
	log := slog.New(slog.DiscardHandler)
	rec := NewRecorder(db, step, nil, log)
	q, err := remotewrite.OpenQueue(filepath.Join(dir, "queue"), remotewrite.QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	x, err := NewRemote(db, q, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1764400000, 0).UTC()
	var pk [6]uint64
	var er [4]uint64
	for k := range 6 {
		for i := range pk {
			pk[i] += uint64(1000 * (i + 1) * 10)
		}
		for i := range er {
			er[i] += uint64(10 * (i + 1))
		}
		s := poller.Sample{Device: "core1", Interface: "xe-0/0/1", Index: 1, Time: start.Add(time.Duration(k)*step + 3*time.Second),
			In: uint64(k) * 1e6, Out: uint64(k) * 1e6, Bits: 64, Speed: 1e10,
			Packets: &poller.Group{Values: pk[:], Bits: 64, Discontinuity: k == 0}, Errors: &poller.Group{Values: er[:], Bits: 64, Discontinuity: k == 0}}
		if err := rec.Record([]poller.Result{{Device: "core1", Samples: []poller.Sample{s}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := x.Export(); err != nil {
			t.Fatal(err)
		}
	}
	got := drain(t, q)
	want := map[string]float64{ // per second: the step's increase over 10 s
		MetricInterfacePackets + ",direction=in,type=unicast":    1000,
		MetricInterfacePackets + ",direction=out,type=unicast":   2000,
		MetricInterfacePackets + ",direction=in,type=broadcast":  5000,
		MetricInterfacePackets + ",direction=out,type=broadcast": 6000,
		MetricInterfaceErrors + ",direction=in,type=errors":      1,
		MetricInterfaceErrors + ",direction=out,type=discards":   4,
	}
	for k, v := range want {
		name, rest, _ := strings.Cut(k, ",")
		dirn, typ, _ := strings.Cut(rest, ",")
		key := fmt.Sprintf("__name__=%s,device=core1,%s,interface=xe-0/0/1,%s", name, dirn, typ)
		s := got[key]
		if len(s) < 3 {
			t.Errorf("%s: %d samples sent; series sent: %d", key, len(s), len(got))
			continue
		}
		if last := s[len(s)-1].Value; math.Abs(last-v) > 1e-9*v {
			t.Errorf("%s: %v per second, want %v", key, last, v)
		}
	}
}

// Targets and aggregates go out as their pages show them: factor applied, with their
// unit; a target the targets file does not know is not sent.
func TestRemoteExportTargets(t *testing.T) {
	dir := t.TempDir()
	db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const step = 10 * time.Second
	start := time.Unix(1764400000, 0).UTC()
	gauge := rrd.Spec{Step: step, Heartbeat: 2 * step, Archives: series.Archives(step, config.DefaultRetention),
		DS: []rrd.DS{{Name: "in", Type: rrd.Gauge, Min: math.NaN(), Max: math.NaN()}, {Name: "out", Type: rrd.Gauge, Min: math.NaN(), Max: math.NaN()}}}
	names := []string{series.KindName("srv1", series.KindTarget, "cpu"), series.KindName("srv1", series.KindTarget, "unknown"),
		series.KindName("", series.KindAggregate, "customer-a")}
	for _, n := range names {
		if err := db.Create(n, gauge, start); err != nil {
			t.Fatal(err)
		}
	}
	q, err := remotewrite.OpenQueue(filepath.Join(dir, "queue"), remotewrite.QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	x, err := NewRemote(db, q, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	x.SetTargets(Targets{Devices: map[string][]config.Target{"srv1": {{Name: "cpu", Kind: config.KindGauge, Factor: 0.01, Per: "second", Unit: "%", OIDs: []string{"1", "2"}}}},
		Aggregates: []config.Aggregate{{Name: "customer-a"}}})
	for k := 1; k <= 4; k++ {
		var ups []rrd.Update
		for _, n := range names {
			ups = append(ups, rrd.Update{Series: n, Time: start.Add(time.Duration(k) * step), Values: []rrd.Value{rrd.Float(150), rrd.Float(50)}})
		}
		if err := db.Update(ups); err != nil {
			t.Fatal(err)
		}
		if _, err := x.Export(); err != nil {
			t.Fatal(err)
		}
	}
	got := drain(t, q)
	for key, want := range map[string]float64{
		"__name__=" + MetricTarget + ",device=srv1,direction=in,target=cpu,unit=%":    1.5,
		"__name__=" + MetricTarget + ",device=srv1,direction=out,target=cpu,unit=%":   0.5,
		"__name__=" + MetricAggregate + ",aggregate=customer-a,direction=in,unit=b/s": 150 * 8,
	} {
		s := got[key]
		if len(s) == 0 || s[len(s)-1].Value != want {
			t.Errorf("%s: %v, want samples of %v; sent %d series", key, s, want, len(got))
		}
	}
	for k := range got {
		if strings.Contains(k, "unknown") {
			t.Errorf("a target not in the file was sent: %s", k)
		}
	}
}
