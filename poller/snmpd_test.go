package poller

// Helpers for the tests against a real net-snmp snmpd (internal/testsnmpd).

import (
	"bytes"
	"sync"
	"testing"

	"github.com/mrtgo/mrtgo/internal/testsnmpd"
)

type testSnmpd = testsnmpd.Agent

// startSnmpd runs a private snmpd answering community (and whatever extraConf sets up).
func startSnmpd(tb testing.TB, community, extraConf string) *testSnmpd {
	tb.Helper()
	return testsnmpd.Start(tb, community, extraConf)
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
