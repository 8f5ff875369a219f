package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The back-fill's mistakes are usage errors that say what to fix: no [remote_write]
// in the file (named), a time it cannot read, --from not before --to, too many
// arguments.
func TestBackfillUsage(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.toml")
	if err := os.WriteFile(plain, []byte("[[device]]\nname = \"core1\"\nhost = \"192.0.2.1\"\ninterfaces = [\"*\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	remote := filepath.Join(dir, "remote.toml")
	if err := os.WriteFile(remote, []byte("[[device]]\nname = \"core1\"\nhost = \"192.0.2.1\"\ninterfaces = [\"*\"]\n\n[remote_write]\nurl = \"http://127.0.0.1:9/api/v1/write\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-c", plain}, plain + " has no [remote_write] url"},
		{[]string{"-c", remote, "--from", "yesterday"}, `--from: time "yesterday"`},
		{[]string{"-c", remote, "--from", "2026-11-02", "--to", "2026-11-01"}, "--from 2026-11-02 is not before --to 2026-11-01"},
		{[]string{"-c", remote, "core1", "xe-0/0/0", "more"}, `unexpected argument "more"`},
	} {
		code, _, errs := runCmd(t, append([]string{"backfill"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("backfill %v: exit %d, %q; want %d and %q", tc.args, code, errs, exitUsage, tc.want)
		}
	}
}
