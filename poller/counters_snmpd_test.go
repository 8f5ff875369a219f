package poller

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
)

// loPackets reads the loopback packet counters from /proc/net/dev, where snmpd reads them.
func loPackets(t *testing.T) (rx, tx uint64) {
	t.Helper()
	f, err := os.Open("/proc/net/dev")
	if err != nil {
		t.Fatalf("read loopback counters: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) != "lo" {
			continue
		}
		fields := strings.Fields(rest)
		rx, err1 := strconv.ParseUint(fields[1], 10, 64)
		tx, err2 := strconv.ParseUint(fields[9], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("parse /proc/net/dev lo line %q", sc.Text())
		}
		return rx, tx
	}
	t.Fatal("no lo in /proc/net/dev")
	return 0, 0
}

// A real net-snmp agent answers the packet and error columns in the read of the
// octets: 64-bit ifHC*Pkts with v2c, ifTable's 32-bit ones with v1. The packets sent over
// loopback show in the unicast counters, no more than the kernel counted; the status of
// lo is up; an agent restart makes every group's next sample a discontinuity.
func TestSnmpdPacketsAndErrors(t *testing.T) {
	rx0, tx0 := loPackets(t)
	s := startSnmpd(t, testCommunity, "")
	for _, tt := range []struct {
		version string
		bits    int
	}{{"2c", 64}, {"1", 32}} {
		t.Run("v"+tt.version, func(t *testing.T) {
			dev := snmpdDevice(s, "local", tt.version, "lo")
			dev.Counters = config.Counters{Packets: true, Errors: true}
			p := New([]config.Device{dev}, Options{Logger: testLogger(t)})
			defer p.Close()
			ctx := context.Background()
			r := onlyResult(t, p.Poll(ctx))
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			a0, ok := findSample(r, "lo")
			if !ok || a0.Packets == nil || a0.Errors == nil {
				t.Fatalf("no sample for lo with groups: %+v", r)
			}
			if !a0.Packets.Discontinuity || !a0.Errors.Discontinuity {
				t.Errorf("first sample of the groups not a discontinuity: %+v %+v", a0.Packets, a0.Errors)
			}
			// net-snmp answers ifInUcastPkts 0 until its cache first refreshes, then the
			// count since boot: the step from the zero is no rate.
			var a Sample
			prev := a0
			for attempt := 0; ; attempt++ {
				time.Sleep(500 * time.Millisecond)
				r = onlyResult(t, p.Poll(ctx))
				if r.Err != nil {
					t.Fatal(r.Err)
				}
				a, _ = findSample(r, "lo")
				if a.Packets == nil || a.Errors == nil {
					t.Fatalf("lo sample without groups: %+v", a)
				}
				if zero := prev.Packets.Values[0] == 0 && prev.In > 0; a.Packets.Discontinuity != zero {
					t.Errorf("after ifInUcastPkts %d with ifInOctets %d: packets discontinuity %v, want %v",
						prev.Packets.Values[0], prev.In, a.Packets.Discontinuity, zero)
				}
				if a.Packets.Values[0] != 0 && !a.Packets.Discontinuity || attempt == 30 {
					break
				}
				prev = a
			}
			if a.Packets.Absent&3 != 0 || a.Packets.Values[0] == 0 || a.Packets.Values[1] == 0 {
				t.Errorf("unicast packets %+v: want both counted", a.Packets)
			}
			if a.Admin != StatusUp || a.Oper != StatusUp {
				t.Errorf("lo admin %d oper %d, want up (1)", a.Admin, a.Oper)
			}

			const n = 4 << 20
			sendLoopback(t, n)
			var b Sample
			for attempt := 0; ; attempt++ {
				time.Sleep(500 * time.Millisecond)
				r := onlyResult(t, p.Poll(ctx))
				if r.Err != nil {
					t.Fatal(r.Err)
				}
				b, _ = findSample(r, "lo")
				if b.Packets != nil && b.In != a.In || attempt == 30 {
					break
				}
			}
			rx1, tx1 := loPackets(t)
			if rx1-rx0 < 2*(n>>16) {
				t.Fatalf("kernel counted %d packets in on lo", rx1-rx0)
			}
			if b.Packets == nil || b.Packets.Discontinuity || b.Errors.Discontinuity {
				t.Fatalf("second sample %+v: want groups without discontinuity", b)
			}
			d := func(k int) uint64 {
				if tt.bits == 32 {
					return uint64(uint32(b.Packets.Values[k] - a.Packets.Values[k]))
				}
				return b.Packets.Values[k] - a.Packets.Values[k]
			}
			// TCP over loopback: segments of at most 64 KiB, so at least n/64Ki packets.
			if in, out := d(0), d(1); in < n>>16 || out < n>>16 || in > rx1-rx0 || out > tx1-tx0 {
				t.Errorf("unicast +%d in +%d out: want at least %d each, at most the kernel's +%d, +%d",
					in, out, n>>16, rx1-rx0, tx1-tx0)
			}
			for k, v := range b.Errors.Values {
				if v != a.Errors.Values[k] {
					t.Errorf("%s moved from %d to %d on loopback", ErrorNames[k], a.Errors.Values[k], v)
				}
			}

			s.Restart(t)
			r = onlyResult(t, p.Poll(ctx))
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			c, _ := findSample(r, "lo")
			if c.Packets == nil || !c.Packets.Discontinuity || !c.Errors.Discontinuity || !c.Discontinuity {
				t.Errorf("after the agent restarted: %+v, want every group a discontinuity", c)
			}
		})
	}
}
