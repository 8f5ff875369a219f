// Package snmp is mrtgo's one SNMP client: the poller, discover and their tests all dial
// through it. It turns a config.SNMP into a client (SNMPv1, v2c or v3 with USM, the
// defaults config names), and gives a Session that reads the way both want: a GET that
// packs OIDs into PDUs of the size the agent accepts and halves that size for good on
// tooBig, a walk of several table columns at once (GETBULK, or GETNEXT on SNMPv1) that
// stops exactly at the end of each column and refuses an agent that goes backwards or
// repeats itself, a GETBULK of known consecutive rows, and the decoders of the values
// (strings, MAC addresses, unsigned numbers, TimeTicks).
//
// It knows nothing of interfaces, samples or stores. gosnmp is spoken here only: the
// Client interface is the part of *gosnmp.GoSNMP a Session uses, so that tests can drive
// a hand-written fake agent.
package snmp
