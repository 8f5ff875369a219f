package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/receivertest"
	"github.com/mrtgo/mrtgo/internal/syncbuf"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

// TestRemoteWriteCronThenDaemon polls a simulated device with [remote_write] pointing
// at a real engine: first from cron (poll --once, one process a step), then by the
// daemon, which takes up from the queue where the last cron run left it and goes on
// through eight steps without the receiver (stopped, then started on its data). Every sample
// the engine holds equals the row "mrtgo fetch" prints for its step, and every row
// fetch shows with a value between the first and the last sample sent is there: no
// step lost, none twice, whichever path sent it.
func TestRemoteWriteCronThenDaemon(t *testing.T) {
	t.Parallel() // most of it is waiting for the next second
	net := snmpsim.DemoNetwork()[:1]
	agents, err := snmpsim.StartNetwork(context.Background(), "127.0.0.1:0", net, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer agents[0].Close()
	a := agents[0]
	for _, start := range []func(testing.TB) *receivertest.Receiver{receivertest.Prometheus, receivertest.VictoriaMetrics} {
		recv := start(t)
		t.Run(recv.Kind, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "targets.toml")
			cfg := fmt.Sprintf(`step = "1s"
[[device]]
name = %q
host = "127.0.0.1"
port = %d
community = %q
interfaces = ["*"]

[remote_write]
url = %q
flush_timeout = "5s"
labels = { poller = "p1" }
`, a.Name(), a.Port(), a.Community(), recv.WriteURL)
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1300 * time.Millisecond)))
				if code, _, errs := runCmd(t, "poll", "--once", "-c", cfgPath); code != exitOK {
					t.Fatalf("poll --once: exit %d: %s", code, errs)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			var stderr syncbuf.Buffer
			done := make(chan int, 1)
			go func() { done <- run(ctx, []string{"run", "-c", cfgPath}, io.Discard, &stderr) }()
			cycles := func(n int) {
				t.Helper()
				deadline := time.Now().Add(60 * time.Second)
				for strings.Count(stderr.String(), "cycle done") < n {
					if time.Now().After(deadline) {
						t.Fatalf("fewer than %d cycles in 60s:\n%s", n, stderr.String())
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			cycles(3)
			// The receiver goes away for eight steps and comes back: the daemon keeps
			// polling, queues, and sends what waited, in order, once it is back.
			recv.Stop()
			cycles(11)
			recv.Start()
			cycles(14)
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(stderr.String(), "remote write recovered") {
				if time.Now().After(deadline) {
					t.Fatalf("the daemon did not send again within 30s of the receiver's return:\n%s", stderr.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			cycles(16)
			cancel()
			if code := <-done; code != exitOK {
				t.Fatalf("run exited %d:\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "remote write failing") {
				t.Errorf("the daemon did not see the receiver go:\n%s", stderr.String())
			}
			checked := 0
			for _, iface := range []string{net[0].Interfaces[0].Name, net[0].Interfaces[1].Name} {
				code, out, errs := runCmd(t, "fetch", "-c", cfgPath, "--device", a.Name(), "--interface", iface, "--format", "json")
				if code != exitOK {
					t.Fatalf("fetch: exit %d: %s", code, errs)
				}
				var f struct {
					Rows []struct {
						Time    time.Time
						In, Out *float64
					}
				}
				if err := json.Unmarshal([]byte(out), &f); err != nil {
					t.Fatal(err)
				}
				for _, dirn := range []string{"in", "out"} {
					sel := fmt.Sprintf(`mrtgo_interface_bits_per_second{device=%q,interface=%q,direction=%q,poller="p1"}`, a.Name(), iface, dirn)
					got, err := recv.Query(sel, time.Now().Add(-10*time.Minute), time.Now())
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != 1 {
						t.Fatalf("%s: %d series in the engine, want 1: %v", sel, len(got), got)
					}
					var pts []receivertest.Point
					for _, p := range got {
						pts = p
					}
					if len(pts) < 18 {
						t.Fatalf("%s: %d samples in the engine, want the steps of five cron runs and sixteen cycles", sel, len(pts))
					}
					sent := map[int64]float64{}
					for i, p := range pts {
						if i > 0 && !p.Time.After(pts[i-1].Time) {
							t.Errorf("%s: sample at %v after one at %v: a step twice, or out of order", sel, p.Time, pts[i-1].Time)
						}
						sent[p.Time.Unix()] = p.Value
					}
					fetched := map[int64]bool{}
					for _, r := range f.Rows {
						if v := r.In; dirn == "out" && r.Out != nil || dirn == "in" && v != nil {
							fetched[r.Time.Unix()] = true
						}
					}
					for _, p := range pts {
						if !fetched[p.Time.Unix()] {
							t.Errorf("%s: the engine has %v at %v, where fetch shows no value", sel, p.Value, p.Time)
						}
					}
					first, last := pts[0].Time, pts[len(pts)-1].Time
					rows := 0
					for _, r := range f.Rows {
						v := r.In
						if dirn == "out" {
							v = r.Out
						}
						if r.Time.Before(first) || r.Time.After(last) || v == nil {
							continue
						}
						rows++
						got, ok := sent[r.Time.Unix()]
						switch {
						case !ok:
							t.Errorf("%s: the row of %v (%v) is not in the engine", sel, r.Time, *v)
						case math.Abs(got-*v) > 1e-9*math.Abs(*v):
							t.Errorf("%s at %v: engine %v, fetch %v", sel, r.Time, got, *v)
						}
					}
					if rows != len(pts) {
						t.Errorf("%s: %d samples in the engine, fetch shows %d rows with a value from %v to %v", sel, len(pts), rows, first, last)
					}
					checked += len(pts)
				}
			}
			t.Logf("%s: %d samples checked against fetch", recv.Kind, checked)
		})
	}
}
