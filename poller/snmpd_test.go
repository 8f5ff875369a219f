package poller

// Helpers for the tests against a real net-snmp snmpd (internal/testsnmpd).

import (
	"testing"

	"github.com/mrtgo/mrtgo/internal/testsnmpd"
)

type testSnmpd = testsnmpd.Agent

// startSnmpd runs a private snmpd answering community (and whatever extraConf sets up).
func startSnmpd(tb testing.TB, community, extraConf string) *testSnmpd {
	tb.Helper()
	return testsnmpd.Start(tb, community, extraConf)
}
