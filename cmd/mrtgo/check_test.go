package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// check lists every mistake of the file, each at its line and key, in file order, and
// exits 2.
func TestCheckAllErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.toml")
	src := `step = "5 minutes"

[[device]]
name = "core1"
host = "[::1]:16161"
interfaces = ["*"]

[[device]]
name = "core2"
host = "::1:16161"
port = 70000
interfaces = ["*"]
timeout = "soon"

[[device]]
name = "core1"
host = "192.0.2.3"
interfaces = ["*"]
`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "check", "-c", path)
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
	want := []string{
		path + `:1: step: bad duration "5 minutes"`,
		path + `:10: device[2].host: host "::1:16161": IPv6 with a port is written "[::1]:16161"`,
		path + `:11: device[2].port: port 70000 out of range 1-65535`,
		path + `:13: device[2].timeout: bad duration "soon"`,
		path + `:16: device[3].name: duplicate device name "core1" (first at line 4)`,
	}
	lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(want), errs)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], "mrtgo check: "+w) {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], "mrtgo check: "+w+"...")
		}
	}
}

// A host name that does not resolve is a warning, not a failure; addresses and names
// that resolve say nothing. The lookups go to no server: the resolver's DNS dial fails.
func TestCheckUnresolvedHost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.toml")
	src := "[[device]]\nname = \"a\"\nhost = \"127.0.0.1:16161\"\ninterfaces = [\"*\"]\n\n" +
		"[[device]]\nname = \"b\"\nhost = \"router-b.example.net:1161\"\ninterfaces = [\"*\"]\n\n" +
		"[[device]]\nname = \"c\"\nhost = \"localhost\"\ninterfaces = [\"*\"]\n\n" +
		"[[device]]\nname = \"d\"\nhost = \"[::1]\"\ninterfaces = [\"*\"]\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var dials atomic.Int32
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		dials.Add(1)
		return nil, errors.New("no name server in this test")
	}}
	var out, errb bytes.Buffer
	code := runEnv(context.Background(), &env{stdout: &out, stderr: &errb, resolver: r}, []string{"check", "-c", path})
	if code != exitOK {
		t.Fatalf("exit %d, want 0: %s", code, errb.String())
	}
	want := fmt.Sprintf("mrtgo check: %s:8: device[2].host: warning: host name %q does not resolve here", path, "router-b.example.net")
	if lines := strings.Split(strings.TrimSpace(errb.String()), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
		t.Errorf("stderr:\n%s\nwant one line starting %q", errb.String(), want)
	}
	if !strings.Contains(out.String(), "ok: 4 devices") {
		t.Errorf("stdout %q, want ok", out.String())
	}
	if dials.Load() == 0 {
		t.Error("the name was not looked up")
	}
}
