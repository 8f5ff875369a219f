package poller

// A cycle over 1,000 interfaces of a real net-snmp snmpd. The interfaces are veth links
// in a network namespace of the benchmark's own, where snmpd runs on the namespace's
// 127.0.0.1; the poller's sockets are opened inside it (see nsClient), so no packet
// leaves the namespace's loopback and the host's interfaces are left alone.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/snmp"
	"github.com/mrtgo/mrtgo/internal/testnetns"
)

// nsClient opens its socket inside a network namespace: the calling thread enters it
// for the Connect and leaves again. A socket stays in the namespace it was made in.
type nsClient struct {
	snmp.Client
	ns *os.File
}

func setns(f *os.File) error { return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET) }

func (c nsClient) Connect() error {
	runtime.LockOSThread()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open own namespace: %w", err)
	}
	defer home.Close()
	if err := setns(c.ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter namespace: %w", err)
	}
	err = c.Client.Connect()
	if setns(home) != nil {
		// The thread is stuck in the namespace: keep it locked so that it ends with
		// the goroutine instead of serving others.
		return err
	}
	runtime.UnlockOSThread()
	return err
}

func nsDial(ns *os.File) dialFunc {
	return func(ctx context.Context, d config.Device, onSent func()) (snmp.Client, error) {
		c, err := dialSNMP(ctx, d, onSent)
		if err != nil {
			return nil, err
		}
		return nsClient{Client: c, ns: ns}, nil
	}
}

// BenchmarkSnmpdCycle polls 1,000 interfaces of a real snmpd (ifHC* in and out,
// sysUpTime, ifTableLastChange, ifNumber, ifCounterDiscontinuityTime), and reports as
// bulkwalk-floor-ms the best of three runs of two snmpbulkwalks of ifHCInOctets and
// ifHCOutOctets on the same agent. It needs root and iproute2 and skips without them.
func BenchmarkSnmpdCycle(b *testing.B) {
	b.Run("interfaces=1000", func(b *testing.B) {
		const n = 1000
		ns := testnetns.New(b, "bench")
		names := ns.Veths(b, n/2)
		agent := ns.Snmpd(b, testCommunity)
		nsFile := ns.File(b)

		d := snmpdDevice(agent, "netns", "2c", names...)
		d.SNMP.Timeout = 5 * time.Second // a thousand interfaces keep snmpd busy
		p := newPoller([]config.Device{d}, Options{}, nsDial(nsFile))
		ctx := context.Background()
		if r := onlyResult(b, p.Poll(ctx)); r.Err != nil || len(r.Samples) != n {
			b.Fatalf("first poll: Err %v, %d samples, want %d", r.Err, len(r.Samples), n)
		}
		requests := 0
		b.ResetTimer()
		for b.Loop() {
			r := p.Poll(ctx)[0]
			if r.Err != nil || len(r.Samples) != n {
				b.Fatalf("poll: Err %v, %d samples", r.Err, len(r.Samples))
			}
			requests += r.Requests
		}
		b.StopTimer()
		b.ReportMetric(float64(requests)/float64(b.N), "PDUs/op")

		walk, err := exec.LookPath("snmpbulkwalk")
		if err != nil {
			return
		}
		floor := time.Duration(1<<63 - 1)
		for range 3 {
			start := time.Now()
			for _, col := range []string{oidIfHCInOctets, oidIfHCOutOctets} {
				out, err := ns.Command(walk, "-v2c", "-c", agent.Community, "-Cr60",
					"-m", "", "-On", "-Oq", fmt.Sprintf("127.0.0.1:%d", agent.Port), col).CombinedOutput()
				if err != nil {
					b.Fatalf("snmpbulkwalk: %v: %s", err, out)
				}
			}
			floor = min(floor, time.Since(start))
		}
		b.ReportMetric(float64(floor.Microseconds())/1000, "bulkwalk-floor-ms")
	})
}
