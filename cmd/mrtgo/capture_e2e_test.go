package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/events"
	"github.com/mrtgo/mrtgo/internal/syncbuf"
	"github.com/mrtgo/mrtgo/internal/testneed"
	"github.com/mrtgo/mrtgo/internal/testnetns"
)

// A SYN flood crosses a link between two namespaces the test makes, among other
// traffic of the same hosts. Inside the victim's namespace softflowd exports what the
// link carries to "mrtgo run", whose detector reports the flood at the end of a step;
// the event starts a capture on the link ([detect.capture]), and tcpdump reads in the
// file the flood's SYNs and nothing else: not the victim's RSTs, not a bystander's
// SYNs to the same port, not the attacker's UDP.
func TestCaptureOfSYNFloodThroughRun(t *testing.T) {
	if testing.Short() {
		t.Skip("takes some twenty seconds of real time")
	}
	sfd := testneed.Program(t, "softflowd", "apt-get install softflowd")
	tcpdump := testneed.Program(t, "tcpdump", "apt-get install tcpdump")
	victim, attacker := testnetns.New(t, "cap-v"), testnetns.New(t, "cap-a")
	victim.IP(t, "link", "add", "cv0", "type", "veth", "peer", "name", "ca0", "netns", attacker.Name)
	victim.IP(t, "addr", "add", "192.0.2.80/24", "dev", "cv0")
	attacker.IP(t, "addr", "add", "192.0.2.66/24", "dev", "ca0")
	attacker.IP(t, "addr", "add", "192.0.2.67/24", "dev", "ca0") // the bystander
	victim.IP(t, "link", "set", "cv0", "up")
	attacker.IP(t, "link", "set", "ca0", "up")

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	const flowPort = 2055 // the victim's namespace is the test's: nothing else listens there
	cfg := fmt.Sprintf(`step = "5s"
timezone = "UTC"

[flows]
listen = ["127.0.0.1:%d"]

[detect]
scan_window = "10s"

[detect.capture]
interface = "cv0"
duration = "4s"
`, flowPort)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var daemonLog syncbuf.Buffer
	daemon := victim.Command(self, "run", "-c", cfgPath, "--listen", "127.0.0.1:18080")
	daemon.Env = append(os.Environ(), asMainEnv+"=1")
	daemon.Stdout, daemon.Stderr = &daemonLog, &daemonLog
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { daemon.Process.Kill(); daemon.Wait() }()
	exporter := victim.Command(sfd, "-i", "cv0", "-n", fmt.Sprintf("127.0.0.1:%d", flowPort), "-v", "10", "-d",
		"-c", "none", "-p", filepath.Join(dir, "softflowd.pid"),
		"-t", "maxlife=2", "-t", "expint=1", "-t", "tcp=2", "-t", "tcp.rst=1", "-t", "udp=2", "-t", "general=2")
	var exporterLog syncbuf.Buffer
	exporter.Stdout, exporter.Stderr = &exporterLog, &exporterLog
	if err := exporter.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { exporter.Process.Kill(); exporter.Wait() }()

	// The traffic, from the attacker's namespace until stop: about 400 connection
	// attempts a second from 192.0.2.66 to port 80, where nothing listens (each a SYN
	// answered by a RST), and, from 192.0.2.67, attempts to the same port twenty times
	// a second; from 192.0.2.66, UDP to port 9999 a hundred times a second.
	var stop atomic.Bool
	var floodSYNs atomic.Int64
	traffic := make(chan error, 1)
	go func() {
		traffic <- attacker.Do(func() error {
			flood := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("192.0.2.66")}, Timeout: 100 * time.Millisecond}
			bystander := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("192.0.2.67")}, Timeout: 100 * time.Millisecond}
			udp, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP("192.0.2.66")}, &net.UDPAddr{IP: net.ParseIP("192.0.2.80"), Port: 9999})
			if err != nil {
				return err
			}
			defer udp.Close()
			for i := 0; !stop.Load(); i++ {
				if c, err := flood.Dial("tcp4", "192.0.2.80:80"); err == nil {
					c.Close()
				}
				floodSYNs.Add(1)
				if i%4 == 0 {
					udp.Write([]byte("not part of the flood"))
				}
				if i%20 == 0 {
					if c, err := bystander.Dial("tcp4", "192.0.2.80:80"); err == nil {
						c.Close()
					}
				}
				time.Sleep(2 * time.Millisecond)
			}
			return nil
		})
	}()
	defer func() { stop.Store(true); <-traffic }()

	// The flood's event, with its capture's file; then the file, complete.
	var ev events.Event
	deadline := time.Now().Add(60 * time.Second)
	for ev.Capture == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no syn-flood event with a capture after 60s (%d SYNs sent)\nmrtgo:\n%s\nsoftflowd:\n%s",
				floodSYNs.Load(), daemonLog.String(), exporterLog.String())
		}
		time.Sleep(250 * time.Millisecond)
		code, out, _ := runCmd(t, "events", "-c", cfgPath, "--last", "1h", "--format", "json", "--kind", "syn-flood")
		var evs []events.Event
		if code == exitOK && json.Unmarshal([]byte(out), &evs) == nil && len(evs) > 0 {
			ev = evs[0]
		}
	}
	file := filepath.Join(dir, "var", "captures", ev.Capture)
	for {
		if _, err := os.Stat(file); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("capture %s never completed\n%s", file, daemonLog.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	stop.Store(true)
	if err := <-traffic; err != nil {
		t.Fatal(err)
	}
	traffic <- nil // for the deferred receive

	if got, want := ev.Sources, "192.0.2.66"; len(got) != 1 || got[0].String() != want || ev.Targets[0].String() != "192.0.2.80" {
		t.Errorf("event %s", ev.Summary())
	}
	if !strings.Contains(ev.BPF, "ip src host 192.0.2.66 and ip dst host 192.0.2.80") {
		t.Errorf("filter expression %q", ev.BPF)
	}
	out, err := exec.Command(tcpdump, "-r", file, "-n", "-tt").Output()
	if err != nil {
		t.Fatalf("tcpdump -r %s: %v", file, err)
	}
	syn := regexp.MustCompile(`^\d+\.\d+ IP 192\.0\.2\.66\.\d+ > 192\.0\.2\.80\.80: Flags \[S\],`)
	n := 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		n++
		if !syn.MatchString(sc.Text()) {
			t.Errorf("not the flood's: %s", sc.Text())
		}
	}
	// Four seconds at some 400 a second; a loaded machine sends fewer.
	if n < 50 {
		t.Errorf("the capture holds %d of the flood's SYNs; want most of four seconds' worth:\n%s", n, out)
	}
	// And with the expression the event gives, tcpdump keeps every one of them.
	kept, err := exec.Command(tcpdump, "-r", file, "-n", ev.BPF).Output()
	if err != nil {
		t.Fatalf("tcpdump with the event's expression: %v", err)
	}
	if m := strings.Count(string(kept), "\n"); m != n {
		t.Errorf("the event's expression keeps %d of the file's %d packets", m, n)
	}
	t.Logf("%s: %d SYNs in %s", ev.Summary(), n, ev.Capture)
}
