package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openDB(tb testing.TB) *rrd.DB {
	tb.Helper()
	db, err := rrd.Open(filepath.Join(tb.TempDir(), "mrtgo.db"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func sample(dev, ifc string, t time.Time, in, out uint64, speed uint64) poller.Sample {
	return poller.Sample{Device: dev, Interface: ifc, Index: 1, Time: t, In: in, Out: out, Bits: 64,
		Speed: speed, Alias: "uplink <b>", Descr: ifc}
}

// Counters recorded a step apart become rates; the facts and health are kept for the
// pages; a rate above the interface speed is unknown.
func TestRecorder(t *testing.T) {
	db := openDB(t)
	step := time.Minute
	rec := NewRecorder(db, step, map[string]string{"r1": "192.0.2.1"}, quiet)
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	const speed = 100e6 // bits/s
	// 1 Mbit/s in, 2 Mbit/s out for 10 minutes, then a burst above the speed.
	for i := 0; i <= 10; i++ {
		ti := t0.Add(time.Duration(i) * step)
		rs := []poller.Result{{Device: "r1", Samples: []poller.Sample{
			sample("r1", "ge-0/0/0", ti, uint64(i)*125000*60, uint64(i)*250000*60, speed),
		}}}
		if err := rec.Record(rs); err != nil {
			t.Fatal(err)
		}
	}
	burst := t0.Add(11 * step)
	err := rec.Record([]poller.Result{{Device: "r1", Samples: []poller.Sample{
		sample("r1", "ge-0/0/0", burst, 10*125000*60+1e12, 10*250000*60, speed),
	}}, {Device: "r2", Err: errors.New("request timeout")}})
	if err != nil {
		t.Fatal(err)
	}

	res, err := db.Fetch(series.Name("r1", "ge-0/0/0"), rrd.Average, t0, burst, step)
	if err != nil {
		t.Fatal(err)
	}
	in, out := bitsColumns(res)
	known, sawBurst := 0, false
	for i := range in {
		ti := res.Time(i)
		switch {
		case ti.After(t0) && !ti.After(t0.Add(10*step)):
			known++
			if math.Abs(in[i]-1e6) > 1e-3 || math.Abs(out[i]-2e6) > 1e-3 {
				t.Errorf("%s: in %v out %v, want 1e6 2e6", ti.Format("15:04"), in[i], out[i])
			}
		case ti.Equal(burst):
			sawBurst = true
			if !math.IsNaN(in[i]) {
				t.Errorf("%s: in %v above the speed, want unknown", ti.Format("15:04"), in[i])
			}
		}
	}
	if known != 10 || !sawBurst {
		t.Errorf("fetched %d rows of steady traffic (want 10), burst row present: %v", known, sawBurst)
	}
	info, err := series.Interface(db, series.Name("r1", "ge-0/0/0"))
	if err != nil || info.Speed != speed || info.Alias != "uplink <b>" {
		t.Errorf("facts = %+v, %v", info, err)
	}
	h, ok, err := Health(db, "r1")
	if !ok || err != nil || h.Host != "192.0.2.1" || h.Error != "" || !h.LastSuccess.Equal(burst) {
		t.Errorf("r1 health = %+v, %v, %v", h, ok, err)
	}
	h, ok, err = Health(db, "r2")
	if !ok || err != nil || h.Error != "request timeout" || !h.LastSuccess.IsZero() {
		t.Errorf("r2 health = %+v, %v, %v", h, ok, err)
	}
	if _, ok, err := Health(db, "never-polled"); ok || err != nil {
		t.Errorf("health of a device never polled = %v, %v; want none and no error", ok, err)
	}
}

// A second recorder (the next cron run) finds the series and follows a speed change.
func TestRecorderSpeedChange(t *testing.T) {
	db := openDB(t)
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	name := series.Name("r1", "xe-0/0/0")
	for i, speed := range []uint64{1e9, 1e9, 10e9} {
		rec := NewRecorder(db, time.Minute, nil, quiet)
		s := sample("r1", "xe-0/0/0", t0.Add(time.Duration(i)*time.Minute), uint64(i)*1000, 0, speed)
		if err := rec.Record([]poller.Result{{Device: "r1", Samples: []poller.Sample{s}}}); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		spec, _, err := db.Info(name)
		if err != nil {
			t.Fatal(err)
		}
		if want := float64(speed) / 8; spec.DS[0].Max != want || spec.DS[1].Max != want {
			t.Errorf("after speed %d: max %v %v, want %v", speed, spec.DS[0].Max, spec.DS[1].Max, want)
		}
	}
}

// Publish writes every page and both sizes of every graph, and what the pages say
// agrees with FetchRates (which "mrtgo fetch" prints).
func TestPublish(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	start := now.Add(-3 * 24 * time.Hour)
	for ti, n := start, uint64(0); !ti.After(now); ti, n = ti.Add(step), n+1 {
		// 8 Mbit/s in, 4 Mbit/s out.
		s := sample("r1", "ge-0/0/0", ti, n*1e6*300, n*5e5*300, 1e9)
		if err := rec.Record([]poller.Result{{Device: "r1", Samples: []poller.Sample{s}}}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	pub := &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: func() time.Time { return now }}
	st, err := pub.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Interfaces != 1 || st.Graphs != 4 {
		t.Errorf("published %+v", st)
	}
	for _, p := range render.Periods {
		for _, scale := range []int{1, 2} {
			if fi, err := os.Stat(filepath.Join(dir, web.GraphFile("r1", "ge-0/0/0", p.String(), scale))); err != nil || fi.Size() == 0 {
				t.Errorf("%s x%d graph: %v", p, scale, err)
			}
		}
	}
	for _, page := range []string{"index.html", web.DevicePage("r1"), web.InterfacePage("r1", "ge-0/0/0")} {
		if _, err := os.Stat(filepath.Join(dir, page)); err != nil {
			t.Error(err)
		}
	}
	r, err := FetchRates(db, series.Name("r1", "ge-0/0/0"), render.Day, now)
	if err != nil {
		t.Fatal(err)
	}
	in, out := Summary(r)
	if math.Abs(in.Average-8e6) > 1 || math.Abs(out.Current-4e6) > 1 || math.Abs(in.Max-8e6) > 1 {
		t.Errorf("day stats in %+v out %+v, want 8 Mbit/s in, 4 out", in, out)
	}
	if want := 8e6 / 8 * r.Span.Seconds(); in.Total > want*1.01 || in.Total < want*0.5 {
		t.Errorf("day total in %v bytes, want about %v", in.Total, want)
	}
}

// simNetwork starts devices×ifaces simulated interfaces on a manual clock.
func simNetwork(tb testing.TB, devices, ifaces int, clock *snmpsim.ManualClock) []config.Device {
	_, devs := startSim(tb, snmpsim.Network(devices, ifaces, 1), clock, []string{"*"})
	return devs
}

// startSim starts the simulated devices on loopback, on clock, and returns their agents
// and a configuration polling the given interfaces of each over SNMPv2c.
func startSim(tb testing.TB, sims []snmpsim.DeviceConfig, clock *snmpsim.ManualClock, ifaces []string) ([]*snmpsim.Agent, []config.Device) {
	tb.Helper()
	agents, err := snmpsim.StartNetwork(context.Background(), "127.0.0.1:0", sims, &snmpsim.Options{Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		for _, a := range agents {
			a.Close()
		}
	})
	var devs []config.Device
	for _, a := range agents {
		devs = append(devs, config.Device{Name: a.Name(), Host: "127.0.0.1", Interfaces: ifaces,
			SNMP: config.SNMP{Version: "2c", Community: a.Community(), Port: a.Port(), Timeout: 2 * time.Second, Retries: 1, MaxOIDs: 60}})
	}
	return agents, devs
}

// BenchmarkPollCommit is one production cycle: poll every simulated interface over
// loopback SNMP and commit the samples to the store. The simulated agents run in the
// same process, so the CPU and memory figures include them.
func BenchmarkPollCommit(b *testing.B) {
	for _, size := range []struct{ devices, ifaces int }{{1, 1000}, {100, 100}, {1000, 100}} {
		b.Run(fmt.Sprintf("devices=%d/interfaces=%d", size.devices, size.devices*size.ifaces), func(b *testing.B) {
			clock := snmpsim.NewManualClock(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
			devs := simNetwork(b, size.devices, size.ifaces, clock)
			db := openDB(b)
			p := poller.New(devs, poller.Options{Now: clock.Now, Logger: quiet})
			defer p.Close()
			rec := NewRecorder(db, 5*time.Minute, nil, quiet)
			if err := rec.Record(p.Poll(context.Background())); err != nil { // resolve and create
				b.Fatal(err)
			}
			runtime.GC()
			var peak uint64
			stop := sampleHeap(&peak)
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				clock.Advance(5 * time.Minute)
				rs := p.Poll(context.Background())
				for _, r := range rs {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
				if err := rec.Record(rs); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			stop()
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// sampleHeap records the largest in-use heap seen every 10 ms until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			*peak = max(*peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// Changing the retention re-shapes an existing series on the next run and keeps its
// history; the same retention leaves it alone.
func TestRecorderRetentionChange(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	name := series.Name("r1", "ge-0/0/0")
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	record := func(keep config.Retention, from, n int) {
		t.Helper()
		rec := NewRecorder(db, step, nil, quiet)
		rec.SetRetention(keep)
		for i := from; i < from+n; i++ {
			s := sample("r1", "ge-0/0/0", t0.Add(time.Duration(i)*step), uint64(i)*300e3, uint64(i)*150e3, 1e9)
			if err := rec.Record([]poller.Result{{Device: "r1", Samples: []poller.Sample{s}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	record(config.DefaultRetention, 0, 100)
	spec, _, err := db.Info(name)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := spec.Archives, series.Archives(step, config.DefaultRetention); !slices.Equal(got, want) {
		t.Fatalf("archives %+v, want %+v", got, want)
	}
	if spec.Archives[0].Rows != 8928 || spec.Archives[2].Rows != 800 || spec.Archives[6].Rows != 800 {
		t.Errorf("default rows %d/%d/%d, want 8928 (31 days of 5 minutes) and MRTG's 800", spec.Archives[0].Rows, spec.Archives[2].Rows, spec.Archives[6].Rows)
	}
	longer := config.DefaultRetention
	longer.Daily = 62 * 24 * time.Hour
	record(longer, 100, 10)
	spec, _, err = db.Info(name)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Archives[0].Rows != 2*8928 {
		t.Errorf("after the change: %d rows of 5 minutes, want %d", spec.Archives[0].Rows, 2*8928)
	}
	res, err := db.Fetch(name, rrd.Average, t0, t0.Add(110*step), step)
	if err != nil {
		t.Fatal(err)
	}
	known := 0
	for i, row := range res.Rows {
		if math.IsNaN(row[0]) {
			continue
		}
		known++
		if math.Abs(row[0]-1000) > 1e-3 {
			t.Errorf("%s: %v octets/s, want 1000", res.Time(i).Format("15:04"), row[0])
		}
	}
	if known < 105 {
		t.Errorf("%d known rows after re-shaping, want the history kept (>= 105)", known)
	}
}

// An unreadable health record is an error naming the device, for Health and for
// publishing; a poll replaces it (forgetting only the last success); a store that
// cannot be read is an error too.
func TestHealthUnreadable(t *testing.T) {
	db := openDB(t)
	step := time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	if err := rec.Record([]poller.Result{{Device: "r1", Samples: []poller.Sample{sample("r1", "ge-0/0/0", t0, 0, 0, 1e9)}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutMeta(map[string][]byte{deviceKey("r1"): []byte("{not json")}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := Health(db, "r1"); ok || err == nil || !strings.Contains(err.Error(), "decode health of r1") {
		t.Errorf("Health of a bad record = %v, %v; want an error naming r1", ok, err)
	}
	pub := &Publisher{DB: db, Dir: t.TempDir(), Location: time.UTC, Step: step, Log: quiet, Now: func() time.Time { return t0.Add(step) }}
	if _, err := pub.Publish(context.Background()); err == nil || !strings.Contains(err.Error(), "decode health of r1") {
		t.Errorf("Publish over a bad health record: %v, want the decode error", err)
	}
	// A failed poll over the bad record still records; the record is whole again.
	if err := rec.Record([]poller.Result{{Device: "r1", Err: errors.New("request timeout")}}); err != nil {
		t.Fatalf("record over a bad health record: %v", err)
	}
	h, ok, err := Health(db, "r1")
	if !ok || err != nil || h.Error != "request timeout" || !h.LastSuccess.IsZero() {
		t.Errorf("health after the next poll = %+v, %v, %v", h, ok, err)
	}
	db.Close()
	if _, _, err := Health(db, "r1"); err == nil || !strings.Contains(err.Error(), "read health of r1") {
		t.Errorf("Health from a closed store = %v, want an error naming r1", err)
	}
}

// A cron run reads what earlier runs stored while its agents answer (Preload): the
// count of refused rates goes on from the last run's, under the race detector with
// the read overlapping other work, and the facts stay as stored.
func TestRecorderPreload(t *testing.T) {
	db := openDB(t)
	step := time.Minute
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	const speed = 100e6
	name := series.Name("r1", "ge-0/0/0")
	in := uint64(0)
	for run := range 4 {
		rec := NewRecorder(db, step, nil, quiet) // a new process each run
		rec.Preload()
		rec.Preload() // a second call changes nothing
		ti := t0.Add(time.Duration(run) * step)
		if run > 0 {
			in += 1e12 // far above the speed: refused every run but the first
		}
		rs := []poller.Result{{Device: "r1", Samples: []poller.Sample{sample("r1", "ge-0/0/0", ti, in, 0, speed)}}}
		if err := rec.Record(rs); err != nil {
			t.Fatal(err)
		}
		rf, err := RefusalsOf(db, name)
		if err != nil || rf.In != int64(run) {
			t.Errorf("run %d: %d refused in, %v; want %d", run, rf.In, err, run)
		}
	}
	info, err := series.Interface(db, name)
	if err != nil || info.Speed != speed || info.Descr != "ge-0/0/0" {
		t.Errorf("facts = %+v, %v", info, err)
	}
}
