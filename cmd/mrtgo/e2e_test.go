package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/testsnmpd"
)

// sendLoopback pushes n bytes through a TCP connection on 127.0.0.1 and returns when
// the receiver has read them all.
func sendLoopback(t *testing.T, n int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- -1
			return
		}
		defer c.Close()
		got, _ := io.Copy(io.Discard, c)
		done <- got
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<16)
	for sent := 0; sent < n; sent += len(buf) {
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if got := <-done; got < int64(n) {
		t.Fatalf("receiver read %d bytes, want %d", got, n)
	}
}

// The whole path against a real net-snmp agent: check, poll --once twice around known
// loopback traffic, fetch the stored rate, render the site.
func TestEndToEndSnmpd(t *testing.T) {
	agent := testsnmpd.Start(t, "e2e-ro", "")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	cfg := fmt.Sprintf(`step = "10s"  # heartbeat 20s
timezone = "UTC"
[snmp]
community = %q
port = %d
timeout = "1s"
retries = 1

[[device]]
name = "localhost"
host = "127.0.0.1"
interfaces = ["lo"]
speed = { lo = "100G" } # net-snmp says 10 Mbit/s for lo; the test sends more than that

[[device]]
name = "dead"
host = "127.0.0.1"
port = %d
timeout = "200ms"
retries = 0
interfaces = ["eth0"]
`, agent.Community, agent.Port, closedUDPPort(t))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCmd(t, "check", "-c", cfgPath); code != exitOK {
		t.Fatalf("check: exit %d: %s", code, errs)
	}

	// Two polls 13 s apart, the first ending in the 3 s before a step boundary, so that
	// a whole 10 s row lies between them. (Rows the first sample only partly covers are
	// exact only to whole seconds, as in RRDtool: they can read low.)
	const step = 10 * time.Second
	start := time.Now().Truncate(step).Add(step - 3*time.Second)
	if time.Now().After(start) {
		start = start.Add(step)
	}
	time.Sleep(time.Until(start))
	// The dead device fails; the other is stored all the same (exit 3: some failed).
	t0 := time.Now() // before the first sample: time.Since(t0) bounds the interval from above
	code, _, errs := runCmd(t, "poll", "--once", "-c", cfgPath)
	if code != exitSomeFailed {
		t.Fatalf("first poll: exit %d, want %d: %s", code, exitSomeFailed, errs)
	}
	t1 := time.Now()
	const traffic = 64 << 20
	sendLoopback(t, traffic)
	// snmpd caches its interface table for a few seconds: poll again well after that,
	// within the heartbeat.
	time.Sleep(time.Until(t1.Add(13 * time.Second)))
	if code, _, errs := runCmd(t, "poll", "--once", "-c", cfgPath); code != exitSomeFailed {
		t.Fatalf("second poll: exit %d: %s", code, errs)
	}
	elapsed := time.Since(t0) // at least the time between the two samples

	code, out, errs := runCmd(t, "fetch", "-c", cfgPath, "--device", "localhost", "--interface", "lo")
	if code != exitOK {
		t.Fatalf("fetch: exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 10 || rows[0][1] != "in_bps" {
		t.Fatalf("fetch printed %d rows, header %v", len(rows), rows[0])
	}
	maxIn, known := 0.0, 0
	for _, r := range rows[1:] {
		if r[1] == "" {
			continue
		}
		known++
		v, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Fatalf("row %v: %v", r, err)
		}
		maxIn = max(maxIn, v)
	}
	// Loopback counts the traffic once in and once out; other processes may add more.
	want := float64(traffic) * 8 / elapsed.Seconds()
	if known < 1 || maxIn < want {
		t.Errorf("stored lo in-rate %.0f bit/s over %d known rows, want at least %.0f (64 MiB in %s)",
			maxIn, known, want, elapsed)
	}
	if maxIn > 1e12 {
		t.Errorf("stored lo in-rate %.0f bit/s is not plausible", maxIn)
	}

	// JSON says the same, with unknown as null.
	code, out, _ = runCmd(t, "fetch", "-c", cfgPath, "--device", "localhost", "--interface", "lo", "--format", "json")
	var doc struct {
		Rows []struct {
			In *float64 `json:"in"`
		} `json:"rows"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("fetch json: exit %d, output %.200s", code, out)
	}
	nulls := 0
	for _, r := range doc.Rows {
		if r.In == nil {
			nulls++
		}
	}
	if len(doc.Rows) != len(rows)-1 || nulls != len(doc.Rows)-known {
		t.Errorf("json has %d rows (%d null), csv %d rows (%d known)", len(doc.Rows), nulls, len(rows)-1, known)
	}

	if code, _, errs := runCmd(t, "render", "-c", cfgPath); code != exitOK {
		t.Fatalf("render: exit %d: %s", code, errs)
	} else if strings.Contains(errs, "\r") {
		t.Errorf("render drew a progress bar on a stderr that is not a terminal: %q", errs)
	}
	site := filepath.Join(dir, "var", "site")
	index, err := os.ReadFile(filepath.Join(site, "index.html"))
	if err != nil || !strings.Contains(string(index), "localhost") {
		t.Fatalf("index.html: %v", err)
	}
	for _, p := range []string{"day", "week", "month", "year"} {
		matches, _ := filepath.Glob(filepath.Join(site, "localhost", "*-"+p+".png"))
		if len(matches) != 1 {
			t.Errorf("%s graphs: %v", p, matches)
		}
	}
}

// closedUDPPort returns a loopback UDP port nothing listens on.
func closedUDPPort(t *testing.T) int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return port
}
