package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/syncbuf"
	"github.com/mrtgo/mrtgo/internal/testsnmpd"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
	"github.com/mrtgo/mrtgo/web"
)

// Targets through cron's path: poll --once in separate processes stores net-snmp's
// memory (a device of targets only) and a command's output, fetch --target prints the
// total in bytes as memTotalReal says it in kB, and render writes their pages.
func TestTargetsEndToEnd(t *testing.T) {
	agent := testsnmpd.Start(t, "e2e-targets", "")
	dir := t.TempDir()
	script := filepath.Join(dir, "users.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 7\necho 3\necho 1000\necho srv\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "targets.toml")
	cfg := fmt.Sprintf(`step = "2s"
timezone = "UTC"
[snmp]
community = %q
port = %d

[[device]]
name = "srv"
host = "127.0.0.1"

[[device.target]]
name = "mem"
preset = "memory"

[[device.target]]
name = "users"
command = [%q]
kind = "gauge"
timeout = "1s"

[[aggregate]]
name = "people"
sum = ["srv:users", "-srv:users"]
`, agent.Community, agent.Port, script)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCmd(t, "check", "-c", cfgPath); code != exitOK || !strings.Contains(out, "0 interface entries, 2 targets, 1 aggregates") {
		t.Fatalf("check: exit %d: %s%s", code, out, errs)
	}
	for i := range 4 {
		if code, _, errs := runCmd(t, "poll", "--once", "-c", cfgPath); code != exitOK {
			t.Fatalf("poll %d: exit %d: %s", i, code, errs)
		}
		time.Sleep(2100 * time.Millisecond)
	}
	code, out, errs := runCmd(t, "fetch", "-c", cfgPath, "--device", "srv", "--target", "mem")
	if code != exitOK {
		t.Fatalf("fetch: exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][1] != "in_value" {
		t.Errorf("header %v", rows[0])
	}
	total := memTotalKB(t) * 1024
	known := 0
	for _, r := range rows[1:] {
		if r[2] == "" {
			continue
		}
		known++
		v, _ := strconv.ParseFloat(r[2], 64)
		// Rows are stored as float32: 24 bits of mantissa.
		if d := v - total; d > total/(1<<23) || d < -total/(1<<23) {
			t.Errorf("memory total row %v, want %v bytes", r, total)
		}
	}
	if known < 2 {
		t.Errorf("%d known rows of memory:\n%s", known, out)
	}
	if code, _, errs := runCmd(t, "render", "-c", cfgPath); code != exitOK {
		t.Fatalf("render: exit %d: %s", code, errs)
	}
	site := filepath.Join(dir, "var", "site")
	for _, f := range []string{web.TargetPage("srv", "mem"), web.TargetPage("srv", "users"), web.TargetPage("", "people"),
		web.TargetGraphFile("srv", "users", "day", 2)} {
		if _, err := os.Stat(filepath.Join(site, f)); err != nil {
			t.Error(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(site, web.TargetPage("", "people")))
	if err != nil {
		t.Fatal(err)
	}
	// 7 users in and 3 out, plus the same swapped: 10 each way.
	if !strings.Contains(string(b), "<td>10</td>") {
		t.Errorf("aggregate page lacks 10:\n%s", b)
	}
}

func memTotalKB(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Skip("no /proc/meminfo")
	}
	for l := range strings.Lines(string(b)) {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	t.Fatal("no MemTotal in /proc/meminfo")
	return 0
}

// "mrtgo run" polls a device's interfaces and a command target in its cycles, sums
// them in an aggregate and serves their pages.
func TestRunDaemonTargets(t *testing.T) {
	net := snmpsim.DemoNetwork()[:1]
	agents, err := snmpsim.StartNetwork(context.Background(), "127.0.0.1:0", net, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer agents[0].Close()
	dir := t.TempDir()
	script := filepath.Join(dir, "users.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 42\necho 5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "targets.toml")
	dev := agents[0].Name()
	cfg := fmt.Sprintf(`step = "1s"
[[device]]
name = %q
host = "127.0.0.1"
port = %d
community = %q
interfaces = ["*"]
[[device.target]]
name = "users"
command = [%q]
kind = "gauge"
unit = "users"
[[aggregate]]
name = "all-users"
sum = ["%s:users"]
`, dev, agents[0].Port(), agents[0].Community(), script, dev)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freeTCPAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", "-c", cfgPath, "--listen", listen}, io.Discard, &stderr) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		device := get(t, "http://"+listen+"/"+web.DevicePage(dev))
		agg := get(t, "http://"+listen+"/"+web.TargetPage("", "all-users"))
		if strings.Contains(device, "<td>42 users</td><td>5 users</td>") && strings.Contains(agg, "<td>42 users</td>") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no target values on the pages after 30s:\n%s\n%s\nlog:\n%s", device, agg, stderr.String())
		}
		select {
		case code := <-done:
			t.Fatalf("run exited early with %d:\n%s", code, stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	if png := get(t, "http://"+listen+"/"+web.TargetGraphFile(dev, "users", "day", 2)); !strings.HasPrefix(png, "\x89PNG") {
		t.Errorf("target graph is not a PNG: %q", png[:min(len(png), 40)])
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("run exited %d after cancel:\n%s", code, stderr.String())
	}
}
