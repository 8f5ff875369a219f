// Package discover finds the interfaces of SNMP agents and writes them into targets.toml.
// It walks system, ifTable and ifXTable, decides which interfaces are worth polling (and
// says why the others are not), and hands the result to config.Merge, which merges it
// into an existing targets file line by line, so that comments and hand edits survive a
// re-run. It talks SNMP through internal/snmp, as the poller does: one column per walk,
// by GETBULK of Target.MaxRepetitions rows (halved for good on tooBig), or GETNEXT on
// SNMPv1.
package discover
