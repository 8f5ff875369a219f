package capture

import (
	"fmt"
	"net/netip"
	"strings"
)

// BPF returns f as a pcap-filter(7) expression, for tcpdump or Wireshark to select
// the same packets from a capture, or to run the same capture by hand. For example
// Filter{Src: 192.0.2.1/32, Dst: 198.51.100.7/32, Proto: 6, TCPFlags: SYN,
// TCPFlagsMask: SYN|ACK} is, for untagged frames,
//
//	ip and ip src host 192.0.2.1 and ip dst host 198.51.100.7 and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn
//
// and the expression repeats that after one and after two "vlan" keywords, as
// MatchFrame looks through up to two tags. A prefix of a whole address is "host",
// a shorter one "net A/n"; several values are or-ed in parentheses. The zero Filter
// is "". Over IPv4 the expression selects exactly what MatchFrame does (on frames
// whose IP header is whole). Over IPv6 the protocol is libpcap's "protochain", which
// walks extension headers as MatchFrame does; ports and TCP flags (as "ip6[53]",
// since tcpdump's tcp[] reads IPv4 only) are read where pcap-filter can address
// them, right after the fixed header, so of a packet with extension headers before
// its TCP or UDP header MatchFrame may select what the expression does not. The
// expression of a filter that Validate rejects is not defined.
func (f Filter) BPF() string {
	if f.isZero() {
		return ""
	}
	var terms []string
	for _, fam := range []int{fam4, fam6} {
		if t, ok := f.bpfFamily(fam); ok {
			terms = append(terms, t)
		}
	}
	var e string
	switch len(terms) {
	case 0:
		return "ip and not ip" // different families: Validate rejects it
	case 1:
		e = terms[0]
	default:
		e = "((" + strings.Join(terms, ") or (") + "))"
	}
	// The first "vlan" shifts every later offset by a tag (pcap-filter(7)), so each
	// repetition of e reads the frame one tag further in.
	return fmt.Sprintf("%s or (vlan and (%s or (vlan and %s)))", e, e, e)
}

// bpfFamily is f's expression for the packets of one address family, and false when
// f selects none of that family.
func (f *Filter) bpfFamily(fam int) (string, bool) {
	ip := "ip"
	if fam == fam6 {
		ip = "ip6"
	}
	parts := []string{ip}
	for _, side := range []struct {
		dir string
		ps  []netip.Prefix
	}{{"src", f.Src}, {"dst", f.Dst}} {
		if len(side.ps) == 0 {
			continue
		}
		var alts []string
		all := false
		for _, p := range side.ps {
			if !p.IsValid() || families([]netip.Prefix{p}) != fam {
				continue
			}
			p = p.Masked()
			switch {
			case p.Bits() == 0:
				all = true
			case p.IsSingleIP():
				alts = append(alts, fmt.Sprintf("%s %s host %s", ip, side.dir, p.Addr()))
			default:
				alts = append(alts, fmt.Sprintf("%s %s net %s", ip, side.dir, p))
			}
		}
		switch {
		case all:
		case len(alts) == 0:
			return "", false
		default:
			parts = append(parts, orList(alts))
		}
	}
	if !f.hasPorts() && f.TCPFlagsMask == 0 {
		switch {
		case f.Proto == 0:
		case fam == fam4:
			parts = append(parts, fmt.Sprintf("ip proto %d", f.Proto))
		default:
			parts = append(parts, fmt.Sprintf("ip6 protochain %d", f.Proto))
		}
		return strings.Join(parts, " and "), true
	}
	var kinds []uint8
	switch {
	case f.Proto != 0:
		kinds = []uint8{f.Proto}
	case f.TCPFlagsMask != 0:
		kinds = []uint8{ProtoTCP}
	default:
		kinds = []uint8{ProtoTCP, ProtoUDP}
	}
	var alts []string
	for _, k := range kinds {
		name := "tcp"
		if k == ProtoUDP {
			name = "udp"
		}
		var kp []string
		if fam == fam6 {
			kp = append(kp, fmt.Sprintf("ip6[6] == %d", k)) // no extension header
		}
		// "tcp src port" reads the first fragment only over IPv4, right after the
		// fixed header over IPv6.
		for _, side := range []struct {
			dir   string
			ports []uint16
		}{{"src", f.SrcPorts}, {"dst", f.DstPorts}} {
			var ps []string
			for _, p := range side.ports {
				ps = append(ps, fmt.Sprintf("%s %s port %d", name, side.dir, p))
			}
			if len(ps) > 0 {
				kp = append(kp, orList(ps))
			}
		}
		if f.TCPFlagsMask != 0 {
			at := "tcp[tcpflags]" // over IPv4, the first fragment only
			if fam == fam6 {
				at = "ip6[53]" // 40 + 13
			}
			if f.TCPFlagsMask == 0xff {
				kp = append(kp, fmt.Sprintf("%s == %s", at, flagNames(f.TCPFlags)))
			} else {
				kp = append(kp, fmt.Sprintf("%s & %s == %s", at, flagNames(f.TCPFlagsMask), flagNames(f.TCPFlags)))
			}
		}
		alts = append(alts, strings.Join(kp, " and "))
	}
	if len(alts) == 1 {
		parts = append(parts, alts[0])
	} else {
		parts = append(parts, "(("+strings.Join(alts, ") or (")+"))")
	}
	return strings.Join(parts, " and "), true
}

// orList joins alternatives with "or", in parentheses when there are several.
func orList(alts []string) string {
	if len(alts) == 1 {
		return alts[0]
	}
	return "(" + strings.Join(alts, " or ") + ")"
}

// flagNames writes TCP flag bits with pcap-filter's names: "tcp-syn",
// "(tcp-syn|tcp-ack)", or "0".
func flagNames(v uint8) string {
	names := [8]string{"tcp-fin", "tcp-syn", "tcp-rst", "tcp-push", "tcp-ack", "tcp-urg", "tcp-ece", "tcp-cwr"}
	var set []string
	for i, n := range names {
		if v&(1<<i) != 0 {
			set = append(set, n)
		}
	}
	switch len(set) {
	case 0:
		return "0"
	case 1:
		return set[0]
	}
	return "(" + strings.Join(set, "|") + ")"
}
