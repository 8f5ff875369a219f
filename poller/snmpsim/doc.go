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
// Typical use:
//
//	clock := snmpsim.NewManualClock(start)
//	agents, err := snmpsim.StartNetwork(ctx, "127.0.0.1:0", snmpsim.DemoNetwork(), &snmpsim.Options{Now: clock.Now})
//	// poll agents[i].Port() with community agents[i].Community() ...
//	in, out := agents[0].Counters(1, t) // what ifHCInOctets.1 / ifHCOutOctets.1 read at t
//	agents[0].Reboot()
//
// The agent only listens on loopback addresses. It is not meant for
// production paths other than the demo.
package snmpsim
