// Package testneed is how a test asks for a real component (a program, root, a
// pseudo-terminal, IPv6 loopback): where it is missing the test is skipped, unless the
// CI environment variable is set, where a missing component is a failure. It is the one
// place that rule is written.
package testneed

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Missing ends tb because a component it needs is not here, saying which (format and
// args): a failure when CI is set, a skip otherwise.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s; required under CI", msg)
	}
	tb.Skipf("%s; set CI=1 to make this a failure", msg)
}

// Program returns the path of the program name, or ends tb as Missing. install says how
// to get it ("apt-get install snmpd"), or is empty.
func Program(tb testing.TB, name, install string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if install != "" {
		Missing(tb, "%s not installed (%s)", name, install)
	}
	Missing(tb, "%s not installed", name)
	return ""
}

// Root ends tb as Missing unless it runs as root.
func Root(tb testing.TB, why string) {
	tb.Helper()
	if os.Geteuid() != 0 {
		Missing(tb, "needs root to %s (uid %d)", why, os.Geteuid())
	}
}
