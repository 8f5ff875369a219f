package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/web"
)

// history records one sample per step for each interface over (from, to], in one
// commit. rate gives the octets per second of an interface in the step ending at t.
func history(tb testing.TB, rec *Recorder, dev string, ifaces []string, from, to time.Time, step time.Duration,
	counters map[string][2]uint64, rate func(iface string, t time.Time) (in, out float64)) {
	tb.Helper()
	var rs []poller.Result
	for ti := from.Add(step); !ti.After(to); ti = ti.Add(step) {
		var ss []poller.Sample
		for _, ifc := range ifaces {
			c := counters[ifc]
			in, out := rate(ifc, ti)
			c[0] += uint64(in * step.Seconds())
			c[1] += uint64(out * step.Seconds())
			counters[ifc] = c
			ss = append(ss, sample(dev, ifc, ti, c[0], c[1], 1e9))
		}
		rs = append(rs, poller.Result{Device: dev, Samples: ss, Requests: 1})
	}
	if err := rec.Record(rs); err != nil {
		tb.Fatal(err)
	}
}

func steady(string, time.Time) (float64, float64) { return 1e6, 5e5 }

// readSite returns every file under dir but the hidden ones (the render state, the
// spares of files replaced often), by relative path.
func readSite(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") { // the render state, spares
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// A graph is drawn again only when its period has a new row or the clock moved into
// one; a fresh Publisher (the next cron run) knows what was drawn from the state file;
// the pages say the same as pages built from scratch.
func TestPublishIncremental(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	ifaces := []string{"ge-0/0/0", "ge-0/0/1"}
	counters := map[string][2]uint64{}
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	history(t, rec, "r1", ifaces, t0.Add(-2*24*time.Hour), t0, step, counters, steady)

	dir := t.TempDir()
	now := t0.Add(10 * time.Second)
	clock := func() time.Time { return now }
	newPub := func() *Publisher {
		return &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: clock}
	}
	pub := newPub()
	// publish also checks the progress reports: one per graph drawn, counting 1, 2, …
	// want out of want.
	publish := func(p *Publisher, what string, want int) {
		t.Helper()
		var calls [][2]int
		p.Progress = func(done, total int) { calls = append(calls, [2]int{done, total}) }
		st, err := p.Publish(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if st.Drawn != want || st.Graphs != 4*len(ifaces) {
			t.Errorf("%s: drew %d of %d graphs, want %d of %d", what, st.Drawn, st.Graphs, want, 4*len(ifaces))
		}
		if len(calls) != want {
			t.Errorf("%s: %d progress calls, want %d", what, len(calls), want)
		}
		for i, c := range calls {
			if c != [2]int{i + 1, want} {
				t.Errorf("%s: progress call %d is (%d, %d), want (%d, %d)", what, i, c[0], c[1], i+1, want)
			}
		}
	}
	publish(pub, "first publish", 8)
	publish(pub, "same step again", 0)
	publish(newPub(), "fresh publisher, same step", 0)

	// One new step: the day graphs only (12:05 is in the same 30-minute row as 12:00).
	now = now.Add(step)
	history(t, rec, "r1", ifaces, t0, t0.Add(step), step, counters, steady)
	publish(pub, "one new step", 2)
	// Up to 12:30: day and week; a new process does the same.
	now = t0.Add(30*time.Minute + 10*time.Second)
	history(t, rec, "r1", ifaces, t0.Add(step), t0.Add(30*time.Minute), step, counters, steady)
	publish(newPub(), "new 30-minute row, fresh publisher", 4)
	// A publisher whose memory is older than the state file draws them again, never less.
	publish(pub, "publisher with an older memory", 4)

	// A removed PNG is drawn again.
	if err := os.Remove(filepath.Join(dir, web.GraphFile("r1", "ge-0/0/1", "month", 2))); err != nil {
		t.Fatal(err)
	}
	publish(pub, "after removing a PNG", 1)

	// The device stops answering: no new data, but the clock moves on, so the day
	// graphs are drawn again (with a growing gap) and the interfaces show no data.
	now = now.Add(3 * step)
	publish(pub, "device silent for three steps", 2)
	page, err := os.ReadFile(filepath.Join(dir, web.DevicePage("r1")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "<td>no data</td>") {
		t.Errorf("device page of a silent device does not say \"no data\":\n%s", page)
	}

	// Incremental pages equal pages built from scratch at the same time (the data is
	// steady, so graphs kept from earlier rows summarize the same), apart from the
	// generation time of a page whose content has not changed since an earlier step
	// (the index shows no numbers).
	scratch := &Publisher{DB: db, Dir: t.TempDir(), Location: time.UTC, Step: step, Log: quiet, Now: clock}
	publish(scratch, "from scratch", 8)
	got, want := readSite(t, dir), readSite(t, scratch.Dir)
	stamp := regexp.MustCompile(`Generated [^<]* by `)
	for _, p := range []string{"index.html", web.DevicePage("r1"), web.InterfacePage("r1", "ge-0/0/0")} {
		if p != "index.html" && got[p] != want[p] {
			t.Errorf("%s differs from the one built from scratch in its generation time", p)
		}
		got[p], want[p] = stamp.ReplaceAllString(got[p], "Generated … by "), stamp.ReplaceAllString(want[p], "Generated … by ")
		if got[p] != want[p] {
			t.Errorf("%s differs from the one built from scratch:\n%s\nfrom scratch:\n%s", p, got[p], want[p])
		}
	}
	if len(got) != len(want) {
		t.Errorf("incremental site has %d files, from scratch %d", len(got), len(want))
	}

	// Another time zone changes every graph.
	pub.Location = time.FixedZone("X", 3600)
	publish(pub, "new time zone", 8)
}

// The 95th percentile is over 5-minute rows where the store has them: one rate in
// ten at 100 Mbit/s makes the 5-minute 95th percentile 100 Mbit/s, while 30-minute
// averages would put it near 17.5 Mbit/s.
func TestPercentileRows(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	spiky := func(_ string, ti time.Time) (float64, float64) {
		if ti.Unix()/300%10 == 0 {
			return 100e6 / 8, 1e6 / 8
		}
		return 1e6 / 8, 1e6 / 8
	}
	history(t, rec, "r1", []string{"ge-0/0/0"}, t0.Add(-40*24*time.Hour), t0, step, map[string][2]uint64{}, spiky)
	tests := []struct {
		period   render.Period
		p95Step  time.Duration
		p95Span  time.Duration
		wantP95  float64
		wantNote string
	}{
		{render.Day, step, render.Day.Span(), 100e6, "of 5-minute averages over 1 day 9 hours 20 minutes"},
		{render.Week, step, render.Week.Span(), 100e6, "of 5-minute averages over 8 days 8 hours"},
		{render.Month, step, 31*24*time.Hour - step, 100e6, "of 5-minute averages over 30 days 23 hours 55 minutes"},
		{render.Year, 24 * time.Hour, render.Year.Span(), math.NaN(), "of daily averages over 400 days"},
	}
	for _, tt := range tests {
		r, err := FetchRates(db, series.Name("r1", "ge-0/0/0"), tt.period, t0.Add(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if r.P95Step != tt.p95Step || r.P95Span != tt.p95Span {
			t.Errorf("%s: percentile over %v rows for %v, want %v for %v", tt.period, r.P95Step, r.P95Span, tt.p95Step, tt.p95Span)
		}
		if !math.IsNaN(tt.wantP95) && math.Abs(r.P95In-tt.wantP95) > 1 {
			t.Errorf("%s: 95th percentile in %v, want %v", tt.period, r.P95In, tt.wantP95)
		}
		if math.IsNaN(tt.wantP95) && (r.P95In < 10e6 || r.P95In > 12e6) {
			t.Errorf("%s: 95th percentile of daily averages %v, want about 10.9 Mbit/s", tt.period, r.P95In)
		}
		if got := p95Basis(r); got != tt.wantNote {
			t.Errorf("%s: note %q, want %q", tt.period, got, tt.wantNote)
		}
		in, _ := Summary(r)
		if math.Abs(in.Max-100e6) > 1 {
			t.Errorf("%s: max %v, want the 5-minute peak 100e6", tt.period, in.Max)
		}
	}

	// The week and the month drawn together share one fetch of the 5-minute rows
	// and get the same percentiles as fetched alone.
	name := series.Name("r1", "ge-0/0/0")
	spec, last, err := db.Info(name)
	if err != nil {
		t.Fatal(err)
	}
	end := t0.Add(-7 * time.Minute) // before the last update: the ring reaches less far back
	ring := &ringRows{span: fineSpan(spec, render.Month.SpanFor(step), end, last)}
	for _, p := range []render.Period{render.Week, render.Month} {
		alone, err := FetchRates(db, name, p, end)
		if err != nil {
			t.Fatal(err)
		}
		shared, err := fetchRates(db, name, p, end, ring)
		if err != nil {
			t.Fatal(err)
		}
		if alone.P95Step != step {
			t.Errorf("%s: percentile over %v rows, want %v", p, alone.P95Step, step)
		}
		if shared.P95In != alone.P95In || shared.P95Out != alone.P95Out || shared.P95Span != alone.P95Span {
			t.Errorf("%s: shared rows give P95 %v %v over %v, alone %v %v over %v",
				p, shared.P95In, shared.P95Out, shared.P95Span, alone.P95In, alone.P95Out, alone.P95Span)
		}
	}
	if !ring.fetched {
		t.Error("the shared rows were never fetched")
	}
}

// The device page shows the last poll's health from the store, and an interface the
// device stopped reporting among its inactive ones, gone since that poll.
func TestPublishDeviceHealth(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, map[string]string{"r1": "192.0.2.1"}, quiet)
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	history(t, rec, "r1", []string{"ge-0/0/0", "ge-0/0/1"}, t0.Add(-time.Hour), t0, step, map[string][2]uint64{}, steady)
	// The next poll answers slowly, with retries, and without ge-0/0/1.
	err := rec.Record([]poller.Result{{Device: "r1", Requests: 7, Retries: 3, Duration: 1500 * time.Millisecond,
		Uptime: 3 * time.Hour, Missing: []string{"ge-0/0/1"},
		Samples: []poller.Sample{sample("r1", "ge-0/0/0", t0.Add(step), 1e12, 1e12, 1e9)}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub := &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: func() time.Time { return t0.Add(step + time.Second) }}
	if _, err := pub.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, web.DevicePage("r1")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<tr><th>Host</th><td>192.0.2.1</td></tr>",
		"<tr><th>Up for</th><td>3:00:00</td></tr>",
		`<span class="ok">OK</span>`,
		"<tr><th>Last success</th><td>2026-11-02 12:05:00 UTC</td></tr>",
		"<tr><th>Poll took</th><td>1.50 s</td></tr>",
		"<tr><th>Requests</th><td>7</td></tr>",
		"<tr><th>Retries</th><td>3</td></tr>",
		`<tr><th>Not found</th><td class="err">ge-0/0/1</td></tr>`,
		`<td>1 Gb/s</td><td>up</td>`,
		"<h2>Inactive interfaces</h2>",
		`ge-0/0/1</a></td>`, `<td>gone since 2026-11-02 12:05:00 UTC</td>`,
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("device page lacks %q", want)
		}
	}
}
