package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
	"github.com/mrtgo/mrtgo/rrd"
)

// fetch --counters prints an interface's packets or errors: each type and direction
// per second as the store keeps it (and remote write sends it), named as remote write
// labels it (unicast_in, discards_out). A group the store has none of, an unknown
// group, or a group with --target is a usage error.
func TestFetchCounters(t *testing.T) {
	t.Parallel() // most of it is waiting for the next second
	agents, err := snmpsim.StartNetwork(context.Background(), "127.0.0.1:0",
		[]snmpsim.DeviceConfig{{Name: "r1", Seed: 5, Interfaces: []snmpsim.Interface{{Name: "ge-0/0/0", Speed: 1e9, Up: true, MeanBps: 3e8}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer agents[0].Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	body := fmt.Sprintf("step = \"1s\"\ndata = \"mrtgo.db\"\ncounters = [\"packets\", \"errors\"]\n\n"+
		"[[device]]\nname = \"r1\"\nhost = \"127.0.0.1\"\nport = %d\ncommunity = %q\ninterfaces = [\"ge-0/0/0\"]\n",
		agents[0].Port(), agents[0].Community())
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1300 * time.Millisecond)))
		if code, _, errs := runCmd(t, "poll", "--once", "-c", cfgPath); code != exitOK {
			t.Fatalf("poll --once: exit %d: %s", code, errs)
		}
	}
	for _, c := range []struct {
		group string
		cols  []string
	}{
		{"packets", []string{"unicast_in", "unicast_out", "multicast_in", "multicast_out", "broadcast_in", "broadcast_out"}},
		{"errors", []string{"errors_in", "errors_out", "discards_in", "discards_out"}},
	} {
		code, out, errs := runCmd(t, "fetch", "-c", cfgPath, "--device", "r1", "--interface", "ge-0/0/0", "--counters", c.group, "--format", "json")
		if code != exitOK {
			t.Fatalf("fetch --counters %s: exit %d: %s", c.group, code, errs)
		}
		var f struct {
			Counters, Unit, Interface string
			Rows                      []map[string]any
		}
		if err := json.Unmarshal([]byte(out), &f); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if f.Counters != c.group || f.Unit != c.group+"/s" || f.Interface != "ge-0/0/0" {
			t.Errorf("fetch --counters %s: counters %q, unit %q, interface %q", c.group, f.Counters, f.Unit, f.Interface)
		}
		// Every row with values equals the store's row of its step.
		db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), &rrd.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		name := series.KindName("r1", c.group, "ge-0/0/0")
		known := 0
		for _, r := range f.Rows {
			at, err := time.Parse(time.RFC3339, r["time"].(string))
			if err != nil {
				t.Fatal(err)
			}
			want, err := db.Fetch(name, rrd.Average, at.Add(-time.Second), at, time.Second)
			if err != nil || len(want.Rows) != 1 || !want.Time(0).Equal(at) {
				t.Fatalf("the store's row at %v: %+v, %v", at, want, err)
			}
			for d, col := range c.cols {
				v, ok := r[col]
				if !ok {
					t.Fatalf("row %v lacks %s", r, col)
				}
				w := want.Rows[0][d]
				switch got, _ := v.(float64); {
				case v == nil && math.IsNaN(w):
				case v == nil || math.IsNaN(w) || math.Abs(got-w) > 1e-9*math.Abs(w):
					t.Errorf("%s %s at %v: fetch %v, the store %v", c.group, col, at, v, w)
				default:
					known++
				}
			}
		}
		if c.group == "packets" && known < 2*len(c.cols)-2 {
			t.Errorf("%d known packet rates in %d rows, want those of at least two steps", known, len(f.Rows))
		}
		db.Close()
		code, out, errs = runCmd(t, "fetch", "-c", cfgPath, "--device", "r1", "--interface", "ge-0/0/0", "--counters", c.group)
		if code != exitOK {
			t.Fatalf("fetch --counters %s: exit %d: %s", c.group, code, errs)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Join(rows[0], ","), "time,"+strings.Join(c.cols, ","); got != want {
			t.Errorf("CSV header %s, want %s", got, want)
		}
		if len(rows)-1 != len(f.Rows) {
			t.Errorf("%d CSV rows, %d JSON rows", len(rows)-1, len(f.Rows))
		}
	}
	for _, args := range [][]string{
		{"--interface", "ge-9", "--counters", "packets"},
		{"--interface", "ge-0/0/0", "--counters", "octets"},
		{"--target", "cpu", "--counters", "errors"},
	} {
		code, _, errs := runCmd(t, append([]string{"fetch", "-c", cfgPath, "--device", "r1"}, args...)...)
		if code != exitUsage || !strings.Contains(errs, "--counters") {
			t.Errorf("fetch %v: exit %d, want %d naming --counters: %s", args, code, exitUsage, errs)
		}
	}
}
