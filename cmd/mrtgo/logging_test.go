package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func writeTargets(t *testing.T, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "targets.toml")
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile's mode passes through the umask
		t.Fatal(err)
	}
	return p
}

// A targets file holding secrets and readable by others draws a warning, in the log
// format asked for; one without secrets, or private to its owner, does not.
func TestSecretsWarning(t *testing.T) {
	const device = "[[device]]\nname = \"r1\"\nhost = \"127.0.0.1\"\ninterfaces = [\"*\"]\n"
	tests := []struct {
		name string
		body string
		mode os.FileMode
		warn bool
	}{
		{"public community, world-readable", device, 0o644, false},
		{"secret community, world-readable", "[snmp]\ncommunity = \"s3cret\"\n" + device, 0o644, true},
		{"secret community, group-readable", "[snmp]\ncommunity = \"s3cret\"\n" + device, 0o640, true},
		{"secret community, private", "[snmp]\ncommunity = \"s3cret\"\n" + device, 0o600, false},
		{"v3 passwords, world-readable", device + "version = \"3\"\nusername = \"u\"\nsecurity_level = \"authPriv\"\nauth_protocol = \"SHA\"\nauth_password = \"authpass1\"\npriv_protocol = \"AES\"\npriv_password = \"privpass1\"\n", 0o604, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTargets(t, tt.body, tt.mode)
			code, _, errs := runCmd(t, "check", "-c", p, "-log-format", "json")
			if code != exitOK {
				t.Fatalf("exit %d, stderr %s", code, errs)
			}
			warned := false
			for _, line := range strings.Split(strings.TrimSpace(errs), "\n") {
				if line == "" {
					continue
				}
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line %q is not JSON: %v", line, err)
				}
				if rec["level"] == "WARN" && strings.Contains(rec["msg"].(string), "secrets") {
					warned = true
					if rec["file"] != p {
						t.Errorf("warning names file %v, want %s", rec["file"], p)
					}
				}
			}
			if warned != tt.warn {
				t.Errorf("warned = %v, want %v; stderr %s", warned, tt.warn, errs)
			}
			if strings.Contains(errs, "s3cret") || strings.Contains(errs, "pass1") {
				t.Errorf("log shows a secret: %s", errs)
			}
		})
	}
}

func TestLogFlags(t *testing.T) {
	p := writeTargets(t, "[snmp]\ncommunity = \"s3cret\"\n[[device]]\nname = \"r1\"\nhost = \"127.0.0.1\"\ninterfaces = [\"*\"]\n", 0o644)
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"-log-format", "text"}, exitOK, "level=WARN"},
		{[]string{"-log-format", "json"}, exitOK, `"level":"WARN"`},
		{[]string{"-log-level", "error"}, exitOK, ""},
		{[]string{"-log-format", "xml"}, exitUsage, "bad -log-format"},
		{[]string{"-log-level", "loud"}, exitUsage, "bad -log-level"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errs := runCmd(t, append([]string{"check", "-c", p}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, errs)
			}
			if tt.contains == "" && errs != "" {
				t.Errorf("stderr %q, want nothing at -log-level error", errs)
			}
			if !strings.Contains(errs, tt.contains) {
				t.Errorf("stderr %q does not contain %q", errs, tt.contains)
			}
		})
	}
}

// The store holds the polled network's layout: only its owner may read it.
func TestStoreFileMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "var", "mrtgo.db")
	db, err := openStore(p, false)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("store mode %04o, want 0600", got)
	}
}

func TestVersionText(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/mrtgo/mrtgo", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"},
			{Key: "vcs.time", Value: "2026-11-27T08:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	tests := []struct {
		name    string
		version string
		bi      *debug.BuildInfo
		first   string
		has     []string
	}{
		{"vcs build", "dev", bi, "mrtgo dev-0123456789ab-dirty", []string{"revision: 0123456789abcdef0123", "time:     2026-11-27T08:00:00Z", "go:       go1.26.8"}},
		{"ldflags", "1.2.3", bi, "mrtgo 1.2.3", []string{"revision: 0123456789abcdef0123"}},
		{"go install", "dev", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.7.0"}}, "mrtgo v0.7.0", []string{"module:   v0.7.0"}},
		{"no build info", "dev", nil, "mrtgo dev", []string{"platform: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := versionText(tt.version, tt.bi)
			if first, _, _ := strings.Cut(got, "\n"); first != tt.first {
				t.Errorf("first line %q, want %q", first, tt.first)
			}
			for _, h := range tt.has {
				if !strings.Contains(got, h) {
					t.Errorf("output %q lacks %q", got, h)
				}
			}
		})
	}
}
