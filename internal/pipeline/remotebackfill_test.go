package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/remotewrite"
	"github.com/mrtgo/mrtgo/rrd"
)

// backfillStore makes a store holding ten days of five-minute history of n
// interfaces of core1 (xe-0/0/0, ...) up to end, in archives reaching one, three,
// eight and 400 days back, with an unknown step in every 40.
func backfillStore(t *testing.T, path string, end time.Time, n int) *rrd.DB {
	t.Helper()
	db, err := rrd.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const step = 5 * time.Minute
	keep := config.Retention{Daily: 24 * time.Hour, Weekly: 3 * 24 * time.Hour, Monthly: 8 * 24 * time.Hour, Yearly: 400 * 24 * time.Hour}
	var names []string
	infos := map[string]series.Info{}
	for i := range n {
		name := series.Name("core1", fmt.Sprintf("xe-0/0/%d", i))
		names = append(names, name)
		infos[name] = series.Info{Index: i + 1, Speed: 10e9, Bits: 64}
	}
	steps := 10 * 288
	if err := db.CreateBatch(names, series.SpecWith(step, 10e9, 64, series.Archives(step, keep)), end.Add(-time.Duration(steps+1)*step)); err != nil {
		t.Fatal(err)
	}
	if err := series.PutInterfaces(db, infos); err != nil {
		t.Fatal(err)
	}
	err = db.Backfill(names, func(int) (rrd.History, error) {
		var rates []float64
		for k := range steps {
			if k%40 == 3 {
				rates = append(rates, math.NaN(), math.NaN())
				continue
			}
			rates = append(rates, float64(1e6+k), float64(2e6+k))
		}
		return rrd.History{End: end, Rates: rates, Last: []rrd.Value{rrd.Uint(1e12), rrd.Uint(2e12)}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// times returns the times of the samples of the "in" bits series, and checks they
// are in order and apart.
func times(t *testing.T, got map[string][]remotewrite.Sample) []int64 {
	t.Helper()
	var out []int64
	for k, ss := range got {
		if k != "__name__=mrtgo_interface_bits_per_second,device=core1,direction=in,interface=xe-0/0/0" {
			continue
		}
		for i, s := range ss {
			if i > 0 && !s.Time.After(ss[i-1].Time) {
				t.Errorf("sample at %v after one at %v", s.Time, ss[i-1].Time)
			}
			out = append(out, s.Time.Unix())
		}
	}
	return out
}

// TestBackfillPositions back-fills a store through a queue: the history goes up to
// the end of the last step, which becomes the live position; run again it sends
// nothing, with Again all of it again; split by From and To it sends the same
// samples in two parts; a live position already in the queue is where it stops.
func TestBackfillPositions(t *testing.T) {
	dir := t.TempDir()
	end := time.Unix(1764400200, 0).UTC() // a whole five minutes
	db := backfillStore(t, filepath.Join(dir, "mrtgo.db"), end, 1)
	log := slog.New(slog.DiscardHandler)
	open := func(name string) (*Remote, *remotewrite.Queue) {
		q, err := remotewrite.OpenQueue(filepath.Join(dir, name), remotewrite.QueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close() })
		x, err := NewRemote(db, q, nil, log)
		if err != nil {
			t.Fatal(err)
		}
		return x, q
	}
	x, q := open("queue")
	state := filepath.Join(dir, "queue", "backfill.json")
	x.PutSamples = 500
	puts := 0
	st, err := x.Backfill(BackfillOptions{State: state, Queued: func() error {
		puts++
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if qs := q.Stats(); puts != 1 || qs.Samples != st.Samples {
		t.Errorf("Queued called %d times, %d of %d samples queued; want once (one series), all", puts, qs.Samples, st.Samples)
	} else {
		t.Logf("queue: %d bytes for %d samples", qs.Bytes, qs.Samples)
	}
	all := times(t, drain(t, q))
	t.Logf("%d samples, by row length %v", st.Samples, st.ByRow)
	if st.Positions != 1 || x.cursor["core1"] != end.Unix() {
		t.Errorf("positions %d, cursor %v; want 1 and %v", st.Positions, x.cursor["core1"], end.Unix())
	}
	if len(all) == 0 || all[len(all)-1] != end.Unix() {
		t.Fatalf("last sample %v, want the end of the history %v", all, end.Unix())
	}
	if len(st.ByRow) != 4 {
		t.Errorf("samples by row length %v, want rows of the four archives", st.ByRow)
	}
	// Each archive's rows are apart by its row length, and the finer ones are later.
	prev := int64(math.MaxInt64)
	for i := 1; i < len(all); i++ {
		gap := all[i] - all[i-1]
		if gap > prev && gap%prev != 0 { // an unknown row leaves a gap of whole rows
			t.Errorf("rows of %ds after rows of %ds at %v", gap, prev, time.Unix(all[i], 0))
		}
		if gap < prev {
			prev = gap
		}
	}

	// Again: nothing new. With Again: the same.
	if st, err := x.Backfill(BackfillOptions{State: state}); err != nil || st.Samples != 0 {
		t.Errorf("second back-fill: %d samples, %v; want none", st.Samples, err)
	}
	drain(t, q)
	if _, err := x.Backfill(BackfillOptions{State: state, Again: true}); err != nil {
		t.Fatal(err)
	}
	if again := times(t, drain(t, q)); !slices.Equal(again, all) {
		t.Errorf("Again sent %d samples, want the %d of the first run", len(again), len(all))
	}

	// From and To, then the rest: the same samples, none twice.
	x2, q2 := open("queue2")
	state2 := filepath.Join(dir, "queue2", "backfill.json")
	from, to := time.Unix(all[len(all)/3], 0), time.Unix(all[2*len(all)/3], 0)
	if _, err := x2.Backfill(BackfillOptions{State: state2, From: from, To: to}); err != nil {
		t.Fatal(err)
	}
	part := times(t, drain(t, q2))
	for _, u := range part {
		if u <= from.Unix() || u > to.Unix() {
			t.Errorf("sample at %v outside (%v, %v]", time.Unix(u, 0), from, to)
		}
	}
	if _, err := x2.Backfill(BackfillOptions{State: state2}); err != nil {
		t.Fatal(err)
	}
	rest := times(t, drain(t, q2))
	both := append(slices.Clone(part), rest...)
	slices.Sort(both)
	if !slices.Equal(both, all) {
		t.Errorf("in two parts %d+%d samples, want the %d of one run", len(part), len(rest), len(all))
	}

	// The live export went on since: a back-fill still stops where it began.
	x.cursor["core1"] = end.Add(time.Hour).Unix()
	if st, err := x.Backfill(BackfillOptions{State: state, Again: true}); err != nil || st.Samples != len(all)*3 {
		t.Errorf("with the live export further on, Again queued %d samples, %v; want %d", st.Samples, err, len(all)*3)
	}
	if again := times(t, drain(t, q)); !slices.Equal(again, all) {
		t.Errorf("with the live export further on, Again sent %d samples, want the %d of the first run", len(again), len(all))
	}

	// The live export first, then a back-fill: it stops where the live export
	// began, and the two send every row once.
	x3, q3 := open("queue3")
	if _, err := x3.Export(); err != nil {
		t.Fatal(err)
	}
	live := times(t, drain(t, q3))
	if len(live) != 1 || live[0] != end.Unix() {
		t.Fatalf("the live export sent %v, want the last step's row %v", live, end.Unix())
	}
	x3.cursor["core1"] = end.Add(time.Hour).Unix() // and went on
	if st, err := x3.Backfill(BackfillOptions{}); err != nil || st.Positions != 0 {
		t.Fatalf("back-fill after the live export: %+v, %v", st, err)
	}
	back := times(t, drain(t, q3))
	if got := append(back, live...); !slices.Equal(got, all) {
		t.Errorf("live export %d and back-fill %d samples, want the %d of a back-fill alone, each once", len(live), len(back), len(all))
	}
}

func TestSpans(t *testing.T) {
	have := [][2]int64{{10, 20}, {30, 40}}
	if got, want := minusSpans(0, 50, have), [][2]int64{{0, 10}, {20, 30}, {40, 50}}; !slices.Equal(got, want) {
		t.Errorf("minus %v, want %v", got, want)
	}
	if got := minusSpans(12, 18, have); len(got) != 0 {
		t.Errorf("minus inside %v, want nothing", got)
	}
	if got, want := addSpan(have, [2]int64{20, 30}), [][2]int64{{10, 40}}; !slices.Equal(got, want) {
		t.Errorf("add %v, want %v", got, want)
	}
	if got, want := addSpan(have, [2]int64{0, 5}), [][2]int64{{0, 5}, {10, 20}, {30, 40}}; !slices.Equal(got, want) {
		t.Errorf("add %v, want %v", got, want)
	}
}

// TestBackfillDrains back-fills ten days of eight interfaces through a queue capped
// at 24 KiB, in batches of a series (about 10 KiB): sending what is queued whenever it passes a quarter of the cap
// (what "mrtgo backfill" does) delivers every sample, where queueing it all first
// makes the queue drop its oldest records.
func TestBackfillDrains(t *testing.T) {
	dir := t.TempDir()
	end := time.Unix(1764400200, 0).UTC()
	db := backfillStore(t, filepath.Join(dir, "mrtgo.db"), end, 8)
	var mu sync.Mutex
	received := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		mu.Lock()
		received += remotewrite.Samples(batch)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	const capBytes = 24 << 10
	for _, drain := range []bool{true, false} {
		q, err := remotewrite.OpenQueue(filepath.Join(dir, fmt.Sprint("queue-", drain)), remotewrite.QueueOptions{MaxBytes: capBytes, SegmentBytes: 2 << 10, MaxSamples: 100})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		x, err := NewRemote(db, q, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		x.PutSamples = 500
		w, err := remotewrite.NewWriter(q, remotewrite.Options{URL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		o := BackfillOptions{}
		if drain {
			o.Queued = func() error {
				if q.Stats().Bytes < capBytes/4 {
					return nil
				}
				return w.Flush(context.Background())
			}
		}
		mu.Lock()
		received = 0
		mu.Unlock()
		st, err := x.Backfill(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := received
		mu.Unlock()
		dropped := q.Stats().Dropped
		switch {
		case drain && (got != st.Samples || dropped != 0):
			t.Errorf("sending as it queues: %d of %d samples received, %d dropped by the queue", got, st.Samples, dropped)
		case !drain && dropped == 0:
			t.Errorf("queueing %d samples first into %d bytes dropped nothing: the test's queue is too large to show the need", st.Samples, capBytes)
		}
		t.Logf("drain %v: %d samples queued, %d received, %d dropped by the queue", drain, st.Samples, got, dropped)
	}
}
