package testneed

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The rule itself, run in a child test process so that its skip or failure can be
// observed: a missing program skips without CI and fails with it.
func TestMissing(t *testing.T) {
	if os.Getenv("TESTNEED_CHILD") != "" {
		Program(t, "mrtgo-no-such-program", "apt-get install nothing")
		t.Fatal("Program returned for a missing program")
	}
	for _, tt := range []struct {
		ci       string
		wantFail bool
	}{{"", false}, {"1", true}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTNEED_CHILD=1", "CI="+tt.ci)
		out, err := cmd.CombinedOutput()
		failed := err != nil
		if failed != tt.wantFail || !tt.wantFail && !strings.Contains(string(out), "--- SKIP") {
			t.Errorf("CI=%q: failed %v, want %v (a skip otherwise):\n%s", tt.ci, failed, tt.wantFail, out)
		}
	}
	if p := Program(t, "sh", ""); p == "" {
		t.Error("Program(sh) found nothing")
	}
}
