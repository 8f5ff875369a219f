package pipeline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/events"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/rrd"
)

// TestAnomalies records an interface whose traffic follows a daily shape, with ±5 % of
// noise, for four days at five-minute steps (the Recorder's default Holt-Winters, a
// daily season, predicts from the second day and has deviations from the third), then
// triples its out rate for an hour. It checks that the Recorder reports exactly one
// anomaly, begun on out at the step whose FAILURES turned on, while the rate is
// tripled, with the rate and the band's top edge, and ended at the step whose FAILURES
// turned off once the rate is back, inside its band; that the events go through an
// events.Tracker as one event that begins and ends; and that a Recorder and store
// opened afresh for every cycle (cron's "mrtgo poll --once") reports the same events
// in the same cycles.
func TestAnomalies(t *testing.T) {
	const (
		step     = 5 * time.Minute
		day      = 288 // steps
		learn    = 4 * day
		spike    = learn + 100 // first step of the anomaly
		spikeLen = 12
		steps    = spike + spikeLen + 60
	)
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	// bits/s; out is tripled during the anomaly, below.
	noise := rand.New(rand.NewPCG(1, 2))
	shape := func(k int) (in, out float64) {
		ph := 2 * math.Pi * float64(k%day) / day
		in = 40e6 * (2 + math.Sin(ph)) * (0.95 + 0.1*noise.Float64())
		out = 20e6 * (1.5 + math.Cos(ph)) * (0.95 + 0.1*noise.Float64())
		return in, out
	}
	normalOut := func(k int) float64 { return 20e6 * (1.5 + math.Cos(2*math.Pi*float64(k%day)/day)) }

	daemonDB := openDB(t)
	daemon := NewRecorder(daemonDB, step, nil, quiet)
	cronPath := filepath.Join(t.TempDir(), "cron.db")
	tracker := events.NewTracker(func(string) time.Duration { return time.Hour })

	var counters [2]uint64
	var begun, ended []events.Event
	var began, finished []events.Update
	var begunAt, endedAt []int // the step each event was reported at
	for k := 1; k <= steps; k++ {
		in, out := shape(k)
		if k >= spike && k < spike+spikeLen {
			out *= 3
		}
		counters[0] += uint64(in / 8 * step.Seconds())
		counters[1] += uint64(out / 8 * step.Seconds())
		at := t0.Add(time.Duration(k) * step)
		rs := []poller.Result{{Device: "r1", Requests: 1, Samples: []poller.Sample{
			sample("r1", "ge-0/0/1", at, counters[0], counters[1], 1e9)}}}

		if err := daemon.RecordWith(rs, nil); err != nil {
			t.Fatal(err)
		}
		b, e := daemon.Anomalies()

		// The cron path: a store and a Recorder of its own for this cycle.
		db, err := rrd.Open(cronPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		cron := NewRecorder(db, step, nil, quiet)
		if err := cron.RecordWith(rs, nil); err != nil {
			t.Fatal(err)
		}
		cb, ce := cron.Anomalies()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(b, cb, sameEvent) || !slices.EqualFunc(e, ce, sameEvent) {
			t.Fatalf("step %d: the daemon's Recorder began %v and ended %v, the cron run's began %v and ended %v",
				k, b, e, cb, ce)
		}

		for _, ev := range b {
			begun, begunAt = append(begun, ev), append(begunAt, k)
		}
		for _, ev := range e {
			ended, endedAt = append(ended, ev), append(endedAt, k)
		}
		for _, u := range tracker.Observe(at, b) {
			if u.Change == events.Began {
				began = append(began, u)
			}
		}
		for _, ev := range e {
			if u, ok := tracker.End(ev); ok {
				finished = append(finished, u)
			}
		}
	}

	if len(begun) != 1 || len(ended) != 1 {
		t.Fatalf("began %v, ended %v: want one anomaly of r1 ge-0/0/1 out", begun, ended)
	}
	b, e := begun[0], ended[0]
	for _, ev := range []events.Event{b, e} {
		if ev.Kind != events.Anomaly || ev.Device != "r1" || ev.Interface != "ge-0/0/1" || ev.Direction != "out" {
			t.Errorf("event %+v: want an anomaly of r1 ge-0/0/1 out", ev)
		}
	}
	// Begun while the rate is tripled, at the step whose FAILURES turned on (once 7
	// of the 9 steps of the window were outside the band): the step's rate, about
	// three times the usual, against the band's top edge.
	kb := begunAt[0]
	at := t0.Add(time.Duration(kb) * step)
	if kb < spike+6 || kb >= spike+spikeLen || !b.Start.Equal(at) || !b.End.Equal(at) {
		t.Errorf("begun at step %d (%s): want a step from %d to %d, at its end", kb, b.Start, spike+6, spike+spikeLen-1)
	}
	rate, _, lo, hi, fails := stepBand(t, daemonDB, at, step)
	if !fails[1] || fails[0] {
		t.Errorf("begun at step %d, whose FAILURES is %v after %v", kb, fails[1], fails[0])
	}
	usual := normalOut(kb)
	if !near(b.Value, rate) || !near(b.Threshold, hi) || rate <= hi || b.Value < 2.7*usual || b.Value > 3.3*usual {
		t.Errorf("begun with %s against %s; the step's rate is %s, its band %s to %s, the usual rate %s", events.Bits(b.Value),
			events.Bits(b.Threshold), events.Bits(rate), events.Bits(lo), events.Bits(hi), events.Bits(usual))
	}
	if b.Severity != events.Major || b.State != events.Active {
		t.Errorf("begun %s %s: want major (three times the rate is far outside) and active", b.Severity, b.State)
	}
	// Ended once the rate is back, and the level the detector learned from the
	// anomaly has decayed (alpha 0.1 a step): the usual rate, inside the band, against
	// the edge on its side of the prediction.
	ke := endedAt[0]
	at = t0.Add(time.Duration(ke) * step)
	if ke < spike+spikeLen || ke > spike+spikeLen+60 || !e.Start.Equal(at) || !e.End.Equal(at) {
		t.Errorf("ended at step %d (%s): want within 60 steps after %d", ke, e.End, spike+spikeLen)
	}
	rate, pred, lo, hi, fails := stepBand(t, daemonDB, at, step)
	if fails[1] || !fails[0] {
		t.Errorf("ended at step %d, whose FAILURES is %v after %v", ke, fails[1], fails[0])
	}
	edge := lo
	if rate > pred {
		edge = hi
	}
	usual = normalOut(ke)
	if !near(e.Value, rate) || !near(e.Threshold, edge) || rate < lo || rate > hi || math.Abs(e.Value/usual-1) > 0.1 || e.State != events.Ended {
		t.Errorf("ended (%s) with %s against %s; the step's rate is %s, its band %s to %s, the usual rate %s", e.State, events.Bits(e.Value),
			events.Bits(e.Threshold), events.Bits(rate), events.Bits(lo), events.Bits(hi), events.Bits(usual))
	}
	// Through a Tracker: one event, begun then ended, under one key.
	if len(began) != 1 || len(finished) != 1 || began[0].Event.Key() != finished[0].Event.Key() {
		t.Fatalf("tracker began %v and finished %v", began, finished)
	}
	if f := finished[0].Event; !f.Start.Equal(b.Start) || !f.End.Equal(e.End) || f.State != events.Ended || f.Severity != events.Major {
		t.Errorf("tracker's event %+v: want from %s to %s, ended, major", f, b.Start, e.End)
	}
	if a := tracker.Active(); len(a) != 0 {
		t.Errorf("still active: %v", a)
	}
}

// stepBand reads the out rate of r1 ge-0/0/1 in the step ending at at, its
// prediction and band, in bits/s, and the FAILURES of the step before and of the step.
func stepBand(t *testing.T, db *rrd.DB, at time.Time, step time.Duration) (rate, pred, lo, hi float64, fails [2]bool) {
	t.Helper()
	name := series.Name("r1", "ge-0/0/1")
	spec, err := db.Spec(name)
	if err != nil {
		t.Fatal(err)
	}
	rates, err := db.Fetch(name, rrd.Average, at.Add(-step), at, step)
	if err != nil {
		t.Fatal(err)
	}
	hw, err := db.FetchHoltWinters(name, at.Add(-2*step), at)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rates.Rows); n == 0 || !rates.Time(n-1).Equal(at) || len(hw.Failures[1]) != 2 || !hw.Time(1).Equal(at) {
		t.Fatalf("no row of %s at %s", name, at)
	}
	p, d := hw.Prediction[1][1], hw.Deviation[1][1]
	return rates.Rows[len(rates.Rows)-1][1] * 8, p * 8, (p - spec.HoltWinters.DeltaNeg*d) * 8, (p + spec.HoltWinters.DeltaPos*d) * 8,
		[2]bool{hw.Failures[1][0], hw.Failures[1][1]}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Abs(b) }

func sameEvent(a, b events.Event) bool {
	return a.Key() == b.Key() && a.Severity == b.Severity && a.State == b.State && a.Start.Equal(b.Start) &&
		a.End.Equal(b.End) && a.Value == b.Value && a.Threshold == b.Threshold
}

// TestAnomaliesFold checks how the FAILURES changes of one commit become events:
// within a commit a direction's changes fold into at most one begin (the first that
// turned on) and one end (the last that turned off), nothing for a direction in
// FAILURE before and after; a FAILURES that turns on at a step without a rate begins
// nothing (nor does the end of that run in the same commit); the threshold is the
// band's edge on the rate's side, in bits/s, and the severity major from twice the
// band's half-width.
func TestAnomaliesFold(t *testing.T) {
	db := openDB(t)
	rec := NewRecorder(db, 5*time.Minute, nil, quiet)
	name := series.Name("r1", "ge-0/0/1")
	if err := db.Create(name, rec.spec(1e9, 64), time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1700000000, 0).UTC()
	at := func(k int) time.Time { return t0.Add(time.Duration(k) * 5 * time.Minute) }
	// Prediction 1000 octets/s, deviation 100: the band is 800 to 1200 (6400 to 9600 bits/s).
	ch := func(k int, ds int, on bool, rate float64) rrd.FailureChange {
		return rrd.FailureChange{DS: ds, Time: at(k), Failure: on, Rate: rate, Prediction: 1000, Deviation: 100}
	}
	nan := math.NaN()
	type ev struct {
		dir      string
		at       int
		value    float64
		edge     float64
		severity string
	}
	for _, c := range []struct {
		name         string
		changes      []rrd.FailureChange
		begun, ended []ev
	}{
		{"turns on above", []rrd.FailureChange{ch(1, 1, true, 1300)},
			[]ev{{"out", 1, 10400, 9600, events.Warning}}, nil},
		{"turns on far below", []rrd.FailureChange{ch(1, 0, true, 500)},
			[]ev{{"in", 1, 4000, 6400, events.Major}}, nil},
		{"turns off", []rrd.FailureChange{ch(2, 1, false, 900)},
			nil, []ev{{"out", 2, 7200, 6400, events.Warning}}},
		{"on and off in one commit", []rrd.FailureChange{ch(1, 1, true, 1500), ch(5, 1, false, 1100)},
			[]ev{{"out", 1, 12000, 9600, events.Major}}, []ev{{"out", 5, 8800, 9600, events.Warning}}},
		{"off and on again in one commit", []rrd.FailureChange{ch(1, 1, false, 1100), ch(3, 1, true, 1500)},
			nil, nil},
		{"on, off, on: the first begin", []rrd.FailureChange{ch(1, 0, true, 1300), ch(3, 0, false, 1000), ch(6, 0, true, 1500)},
			[]ev{{"in", 1, 10400, 9600, events.Warning}}, nil},
		{"on at a step without a rate", []rrd.FailureChange{ch(1, 1, true, nan)},
			nil, nil},
		{"on without a rate, then off", []rrd.FailureChange{ch(1, 1, true, nan), ch(4, 1, false, 1000)},
			nil, nil},
		{"off after a run begun without a rate", []rrd.FailureChange{ch(4, 1, false, 1000)},
			nil, []ev{{"out", 4, 8000, 6400, events.Warning}}},
		{"both directions", []rrd.FailureChange{ch(1, 0, true, 1300), ch(1, 1, true, 700)},
			[]ev{{"in", 1, 10400, 9600, events.Warning}, {"out", 1, 5600, 6400, events.Warning}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Changes of one series may come in more than one update of a commit.
			ups := []rrd.Update{{Series: name}, {Series: name}}
			for i, x := range c.changes {
				u := min(i/2, 1)
				ups[u].FailureChanges = append(ups[u].FailureChanges, x)
			}
			rec.findAnomalies(ups)
			begun, ended := rec.Anomalies()
			check := func(what string, got []events.Event, want []ev, state string) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s %v, want %d", what, got, len(want))
				}
				for i, w := range want {
					g := got[i]
					if g.Kind != events.Anomaly || g.Device != "r1" || g.Interface != "ge-0/0/1" || g.Direction != w.dir ||
						!g.Start.Equal(at(w.at)) || !g.End.Equal(at(w.at)) || g.Value != w.value || g.Threshold != w.edge ||
						g.Severity != w.severity || g.State != state {
						t.Errorf("%s %d: %+v, want %s at step %d, %g against %g, %s, %s", what, i, g, w.dir, w.at, w.value, w.edge, w.severity, state)
					}
				}
			}
			check("begun", begun, c.begun, events.Active)
			check("ended", ended, c.ended, events.Ended)
		})
	}
}

// BenchmarkFindAnomalies is what Anomalies adds to a Recorder's cycle of 10,000
// interfaces: the changes the store reported turned into events, for a cycle
// without any (changes=none: a pass over the updates) and one in which FAILURES
// turned on for both directions of every interface (changes=all).
func BenchmarkFindAnomalies(b *testing.B) {
	const n = 10000
	db := openDB(b)
	rec := NewRecorder(db, 5*time.Minute, nil, quiet)
	names := make([]string, n)
	for i := range names {
		names[i] = series.Name(fmt.Sprintf("dev%d", i/48), fmt.Sprintf("ge-0/0/%d", i%48))
	}
	if err := db.CreateBatch(names, rec.spec(1e9, 64), time.Unix(1700000000, 0)); err != nil {
		b.Fatal(err)
	}
	at := time.Unix(1700000300, 0).UTC()
	for _, all := range []bool{false, true} {
		name := "changes=none"
		if all {
			name = "changes=all"
		}
		b.Run(name, func(b *testing.B) {
			ups := make([]rrd.Update, n)
			for i := range ups {
				ups[i].Series = names[i]
				if all {
					ups[i].FailureChanges = []rrd.FailureChange{
						{DS: 0, Time: at, Failure: true, Rate: 2000, Prediction: 1000, Deviation: 100},
						{DS: 1, Time: at, Failure: true, Rate: 500, Prediction: 1000, Deviation: 100},
					}
				}
			}
			for b.Loop() {
				rec.findAnomalies(ups)
			}
			if begun, _ := rec.Anomalies(); all && len(begun) != 2*n || !all && len(begun) != 0 {
				b.Fatalf("%d begun", len(begun))
			}
		})
	}
}
