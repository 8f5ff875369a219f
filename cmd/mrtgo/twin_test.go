package main

// A link deleted and re-created under traffic, then an agent restart, on a real net-snmp
// snmpd polled by separate "mrtgo poll --once" processes, as cron runs them. The link
// is a veth pair between two network namespaces the test makes: snmpd runs in the
// first, which receives the traffic the second sends, and each poll process runs in
// the first too, so nothing leaves the namespaces.

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/internal/testnetns"
	"github.com/mrtgo/mrtgo/rrd"
)

// asMainEnv makes the test binary run as mrtgo itself (see TestMain), so that a test
// can start "mrtgo poll --once" as a process of its own, inside a namespace.
const asMainEnv = "MRTGO_TEST_RUN_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestCronFollowsLiveTwinOnSnmpd(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about a minute and a half of real time")
	}
	agentNS, peerNS := testnetns.New(t, "twin-a"), testnetns.New(t, "twin-b")
	link := func() {
		agentNS.IP(t, "link", "add", "tw0", "type", "veth", "peer", "name", "tw0p", "netns", peerNS.Name)
		agentNS.IP(t, "addr", "add", "10.77.0.1/30", "dev", "tw0")
		peerNS.IP(t, "addr", "add", "10.77.0.2/30", "dev", "tw0p")
		agentNS.IP(t, "link", "set", "tw0", "up")
		peerNS.IP(t, "link", "set", "tw0p", "up")
	}
	link()
	agent := agentNS.Snmpd(t, "twin-ro")

	// Traffic: UDP from the peer to a sink in the agent's namespace, paced at rate.
	const rate = 2_000_000 // octets/s of payload
	const size = 1400
	var sink *net.UDPConn
	if err := agentNS.Do(func() (err error) {
		sink, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero, Port: 9999})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := sink.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	var src *net.UDPConn
	if err := peerNS.Do(func() (err error) {
		src, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var sent atomic.Int64
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	defer halt()
	go func() {
		dst := &net.UDPAddr{IP: net.IPv4(10, 77, 0, 1), Port: 9999}
		payload := make([]byte, size)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		start := time.Now()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			due := int64(time.Since(start).Seconds() * rate)
			for sent.Load()+size <= due {
				sent.Add(size) // counted as due even while the link is being rebuilt
				_, _ = src.WriteToUDP(payload, dst)
			}
		}
	}()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	const step = 10 * time.Second
	conf := fmt.Sprintf(`step = "10s"
data = "mrtgo.db"
site = "site"
timezone = "UTC"

[[device]]
name = "box"
host = "127.0.0.1"
port = %d
community = "twin-ro"
interfaces = ["tw0"]
`, agent.Port)
	if err := os.WriteFile(cfgPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	poll := func(k int) {
		cmd := agentNS.Command(self, "poll", "--once", "-c", cfgPath, "-log-level", "debug")
		cmd.Env = append(os.Environ(), asMainEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("poll %d: %v\n%s", k, err, out)
		}
		t.Logf("poll %d:\n%s", k, out)
	}
	// Polls a step apart, just after each step boundary.
	var when []time.Time
	next := time.Now().Truncate(step).Add(step + time.Second)
	for k := range 10 {
		time.Sleep(time.Until(next))
		switch k {
		case 3:
			// The link is deleted and re-created a few seconds before the poll: snmpd
			// keeps the deleted tw0 (down, frozen) and lists the new one after it.
			agentNS.IP(t, "link", "del", "tw0")
			link()
			time.Sleep(4 * time.Second)
		case 7:
			agent.Restart(t)
		}
		when = append(when, time.Now())
		poll(k)
		next = next.Add(step)
	}
	halt()
	out, err := agentNS.Command("ip", "-o", "link", "show", "tw0").Output()
	if err != nil {
		t.Fatal(err)
	}
	liveIndex, _, _ := strings.Cut(string(out), ":")

	db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), &rrd.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := series.Name("box", "tw0")
	info, err := series.Interface(db, name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Fetch(name, rrd.Average, when[0], when[len(when)-1], step)
	if err != nil {
		t.Fatal(err)
	}
	// What the link carried, in octets/s on the wire: payload, UDP, IPv4 and Ethernet
	// headers. net-snmp caches counters for up to 5 s, so a 10 s step may see up to
	// half a step more or less: allow 1.6×, far below a spike of a wrong baseline.
	wire := float64(rate) * float64(size+8+20+14) / size
	high := 1.6 * wire
	live := 0
	for i, row := range res.Rows {
		v := row[0]
		end := res.Time(i)
		t.Logf("row ending %s: in %.0f B/s (link carried %.0f)", end.Format("15:04:05"), v, wire)
		if !math.IsNaN(v) && v > high {
			t.Errorf("row ending %s: stored %.0f B/s in, above what the link carried (%.0f B/s, bound %.0f)", end.Format("15:04:05"), v, wire, high)
		}
		// After the re-creation and after the restart, the series must follow the
		// live link: rates, not the dead twin's zero.
		between := func(k, l int) bool { return end.After(when[k].Add(step/2)) && !end.After(when[l]) }
		if between(4, 6) || between(8, 9) {
			if math.IsNaN(v) || v < 0.4*wire {
				t.Errorf("row ending %s: %.0f B/s in, want the live link's ~%.0f B/s", end.Format("15:04:05"), v, wire)
			} else {
				live++
			}
		}
	}
	if live < 3 {
		t.Errorf("%d rows followed the live link after the changes, want 3", live)
	}
	if fmt.Sprint(info.Index) != strings.TrimSpace(liveIndex) {
		t.Errorf("series last read ifIndex %d; the live tw0 is %s", info.Index, liveIndex)
	}
}
