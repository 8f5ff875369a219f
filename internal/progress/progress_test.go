package progress

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

// work drives a bar the two ways the commands do: counts added, and done/total updates.
func work(b *Bar) {
	b.Add(1)
	b.Add(2)
	b.Update(4, 5)
	b.Update(5, 5)
	b.Finish()
	b.Add(1) // after Finish: nothing
}

func TestQuietWhenNotATerminal(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		open func(t *testing.T) (w io.Writer, written func() string)
	}{
		{"buffer", func(t *testing.T) (io.Writer, func() string) {
			var buf bytes.Buffer
			return &buf, buf.String
		}},
		{"regular file", func(t *testing.T) (io.Writer, func() string) {
			path := filepath.Join(dir, "log")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			return f, func() string {
				f.Close()
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
		}},
		{"pipe", func(t *testing.T) (io.Writer, func() string) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return w, func() string {
				w.Close()
				b, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
		}},
		{"nil file", func(t *testing.T) (io.Writer, func() string) {
			return (*os.File)(nil), func() string { return "" }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, written := tt.open(t)
			if IsTerminal(w) {
				t.Fatalf("IsTerminal(%s) = true, want false", tt.name)
			}
			work(New(w, 3, "interfaces"))
			work(New(w, 0, "graphs"))
			if got := written(); got != "" {
				t.Errorf("wrote %q to a %s, want nothing", got, tt.name)
			}
		})
	}
}

func TestNilBar(t *testing.T) {
	var b *Bar
	b.Add(1)
	b.Update(1, 2)
	b.Finish() // no panic
}

// TestDrawsOnATerminal checks the terminal path through a pseudo-terminal: the bar shows
// its items and counts, and Finish clears the line it drew.
func TestDrawsOnATerminal(t *testing.T) {
	ptm, tty, err := pty.Open()
	if err != nil {
		testneed.Missing(t, "no pseudo-terminal: %v", err)
	}
	defer ptm.Close()
	if !IsTerminal(tty) {
		t.Fatal("IsTerminal(pty) = false, want true")
	}
	out := make(chan string)
	go func() {
		var buf bytes.Buffer
		_, err := io.Copy(&buf, ptm) // ends with EIO once the terminal side is closed
		var pe *os.PathError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("read pseudo-terminal: %v", err)
		}
		out <- buf.String()
	}()

	b := New(tty, 0, "graphs")
	b.Update(0, 4)
	time.Sleep(150 * time.Millisecond) // past the redraw throttle
	b.Update(2, 4)
	b.Finish()
	tty.Close()
	got := <-out

	for _, want := range []string{"graphs", "(0/4", "(2/4", "graphs/s"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal got %q, want it to contain %q", got, want)
		}
	}
	last := got[strings.LastIndex(got, "graphs"):]
	if !strings.HasSuffix(last, "\r") || !strings.Contains(last, "\r"+strings.Repeat(" ", 20)) {
		t.Errorf("terminal ends with %q, want the bar's line blanked (\\r, spaces, \\r)", last)
	}
}
