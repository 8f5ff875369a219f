package rrd

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// failureCommit is one commit of failureFeed: the updates of every series
// it names.
type failureCommit struct {
	ups []Update
}

// failureFeed is a season of 12 one-minute steps (hwStoreSpec) learned by
// series a and b (b from step 30 on) over n steps, one commit a step with
// these exceptions: an anomaly on a's in from step 150 to 161 and on b's
// out from step 200 to 211; steps 110 to 113 without updates (a gap past
// the heartbeat: the next commit learns 5 steps, unknown); steps 230 to 249
// without updates (a device that stopped answering: its next commit learns
// 21 unknown steps); every 25th commit holding three steps of each series
// (a back-fill); two updates in every 17th step; and unknown values of
// out now and then.
func failureFeed(n int) []failureCommit {
	r := rand.New(rand.NewPCG(7, 11))
	counter := map[string]uint64{}
	var commits []failureCommit
	var pending []Update
	for k := 1; k <= n; k++ {
		if (k >= 110 && k <= 113) || (k >= 230 && k <= 249) {
			continue
		}
		ph := 2 * math.Pi * float64(k%12) / 12
		names := []string{"a", "b"}
		if k < 30 {
			names = names[:1]
		}
		for i, name := range names {
			in := math.Round(1000 + 600*math.Sin(ph) + 60*r.Float64() + 100*float64(i))
			out := math.Round(800 + 300*math.Cos(ph) + 40*r.Float64())
			if name == "a" && k >= 150 && k < 162 {
				in += 3000
			}
			if name == "b" && k >= 200 && k < 212 {
				out *= 4
			}
			at := time.Unix(1700000040, 0).Truncate(time.Minute).Add(time.Duration(k) * time.Minute)
			if k%17 == 0 {
				counter[name] += uint64(in) * 30
				pending = append(pending, Update{Series: name, Time: at.Add(-30 * time.Second),
					Values: []Value{Uint(counter[name]), Float(out)}})
				counter[name] += uint64(in) * 30
			} else {
				counter[name] += uint64(in) * 60
			}
			ov := Float(out)
			if k%29 == 0 {
				ov = Unknown()
			}
			pending = append(pending, Update{Series: name, Time: at, Values: []Value{Uint(counter[name]), ov}})
		}
		if k%25 == 23 || k%25 == 24 {
			continue // committed with the next step: three steps in one commit
		}
		commits = append(commits, failureCommit{ups: pending})
		pending = nil
	}
	return commits
}

// failureStart is the creation time of failureFeed's series.
func failureStart() time.Time { return time.Unix(1700000040, 0).Truncate(time.Minute) }

// dsChange is a FailureChange of one data source of one series.
type dsChange struct {
	series string
	FailureChange
}

func (c dsChange) String() string {
	return fmt.Sprintf("%s ds %d at %s: failure %v, rate %g, prediction %g ± %g", c.series, c.DS,
		c.Time.Format("15:04"), c.Failure, c.Rate, c.Prediction, c.Deviation)
}

func sameChange(a, b dsChange) bool {
	eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return a.series == b.series && a.DS == b.DS && a.Time.Equal(b.Time) && a.Failure == b.Failure &&
		eq(a.Rate, b.Rate) && eq(a.Prediction, b.Prediction) && eq(a.Deviation, b.Deviation)
}

// reported returns the FailureChanges Update set on ups, by series and
// data source, each in step order.
func reported(ups []Update) []dsChange {
	var out []dsChange
	for _, name := range []string{"a", "b"} {
		for d := range 2 {
			for _, u := range ups {
				if u.Series != name {
					continue
				}
				for _, c := range u.FailureChanges {
					if c.DS == d {
						out = append(out, dsChange{name, c})
					}
				}
			}
		}
	}
	return out
}

// storedChanges derives, from FetchHoltWinters' FAILURES rows and Fetch's
// rates, the changes of the steps after p0 up to the last update of each
// series, which were learned after p0[series].
func storedChanges(t *testing.T, db *DB, p0 map[string]int64) []dsChange {
	t.Helper()
	var out []dsChange
	for _, name := range []string{"a", "b"} {
		first, ok := p0[name]
		if !ok {
			continue
		}
		_, last, err := db.Info(name)
		if err != nil {
			t.Fatal(err)
		}
		pEnd := last.Unix() / 60
		if pEnd == first {
			continue
		}
		start, end := time.Unix((first-1)*60, 0), time.Unix(pEnd*60, 0)
		hw, err := db.FetchHoltWinters(name, start, end)
		if err != nil {
			t.Fatal(err)
		}
		rates, err := db.Fetch(name, Average, start, end, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if n := int(pEnd - first + 1); len(hw.Failures[0]) != n || !rates.Start.Equal(hw.Start) || len(rates.Rows) != n {
			t.Fatalf("%s: %d rows of holt-winters and %d of rates from %s and %s, want %d from step %d", name,
				len(hw.Failures[0]), len(rates.Rows), hw.Start, rates.Start, n, first)
		}
		for d := range 2 {
			for i := 1; i < len(hw.Failures[d]); i++ {
				if hw.Failures[d][i] == hw.Failures[d][i-1] {
					continue
				}
				out = append(out, dsChange{name, FailureChange{DS: d, Time: hw.Time(i), Failure: hw.Failures[d][i],
					Rate: rates.Rows[i][d], Prediction: hw.Prediction[d][i], Deviation: hw.Deviation[d][i]}})
			}
		}
	}
	return out
}

// forgetFailures clears what the state records keep of the last FAILURES,
// as in a store written before they kept it.
func forgetFailures(t *testing.T, db *DB) {
	t.Helper()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, g := range db.byID {
			if g.hwPeriod == 0 {
				continue
			}
			b := tx.Bucket(g.bucket)
			for c := 0; c < chunks(g.cols); c++ {
				v := slices.Clone(b.Get(hwStateKey(uint32(c))))
				for off := 0; off+hwRecSize <= len(v); off += hwRecSize {
					w := binary.LittleEndian.Uint32(v[off+36:])
					binary.LittleEndian.PutUint32(v[off+36:], w&^(failureBit|failureKept))
				}
				if err := b.Put(hwStateKey(uint32(c)), v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFailureChanges checks that the FAILURES changes Update reports for
// each commit are exactly those the stored FAILURES rows show for the
// steps the commit learned (FetchHoltWinters, whose rows equal rrdtool's),
// with the step's rate, prediction and deviation: through an anomaly on
// each data source, gaps past the heartbeat, a device silent for 20 steps,
// back-filled commits of several steps and unknown values; in a store kept
// open, in one closed and reopened before every commit (a cron poll a
// process), and in one that in addition forgets the kept flags before
// every commit (a store written before they were kept).
func TestFailureChanges(t *testing.T) {
	commits := failureFeed(320)
	var runs [][]dsChange
	for _, mode := range []string{"long-lived", "reopened", "flags not kept"} {
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hw.db")
			db, err := Open(path, &Options{noSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { db.Close() }()
			t0 := failureStart()
			if err := db.Create("a", hwStoreSpec(hwStoreParams()), t0); err != nil {
				t.Fatal(err)
			}
			if err := db.Create("b", hwStoreSpec(hwStoreParams()), t0.Add(25*time.Minute)); err != nil {
				t.Fatal(err)
			}
			var all []dsChange
			ons, offs, multi, unknownRate := 0, 0, 0, 0
			for ci, c := range commits {
				if mode != "long-lived" {
					if err := db.Close(); err != nil {
						t.Fatal(err)
					}
					if db, err = Open(path, &Options{noSync: true}); err != nil {
						t.Fatal(err)
					}
					if mode == "flags not kept" {
						forgetFailures(t, db)
					}
				}
				p0 := map[string]int64{}
				for _, u := range c.ups {
					if _, ok := p0[u.Series]; ok {
						continue
					}
					_, last, err := db.Info(u.Series)
					if err != nil {
						t.Fatal(err)
					}
					p0[u.Series] = floorDiv(last.Unix(), 60)
				}
				ups := slices.Clone(c.ups)
				if err := db.Update(ups); err != nil {
					t.Fatal(err)
				}
				got, want := reported(ups), storedChanges(t, db, p0)
				if !slices.EqualFunc(got, want, sameChange) {
					t.Fatalf("commit %d: reported\n%v\nthe stored rows show\n%v", ci, got, want)
				}
				for _, ch := range got {
					if ch.Failure {
						ons++
					} else {
						offs++
					}
					if math.IsNaN(ch.Rate) {
						unknownRate++
					}
					_, last, _ := db.Info(ch.series)
					if floorDiv(last.Unix(), 60)-p0[ch.series] > 1 {
						multi++
					}
				}
				all = append(all, got...)
			}
			// The comparison means something only if FAILURES turned on and off
			// on both data sources, within commits of several steps, and on
			// unknown rates.
			perDS := map[int]int{}
			for _, ch := range all {
				perDS[ch.DS]++
			}
			if ons < 3 || offs < 3 || multi == 0 || unknownRate == 0 || perDS[0] == 0 || perDS[1] == 0 {
				t.Errorf("%d on, %d off (%v by data source), %d in commits of several steps, %d on unknown rates",
					ons, offs, perDS, multi, unknownRate)
			}
			t.Logf("%d on, %d off (%v by data source), %d in commits of several steps, %d on unknown rates", ons, offs, perDS, multi, unknownRate)
			runs = append(runs, all)
		})
	}
	for i := 1; i < len(runs); i++ {
		if !slices.EqualFunc(runs[i], runs[0], sameChange) {
			t.Errorf("run %d reported %d changes, the long-lived store %d", i, len(runs[i]), len(runs[0]))
		}
	}
}

// TestFailureChangesReshape checks that a Reshape that keeps the period
// carries the last FAILURES over, and that one that restarts the detectors
// (another period) keeps the old detectors' last FAILURES, so that the
// next update reports a change from what the last update left.
func TestFailureChangesReshape(t *testing.T) {
	commits := failureFeed(320)
	db, err := Open(filepath.Join(t.TempDir(), "hw.db"), &Options{noSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := failureStart()
	if err := db.Create("a", hwStoreSpec(hwStoreParams()), t0); err != nil {
		t.Fatal(err)
	}
	if err := db.Create("b", hwStoreSpec(hwStoreParams()), t0.Add(25*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Up to a's anomaly, in FAILURE.
	var ci int
	for ci = 0; ci < len(commits); ci++ {
		if err := db.Update(slices.Clone(commits[ci].ups)); err != nil {
			t.Fatal(err)
		}
		if commits[ci].ups[0].Time.Sub(t0) >= 158*time.Minute {
			break
		}
	}
	flag := func(name string, d int) bool {
		t.Helper()
		_, last, err := db.Info(name)
		if err != nil {
			t.Fatal(err)
		}
		end := last.Truncate(time.Minute)
		hw, err := db.FetchHoltWinters(name, end.Add(-time.Minute), end)
		if err != nil {
			t.Fatal(err)
		}
		return hw.Failures[d][len(hw.Failures[d])-1]
	}
	if !flag("a", 0) {
		t.Fatalf("a's in is not in FAILURE at the anomaly: the test checks nothing")
	}
	// Same period, another archive: the detectors carry over.
	spec := hwStoreSpec(hwStoreParams())
	spec.Archives = append(spec.Archives, Archive{CF: Average, Steps: 12, Rows: 40, XFF: 0.5})
	if err := db.Reshape("a", spec); err != nil {
		t.Fatal(err)
	}
	ci++
	p0 := map[string]int64{}
	for _, name := range []string{"a", "b"} {
		_, last, err := db.Info(name)
		if err != nil {
			t.Fatal(err)
		}
		p0[name] = floorDiv(last.Unix(), 60)
	}
	ups := slices.Clone(commits[ci].ups)
	if err := db.Update(ups); err != nil {
		t.Fatal(err)
	}
	if got, want := reported(ups), storedChanges(t, db, p0); !slices.EqualFunc(got, want, sameChange) {
		t.Errorf("after a reshape that kept the detectors: reported\n%v\nthe stored rows show\n%v", got, want)
	}
	// Another period: the detectors learn the history afresh, and the next
	// step's FAILURES is compared with the old detectors' last.
	for _, name := range []string{"a", "b"} {
		before := [2]bool{flag(name, 0), flag(name, 1)}
		p := *hwStoreParams()
		p.Period, p.SmoothRow = 6, 0
		if err := db.Reshape(name, hwStoreSpec(&p)); err != nil {
			t.Fatal(err)
		}
		ci++
		ups := slices.Clone(commits[ci].ups)
		if err := db.Update(ups); err != nil {
			t.Fatal(err)
		}
		var got [2][]bool
		for _, ch := range reported(ups) {
			if ch.series == name {
				got[ch.DS] = append(got[ch.DS], ch.Failure)
			}
		}
		for d := range 2 {
			var want []bool
			if now := flag(name, d); now != before[d] {
				want = []bool{now}
			}
			if !slices.Equal(got[d], want) {
				t.Errorf("%s ds %d after a reshape to another period: FAILURES %v before, reported %v, want %v",
					name, d, before[d], got[d], want)
			}
		}
	}
}
