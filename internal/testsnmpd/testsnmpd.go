// Package testsnmpd starts a private net-snmp snmpd on 127.0.0.1 (and, when asked, on
// ::1 at the same port) at a free port for tests: its own configuration, pid file and
// state under the test's temporary directory, stopped when the test ends. A test without
// snmpd skips, unless CI is set, where it fails.
package testsnmpd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/internal/syncbuf"
	"github.com/mrtgo/mrtgo/internal/testneed"
)

// Agent is a running snmpd answering on 127.0.0.1:Port, and on [::1]:Port with IPv6.
type Agent struct {
	Host      string // always "127.0.0.1"
	Port      int
	IPv6      bool   // also answers on [::1]:Port
	Community string // read-only community for 127.0.0.1
	Dir       string // private configuration, pid file and persistent state

	restart func() error // stops the agent and starts it again, same port and state
}

// Restart stops the agent and starts it again on the same port with the same
// configuration and state, as a reboot of the device would: sysUpTime starts over, and
// interfaces it kept after their deletion are gone.
func (s *Agent) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.restart(); err != nil {
		tb.Fatalf("restart snmpd: %v", err)
	}
}

// snmpdPath finds snmpd; a test without it skips, unless CI is set, where it fails.
func snmpdPath(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("snmpd"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/snmpd", "/usr/local/sbin/snmpd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	testneed.Missing(tb, "snmpd not installed (apt-get install snmpd)")
	return ""
}

// Start runs snmpd in the foreground with a private configuration (community plus
// extraConf lines) under tb.TempDir(), waits until it answers, and stops it when the test
// ends. The agent's log is printed if the test fails. SNMPv3 users go in extraConf as
// net-snmp's "createUser NAME SHA \"authpass\" AES \"privpass\"" plus "rouser NAME priv"
// lines: snmpd reads them at start and keeps the localised keys in its private state.
func Start(tb testing.TB, community, extraConf string) *Agent {
	tb.Helper()
	return StartWith(tb, Options{Community: community, ExtraConf: extraConf})
}

// Options says how to run the agent.
type Options struct {
	Community string
	ExtraConf string // more snmpd.conf lines
	// Prefix is put before the snmpd command line, e.g. {"ip", "netns", "exec", "ns1"}
	// to run the agent in a network namespace.
	Prefix []string
	// Answers replaces the readiness check (a v2c GET of sysUpTime.0 from this
	// process), e.g. when the agent's 127.0.0.1 is another namespace's.
	Answers func(*Agent) bool
	// IPv6 makes the agent listen on [::1] as well, at the same port, and answer the
	// community from there. The test needs IPv6 loopback: see NeedIPv6Loopback.
	IPv6 bool
}

// NeedIPv6Loopback stops a test that needs ::1 where the machine has none (no IPv6 on
// lo): it skips, unless CI is set, where it fails.
func NeedIPv6Loopback(tb testing.TB) {
	tb.Helper()
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err == nil {
		c.Close()
		return
	}
	testneed.Missing(tb, "IPv6 loopback ::1 unavailable (%v)", err)
}

// StartWith is Start with more options.
func StartWith(tb testing.TB, o Options) *Agent {
	tb.Helper()
	bin := snmpdPath(tb)
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ { // the free port may be taken before snmpd binds it
		s, err := trySnmpd(tb, bin, o)
		if err == nil {
			return s
		}
		lastErr = err
	}
	tb.Fatalf("start snmpd: %v", lastErr)
	return nil
}

func trySnmpd(tb testing.TB, bin string, o Options) (*Agent, error) {
	dir := tb.TempDir()
	port, err := FreeUDPPort()
	if err != nil {
		return nil, err
	}
	return runSnmpd(tb, bin, o, dir, port)
}

func runSnmpd(tb testing.TB, bin string, o Options, dir string, port int) (*Agent, error) {
	community, extraConf := o.Community, o.ExtraConf
	conf := filepath.Join(dir, "snmpd.conf")
	_ = os.RemoveAll(filepath.Join(dir, "mibs")) // a restart makes them again
	text := fmt.Sprintf("rocommunity %s 127.0.0.1\n", community)
	if o.IPv6 {
		text += fmt.Sprintf("rocommunity6 %s ::1\n", community)
	}
	text += extraConf + "\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	mibs := filepath.Join(dir, "mibs") // empty: no MIB files to parse, none needed
	if err := os.Mkdir(mibs, 0o755); err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("udp:127.0.0.1:%d", port)
	if o.IPv6 {
		addr += fmt.Sprintf(",udp6:[::1]:%d", port) // may be taken there: then the attempt fails and another port is tried
	}
	args := append(append([]string{}, o.Prefix...), bin, "-f", "-Lo", "-C", "-c", conf, "-p", filepath.Join(dir, "snmpd.pid"),
		"-M", mibs, "-m", "", addr)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+dir,
		"SNMP_PERSISTENT_DIR="+filepath.Join(dir, "persist"),
		"SNMPCONFPATH="+dir,
		"MIBDIRS="+mibs,
	)
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", args[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	s := &Agent{Host: "127.0.0.1", Port: port, IPv6: o.IPv6, Community: community, Dir: dir}
	stopped := false
	s.restart = func() error {
		if !stopped {
			stop()
			stopped = true
		}
		again, err := runSnmpd(tb, bin, o, dir, port)
		if err != nil {
			return err
		}
		s.restart = again.restart
		return nil
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // let stop() see it
			return nil, fmt.Errorf("snmpd exited (%v): %s", err, strings.TrimSpace(out.String()))
		default:
		}
		ready := s.answers
		if o.Answers != nil {
			ready = func() bool { return o.Answers(s) }
		}
		if ready() {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("snmpd on %s did not answer: %s", addr, strings.TrimSpace(out.String()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Cleanup(func() {
		if !stopped {
			stop()
		}
		if tb.Failed() {
			tb.Logf("snmpd on %s:\n%s", addr, out.String())
		}
	})
	return s, nil
}

// answers reports whether the agent answers a GET of sysUpTime.0, on ::1 too with IPv6.
func (s *Agent) answers() bool {
	if s.IPv6 && !s.answersOn("::1") {
		return false
	}
	return s.answersOn(s.Host)
}

func (s *Agent) answersOn(host string) bool {
	c := &gosnmp.GoSNMP{Target: host, Port: uint16(s.Port), Community: s.Community,
		Version: gosnmp.Version2c, Timeout: 200 * time.Millisecond, Retries: 0, MaxOids: 1}
	if err := c.Connect(); err != nil {
		return false
	}
	defer c.Close()
	pkt, err := c.Get([]string{".1.3.6.1.2.1.1.3.0"})
	return err == nil && pkt.Error == gosnmp.NoError && len(pkt.Variables) == 1 &&
		pkt.Variables[0].Type == gosnmp.TimeTicks
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free udp port: %w", err)
	}
	defer c.Close()
	a, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok {
		return 0, errors.New("find a free udp port: not a udp address")
	}
	return a.Port, nil
}
