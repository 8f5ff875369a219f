package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// allowed is the Cpus_allowed_list of process pid.
func allowed(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("process %d: no Cpus_allowed_list", pid)
	return ""
}

// TestStartOnMoveTree starts a shell on the last CPU, which starts a child, and moves
// both to the first: the child inherits the shell's CPU, and moveTree moves every
// process below the root.
func TestStartOnMoveTree(t *testing.T) {
	c := newCPUs()
	if c == nil || len(c.ids) < 2 {
		t.Skip("one CPU: nothing to move between")
	}
	first, last := c.ids[0], c.ids[len(c.ids)-1]
	every := allowed(t, os.Getpid())
	cmd := exec.Command("sh", "-c", "sleep 30 & echo $!; wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.start(cmd, last); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var child int
	buf := make([]byte, 32)
	n, _ := out.Read(buf)
	if child, err = strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err != nil {
		t.Fatalf("child's pid: %q: %v", buf[:n], err)
	}
	defer func() { _ = exec.Command("kill", strconv.Itoa(child)).Run() }()
	want := strconv.Itoa(last)
	if got := allowed(t, cmd.Process.Pid); got != want {
		t.Errorf("started on CPU %s, allowed %s", want, got)
	}
	if got := allowed(t, child); got != want {
		t.Errorf("child of a process started on CPU %s allowed %s", want, got)
	}
	if d := descendants(cmd.Process.Pid); len(d) != 2 || d[0] != cmd.Process.Pid || d[1] != child {
		t.Errorf("descendants of %d: %v, want it and %d", cmd.Process.Pid, d, child)
	}
	if err := moveTree(cmd.Process.Pid, first); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{cmd.Process.Pid, child} {
		if got := allowed(t, pid); got != strconv.Itoa(first) {
			t.Errorf("process %d moved to CPU %d: allowed %s", pid, first, got)
		}
	}
	// This process keeps every CPU: only the thread that forked was pinned, for a while.
	if got := allowed(t, os.Getpid()); got != every {
		t.Errorf("benchtable's own process allowed %s after start, want %s", got, every)
	}
}

// TestProbe: every CPU probes, a baseline is kept, and the fastest CPU is one of them.
func TestProbe(t *testing.T) {
	c := newCPUs()
	if c == nil {
		t.Fatal("no CPU this process may use")
	}
	d := c.probeAll()
	for i, x := range d {
		if x <= 0 || x > time.Second {
			t.Errorf("CPU %d: probe %v", i, x)
		}
		if c.best[i] != x {
			t.Errorf("CPU %d: baseline %v after one probe of %v", i, c.best[i], x)
		}
	}
	at := c.fastest(context.Background(), 0)
	if !slices.Contains(c.ids, at) || c.starts != 1 {
		t.Errorf("fastest: CPU %d of %v, %d starts", at, c.ids, c.starts)
	}
	if i := slices.Index(c.ids, at); i < 0 || !c.slow(2*c.best[i]) || c.slow(c.best[i]) {
		t.Errorf("slow: twice the baseline is slow, the baseline is not")
	}
	if s := c.summary(); !strings.Contains(s, fmt.Sprintf("CPU %d ", c.ids[0])) || !strings.Contains(s, "of 1 started") {
		t.Errorf("summary: %s", s)
	}
}
