package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
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
		{[]string{"fetch", "-c", "../../targets.toml"}, exitUsage, "--device and --interface are required"},
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
