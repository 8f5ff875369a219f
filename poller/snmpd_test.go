package poller

// Helpers for the tests against a real net-snmp snmpd (internal/testsnmpd).

import (
	"bytes"
	"errors"
	"fmt"
	"net"
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

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free udp port: %w", err)
	}
	defer c.Close()
	a, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok {
		return 0, errors.New("find a free udp port: not a udp address")
	}
	return a.Port, nil
}
