// Package syncbuf is a text buffer several goroutines may write to at once: a log
// destination for tests that read what a daemon, an agent or a command wrote.
package syncbuf

import (
	"strings"
	"sync"
)

// Buffer collects writes; the zero Buffer is empty and ready.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
