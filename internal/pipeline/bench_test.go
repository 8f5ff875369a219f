package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"

	"github.com/mrtgo/mrtgo/internal/fixturedir"
	"github.com/mrtgo/mrtgo/internal/testneed"
)

// benchFixture is a store of n interfaces on one device with 40 days of 5-minute
// history ending at end (the day, week and month graphs full, the year graph a tenth
// full), with a daily rhythm so the graphs are not flat. The incremental site
// benchmark moves end on, a step at a time, and keeps its site in site.
type benchFixture struct {
	db       *rrd.DB
	rec      *Recorder
	ifaces   []string
	counters map[string][2]uint64
	end      time.Time
	site     *Publisher // nil until the incremental benchmark first publishes
	now      time.Time  // the site's clock
}

// fixtureState is what a later process needs besides the store to start from a
// fixture.
type fixtureState struct {
	End      time.Time
	Counters map[string][2]uint64
}

// A benchmark runs more than once in a process: once per -count, and again while a
// -benchtime duration is not filled. The stores take seconds to fill, so each size is
// built once per process in fixtureDir, which TestMain removes.
var (
	fixtureDir = fixturedir.Dir{Prefix: "pipeline-bench-"}
	fixtures   = map[int]*benchFixture{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range fixtures {
		f.db.Close()
	}
	fixtureDir.Remove()
	os.Exit(code)
}

// benchStore is the process's fixture of n interfaces.
func benchStore(b *testing.B, n int) *benchFixture {
	b.Helper()
	if f := fixtures[n]; f != nil {
		return f
	}
	f := &benchFixture{}
	for i := range n {
		f.ifaces = append(f.ifaces, fmt.Sprintf("ge-%d/0/%d", i/48, i%48))
	}
	openFixture(b, f, fmt.Sprintf("store-%d.db", n), func() {
		step := 5 * time.Minute
		f.end = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
		for day := 40; day > 0; day-- { // a commit a day keeps the batches small
			from := f.end.Add(-time.Duration(day) * 24 * time.Hour)
			history(b, f.rec, "r1", f.ifaces, from, from.Add(24*time.Hour), step, f.counters, rhythm)
		}
	})
	fixtures[n] = f
	return f
}

// openFixture opens this process's copy of the store file into f (see
// fixturedir.Dir.Copy), building it first if no earlier process did: build fills
// the store through f.rec, from f.counters (empty), and sets f.end. The end and
// the counters are kept beside the store, so that every process starts from the
// store as it was built, whatever the benchmarks of earlier ones added to theirs.
func openFixture(b *testing.B, f *benchFixture, file string, build func()) {
	b.Helper()
	statePath := fixtureDir.Path(b, file+".state")
	var st fixtureState
	ready := false
	if fixtureDir.Ready(b, file) { // an earlier process built it
		raw, err := os.ReadFile(statePath)
		ready = err == nil && json.Unmarshal(raw, &st) == nil
	}
	if !ready {
		os.Remove(fixtureDir.Path(b, file))
		db, err := rrd.Open(fixtureDir.Path(b, file), nil)
		if err != nil {
			b.Fatal(err)
		}
		f.db, f.rec, f.counters = db, NewRecorder(db, 5*time.Minute, nil, quiet), map[string][2]uint64{}
		build()
		st = fixtureState{End: f.end, Counters: f.counters}
		raw, err := json.Marshal(st)
		if err == nil {
			err = os.WriteFile(statePath, raw, 0o644)
		}
		if err == nil {
			err = db.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
		fixtureDir.MarkReady(b, file)
	}
	db, err := rrd.Open(fixtureDir.Copy(b, file), nil)
	if err != nil {
		b.Fatal(err)
	}
	f.db, f.rec = db, NewRecorder(db, 5*time.Minute, nil, quiet)
	f.end, f.counters = st.End, st.Counters
}

// rhythm is a day's traffic in octets/s, different per interface.
func rhythm(iface string, t time.Time) (float64, float64) {
	h := float64(t.Unix()%86400) / 86400 * 2 * math.Pi
	k := float64(len(iface)%7+1) * 1e6
	return k * (2 + math.Sin(h)), k * (1 + 0.5*math.Cos(h))
}

// BenchmarkSite publishes a site of 1,000 interfaces: "full" from scratch into an
// empty directory (4,000 graphs, each as a 1x and a 2x PNG, and every page),
// "incremental" after one new step (the 1,000 day graphs and the pages). cpu-s/op is
// the CPU time the process used (at most 2 s per second on this 2-core machine).
//
// A step that completes a row of the week graph (every sixth) redraws the week
// graphs too, and one that completes a row of the month graph the month's: such a
// step is published untimed, so that every timed step is one that redraws the day
// graphs alone. When "full" ran in the same process, "incremental" also reports its
// time and CPU time as percentages of full's (incremental-%-of-full, cpu-%-of-full;
// the second varies less on a machine shared with other work).
func BenchmarkSite(b *testing.B) {
	for _, n := range []int{1000} {
		f := benchStore(b, n)
		step := 5 * time.Minute
		var fullNs, fullCPU float64 // full's time and CPU time per op in this process; 0 until it ran
		b.Run(fmt.Sprintf("full/interfaces=%d", n), func(b *testing.B) {
			now := f.end.Add(10 * time.Second)
			var drawn int
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				dir, err := os.MkdirTemp(b.TempDir(), "site")
				if err != nil {
					b.Fatal(err)
				}
				pub := &Publisher{DB: f.db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: func() time.Time { return now }}
				b.StartTimer()
				drawn = timedPublish(b, pub, &cpu).Drawn
			}
			b.ReportMetric(float64(2*drawn), "pngs/op")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			fullNs, fullCPU = float64(b.Elapsed().Nanoseconds())/float64(b.N), cpu.Seconds()/float64(b.N)
		})
		b.Run(fmt.Sprintf("incremental/interfaces=%d", n), func(b *testing.B) {
			if f.site == nil {
				f.now = f.end.Add(10 * time.Second)
				f.site = &Publisher{DB: f.db, Dir: fixtureDir.Path(b, fmt.Sprintf("site-%d", n)), Location: time.UTC, Step: step,
					Log: quiet, Now: func() time.Time { return f.now }}
				if _, err := f.site.Publish(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			var drawn int
			var cpu time.Duration
			week := render.Week.ResolutionFor(step)
			for b.Loop() {
				b.StopTimer()
				for {
					history(b, f.rec, "r1", f.ifaces, f.end, f.end.Add(step), step, f.counters, rhythm)
					f.end, f.now = f.end.Add(step), f.now.Add(step)
					if f.end.Truncate(week) == f.end.Add(-step).Truncate(week) {
						break // only the day graphs are due
					}
					if _, err := f.site.Publish(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				drawn = timedPublish(b, f.site, &cpu).Drawn
			}
			b.ReportMetric(float64(2*drawn), "pngs/op")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			if fullNs > 0 {
				b.ReportMetric(100*float64(b.Elapsed().Nanoseconds())/float64(b.N)/fullNs, "incremental-%-of-full")
				b.ReportMetric(100*cpu.Seconds()/float64(b.N)/fullCPU, "cpu-%-of-full")
			}
		})
	}
}

// BenchmarkGraph is one interface's day graph from the store: fetch, summarize and
// draw the 1x PNG ("mrtgo"), against rrdtool graph drawing the same rates from an RRD
// file with the same look (in as an area, out as a line, 400×100 plot).
func BenchmarkGraph(b *testing.B) {
	f := benchStore(b, 1)
	db, end := f.db, f.end
	name := series.Name("r1", f.ifaces[0])
	b.Run("mrtgo/graphs=1", func(b *testing.B) {
		one := func() {
			r, err := FetchRates(db, name, render.Day, end)
			if err != nil {
				b.Fatal(err)
			}
			in, out := Summary(r)
			g := render.Graph{Period: render.Day, Span: r.Span, Start: r.Start, Step: r.Step, End: end, Location: time.UTC,
				In: r.In, Out: r.Out, P95In: in.P95, P95Out: out.P95, Speed: 1e9}
			if err := render.PNG(discard{}, g); err != nil {
				b.Fatal(err)
			}
		}
		one() // rasterizes the labels, as the first graph of a process does
		for b.Loop() {
			one()
		}
	})
	b.Run("rrdtool/graphs=1", func(b *testing.B) {
		bin := testneed.Program(b, "rrdtool", "apt-get install rrdtool")
		_, graph := rrdFile(b, bin, db, name, end)
		for b.Loop() {
			run(b, bin, graph...)
		}
	})
	// The same graph 100 times through one "rrdtool -" process: rrdtool's own
	// drawing, without a process start and font set-up per graph.
	b.Run("rrdtool-pipe/graphs=100", func(b *testing.B) {
		bin := testneed.Program(b, "rrdtool", "apt-get install rrdtool")
		file, graph := rrdFile(b, bin, db, name, end)
		var script strings.Builder
		for range 100 {
			script.WriteString(strings.Join(graph, " ") + "\n")
		}
		for b.Loop() {
			cmd := exec.Command(bin, "-")
			cmd.Stdin = strings.NewReader(script.String())
			out, err := cmd.CombinedOutput()
			if err != nil || strings.Count(string(out), "OK ") != 100 {
				b.Fatalf("rrdtool - on %s: %v: %.500s", file, err, out)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/100, "ms/graph")
	})
}

// rrdFile writes the day's rates of series into an RRD file and returns it with
// the arguments of an rrdtool graph of them in MRTG's look (in as an area, out
// as a line, 400×100 plot).
func rrdFile(b *testing.B, bin string, db *rrd.DB, series string, end time.Time) (string, []string) {
	b.Helper()
	r, err := FetchRates(db, series, render.Day, end)
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "if.rrd")
	start := r.Start.Add(-r.Step)
	run(b, bin, "create", file, "--step", strconv.Itoa(int(r.Step.Seconds())), "--start", strconv.FormatInt(start.Unix(), 10),
		"DS:in:GAUGE:600:0:U", "DS:out:GAUGE:600:0:U", "RRA:AVERAGE:0.5:1:800")
	args := []string{"update", file}
	for i := range r.In {
		args = append(args, fmt.Sprintf("%d:%s:%s", r.Time(i).Unix(), rrdNum(r.In[i]), rrdNum(r.Out[i])))
	}
	run(b, bin, args...)
	png := filepath.Join(b.TempDir(), "day.png")
	return file, []string{"graph", png, "--start", strconv.FormatInt(end.Add(-r.Span).Unix(), 10), "--end", strconv.FormatInt(end.Unix(), 10),
		"--width", "400", "--height", "100", "--imgformat", "PNG",
		"DEF:in=" + file + ":in:AVERAGE", "DEF:out=" + file + ":out:AVERAGE",
		"AREA:in#00cc00:In", "LINE1:out#0000ff:Out"}
}

func run(b *testing.B, bin string, args ...string) {
	b.Helper()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		b.Fatalf("rrdtool %s: %v: %s", args[0], err, strings.TrimSpace(string(out)))
	}
}

func rrdNum(v float64) string {
	if math.IsNaN(v) {
		return "U"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// timedPublish publishes, adding the CPU time it took to cpu.
func timedPublish(b *testing.B, pub *Publisher, cpu *time.Duration) PublishStats {
	b.Helper()
	// What a publish holds at once (a regression once held every interface's month
	// of rows until the end).
	var peak uint64
	stop := sampleHeap(&peak)
	defer func() {
		stop()
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	}()
	c0 := cpuTime()
	var st PublishStats
	var err error
	// Labelled, so that a profile can be narrowed to the timed publishes
	// (go tool pprof -tagfocus publish=timed).
	pprof.Do(context.Background(), pprof.Labels("publish", "timed"), func(ctx context.Context) {
		st, err = pub.Publish(ctx)
	})
	if err != nil {
		b.Fatal(err)
	}
	*cpu += cpuTime() - c0
	return st
}

// cpuTime is the CPU time (user and system) the process has used: on a machine
// shared with other work, CPU seconds per operation vary less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkRings reads the month of base-step rows the week and month percentiles
// of 1,000 interfaces need: "each" one fetch per interface, as fetchRates does
// alone; "batched" through fetchRings (rrd.FetchMany, 64 interfaces a read).
func BenchmarkRings(b *testing.B) {
	const n = 1000
	f := benchStore(b, n)
	db, ifaces, end := f.db, f.ifaces, f.end
	step := 5 * time.Minute
	now := end.Add(10 * time.Second)
	names := make([]string, n)
	spans := make([]time.Duration, n)
	for i, ifc := range ifaces {
		names[i] = series.Name("r1", ifc)
		spec, last, err := db.Info(names[i])
		if err != nil {
			b.Fatal(err)
		}
		spans[i] = fineSpan(spec, render.Month.SpanFor(spec.Step), now, last)
	}
	b.Run(fmt.Sprintf("each/interfaces=%d", n), func(b *testing.B) {
		c0 := cpuTime()
		for b.Loop() {
			for i, s := range names {
				rr := &ringRows{span: spans[i]}
				if _, _, ok, err := rr.rows(db, s, now, spans[i], step); err != nil || !ok {
					b.Fatalf("rows of %s: ok %v, %v", s, ok, err)
				}
			}
		}
		b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N), "cpu-s/op")
	})
	b.Run(fmt.Sprintf("batched/interfaces=%d", n), func(b *testing.B) {
		c0 := cpuTime()
		for b.Loop() {
			for lo := 0; lo < n; lo += ringBatch {
				hi := min(lo+ringBatch, n)
				rings, err := fetchRings(db, names[lo:hi], spans[lo:hi], now, step)
				if err != nil || rings[0] == nil {
					b.Fatalf("fetch rings: %v", err)
				}
			}
		}
		b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N), "cpu-s/op")
	})
}

// bigStore is the process's fixture of n interfaces on devices of 48, with 26 hours
// of 5-minute history ending at end (the day graph nearly full, the others short):
// enough for the cost of a day graph, built in about a minute at 100,000.
func bigStore(b *testing.B, n int) *benchFixture {
	b.Helper()
	if f := fixtures[-n]; f != nil {
		return f
	}
	f := &benchFixture{}
	for i := range n {
		f.ifaces = append(f.ifaces, fmt.Sprintf("d%04d/ge-0/0/%d", i/48, i%48))
	}
	openFixture(b, f, fmt.Sprintf("store-%d-day.db", n), func() {
		step := 5 * time.Minute
		f.end = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
		for from := f.end.Add(-26 * time.Hour); from.Before(f.end); from = from.Add(30 * time.Minute) {
			f.step(b, from, from.Add(30*time.Minute), step) // a commit per half hour keeps the batches small
		}
	})
	fixtures[-n] = f
	return f
}

// warmDay reads the last day of a bigStore's series, every archive a day graph
// draws from, as the steps a running daemon committed in that day leave the store:
// mapped. A row holds 1,024 series, so every hundredth series maps them all.
func warmDay(b *testing.B, f *benchFixture) {
	b.Helper()
	names, err := f.db.Series()
	if err != nil {
		b.Fatal(err)
	}
	from := f.end.Add(-26 * time.Hour)
	for i := 0; i < len(names); i += 100 {
		for _, cf := range []rrd.CF{rrd.Average, rrd.Max} {
			if _, err := f.db.Fetch(names[i], cf, from, f.end, 0); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := f.db.FetchHoltWinters(names[i], from, f.end); err != nil && !errors.Is(err, rrd.ErrNoHoltWinters) {
			b.Fatal(err)
		}
	}
}

// step records the steps after from up to to for every interface of a bigStore
// (named "device/interface").
func (f *benchFixture) step(b *testing.B, from, to time.Time, step time.Duration) {
	b.Helper()
	var rs []poller.Result
	for ti := from.Add(step); !ti.After(to); ti = ti.Add(step) {
		for lo := 0; lo < len(f.ifaces); lo += 48 {
			dev, _, _ := strings.Cut(f.ifaces[lo], "/")
			r := poller.Result{Device: dev, Requests: 1}
			for _, name := range f.ifaces[lo:min(lo+48, len(f.ifaces))] {
				_, ifc, _ := strings.Cut(name, "/")
				c := f.counters[name]
				in, out := rhythm(ifc, ti)
				c[0] += uint64(in * step.Seconds())
				c[1] += uint64(out * step.Seconds())
				f.counters[name] = c
				r.Samples = append(r.Samples, sample(dev, ifc, ti, c[0], c[1], 1e9))
			}
			rs = append(rs, r)
		}
	}
	if err := f.rec.Record(rs); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkOnRequest is "mrtgo run" on a network of 100,000 interfaces, above
// DaemonDrawUpTo, so that Publish draws no graph. "graph" is the time to the first
// byte of a day graph whose data moved since it was drawn (a stale graph of another
// interface each time), drawn on request by Handler and served over HTTP on
// 127.0.0.1. "idle-step" is the daemon's rendering of one new step when nobody looks:
// the numbers of every day graph and the pages whose numbers moved; cpu-s/min is its
// CPU time per minute of the 5-minute step.
func BenchmarkOnRequest(b *testing.B) {
	const n = 100_000
	f := bigStore(b, n)
	step := 5 * time.Minute
	if f.site == nil {
		f.now = f.end.Add(10 * time.Second)
		f.site = &Publisher{DB: f.db, Dir: fixtureDir.Path(b, fmt.Sprintf("site-%d", n)), Location: time.UTC, Step: step,
			Log: quiet, Now: func() time.Time { return f.now }, DrawUpTo: DaemonDrawUpTo}
		if _, err := f.site.Publish(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	pub := f.site
	b.Run(fmt.Sprintf("graph/interfaces=%d", n), func(b *testing.B) {
		// Whether this process built the store (every page mapped) or reopened it
		// (none), the pages a day of steps touched are mapped, as in a daemon that has
		// run for a day: a reopened store's first touches cost 20-30 ms a graph here,
		// and would decide the figure.
		warmDay(b, f)
		srv := httptest.NewServer(pub.Handler(web.Handler(pub.Dir)))
		defer srv.Close()
		// The first request indexes the catalog's file names: not part of a graph's cost.
		if resp, err := srv.Client().Get(srv.URL + "/" + web.GraphFile("d0000", "ge-0/0/0", "year", 1)); err != nil {
			b.Fatal(err)
		} else {
			resp.Body.Close()
		}
		before := pub.DrawnOnRequest()
		i := 0
		for b.Loop() {
			// Interfaces far apart, so that no drawing is shared.
			dev, ifc, _ := strings.Cut(f.ifaces[(i*7919)%n], "/")
			i++
			resp, err := srv.Client().Get(srv.URL + "/" + web.GraphFile(dev, ifc, "day", 1))
			if err != nil {
				b.Fatal(err)
			}
			var one [1]byte
			if _, err := io.ReadFull(resp.Body, one[:]); err != nil || resp.StatusCode != 200 {
				b.Fatalf("GET day graph of %s/%s: %d, %v", dev, ifc, resp.StatusCode, err)
			}
			b.StopTimer()
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(pub.DrawnOnRequest()-before)/float64(b.N), "drawn/op")
	})
	b.Run(fmt.Sprintf("idle-step/interfaces=%d", n), func(b *testing.B) {
		week := render.Week.ResolutionFor(step)
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			for { // as BenchmarkSite: a step that moves only the day graphs
				f.step(b, f.end, f.end.Add(step), step)
				f.end, f.now = f.end.Add(step), f.now.Add(step)
				if f.end.Truncate(week) == f.end.Add(-step).Truncate(week) {
					break
				}
				if _, err := pub.Publish(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			timedPublish(b, pub, &cpu)
		}
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		b.ReportMetric(cpu.Seconds()/float64(b.N)/step.Minutes(), "cpu-s/min")
	})
}
