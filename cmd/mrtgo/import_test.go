package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/config"
)

// "mrtgo import --offline --no-history" turns an MRTG configuration into a targets file
// that loads, and lists what it could not translate instead of dropping it.
func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	code, out, errs := runCmd(t, "import", "-c", cfgPath, "--offline", "--no-history", "../../mrtgimport/testdata/exotic.cfg")
	if code != exitOK {
		t.Fatalf("import: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("written targets file does not load: %v", err)
	}
	if len(cfg.Devices) == 0 {
		t.Fatal("no devices written")
	}
	text, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(text), "ge-0/0/1") {
		t.Errorf("Target[byname] (#ge-0/0/1) is not in the targets file:\n%s", text)
	}
	// The Perl expression and the backtick script cannot be translated: both are named.
	for _, target := range []string{"sum", "script"} {
		if !strings.Contains(out+errs, "["+target+"]") {
			t.Errorf("report does not name Target[%s]:\n%s%s", target, out, errs)
		}
	}
	// Passwords go into the file, never into the report.
	if strings.Contains(out+errs, "v3-auth-secret") {
		t.Errorf("the SNMPv3 password from SnmpOptions appears in the report:\n%s%s", out, errs)
	}
}
