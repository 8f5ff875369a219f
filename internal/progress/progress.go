// Package progress shows how far long work has come (count, rate, time left) as a bar on
// a terminal, and nothing at all anywhere else: under cron, into a pipe, a log file or a
// test, a Bar writes no byte. Only cmd/mrtgo uses it; library packages report progress
// through a plain callback (func(done, total int)) and know nothing of terminals.
package progress

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar is one bar. Its methods are safe for concurrent use; a nil *Bar does nothing.
type Bar struct {
	mu   sync.Mutex
	w    io.Writer
	what string
	on   bool                     // w is a terminal
	pb   *progressbar.ProgressBar // nil until the total is known, and always when !on
	done int
}

// New returns a bar for total items of work, drawn on w when w is a terminal. What names
// the items counted ("interfaces", "graphs"); it leads the bar and names the rate. A total of 0 means the first Update sets it.
func New(w io.Writer, total int, what string) *Bar {
	b := &Bar{w: w, what: what, on: IsTerminal(w)}
	if total > 0 {
		b.start(total)
	}
	return b
}

// IsTerminal reports whether w is a terminal (an *os.File on one).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && f != nil && term.IsTerminal(int(f.Fd()))
}

func (b *Bar) start(total int) {
	if !b.on || total <= 0 {
		return
	}
	b.pb = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(b.what),
		progressbar.OptionSetWidth(20),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(b.what),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		// The commands print their own summary; the bar only stands in for it meanwhile.
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)
}

// Add counts n more items done.
func (b *Bar) Add(n int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.pb != nil {
		_ = b.pb.Set(b.done) // drawing errors are not the work's errors
	}
}

// Update sets the count done out of total; it fits a library's Progress callback
// (func(done, total int)). The first call with a total starts the bar; a later change
// of total resizes it.
func (b *Bar) Update(done, total int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pb == nil {
		b.start(total)
	} else if total > 0 && total != b.pb.GetMax() {
		b.pb.ChangeMax(total)
	}
	b.done = done
	if b.pb != nil {
		_ = b.pb.Set(done)
	}
}

// Finish ends the bar and clears its line, whether or not the work got to the end (as
// when it was cancelled). A finished bar draws nothing more.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pb != nil {
		_ = b.pb.Finish()
	}
	b.on = false
	b.pb = nil
}
