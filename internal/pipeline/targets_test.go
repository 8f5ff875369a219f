package pipeline

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/internal/testsnmpd"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

func parseConfig(t *testing.T, src string) *config.Config {
	t.Helper()
	c, err := config.Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// UCD load, HOST-RESOURCES processor load and UCD memory polled from net-snmp, stored
// and fetched back: each stored row is the value the agent gave (a gauge), raw.
func TestRecordSnmpdTargets(t *testing.T) {
	s := testsnmpd.Start(t, "mrtgo-ro-t4", "")
	cfg := parseConfig(t, fmt.Sprintf(`step = "2s"
[[device]]
name = "srv"
host = "127.0.0.1:%d"
community = %q
interfaces = ["lo"]
[[device.target]]
name = "load"
preset = "cpu"
[[device.target]]
name = "cpu"
preset = "cpu-hr"
[[device.target]]
name = "mem"
preset = "memory"
`, s.Port, s.Community))
	db := openDB(t)
	rec := NewRecorder(db, cfg.Step, nil, quiet)
	rec.SetTargets(cfg)
	p := poller.New(cfg.Devices, poller.Options{Logger: quiet})
	defer p.Close()
	var mem []poller.TargetSample
	loadLo, loadHi := math.Inf(1), math.Inf(-1) // over the samples, in and out
	cpuKnown := false
	deadline := time.Now().Add(100 * time.Second)
	var first, last time.Time
	for i := 0; i < 4 || !cpuKnown && !testing.Short() && time.Now().Before(deadline); i++ {
		// Stay a step apart: one sample a row. (A loaded machine may leave more than
		// the heartbeat between two: the row after such a gap is partly unknown, and
		// as in rrdtool its average counts the unknown part as nothing.)
		time.Sleep(time.Until(time.Now().Truncate(2 * time.Second).Add(2100 * time.Millisecond)))
		rs := p.Poll(context.Background())
		if rs[0].Err != nil {
			t.Fatal(rs[0].Err)
		}
		for _, ts := range rs[0].Targets {
			switch ts.Target {
			case "mem":
				mem = append(mem, ts)
			case "cpu":
				cpuKnown = cpuKnown || ts.In.Known
			case "load":
				loadLo = min(loadLo, ts.In.Float, ts.Out.Float)
				loadHi = max(loadHi, ts.In.Float, ts.Out.Float)
			}
		}
		if err := rec.Record(rs); err != nil {
			t.Fatal(err)
		}
		if first.IsZero() {
			first = time.Now()
		}
		last = time.Now()
	}
	for _, name := range []string{"load", "cpu", "mem"} {
		sn := series.KindName("srv", series.KindTarget, name)
		spec, err := db.Spec(sn)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if spec.DS[0].Type != rrd.Gauge {
			t.Errorf("%s stored as %v, want a gauge", name, spec.DS[0].Type)
		}
		res, err := db.Fetch(sn, rrd.Average, first.Add(-2*time.Second), last, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		known, exact := 0, 0
		for i, row := range res.Rows {
			if math.IsNaN(row[0]) {
				continue
			}
			known++
			switch name {
			case "mem":
				// memTotalReal does not move: every whole row is it, in kB as the agent
				// says (a row after a gap holds less).
				if row[1] == mem[0].Out.Float {
					exact++
				} else if !(row[1] > 0 && row[1] < mem[0].Out.Float) {
					t.Errorf("memory total row %d = %v, want %v", i, row[1], mem[0].Out.Float)
				}
				if row[0] <= 0 || row[0] >= row[1] {
					t.Errorf("memory used row %d = %v, want between 0 and %v", i, row[0], row[1])
				}
			case "cpu":
				if row[0] < 0 || row[0] > 100 {
					t.Errorf("processor load row %d = %v, want 0–100", i, row[0])
				}
				if !math.IsNaN(row[1]) {
					t.Errorf("processor load has an out value %v", row[1])
				}
			case "load":
				// A row mixes the samples whose intervals it covers.
				for _, v := range row {
					if !(v >= 0 && v <= loadHi+0.01) {
						t.Errorf("load row %d = %v, want up to the laLoadInt polled, %v to %v", i, row, loadLo, loadHi)
					}
				}
			}
		}
		if known == 0 && (name != "cpu" || cpuKnown) {
			t.Errorf("%s: no known rows in %v", name, res.Rows)
		}
		if name == "mem" && exact < known/2 {
			t.Errorf("memory: %d of %d rows are the total exactly, want most", exact, known)
		}
	}
	// The device page's series are interfaces only: the targets are not listed there
	// as interfaces named "target/...".
	all, _ := db.Series()
	for _, s := range all {
		if d, i, ok := series.Split(s); ok && (d != "srv" || i != "lo") {
			t.Errorf("series %q splits as interface %q of %q", s, i, d)
		}
	}
}

// A target's kind is its series' data source type, and its max (after factor and per)
// the ceiling of the raw values.
func TestTargetSpec(t *testing.T) {
	cfg := parseConfig(t, `[[device]]
name = "d"
host = "127.0.0.1"
[[device.target]]
name = "a"
oids = ["1.3.6.1.2.1.1.3.0"]
kind = "absolute"
per = "minute"
max = 600
[[device.target]]
name = "t"
oids = ["1.3.6.1.2.1.1.3.0"]
kind = "gauge"
factor = 0.1
max = 50
`)
	a := TargetSpec(time.Minute, cfg.Devices[0].Targets[0], 64, nil)
	if a.DS[0].Type != rrd.Absolute || a.DS[1].Max != 10 || a.DS[0].Min != 0 {
		t.Errorf("absolute per minute, max 600: %+v, want ABSOLUTE, 0 to 10/s", a.DS)
	}
	g := TargetSpec(time.Minute, cfg.Devices[0].Targets[1], 64, nil)
	if g.DS[0].Type != rrd.Gauge || g.DS[0].Max != 500 || !math.IsNaN(g.DS[0].Min) {
		t.Errorf("gauge of factor 0.1, max 50: %+v, want GAUGE, no minimum, 500", g.DS)
	}
}

// An aggregate is the sum of its members' rows (a "-" member's in and out swapped),
// unknown in a step where any member is.
func TestAggregateSum(t *testing.T) {
	cfg := parseConfig(t, `step = "1m"
[[device]]
name = "core1"
host = "127.0.0.1"
interfaces = ["xe-0/0/1"]
[[device.target]]
name = "users"
command = ["/bin/true"]
kind = "gauge"
[[device]]
name = "edge1"
host = "127.0.0.2"
interfaces = ["ge-0/0/3"]
[[aggregate]]
name = "customer-a"
sum = ["core1/xe-0/0/1", "-edge1/ge-0/0/3", "core1:users"]
`)
	db := openDB(t)
	step := time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	rec.SetTargets(cfg)
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	for i := 0; i <= 12; i++ {
		ti := t0.Add(time.Duration(i)*step + 7*time.Second)
		users := poller.Float(float64(10 + i))
		if i == 6 || i == 7 {
			users = poller.Unknown // (10:05:07, 10:07:07]: the row of 10:07 has no known second
		}
		rs := []poller.Result{
			{Device: "core1", Samples: []poller.Sample{sample("core1", "xe-0/0/1", ti, uint64(i)*1000*60, uint64(i)*2000*60, 0)},
				Targets: []poller.TargetSample{{Device: "core1", Target: "users", Time: ti, In: users, Out: poller.Unknown}}},
			{Device: "edge1", Samples: []poller.Sample{sample("edge1", "ge-0/0/3", ti, uint64(i)*300*60, uint64(i)*500*60, 0)}},
		}
		if err := rec.Record(rs); err != nil {
			t.Fatal(err)
		}
	}
	agg := series.KindName("", series.KindAggregate, "customer-a")
	res, err := db.Fetch(agg, rrd.Average, t0, t0.Add(12*step), step)
	if err != nil {
		t.Fatal(err)
	}
	members, err := db.FetchMany([]string{series.Name("core1", "xe-0/0/1"), series.Name("edge1", "ge-0/0/3"),
		series.KindName("core1", series.KindTarget, "users")}, rrd.Average, t0, t0.Add(12*step), step)
	if err != nil {
		t.Fatal(err)
	}
	known, unknown := 0, 0
	for i, row := range res.Rows {
		wantIn := members[0].Rows[i][0] + members[1].Rows[i][1] + members[2].Rows[i][0]
		wantOut := members[0].Rows[i][1] + members[1].Rows[i][0] + members[2].Rows[i][1]
		if math.IsNaN(wantIn) {
			if !math.IsNaN(row[0]) || !math.IsNaN(row[1]) {
				t.Errorf("row %s = %v, want unknown (a member is)", res.Time(i).Format("15:04"), row)
			}
			unknown++
			continue
		}
		if !math.IsNaN(wantOut) {
			t.Fatalf("out of a gauge target without out is known: %v", wantOut)
		}
		if i == len(res.Rows)-1 {
			// The members completed this row in the last commit: the aggregate
			// takes it in the next.
			if !math.IsNaN(row[0]) {
				t.Errorf("last row %v, want it not summed yet", row)
			}
			continue
		}
		known++
		if !(math.Abs(row[0]-wantIn) <= 1e-6*wantIn) { // rows are stored as float32
			t.Errorf("row %s in = %v, want %v", res.Time(i).Format("15:04"), row[0], wantIn)
		}
	}
	// 1000 + 500 (edge1's out, swapped) + the users gauge: every row but the one the
	// gauge has no second of, and the last, one step behind the members.
	if known != 10 || unknown != 1 {
		t.Errorf("%d known and %d unknown rows, want 10 and 1: %v", known, unknown, res.Rows)
	}
	if _, _, ok := series.Split(agg); ok {
		t.Errorf("aggregate series %q splits as an interface's", agg)
	}
}

// Published targets: a gauge with a factor is shown as its value times the factor, a
// counter per minute as 60 times its rate per second; the device page lists them, the
// index lists the aggregate, and each has its four graphs. A second Publish in the
// same row draws nothing again.
func TestPublishTargets(t *testing.T) {
	cfg := parseConfig(t, `[[device]]
name = "srv"
host = "127.0.0.1"
[[device.target]]
name = "load"
preset = "cpu"
[[device.target]]
name = "mails"
oids = ["1.3.6.1.4.1.99.1", "1.3.6.1.4.1.99.2"]
per = "minute"
unit = "msg"
[[aggregate]]
name = "both"
sum = ["srv:mails", "-srv:mails"]
`)
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	rec.SetTargets(cfg)
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	start := now.Add(-2 * 24 * time.Hour)
	for ti, n := start, uint64(0); !ti.After(now); ti, n = ti.Add(step), n+1 {
		// laLoadInt 150 and 75 (1.5 and 0.75); 2 mails a second in, 1 out.
		rs := []poller.Result{{Device: "srv", Targets: []poller.TargetSample{
			{Device: "srv", Target: "load", Time: ti, In: poller.Uint(150), Out: poller.Uint(75), Bits: 64},
			{Device: "srv", Target: "mails", Time: ti, In: poller.Uint(n * 600), Out: poller.Uint(n * 300), Bits: 64},
		}}}
		if err := rec.Record(rs); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	pub := &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: func() time.Time { return now },
		Targets: TargetsOf(cfg)}
	if _, err := pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tg := range []struct{ device, name string }{{"srv", "load"}, {"srv", "mails"}, {"", "both"}} {
		for _, p := range render.Periods {
			if fi, err := os.Stat(filepath.Join(dir, web.TargetGraphFile(tg.device, tg.name, p.String(), 2))); err != nil || fi.Size() == 0 {
				t.Errorf("%s %s graph: %v", tg.name, p, err)
			}
		}
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	device := read(web.DevicePage("srv"))
	for _, w := range []string{`<td>1.50</td><td>0.75</td>`, `<td>120 msg</td><td>60 msg</td>`} {
		if !strings.Contains(device, w) {
			t.Errorf("device page lacks %s:\n%s", w, device)
		}
	}
	if !strings.Contains(read("index.html"), `href="`+web.TargetPage("", "both")+`"`) {
		t.Error("index does not link the aggregate")
	}
	// The aggregate of mails and mails swapped: 3 a second each way, shown per minute.
	if agg := read(web.TargetPage("", "both")); !strings.Contains(agg, "<td>180 msg</td>") {
		t.Errorf("aggregate page lacks 180 msg a minute:\n%s", agg)
	}
	if d := os.Getenv("MRTGO_KEEP_SITE"); d != "" {
		_ = os.CopyFS(d, os.DirFS(dir))
	}
	before, _ := os.Stat(filepath.Join(dir, web.TargetGraphFile("srv", "load", "day", 1)))
	time.Sleep(20 * time.Millisecond)
	if _, err := pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(filepath.Join(dir, web.TargetGraphFile("srv", "load", "day", 1))); !after.ModTime().Equal(before.ModTime()) {
		t.Error("a current target graph was drawn again")
	}
}

// A command whose uptime goes back is a discontinuity, also when the sample before
// was recorded by another process (cron's poll --once): the last uptime is in the store.
func TestCommandUptimeAcrossProcesses(t *testing.T) {
	cfg := parseConfig(t, "[[device]]\nname = \"d\"\nhost = \"127.0.0.1\"\n[[device.target]]\nname = \"c\"\ncommand = [\"/bin/true\"]\n")
	db := openDB(t)
	step := time.Minute
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	record := func(i int, count uint64, uptime float64) {
		rec := NewRecorder(db, step, nil, quiet) // a new process each time
		rec.SetTargets(cfg)
		ts := poller.TargetSample{Device: "d", Target: "c", Time: t0.Add(time.Duration(i) * step), In: poller.Uint(count),
			Out: poller.Uint(count), Bits: 64, Uptime: uptime, HaveUptime: true}
		if err := rec.Record([]poller.Result{{Device: "d", Targets: []poller.TargetSample{ts}}}); err != nil {
			t.Fatal(err)
		}
	}
	// 1 a second, then the program restarts (uptime 30 after 240) and counts from
	// 90000: without the uptime that would be a rate of 498 a second.
	record(0, 60000, 120)
	record(1, 60060, 180)
	record(2, 60120, 240)
	record(3, 90000, 30)
	record(4, 90060, 90)
	res, err := db.Fetch(series.KindName("d", series.KindTarget, "c"), rrd.Average, t0, t0.Add(4*step), step)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 1, math.NaN(), 1}
	for i, row := range res.Rows {
		if w := want[i]; math.IsNaN(w) != math.IsNaN(row[0]) || !math.IsNaN(w) && math.Abs(row[0]-w) > 1e-6 {
			t.Errorf("row %s = %v, want %v", res.Time(i).Format("15:04"), row[0], w)
		}
	}
}
