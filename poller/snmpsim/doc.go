// Package snmpsim is an SNMP v1/v2c agent on loopback UDP that serves the
// system group, ifTable and ifXTable of simulated devices with thousands of
// interfaces, for tests, benchmarks and the demo.
//
// Values are computed on demand from an injected clock: each interface's
// traffic is a deterministic rate function (a daily and weekly rhythm plus
// smooth noise derived from a seed) whose integral since boot has a closed
// form, so an agent keeps no per-interface goroutines or counter histories
// and [Agent.Counters] answers for any instant in constant time. Faults
// (reboot, cleared counters, 32-bit only, ifIndex renumbering, silence,
// delay, tooBig above a size) can be switched on while the agent serves.
//
// The agent only listens on loopback addresses. It is not meant for
// production paths other than the demo.
package snmpsim
