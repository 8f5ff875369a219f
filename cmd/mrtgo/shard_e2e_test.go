package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/receivertest"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
	"github.com/mrtgo/mrtgo/rrd"
)

// TestFourShardsCoverNetwork runs four pollers, each a "poll --once --shard I/4"
// process from cron, sharing one targets file of a simulated network of 100,000
// interfaces (100 devices of 1,000), for three steps, all writing to one
// victoria-metrics. Every device is polled by exactly one of them (its series are in
// one shard's store and no other), and every step each store completed for each
// interface is in the engine, once. Under the race detector the network is a tenth
// of that; make test runs it at full size without.
func TestFourShardsCoverNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("three 10-second steps of 100,000 interfaces")
	}
	t.Parallel() // most of it is waiting for step boundaries
	recv := receivertest.VictoriaMetrics(t)
	devices, ifaces, shards := 100, 1000, 4
	if raceEnabled {
		devices = 10
	}
	net := snmpsim.Network(devices, ifaces, 7)
	agents, err := snmpsim.StartNetwork(context.Background(), "127.0.0.1:0", net, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, a := range agents {
			a.Close()
		}
	}()
	dir := t.TempDir()
	var cfg strings.Builder
	// Generous timeouts: on two cores four pollers and 100,000 simulated interfaces
	// share the machine with the engine.
	fmt.Fprintf(&cfg, "step = \"10s\"\ndata = \"var/mrtgo.db\"\n\n[snmp]\ntimeout = \"10s\"\nretries = 2\n\n[remote_write]\nurl = %q\nflush_timeout = \"20s\"\n\n", recv.WriteURL)
	for _, a := range agents {
		fmt.Fprintf(&cfg, "[[device]]\nname = %q\nhost = \"127.0.0.1\"\nport = %d\ncommunity = %q\ninterfaces = [\"*\"]\n\n", a.Name(), a.Port(), a.Community())
	}
	cfgPath := filepath.Join(dir, "targets.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "check", "-c", cfgPath, "--shards", "4")
	if code != exitOK {
		t.Fatalf("check --shards 4: exit %d: %s", code, errs)
	}
	t.Logf("check --shards 4:\n%s", out[strings.Index(out, "shard 1/4"):])

	const step = 10 * time.Second
	for round := range 3 {
		time.Sleep(time.Until(time.Now().Truncate(step).Add(step + time.Second)))
		var wg sync.WaitGroup
		for i := 1; i <= shards; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(os.Args[0], "poll", "--once", "-c", cfgPath, "--shard", fmt.Sprintf("%d/%d", i, shards))
				cmd.Env = append(os.Environ(), asMainEnv+"=1")
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Run(); err != nil {
					t.Errorf("round %d shard %d/%d: %v\n%s", round, i, shards, err, stderr.String())
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
	}

	// Each device's series are in exactly one shard's store; count the steps each
	// store completed with a value, as the remote-write export sends them.
	owner := map[string]int{}
	want := map[string]float64{} // device/interface/direction: rows sent
	for i := 1; i <= shards; i++ {
		path := filepath.Join(dir, "var", fmt.Sprintf("shard-%d-of-%d", i, shards), "mrtgo.db")
		db, err := rrd.Open(path, &rrd.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("shard %d store: %v", i, err)
		}
		names, _ := db.Series()
		last, err := db.LastUpdates(names)
		if err != nil {
			t.Fatal(err)
		}
		end := time.Now()
		rows, err := db.FetchMany(names, rrd.Average, end.Add(-5*time.Minute), end, 0)
		if err != nil {
			t.Fatal(err)
		}
		for k, n := range names {
			dev, iface, ok := series.Split(n)
			if !ok {
				continue
			}
			if j, seen := owner[dev]; seen && j != i {
				t.Errorf("device %s in the stores of shards %d and %d", dev, j, i)
			}
			owner[dev] = i
			done := last[k].Truncate(step)
			for r, row := range rows[k].Rows {
				for d, dirn := range []string{"in", "out"} {
					if !math.IsNaN(row[d]) && !rows[k].Time(r).After(done) {
						want[dev+"/"+iface+"/"+dirn]++
					}
				}
			}
		}
		db.Close()
	}
	if len(owner) != devices {
		t.Errorf("%d of %d devices in the shards' stores", len(owner), devices)
	}
	got, err := recv.Vector("count_over_time(mrtgo_interface_bits_per_second[5m])", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != devices*ifaces*2 || len(want) != devices*ifaces*2 {
		t.Errorf("%d series in the engine, %d in the stores, want %d", len(got), len(want), devices*ifaces*2)
	}
	missing, samples := 0, 0.0
	for k, n := range got {
		f := map[string]string{}
		for _, kv := range strings.Split(k, ",") {
			name, v, _ := strings.Cut(kv, "=")
			f[name] = v
		}
		key := f["device"] + "/" + f["interface"] + "/" + f["direction"]
		samples += n
		if want[key] != n {
			missing++
			if missing <= 5 {
				t.Errorf("%s: %v samples in the engine, %v steps in the store", key, n, want[key])
			}
		}
	}
	if missing > 5 {
		t.Errorf("... and %d more series whose samples differ", missing-5)
	}
	t.Logf("%d series, %.0f samples in the engine", len(got), samples)
}
