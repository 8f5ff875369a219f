// Package promtooltest checks a /metrics scrape with Prometheus's own linter,
// "promtool check metrics" (Debian package prometheus), for tests.
package promtooltest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Check fails t if promtool finds fault with body. Without promtool the test is
// skipped, unless CI is set: then it fails.
func Check(t testing.TB, body string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not installed (apt-get install prometheus)")
		}
		t.Skip("promtool not installed")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
