package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/receivertest"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/remotewrite"
	"github.com/mrtgo/mrtgo/rrd"
)

// backfillKeep is the retention of the back-fill test's store: each archive reaches
// further back than the finer one, and as far as the period graph that reads it, so
// that "mrtgo fetch" shows rows of all four.
var backfillKeep = config.Retention{Daily: 2 * 24 * time.Hour, Weekly: 9 * 24 * time.Hour, Monthly: 34 * 24 * time.Hour, Yearly: 400 * 24 * time.Hour}

// TestBackfillToReceivers imports forty days of history of two interfaces into a
// store and back-fills it with "mrtgo backfill" (protocol "auto", so that the
// receivers of v1 only also show the fall-back) into prometheus, with out-of-order
// ingestion on, and into victoria-metrics. Every row of every archive the back-fill
// sends (the one-step rows where they exist, the 30-minute, 2-hour and 1-day ones
// further back) is in the engine once with the value the store holds, and equals
// what "mrtgo fetch" prints at that resolution; nothing else is. A second run sends
// nothing. Then a poll goes on from the end of the history: its steps are sent by the
// live export, next to the back-filled ones, with no step missing or twice.
func TestBackfillToReceivers(t *testing.T) {
	t.Parallel() // mostly waiting for the engines
	end := time.Now().Add(-time.Hour).Truncate(receivertest.ImportedStep)
	const days = 40
	starts := []func(testing.TB) *receivertest.Receiver{
		func(tb testing.TB) *receivertest.Receiver {
			return receivertest.PrometheusWith(tb, receivertest.PrometheusOptions{OutOfOrder: 60 * 24 * time.Hour, Retention: 800 * 24 * time.Hour})
		},
		receivertest.VictoriaMetrics,
	}
	for _, start := range starts {
		recv := start(t)
		t.Run(recv.Kind, func(t *testing.T) {
			dir := t.TempDir()
			last := receivertest.Imported(t, filepath.Join(dir, "mrtgo.db"), end, days, backfillKeep)
			cfgPath := filepath.Join(dir, "targets.toml")
			cfg := fmt.Sprintf(`data = "mrtgo.db"
step = "5m"

[retention]
daily = "2d"
weekly = "9d"
monthly = "34d"
yearly = "400d"

[[device]]
name = "core1"
host = "192.0.2.1"
interfaces = [%q, %q]

[remote_write]
url = %q
labels = { site = "ams" }
protocol = "auto"
`, receivertest.ImportedInterfaces[0], receivertest.ImportedInterfaces[1], recv.WriteURL)
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCmd(t, "backfill", "-c", cfgPath)
			if code != exitOK {
				t.Fatalf("backfill: exit %d: %s\n%s", code, out, errs)
			}
			t.Logf("backfill: %s", strings.TrimSpace(out))
			if strings.ContainsAny(errs, "\r\x1b") {
				t.Errorf("a progress bar drawn where stderr is not a terminal: %q", errs)
			}
			if !strings.Contains(out, "(remote-write v1)") {
				t.Errorf("protocol auto did not fall back to v1 with a receiver of v1 only:\n%s", out)
			}
			if strings.Contains(out, "dropped") || strings.Contains(out, "stay queued") {
				t.Errorf("backfill did not send everything:\n%s", out)
			}
			recv.Flush()
			checked := checkBackfill(t, recv, cfgPath, filepath.Join(dir, "mrtgo.db"), end, days)
			t.Logf("%s: %d samples back-filled equal the store's rows", recv.Kind, checked)

			// Run again: nothing new to send.
			code, out, errs = runCmd(t, "backfill", "-c", cfgPath)
			if code != exitOK || !strings.HasPrefix(out, "queued 0 samples of 0 series") {
				t.Errorf("second backfill: exit %d: %s\n%s", code, out, errs)
			}
			if again := checkBackfill(t, recv, cfgPath, filepath.Join(dir, "mrtgo.db"), end, days); again != checked {
				t.Errorf("after the second back-fill %d samples, want %d", again, checked)
			}

			// A poll goes on from the end of the history, as poll --once does.
			pollAfter(t, filepath.Join(dir, "mrtgo.db"), filepath.Join(dir, "remote-write"), recv.WriteURL, end, last, 6)
			recv.Flush()
			checkSeam(t, recv, filepath.Join(dir, "mrtgo.db"), end, 6)
			// The poller went on: a back-fill now still sends nothing.
			if code, out, errs := runCmd(t, "backfill", "-c", cfgPath); code != exitOK || !strings.HasPrefix(out, "queued 0 samples of 0 series") {
				t.Errorf("backfill after the poll: exit %d: %s\n%s", code, out, errs)
			}
			checkSeam(t, recv, filepath.Join(dir, "mrtgo.db"), end, 6)
		})
	}
}

// regionsOf are the spans of row ends each archive is sent for, finest first: from its
// first known row, rounded up to a row of the next coarser archive, to where the finer
// one begins.
func regionsOf(end time.Time, days int) []struct {
	row      time.Duration
	from, to time.Time
} {
	type r = struct {
		row      time.Duration
		from, to time.Time
	}
	up := func(t time.Time, d time.Duration) time.Time {
		u, s := t.Unix(), int64(d/time.Second)
		return time.Unix(u+(s-u%s)%s, 0)
	}
	down := func(t time.Time, d time.Duration) time.Time { return up(t.Add(-d+time.Second), d) }
	// Each archive's oldest row starts its rows' length times its row count before
	// the end of its last whole row.
	start := end.Add(-time.Duration(days) * 24 * time.Hour)
	b5 := up(down(end, 5*time.Minute).Add(-backfillKeep.Daily), 30*time.Minute)
	b30 := up(down(end, 30*time.Minute).Add(-backfillKeep.Weekly), 2*time.Hour)
	b2h := up(down(end, 2*time.Hour).Add(-backfillKeep.Monthly), 24*time.Hour)
	return []r{
		{5 * time.Minute, b5, end},
		{30 * time.Minute, b30, b5},
		{2 * time.Hour, b2h, b30},
		{24 * time.Hour, start, b2h},
	}
}

// checkBackfill compares every series' samples in the engine with the store's rows
// of the archive each span was sent from, and with "mrtgo fetch" where it shows them;
// it returns how many samples it compared.
func checkBackfill(t *testing.T, recv *receivertest.Receiver, cfgPath, data string, end time.Time, days int) int {
	t.Helper()
	db, err := rrd.Open(data, &rrd.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checked := 0
	for _, iface := range receivertest.ImportedInterfaces {
		name := series.Name("core1", iface)
		// What "mrtgo fetch" prints, by row length and row end.
		fetched := map[time.Duration]map[int64][2]*float64{}
		for _, period := range []string{"day", "week", "month", "year"} {
			code, out, errs := runCmd(t, "fetch", "-c", cfgPath, "--device", "core1", "--interface", iface, "--period", period, "--format", "json")
			if code != exitOK {
				t.Fatalf("fetch: exit %d: %s", code, errs)
			}
			var f struct {
				Step float64 `json:"step_seconds"`
				Rows []struct {
					Time    time.Time
					In, Out *float64
				}
			}
			if err := json.Unmarshal([]byte(out), &f); err != nil {
				t.Fatal(err)
			}
			row := time.Duration(f.Step) * time.Second
			if fetched[row] == nil {
				fetched[row] = map[int64][2]*float64{}
			}
			for _, r := range f.Rows {
				fetched[row][r.Time.Unix()] = [2]*float64{r.In, r.Out}
			}
		}
		if len(fetched) != 4 {
			t.Fatalf("fetch showed rows of %d lengths, want 4 (the test's retention no longer fits the periods)", len(fetched))
		}
		for d, dirn := range []string{"in", "out"} {
			sel := fmt.Sprintf(`mrtgo_interface_bits_per_second{device="core1",interface=%q,direction=%q,site="ams",description="uplink %s"}`, iface, dirn, iface)
			got, err := recv.Query(sel, end.Add(-time.Duration(days+1)*24*time.Hour), end.Add(2*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%s: %d series in the engine, want 1", sel, len(got))
			}
			var pts []receivertest.Point
			for _, p := range got {
				pts = p
			}
			engine := map[int64]float64{}
			for i, p := range pts {
				if i > 0 && !p.Time.After(pts[i-1].Time) {
					t.Errorf("%s: sample at %v after one at %v", sel, p.Time, pts[i-1].Time)
				}
				if p.Time.After(end) {
					continue // sent by a poll after the history (checkSeam)
				}
				engine[p.Time.Unix()] = p.Value
			}
			want := 0
			for _, g := range regionsOf(end, days) {
				res, err := db.Fetch(name, rrd.Average, g.from, g.to, g.row)
				if err != nil {
					t.Fatal(err)
				}
				if res.Step != g.row {
					t.Fatalf("store read %v rows for %v", res.Step, g.row)
				}
				shown := 0
				for k, row := range res.Rows {
					at := res.Time(k)
					if !at.After(g.from) || at.After(g.to) || math.IsNaN(row[d]) {
						continue
					}
					want++
					v, ok := engine[at.Unix()]
					switch {
					case !ok:
						t.Errorf("%s: the %v row ending %v (%v) is not in the engine", sel, g.row, at, row[d]*8)
						continue
					case math.Abs(v-row[d]*8) > 1e-9*math.Abs(v):
						t.Errorf("%s: %v row ending %v: engine %v, store %v", sel, g.row, at, v, row[d]*8)
					}
					if f, ok := fetched[g.row][at.Unix()]; ok {
						shown++
						if f[d] == nil || math.Abs(*f[d]-v) > 1e-9*math.Abs(v) {
							t.Errorf("%s: %v row ending %v: engine %v, fetch %v", sel, g.row, at, v, f[d])
						}
					}
				}
				if shown == 0 {
					t.Errorf("%s: fetch shows none of the %v rows sent", sel, g.row)
				}
			}
			if len(engine) != want {
				t.Errorf("%s: %d samples in the engine up to the end of the history, want the %d known rows", sel, len(engine), want)
			}
			checked += len(engine)
		}
	}
	return checked
}

// pollAfter records n steps after end into the store, continuing the counters at
// end, and sends them as a poll does: it exports what completed and flushes the queue.
func pollAfter(t *testing.T, data, queue, url string, end time.Time, last [][2]uint64, n int) {
	t.Helper()
	db, err := rrd.Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)
	rec := pipeline.NewRecorder(db, receivertest.ImportedStep, nil, log)
	rec.SetRetention(backfillKeep)
	rec.SetHoltWinters(nil)
	counters := last
	for k := 1; k <= n; k++ {
		at := end.Add(time.Duration(k) * receivertest.ImportedStep)
		var samples []poller.Sample
		for i, iface := range receivertest.ImportedInterfaces {
			counters[i][0] += uint64(300 * 1e6 * (k + i))
			counters[i][1] += uint64(300 * 4e5 * (k + i))
			samples = append(samples, poller.Sample{Device: "core1", Interface: iface, Index: i + 1, Time: at,
				In: counters[i][0], Out: counters[i][1], Bits: 64, Speed: 10e9, Alias: "uplink " + iface})
		}
		if err := rec.Record([]poller.Result{{Device: "core1", Samples: samples}}); err != nil {
			t.Fatal(err)
		}
	}
	q, err := remotewrite.OpenQueue(queue, remotewrite.QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	x, err := pipeline.NewRemote(db, q, map[string]string{"site": "ams"}, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Export(); err != nil {
		t.Fatal(err)
	}
	w, err := remotewrite.NewWriter(q, remotewrite.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// checkSeam checks the one-step rows around the end of the history: every known row
// from two hours before it to n steps after is in the engine once, with its value.
func checkSeam(t *testing.T, recv *receivertest.Receiver, data string, end time.Time, n int) {
	t.Helper()
	db, err := rrd.Open(data, &rrd.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	from, to := end.Add(-2*time.Hour), end.Add(time.Duration(n)*receivertest.ImportedStep)
	for _, iface := range receivertest.ImportedInterfaces {
		res, err := db.Fetch(series.Name("core1", iface), rrd.Average, from, to, receivertest.ImportedStep)
		if err != nil {
			t.Fatal(err)
		}
		sel := fmt.Sprintf(`mrtgo_interface_bits_per_second{device="core1",interface=%q,direction="in"}`, iface)
		got, err := recv.Query(sel, from.Add(time.Second), to)
		if err != nil {
			t.Fatal(err)
		}
		var pts []receivertest.Point
		for _, p := range got {
			pts = p
		}
		engine := map[int64]float64{}
		for i, p := range pts {
			if i > 0 && !p.Time.After(pts[i-1].Time) {
				t.Errorf("%s: sample at %v after one at %v: a step twice at the seam", sel, p.Time, pts[i-1].Time)
			}
			if p.Time.After(from) { // prometheus's range takes in its start too
				engine[p.Time.Unix()] = p.Value
			}
		}
		known, after := 0, 0
		for k, row := range res.Rows {
			at := res.Time(k)
			if !at.After(from) || at.After(to) || math.IsNaN(row[0]) {
				continue
			}
			known++
			if at.After(end) {
				after++
			}
			if v, ok := engine[at.Unix()]; !ok || math.Abs(v-row[0]*8) > 1e-9*math.Abs(v) {
				t.Errorf("%s: row ending %v: engine %v (%v), store %v", sel, at, v, ok, row[0]*8)
			}
		}
		if after != n {
			t.Errorf("%s: %d known rows after the history, want the %d polled", sel, after, n)
		}
		if len(engine) != known {
			t.Errorf("%s: %d samples in the engine around the seam, want the %d known rows", sel, len(engine), known)
		}
	}
}

// TestBackfillWithoutOutOfOrder back-fills into a prometheus without out-of-order
// ingestion, which refuses samples older than its head: the command fails, says how
// many samples were refused, and names the setting that takes them.
func TestBackfillWithoutOutOfOrder(t *testing.T) {
	t.Parallel()
	recv := receivertest.Prometheus(t)
	end := time.Now().Add(-time.Hour).Truncate(receivertest.ImportedStep)
	dir := t.TempDir()
	receivertest.Imported(t, filepath.Join(dir, "mrtgo.db"), end, 10, config.DefaultRetention)
	cfgPath := filepath.Join(dir, "targets.toml")
	cfg := fmt.Sprintf("data = \"mrtgo.db\"\nstep = \"5m\"\n\n[[device]]\nname = \"core1\"\nhost = \"192.0.2.1\"\ninterfaces = [\"*\"]\n\n[remote_write]\nurl = %q\nmax_samples_per_send = 500\n", recv.WriteURL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "backfill", "-c", cfgPath)
	t.Logf("%s%s", out, errs)
	if code != exitError || !strings.Contains(errs, "refused") || !strings.Contains(errs, "out_of_order_time_window") {
		t.Errorf("backfill into prometheus without out-of-order: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestBackfillMRTGImport imports an MRTG .log of MRTG's shape (600 rows each of five
// minutes, 30 minutes and 2 hours, then 300 days) with "mrtgo import" and back-fills
// it into victoria-metrics at the default retention: every sample sent is in the
// engine once, each equal to a row of the store's archives at its time, oldest rows
// the coarsest, and those of the day graph's span equal to what "mrtgo fetch" prints,
// all of its rows.
func TestBackfillMRTGImport(t *testing.T) {
	t.Parallel()
	recv := receivertest.VictoriaMetrics(t)
	dir := t.TempDir()
	end := time.Now().UTC().Truncate(5 * time.Minute).Add(-time.Minute).Unix()
	var log strings.Builder
	fmt.Fprintf(&log, "%d 123456789 987654321\n", end)
	at := end
	for _, c := range []struct {
		span int64
		n    int
	}{{300, 600}, {1800, 600}, {7200, 600}, {86400, 300}} {
		at = at / c.span * c.span
		for range c.n {
			v := math.Round(1e6 + 5e5*math.Sin(float64(at)/86400*2*math.Pi))
			fmt.Fprintf(&log, "%d %.0f %.0f %.0f %.0f\n", at, v, v/2, v*1.2, v/2*1.2)
			at -= c.span
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "r_xe.log"), []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mrtgCfg := filepath.Join(dir, "mrtg.cfg")
	if err := os.WriteFile(mrtgCfg, []byte(fmt.Sprintf("WorkDir: %s\nTarget[r_xe]: #xe-0/0/0:public@192.0.2.1\nMaxBytes[r_xe]: 125000000\n", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	targets := filepath.Join(dir, "targets.toml")
	if code, out, errs := runCmd(t, "import", "-c", targets, "--offline", mrtgCfg); code != exitOK {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errs)
	}
	f, err := os.OpenFile(targets, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "\n[remote_write]\nurl = %q\n", recv.WriteURL)
	f.Close()
	cfg, err := config.Load(targets)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Devices) != 1 || len(cfg.Devices[0].Interfaces) != 1 {
		t.Fatalf("import wrote %+v", cfg.Devices)
	}
	device, iface := cfg.Devices[0].Name, cfg.Devices[0].Interfaces[0]
	code, out, errs := runCmd(t, "backfill", "-c", targets)
	if code != exitOK {
		t.Fatalf("backfill: exit %d\n%s\n%s", code, out, errs)
	}
	t.Logf("%s", out)
	// What fetch prints at each resolution, by row end.
	fetched := map[int64][]float64{}
	var day []int64 // the day graph's rows with a value
	for _, period := range []string{"day", "week", "month", "year"} {
		code, out, errs := runCmd(t, "fetch", "-c", targets, "--device", device, "--interface", iface, "--period", period, "--format", "json")
		if code != exitOK {
			t.Fatalf("fetch: exit %d: %s", code, errs)
		}
		var r struct {
			Rows []struct {
				Time time.Time
				In   *float64
			}
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		for _, row := range r.Rows {
			if row.In != nil {
				fetched[row.Time.Unix()] = append(fetched[row.Time.Unix()], *row.In)
				if period == "day" {
					day = append(day, row.Time.Unix())
				}
			}
		}
	}
	sel := fmt.Sprintf(`mrtgo_interface_bits_per_second{device=%q,interface=%q,direction="in"}`, device, iface)
	got, err := recv.Query(sel, time.Unix(end, 0).Add(-320*24*time.Hour), time.Unix(end, 0).Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var pts []receivertest.Point
	for _, p := range got {
		pts = p
	}
	if len(pts) < 600 {
		t.Fatalf("%s: %d samples in the engine", sel, len(pts))
	}
	// The rows of every average archive of the store, by row end (the month graph
	// shows 2-hour rows of 33 days, the store keeps 66).
	stored := map[int64][]float64{}
	db, err := rrd.Open(cfg.Data, &rrd.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	name := series.Name(device, iface)
	spec, err := db.Spec(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range spec.Archives {
		if a.CF != rrd.Average {
			continue
		}
		row := time.Duration(a.Steps) * spec.Step
		res, err := db.Fetch(name, rrd.Average, time.Unix(end, 0).Add(-time.Duration(a.Rows)*row), time.Unix(end, 0), row)
		if err != nil {
			t.Fatal(err)
		}
		for k, r := range res.Rows {
			if !math.IsNaN(r[0]) {
				stored[res.Time(k).Unix()] = append(stored[res.Time(k).Unix()], r[0]*8)
			}
		}
	}
	db.Close()
	engine := map[int64]bool{}
	gap := time.Duration(math.MaxInt64)
	for i, p := range pts {
		engine[p.Time.Unix()] = true
		equal := func(v float64) bool { return math.Abs(v-p.Value) <= 1e-9*math.Abs(v) }
		if !slices.ContainsFunc(stored[p.Time.Unix()], equal) {
			t.Errorf("%s: %v at %v is no row the store holds there (%v)", sel, p.Value, p.Time, stored[p.Time.Unix()])
		}
		if f := fetched[p.Time.Unix()]; p.Time.Unix() >= day[0] && !slices.ContainsFunc(f, equal) {
			t.Errorf("%s: %v at %v is not what fetch prints there (%v)", sel, p.Value, p.Time, f)
		}
		if i == 0 {
			continue
		}
		switch d := p.Time.Sub(pts[i-1].Time); {
		case d <= 0:
			t.Errorf("%s: sample at %v after one at %v", sel, p.Time, pts[i-1].Time)
		case d < gap:
			gap = d
		case d > gap && d%gap != 0:
			t.Errorf("%s: rows %v apart at %v after rows %v apart: a coarser row after a finer one", sel, d, p.Time, gap)
		}
	}
	for _, u := range day {
		if !engine[u] {
			t.Errorf("%s: the day graph's row at %v is not in the engine", sel, time.Unix(u, 0))
		}
	}
	t.Logf("%d samples from %v to %v, the last %d the day graph's", len(pts), pts[0].Time, pts[len(pts)-1].Time, len(day))
}
