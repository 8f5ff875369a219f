// Package promtooltest checks a /metrics scrape with Prometheus's own linter,
// "promtool check metrics" (Debian package prometheus), for tests.
package promtooltest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

// Check fails t if promtool finds fault with body. Without promtool the test is
// skipped, unless CI is set: then it fails.
func Check(t testing.TB, body string) {
	t.Helper()
	path := testneed.Program(t, "promtool", "apt-get install prometheus")
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
