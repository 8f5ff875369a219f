package receivertest

import (
	"context"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/remotewrite"
	"github.com/mrtgo/mrtgo/rrd"
)

// History records ten days of five-minute steps ending at end of three interfaces of
// device core1 into a store (mrtgo.db in a directory of the test's), sending each
// hour's rows to recv, labelled site="ams", as a poller does, and returns the store.
// Its series have no Holt-Winters predictions. The first interface polls packets and
// errors too.
// The second interface stops answering for three hours halfway, the third has gaps of
// single steps.
func History(t testing.TB, recv *Receiver, end time.Time) *rrd.DB {
	t.Helper()
	dir := t.TempDir()
	db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const step = 5 * time.Minute
	log := slog.New(slog.DiscardHandler)
	rec := pipeline.NewRecorder(db, step, nil, log)
	// Without Holt-Winters predictions, which stay in the store: an engine has none,
	// and the graphs drawn from it are compared with the store's.
	rec.SetHoltWinters(nil)
	q, err := remotewrite.OpenQueue(filepath.Join(dir, "queue"), remotewrite.QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	x, err := pipeline.NewRemote(db, q, map[string]string{"site": "ams"}, log)
	if err != nil {
		t.Fatal(err)
	}
	w, err := remotewrite.NewWriter(q, remotewrite.Options{URL: recv.WriteURL})
	if err != nil {
		t.Fatal(err)
	}
	steps := int(10 * 24 * time.Hour / step)
	start := end.Add(-time.Duration(steps) * step)
	var counters [3][2]uint64
	var packets [6]uint64
	var errs [4]uint64
	for k := range steps {
		at := start.Add(time.Duration(k)*step + 7*time.Second)
		var samples []poller.Sample
		for i, name := range []string{"xe-0/0/0", "xe-0/0/1", "ge-0/0/2"} {
			if i == 1 && k > steps/2 && k < steps/2+36 || i == 2 && k%97 == 0 {
				continue
			}
			h := float64(k%288) / 288
			rate := 1e8 * (1.2 + math.Sin(2*math.Pi*h+float64(i))) * float64(i+1)
			counters[i][0] += uint64(rate * 300 / 8)
			counters[i][1] += uint64(rate * 300 / 8 / 3)
			s := poller.Sample{Device: "core1", Interface: name, Index: i + 1, Time: at,
				In: counters[i][0], Out: counters[i][1], Bits: 64, Speed: 10e9, Alias: "link " + name}
			if i == 0 { // polls packets and errors too
				for d := range packets {
					packets[d] += uint64(rate / 8 / 1000 * 300 * float64(d+1) / 6)
				}
				for d := range errs {
					errs[d] += uint64(k % (d + 3))
				}
				s.Packets = &poller.Group{Values: slices.Clone(packets[:]), Bits: 64, Discontinuity: k == 0}
				s.Errors = &poller.Group{Values: slices.Clone(errs[:]), Bits: 64, Discontinuity: k == 0}
			}
			samples = append(samples, s)
		}
		if err := rec.Record([]poller.Result{{Device: "core1", Samples: samples}}); err != nil {
			t.Fatal(err)
		}
		if k == 0 || k%12 == 11 || k == steps-1 { // from the first step: all of it is sent
			if _, err := x.Export(); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}
