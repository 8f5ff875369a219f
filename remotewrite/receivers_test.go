package remotewrite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/receivertest"
	"github.com/mrtgo/mrtgo/remotewrite"
)

// TestReceiversOutage sends steps to the real engines through the queue, stops the
// receiver for twenty steps (five minutes of 15-second steps) while steps go on being
// put, starts it again on the same data, and reads every series back through the
// engine's query API: every step present once, with its value, in order.
func TestReceiversOutage(t *testing.T) {
	for _, start := range []func(testing.TB) *receivertest.Receiver{receivertest.Prometheus, receivertest.VictoriaMetrics} {
		recv := start(t)
		t.Run(recv.Kind, func(t *testing.T) {
			q, err := remotewrite.OpenQueue(t.TempDir(), remotewrite.QueueOptions{MaxSamples: 5})
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			w, err := remotewrite.NewWriter(q, remotewrite.Options{URL: recv.WriteURL, Timeout: 5 * time.Second,
				MinBackoff: 20 * time.Millisecond, MaxBackoff: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { w.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()

			const step, n, series = 15 * time.Second, 40, 3
			from := time.Now().Add(-n * step).Truncate(step)
			value := func(s, i int) float64 { return float64(s)*1e6 + float64(i)*1234.5 }
			put := func(i int) {
				var batch []remotewrite.Series
				for s := range series {
					batch = append(batch, remotewrite.Series{
						Labels:  []remotewrite.Label{{"__name__", "mrtgo_test_bits_per_second"}, {"device", "core1"}, {"interface", fmt.Sprintf("xe-0/0/%d", s)}},
						Samples: []remotewrite.Sample{{from.Add(time.Duration(i) * step), value(s, i)}},
					})
				}
				if err := q.Put(batch); err != nil {
					t.Fatal(err)
				}
			}
			waitSent := func(want int64) {
				t.Helper()
				deadline := time.Now().Add(60 * time.Second)
				for w.Stats().Sent < want {
					if time.Now().After(deadline) {
						t.Fatalf("sent %d of %d samples: %+v", w.Stats().Sent, want, w.Stats())
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			for i := range 10 {
				put(i)
			}
			waitSent(10 * series)
			recv.Stop()
			for i := 10; i < 30; i++ {
				put(i)
				time.Sleep(5 * time.Millisecond)
			}
			if st := q.Stats(); st.Samples != 20*series {
				t.Errorf("while the receiver was down the queue held %d samples, want %d", st.Samples, 20*series)
			}
			recv.Start()
			for i := 30; i < n; i++ {
				put(i)
			}
			waitSent(n * series)
			st := w.Stats()
			if st.Dropped != 0 || st.Queue.Samples != 0 {
				t.Errorf("stats after the outage: %+v", st)
			}
			if st.Retried == 0 {
				t.Error("nothing was sent again: the outage was not seen")
			}
			got, err := recv.Query(`mrtgo_test_bits_per_second{device="core1"}`, from, from.Add(n*step))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != series {
				t.Fatalf("%d series read back, want %d: %v", len(got), series, got)
			}
			for s := range series {
				key := fmt.Sprintf("__name__=mrtgo_test_bits_per_second,device=core1,interface=xe-0/0/%d", s)
				pts := got[key]
				if len(pts) != n {
					t.Errorf("%s: %d samples read back, want %d", key, len(pts), n)
					continue
				}
				for i, p := range pts {
					if want := from.Add(time.Duration(i) * step); !p.Time.Equal(want) || p.Value != value(s, i) {
						t.Errorf("%s sample %d: %v = %v, want %v = %v", key, i, p.Time, p.Value, want, value(s, i))
						break
					}
				}
			}
		})
	}
}

// TestReceiversAutoFallback sends with protocol "auto" to the real engines, which take
// v1 only: the first request goes as v2 and is answered without a count of samples
// written, is sent again as v1, and every later one goes as v1. Every sample is read
// back once, with its value.
func TestReceiversAutoFallback(t *testing.T) {
	for _, start := range []func(testing.TB) *receivertest.Receiver{receivertest.Prometheus, receivertest.VictoriaMetrics} {
		recv := start(t)
		t.Run(recv.Kind, func(t *testing.T) {
			q, err := remotewrite.OpenQueue(t.TempDir(), remotewrite.QueueOptions{MaxSamples: 4})
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			const step, n = 15 * time.Second, 12
			from := time.Now().Add(-n * step).Truncate(step)
			for i := range n {
				batch := []remotewrite.Series{{
					Labels:  []remotewrite.Label{{"__name__", "mrtgo_auto_test"}, {"device", "core1"}, {"direction", "in"}},
					Samples: []remotewrite.Sample{{from.Add(time.Duration(i) * step), float64(i) * 1.25}},
				}}
				if err := q.Put(batch); err != nil {
					t.Fatal(err)
				}
			}
			w, err := remotewrite.NewWriter(q, remotewrite.Options{URL: recv.WriteURL, Protocol: "auto"})
			if err != nil {
				t.Fatal(err)
			}
			if st := w.Stats(); st.Protocol != "v2" {
				t.Errorf("protocol before the first request %s, want v2", st.Protocol)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if st := w.Stats(); st.Protocol != "v1" || st.Sent != n || st.Dropped != 0 {
				t.Errorf("stats %+v: want protocol v1, %d sent, none dropped", st, n)
			}
			got, err := recv.Query(`mrtgo_auto_test{device="core1"}`, from, from.Add(n*step))
			if err != nil {
				t.Fatal(err)
			}
			pts := got["__name__=mrtgo_auto_test,device=core1,direction=in"]
			if len(pts) != n {
				t.Fatalf("%d samples read back, want %d: %v", len(pts), n, got)
			}
			for i, p := range pts {
				if want := from.Add(time.Duration(i) * step); !p.Time.Equal(want) || p.Value != float64(i)*1.25 {
					t.Errorf("sample %d: %v = %v, want %v = %v", i, p.Time, p.Value, want, float64(i)*1.25)
				}
			}
		})
	}
}
