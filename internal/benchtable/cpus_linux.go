//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Each virtual CPU of the machine the figures are measured on has phases, minutes
// long and independent of the other's, in which it runs integer work 1.5-1.7 times
// and some benchmarks (a poll of the in-process simulator) 2.3 times slower; most
// of the time one of the two is in such a phase (probed 230 times in three minutes
// with the machine otherwise idle: one slow in 185, both in 42, neither in 3). Where a benchmark's threads ran then decided its figure more
// than the code did: runs of the same benchmark fell in two modes, and two make
// bench runs drew different mixes of them. So every benchmark process runs on one
// CPU, the fastest when it starts (its Go runtime then has GOMAXPROCS=1), and
// moves, with whatever it started (snmpd, an exporter), when another becomes
// faster. Hashing with the CPU's SHA instructions, as reference does, does not see
// these phases at all: the probe is a map's lookups and stores.

// pinning reports whether benchmark processes are pinned (Linux only).
const pinning = true

// cpus keeps each CPU's fastest probe, the baseline that tells a slow phase.
type cpus struct {
	ids  []int // the CPUs this process may use, as the system numbers them
	mu   sync.Mutex
	best []time.Duration // by index in ids
	// slowStarts counts processes started while every CPU was slow, after waiting.
	slowStarts, starts, moves int
}

func newCPUs() *cpus {
	var set unix.CPUSet
	var ids []int
	if unix.SchedGetaffinity(0, &set) == nil {
		for i := range len(set) * 64 {
			if set.IsSet(i) {
				ids = append(ids, i)
			}
		}
	}
	if len(ids) == 0 {
		return nil // processes run where the system puts them
	}
	return &cpus{ids: ids, best: make([]time.Duration, len(ids))}
}

// probeWork is the probe's work: pseudo-random lookups and stores in a map of 64 Ki
// entries (about 2 MiB, most of it in the core's caches), the kind of work that
// slows in the phases, unlike hashing with SHA instructions.
func probeWork(m map[uint32]uint32) uint32 {
	x, sum := uint32(1), uint32(0)
	for range 250_000 {
		x = x*1664525 + 1013904223
		k := x & 0xffff
		m[k] += x
		sum += m[(k*7)&0xffff]
	}
	return sum
}

// probe runs probeWork on cpu and returns the CPU time it took (thread time, so
// that sharing the CPU with a running benchmark does not count), the fastest of two.
func probe(cpu int) (time.Duration, error) {
	type result struct {
		d   time.Duration
		err error
	}
	c := make(chan result)
	go func() {
		undo, err := pinThread(cpu)
		if err != nil {
			c <- result{err: err}
			return
		}
		defer undo()
		m := make(map[uint32]uint32, 1<<16)
		for i := range uint32(1 << 16) {
			m[i] = i
		}
		best := time.Duration(1 << 62)
		for range 2 {
			t0 := threadTime()
			if probeWork(m) == 42 {
				best-- // never mind: the sum is used, so the work is done
			}
			best = min(best, threadTime()-t0)
		}
		c <- result{d: best}
	}()
	r := <-c
	return r.d, r.err
}

func threadTime() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// probeAll probes every CPU, keeps the baselines and returns the probes, by index
// in c.ids.
func (c *cpus) probeAll() []time.Duration {
	d := make([]time.Duration, len(c.ids))
	for i := range d {
		var err error
		if d[i], err = probe(c.ids[i]); err != nil {
			d[i] = 1 << 62 // a CPU this process may not use is never picked
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range d {
		if c.best[i] == 0 || x < c.best[i] {
			c.best[i] = x
		}
	}
	return d
}

// slow reports whether a probe of d is in a slow phase: 1.3 times the fastest
// probe of any CPU so far.
func (c *cpus) slow(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	fastest := time.Duration(1 << 62)
	for _, b := range c.best {
		if b > 0 {
			fastest = min(fastest, b)
		}
	}
	return float64(d) > 1.3*float64(fastest)
}

// fastest returns the fastest CPU now: after waiting up to wait (probing twice a
// second) for one out of its slow phase.
func (c *cpus) fastest(ctx context.Context, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	for {
		d := c.probeAll()
		at := 0
		for i := range d {
			if d[i] < d[at] {
				at = i
			}
		}
		slow := c.slow(d[at])
		if !slow || time.Now().After(deadline) || ctx.Err() != nil {
			c.mu.Lock()
			c.starts++
			if slow {
				c.slowStarts++
			}
			c.mu.Unlock()
			return c.ids[at]
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// start starts cmd on cpu alone: the process inherits the affinity of the thread
// that forks it.
func (c *cpus) start(cmd *exec.Cmd, cpu int) error {
	errc := make(chan error)
	go func() {
		undo, err := pinThread(cpu)
		if err != nil {
			errc <- err
			return
		}
		defer undo()
		errc <- cmd.Start()
	}()
	return <-errc
}

// pinThread locks the calling goroutine to its thread and the thread to cpu; undo
// gives the thread back the CPUs it had and unlocks it. Where that fails the thread
// stays locked, and ends with its goroutine.
func pinThread(cpu int) (undo func(), err error) {
	runtime.LockOSThread()
	var had, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &had); err != nil {
		return nil, err
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return nil, err
	}
	return func() {
		if unix.SchedSetaffinity(0, &had) == nil {
			runtime.UnlockOSThread()
		}
	}, nil
}

// follow keeps the process pid (and the processes it started) on the fastest CPU
// until ctx ends: from after a while (most benchmark processes are over before),
// every few seconds, it probes the CPUs and moves the processes to another one when
// theirs has become 1.3 times slower than it. The probe of their own CPU takes it
// from them for about 10 ms each time, and reads slower than the CPU is when their
// memory evicts the probe's from the caches (6.2 ms against 4.8, the mean of 30
// probes beside a thread writing over 64 MiB): some moves are to a CPU no faster.
// A probe without memory (a xorshift loop) read the same either way; whether it
// sees the slow phases is not measured yet.
func (c *cpus) follow(ctx context.Context, pid, cpu int, log func(string)) {
	const (
		after = 10 * time.Second
		every = 5 * time.Second
	)
	t := time.NewTimer(after)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d := c.probeAll()
		on := slices.Index(c.ids, cpu)
		at := on
		for i := range d {
			if float64(d[i])*1.3 < float64(d[on]) && d[i] < d[at] {
				at = i
			}
		}
		if at != on && ctx.Err() == nil {
			to := c.ids[at]
			if err := moveTree(pid, to); err != nil {
				log(fmt.Sprintf("benchtable: moving process %d to CPU %d: %v", pid, to, err))
			} else {
				log(fmt.Sprintf("benchtable: CPU %d slowed (probe %v, CPU %d %v): process %d moved", cpu, d[on].Round(time.Microsecond), to, d[at].Round(time.Microsecond), pid))
				c.mu.Lock()
				c.moves++
				c.mu.Unlock()
				cpu = to
			}
		}
		t.Reset(every)
	}
}

// moveTree sets the affinity of every thread of root and of its descendants to cpu.
func moveTree(root, cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	var first error
	for _, pid := range descendants(root) {
		tasks, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
		if err != nil {
			continue // gone
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH && first == nil && pid == root {
				first = err
			}
		}
	}
	return first
}

// descendants returns root and every process below it, from /proc.
func descendants(root int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// summary is the table's line on where the processes ran.
func (c *cpus) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best []string
	for i, b := range c.best {
		best = append(best, fmt.Sprintf("CPU %d %s", c.ids[i], duration(float64(b))))
	}
	return fmt.Sprintf("Each benchmark process ran on one CPU, the fastest when it started (a probe of map work, fastest seen: %s); %d of %d started with every CPU in a slow phase (1.3 times the fastest probe) after waiting up to 5 s; %d moved to a faster CPU while running.",
		strings.Join(best, ", "), c.slowStarts, c.starts, c.moves)
}
