package snmpsim

// Packets, errors and discards, in closed form from the octets like everything the
// agent counts: an interface's packets are its octets over its mean packet size (400 to
// 1,200 octets, seeded per interface and direction), of which 97 % unicast, 2 %
// multicast and 1 % broadcast; errors and discards are rare (one per several GB).
// Each counter is the floor of a non-decreasing function of the octets, so it never
// goes back while they do not; all of them start over with the octets.

import "time"

// Shares of the packets, in hundredths.
const (
	ucastShare = 97
	mcastShare = 2
	bcastShare = 1
)

// Octets per error and per discard, in and out.
const (
	octetsPerInError    = 7_000_000_000
	octetsPerOutError   = 11_000_000_000
	octetsPerInDiscard  = 3_000_000_000
	octetsPerOutDiscard = 5_000_000_000
)

// packets returns the unicast, multicast and broadcast packets of interface pos in the
// given direction for its octets.
func (a *Agent) packets(pos int, octets uint64, out bool) (ucast, mcast, bcast uint64) {
	size := a.ifs[pos].inPkt
	if out {
		size = a.ifs[pos].outPk
	}
	total := float64(octets) / size
	return uint64(total * ucastShare / 100), uint64(total * mcastShare / 100), uint64(total * bcastShare / 100)
}

// packetColumns are the served packet and discard columns (ifTable's ifInUcastPkts,
// ifInErrors and ifOutErrors are with the octets in mibColumns).
func packetColumns() []column {
	ift := func(n string, v func(a *Agent, r *request, pos int, vb *varbind)) column {
		return column{oid: mustOID(".1.3.6.1.2.1.2.2.1." + n), value: v}
	}
	ifx := func(n string, hc bool, v func(a *Agent, r *request, pos int, vb *varbind)) column {
		return column{oid: mustOID(".1.3.6.1.2.1.31.1.1.1." + n), hc: hc, value: v}
	}
	// kind: 0 unicast, 1 multicast, 2 broadcast, 3 non-unicast (multicast and broadcast).
	pk := func(out bool, kind int, hc bool) func(a *Agent, r *request, pos int, vb *varbind) {
		return func(a *Agent, r *request, pos int, vb *varbind) {
			in, o := r.octets(a, pos)
			octets := in
			if out {
				octets = o
			}
			u, m, b := a.packets(pos, octets, out)
			v := [4]uint64{u, m, b, m + b}[kind]
			if hc {
				setNum(vb, tagCounter64, v)
			} else {
				setNum(vb, tagCounter32, v&0xffffffff)
			}
		}
	}
	per := func(out bool, every uint64) func(a *Agent, r *request, pos int, vb *varbind) {
		return func(a *Agent, r *request, pos int, vb *varbind) {
			in, o := r.octets(a, pos)
			if out {
				in = o
			}
			setNum(vb, tagCounter32, (in/every)&0xffffffff)
		}
	}
	return []column{
		ift("11", pk(false, 0, false)), // ifInUcastPkts
		ift("12", pk(false, 3, false)), // ifInNUcastPkts
		ift("13", per(false, octetsPerInDiscard)),
		ift("14", per(false, octetsPerInError)),
		ift("17", pk(true, 0, false)), // ifOutUcastPkts
		ift("18", pk(true, 3, false)), // ifOutNUcastPkts
		ift("19", per(true, octetsPerOutDiscard)),
		ift("20", per(true, octetsPerOutError)),
		ifx("2", false, pk(false, 1, false)), // ifInMulticastPkts
		ifx("3", false, pk(false, 2, false)), // ifInBroadcastPkts
		ifx("4", false, pk(true, 1, false)),  // ifOutMulticastPkts
		ifx("5", false, pk(true, 2, false)),  // ifOutBroadcastPkts
		ifx("7", true, pk(false, 0, true)),   // ifHCInUcastPkts
		ifx("8", true, pk(false, 1, true)),   // ifHCInMulticastPkts
		ifx("9", true, pk(false, 2, true)),   // ifHCInBroadcastPkts
		ifx("11", true, pk(true, 0, true)),   // ifHCOutUcastPkts
		ifx("12", true, pk(true, 1, true)),   // ifHCOutMulticastPkts
		ifx("13", true, pk(true, 2, true)),   // ifHCOutBroadcastPkts
	}
}

// Groups returns the packet and error counters that the interface at ifIndex counts
// at t (zeros for an unknown ifIndex), as the agent answers their 64-bit columns (the
// errors' Counter32 before they wrap), in the order of the store's data sources:
// unicast, multicast and broadcast packets in and out; errors and discards in and out.
func (a *Agent) Groups(ifIndex int, t time.Time) (packets [6]uint64, errs [4]uint64) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	pos, ok := a.posOf[ifIndex]
	if !ok {
		return packets, errs
	}
	in, out := a.octets(pos, t)
	ui, mi, bi := a.packets(pos, in, false)
	uo, mo, bo := a.packets(pos, out, true)
	packets = [6]uint64{ui, uo, mi, mo, bi, bo}
	errs = [4]uint64{in / octetsPerInError, out / octetsPerOutError, in / octetsPerInDiscard, out / octetsPerOutDiscard}
	return packets, errs
}
