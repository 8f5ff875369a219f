package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/rrd"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckValid(t *testing.T) {
	code, out, errs := runCmd(t, "check", "-c", "../../targets.toml")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	if !strings.Contains(out, "ok: 3 devices") {
		t.Errorf("stdout %q does not report the devices", out)
	}
}

func TestCheckInvalid(t *testing.T) {
	files, err := filepath.Glob("../../config/testdata/invalid-*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid config files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, _, errs := runCmd(t, "check", "-c", f)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			// The message names the file and a line.
			if !strings.Contains(errs, f+":") {
				t.Errorf("stderr %q does not name %s", errs, f)
			}
		})
	}
}

func TestCheckMissingFile(t *testing.T) {
	code, _, errs := runCmd(t, "check", "-c", filepath.Join(t.TempDir(), "targets.toml"))
	if code != exitUsage || !strings.Contains(errs, "no such file") {
		t.Errorf("exit %d stderr %q, want %d and a missing-file message", code, errs, exitUsage)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "Commands:"},
		{[]string{"help"}, exitOK, "Exit codes:"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"check", "--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"fetch", "-c", "../../targets.toml"}, exitUsage, "--device and one of --interface and --target are required"},
		{[]string{"fetch", "-c", "../../targets.toml", "--device", "a", "--interface", "b", "--period", "decade"}, exitUsage, "decade"},
		{[]string{"version"}, exitOK, "mrtgo "},
	}
	for _, tt := range tests {
		code, out, errs := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(out+errs, tt.want) {
			t.Errorf("mrtgo %v: exit %d, output %q; want exit %d and %q", tt.args, code, out+errs, tt.code, tt.want)
		}
	}
}

// A second "poll --once" while another process holds the store waits, then gives up
// with exit code 5 and says why: overlapping cron runs never double-count.
func TestPollLocked(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	cfg := "[[device]]\nname = \"r1\"\nhost = \"127.0.0.1\"\nport = 9\ntimeout = \"100ms\"\nretries = 0\ninterfaces = [\"*\"]\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Another process (this test binary again) holds the store open.
	holder := exec.Command(os.Args[0], "-test.run=^TestHoldStore$")
	holder.Env = append(os.Environ(), "MRTGO_HOLD_STORE="+filepath.Join(dir, "var", "mrtgo.db"))
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil { // "held"
		t.Fatal(err)
	}
	old := lockWait
	lockWait = 300 * time.Millisecond
	defer func() { lockWait = old }()
	code, _, errs := runCmd(t, "poll", "--once", "-c", cfgPath)
	if code != exitLocked || !strings.Contains(errs, "locked") {
		t.Errorf("exit %d, stderr %q; want %d and a message about the lock", code, errs, exitLocked)
	}
}

// TestHoldStore is the other process of TestPollLocked.
func TestHoldStore(t *testing.T) {
	path := os.Getenv("MRTGO_HOLD_STORE")
	if path == "" {
		t.Skip("helper process for TestPollLocked")
	}
	db, err := rrd.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fmt.Println("held")
	time.Sleep(time.Minute)
}

// Flags may come before, between and after a command's arguments.
func TestParseArgsInterspersed(t *testing.T) {
	e := &env{stdout: io.Discard, stderr: io.Discard}
	fs, c := newFlags(e, "discover", "HOST...")
	dry := fs.Bool("dry-run", false, "")
	pos, err := parseArgs(fs, c, e, []string{"-c", "t.toml", "h1", "--dry-run", "h2", "-log-format", "json", "h3"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(pos, ",") != "h1,h2,h3" || !*dry || c.config != "t.toml" || c.logFormat != "json" {
		t.Errorf("args %q, dry-run %v, -c %q, -log-format %q", pos, *dry, c.config, c.logFormat)
	}
	fs, c = newFlags(e, "check", "")
	if err := parse(fs, c, e, []string{"extra"}); err == nil || !strings.Contains(err.Error(), `unexpected argument "extra"`) {
		t.Errorf("parse with an argument: %v", err)
	}
}
