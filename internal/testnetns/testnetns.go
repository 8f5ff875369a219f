// Package testnetns makes network namespaces for tests and benchmarks that need what
// loopback cannot give: many interfaces, links to delete and re-create, traffic
// between hosts. Each namespace is the test's own and is deleted when it ends, so
// nothing touches the host's interfaces. It needs root and iproute2's ip: a benchmark
// without them skips, and so does a test, unless CI is set, where it fails.
package testnetns

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mrtgo/mrtgo/internal/testneed"
	"github.com/mrtgo/mrtgo/internal/testsnmpd"
)

// NS is a network namespace of the test's.
type NS struct {
	Name string
	ip   string
}

// New makes a namespace named after tag and the process, with lo up, and deletes it
// when the test ends.
func New(tb testing.TB, tag string) *NS {
	tb.Helper()
	if _, bench := tb.(*testing.B); bench {
		if _, err := exec.LookPath("ip"); err != nil || os.Geteuid() != 0 {
			tb.Skip("needs root and iproute2's ip to make a network namespace") // a benchmark, even under CI
		}
	}
	testneed.Root(tb, "make a network namespace")
	ip := testneed.Program(tb, "ip", "apt-get install iproute2")
	n := &NS{Name: fmt.Sprintf("mrtgo-%s-%d", tag, os.Getpid()), ip: ip}
	if out, err := exec.Command(ip, "netns", "add", n.Name).CombinedOutput(); err != nil {
		testneed.Missing(tb, "no network namespaces here: ip netns add: %v: %s", err, out) // a container without CAP_SYS_ADMIN
	}
	tb.Cleanup(func() { _ = exec.Command(ip, "netns", "delete", n.Name).Run() })
	n.IP(tb, "link", "set", "lo", "up")
	return n
}

// IP runs "ip -n NAME args...".
func (n *NS) IP(tb testing.TB, args ...string) {
	tb.Helper()
	args = append([]string{"-n", n.Name}, args...)
	if out, err := exec.Command(n.ip, args...).CombinedOutput(); err != nil {
		tb.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
}

// Exec is the command prefix that runs a program inside the namespace.
func (n *NS) Exec() []string { return []string{n.ip, "netns", "exec", n.Name} }

// Command is exec.Command of name and args inside the namespace.
func (n *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command(n.ip, append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Veths makes pairs veth pairs with both ends inside the namespace, all up (the dummy
// link type is a module that containers often lack), and returns their names: v0a,
// v0b, v1a, ...
func (n *NS) Veths(tb testing.TB, pairs int) []string {
	tb.Helper()
	var batch strings.Builder
	names := make([]string, 0, 2*pairs)
	for i := range pairs {
		a, z := fmt.Sprintf("v%da", i), fmt.Sprintf("v%db", i)
		fmt.Fprintf(&batch, "link add %s type veth peer name %s\nlink set %s up\nlink set %s up\n", a, z, a, z)
		names = append(names, a, z)
	}
	f := filepath.Join(tb.TempDir(), "links")
	if err := os.WriteFile(f, []byte(batch.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	n.IP(tb, "-batch", f)
	return names
}

// Snmpd starts net-snmp's snmpd inside the namespace on its 127.0.0.1, answering
// community (see testsnmpd).
func (n *NS) Snmpd(tb testing.TB, community string) *testsnmpd.Agent {
	tb.Helper()
	snmpget, err := exec.LookPath("snmpget")
	if err != nil {
		if _, bench := tb.(*testing.B); bench {
			tb.Skip("needs net-snmp's snmpget") // even under CI
		}
		testneed.Missing(tb, "needs net-snmp's snmpget (apt-get install snmp)")
	}
	return testsnmpd.StartWith(tb, testsnmpd.Options{
		Community: community,
		Prefix:    n.Exec(),
		Answers: func(a *testsnmpd.Agent) bool {
			return n.Command(snmpget, "-v2c", "-c", a.Community, "-r0", "-t0.3", "-m", "", "-On",
				fmt.Sprintf("127.0.0.1:%d", a.Port), ".1.3.6.1.2.1.1.3.0").Run() == nil
		},
	})
}

// Do runs f on a thread inside the namespace: a socket made there stays there,
// whichever thread uses it afterwards. The thread goes back to its own namespace
// before Do returns: it may be the process's main thread, whose namespace is the one
// /proc/net shows every other thread (a thread that cannot go back ends with f).
func (n *NS) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		own, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer own.Close()
		target, err := os.Open("/run/netns/" + n.Name)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter namespace %s: %w", n.Name, err)
			return
		}
		err = f()
		if unix.Setns(int(own.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		} // else the thread stays locked and ends with the goroutine
		errc <- err
	}()
	return <-errc
}

// Starter returns a function that starts commands inside the namespace. They are
// forked from one thread that entered the namespace once, so a program runs there
// without "ip netns exec" (a mount namespace, /sys mounted again, about 10 ms on a
// small machine) and without a setns per program: what a benchmark times is then the
// program alone. The thread ends with the test.
func (n *NS) Starter(tb testing.TB) func(*exec.Cmd) error {
	tb.Helper()
	type start struct {
		cmd *exec.Cmd
		err chan error
	}
	starts := make(chan start)
	done := make(chan struct{})
	ready := make(chan error, 1)
	go func() {
		ready <- n.Do(func() error {
			ready <- nil
			for {
				select {
				case s := <-starts:
					s.err <- s.cmd.Start()
				case <-done:
					return nil
				}
			}
		})
	}()
	if err := <-ready; err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { close(done) })
	return func(cmd *exec.Cmd) error {
		s := start{cmd: cmd, err: make(chan error, 1)}
		starts <- s
		return <-s.err
	}
}

// File opens the namespace, for setns.
func (n *NS) File(tb testing.TB) *os.File {
	tb.Helper()
	f, err := os.Open("/run/netns/" + n.Name)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}
