package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

// importFixture writes an MRTG configuration of n interfaces, each with a two-day .log,
// and returns its path and the path of the targets file to write.
func importFixture(t *testing.T, n int) (mrtgCfg, targets string) {
	t.Helper()
	dir := t.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "WorkDir: %s\n", dir)
	end := time.Now().UTC().Truncate(5 * time.Minute).Add(-time.Minute).Unix()
	for i := range n {
		name := fmt.Sprintf("r_if%d", i)
		fmt.Fprintf(&cfg, "Target[%s]: #eth%d:public@127.0.0.1:1161\nMaxBytes[%s]: 125000000\n", name, i, name)
		var log strings.Builder
		fmt.Fprintf(&log, "%d 123456789 987654321\n", end)
		for k := range 600 {
			v := 1e6 + 5e5*math.Sin(float64(k)/50)
			fmt.Fprintf(&log, "%d %.0f %.0f %.0f %.0f\n", end-int64(k)*300, v, v/2, v, v/2)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".log"), []byte(log.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mrtgCfg = filepath.Join(dir, "mrtg.cfg")
	if err := os.WriteFile(mrtgCfg, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return mrtgCfg, filepath.Join(dir, "targets.toml")
}

// The import of history shows its progress on a terminal and writes nothing of the kind
// into a pipe or a file.
func TestImportHistoryProgressBar(t *testing.T) {
	const n = 40
	mrtgCfg, targets := importFixture(t, n)
	code, out, errs := runCmd(t, "import", "-c", targets, "--offline", mrtgCfg)
	if code != exitOK {
		t.Fatalf("import: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if strings.Contains(errs, "\r") || strings.Contains(errs, "interfaces") {
		t.Errorf("import drew a progress bar on a stderr that is not a terminal: %q", errs)
	}
	if got := strings.Count(out, "rows from"); got != n {
		t.Errorf("%d histories imported, want %d:\n%s", got, n, out)
	}

	mrtgCfg, targets = importFixture(t, n)
	ptm, tty, err := pty.Open()
	if err != nil {
		testneed.Missing(t, "no pseudo-terminal: %v", err)
	}
	defer ptm.Close()
	drawn := make(chan string)
	go func() {
		var buf bytes.Buffer
		_, err := io.Copy(&buf, ptm) // ends with EIO once the terminal side is closed
		var pe *os.PathError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("read pseudo-terminal: %v", err)
		}
		drawn <- buf.String()
	}()
	var stdout bytes.Buffer
	code = run(context.Background(), []string{"import", "-c", targets, "--offline", mrtgCfg}, &stdout, tty)
	tty.Close()
	bar := <-drawn
	if code != exitOK {
		t.Fatalf("import on a terminal: exit %d\nstdout %s\nterminal %q", code, stdout.String(), bar)
	}
	if !strings.Contains(bar, "interfaces") || !strings.Contains(bar, fmt.Sprintf("/%d", n)) {
		t.Errorf("no progress bar of the %d interfaces on the terminal: %q", n, bar)
	}
}
