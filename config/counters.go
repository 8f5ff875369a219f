package config

import (
	"fmt"
	"strings"
)

// Counters are the interface counter groups polled beside the octets, set with
// counters = ["packets", "errors"] at the top of the file (for every device) or in a
// [[device]] (replacing the file's for that device). Each group is a series of its own
// in the store and graphs of its own on the interface page; reading them costs columns
// in the cycle's read, not round trips.
type Counters struct {
	// Packets: unicast, multicast and broadcast packets in and out (ifHC*Pkts,
	// or ifInUcastPkts and ifInNUcastPkts where the agent has only ifTable).
	Packets bool
	// Errors: errors and discards in and out (ifIn/OutErrors, ifIn/OutDiscards).
	Errors bool
}

// Counter groups as written in the file.
const (
	CounterPackets = "packets"
	CounterErrors  = "errors"
)

// CounterGroups lists the values counters accepts.
var CounterGroups = []string{CounterPackets, CounterErrors}

// Any reports whether any group beyond the octets is polled.
func (c Counters) Any() bool { return c.Packets || c.Errors }

// Names are the groups set, in CounterGroups order, as the file writes them.
func (c Counters) Names() []string {
	var out []string
	if c.Packets {
		out = append(out, CounterPackets)
	}
	if c.Errors {
		out = append(out, CounterErrors)
	}
	return out
}

// counters reads a counters array written at table[idx] (the top level when table is
// ""). A bad entry is reported at the key's line, with the nearest group if one is
// close; the others still count.
func (p *parser) counters(table string, idx int, list []string) Counters {
	var c Counters
	seen := map[string]bool{}
	for _, v := range list {
		n := strings.ToLower(strings.TrimSpace(v))
		switch {
		case n == CounterPackets:
			c.Packets = true
		case n == CounterErrors:
			c.Errors = true
		default:
			p.bad(table, idx, "counters", nil, "unknown counter group %q%s (groups: %s)",
				v, hint(n, CounterGroups), strings.Join(CounterGroups, ", "))
			continue
		}
		if seen[n] {
			p.bad(table, idx, "counters", nil, "counter group %q listed twice", n)
		}
		seen[n] = true
	}
	return c
}

// countersLine writes a counters key, or nothing when c equals def.
func countersLine(c, def Counters) string {
	if c == def {
		return ""
	}
	parts := make([]string, 0, 2)
	for _, n := range c.Names() {
		parts = append(parts, quote(n))
	}
	return fmt.Sprintf("counters = [%s]\n", strings.Join(parts, ", "))
}
