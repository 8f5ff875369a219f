// Package detect finds attacks and reconnaissance in flow records: vertical port scans,
// horizontal sweeps (TCP and ICMP), SYN floods from one source, and distributed floods
// (SYN, UDP, ICMP, reflection) against one destination. It turns records into Events
// that say what, who, against whom, when, and why; it knows nothing of sockets,
// stores or pages.
//
// # Basics
//
// A Detector is fed every record with Add, from the collector's goroutines, and asked
// once per step (the poll step) with Step(end), which evaluates the window that ends
// there and returns its events. Add is cheap (a classification, at most three map
// updates under one mutex, no allocation for records of known keys) so that detection
// costs the collector little; Step does the arithmetic.
//
// # Windows and rates
//
// Rate detectors (SYN flood, DDoS) count what arrived since the previous Step: the
// window is the poll step (Config.Window, by default 5 minutes, mrtgo's default step).
// A rate is a count divided by the span of the evidence (the earliest start to the
// latest end of the flows counted), held between Config.MinSpan (10 s) and the window,
// so that a 20-second flood is measured at its own rate and not diluted over the
// step, while a burst of a few flows in a millisecond does not become a huge rate. A
// flow longer than the window (an exporter's active timeout of 30 minutes) counts
// only the window's share of its packets and bytes.
//
// Scan detectors accumulate over Config.ScanWindow (5 minutes, as Zeek's scan.zeek
// tracks failed connections) and are checked at every Step, so a fast scan is
// reported at the end of the step it crossed its threshold in, and a slow one within
// the scan window; each scan is reported once per scan window.
//
// # What counts as what
//
// A probe is a flow that looks unanswered: TCP with flags but no ACK (SYN-only, a SYN
// then the scanner's RST, NULL-free FIN/XMAS scans), a single-packet UDP flow that
// does not look like a reply (a source port below 1024 to a port above, or from a
// reflection port), and an ICMP echo, timestamp or address-mask request. TCP flows
// without flags are not probes: some exporters do not export flags. sFlow samples are
// single packets, so UDP samples are never probes.
//
//   - vertical scan: one source, probes to at least Thresholds.ScanPorts distinct
//     TCP or UDP ports of one host;
//   - horizontal sweep: one source, TCP probes to at least Thresholds.SweepHosts
//     distinct hosts on one port; ICMP sweep: ICMP probes to that many hosts. UDP is
//     left out of sweeps: a poller (mrtgo's own SNMP) or a resolver sends single
//     packets to many hosts on one port as a matter of course;
//   - SYN flood: SYN-without-ACK packets from one source to one host above
//     Thresholds.SYNFloodPPS, unless the same pair is a vertical scan;
//   - DDoS: traffic of one kind to one destination from at least
//     Thresholds.DDoSSources distinct sources, above the kind's packet rate (or
//     Thresholds.DDoSBPS for the UDP kinds) and at least Config.BaselineFactor times
//     that destination's own baseline, an EWMA of the kind's rate over past windows
//     that raised no event (its first windows weigh 1/n, the mean so far, so a young
//     baseline is not biased towards zero). A destination whose first window crosses
//     the thresholds is reported at once; one whose traffic grew past them is
//     reported only when it jumps well above what it grew to. A destination is
//     tracked once its packets (or bytes) of a kind in the step reach a sixteenth
//     of the least a threshold needs, as a count-min sketch counts them; the
//     sketch's count seeds its entry. Kinds: SYN (SYN without ACK), UDP,
//     reflection (UDP from a port in Config.ReflectionPorts: DNS, NTP, memcached,
//     SSDP, CLDAP...), ICMP.
//
// Established TCP (flows with ACK) never counts towards a flood: a flash crowd, many
// clients completing handshakes with one server, raises nothing. UDP is the same when
// the destination answers: one that sends back, as UDP, at least one packet for every
// 32 it receives (AnsweredShare) is in a conversation (a QUIC or DNS server under
// load, a game server's players, a resolver taking the replies to its own queries),
// and its UDP and reflection kinds raise nothing. What an address sends is counted by
// the sketch before it is a tracked destination and exactly after, so answers that
// come before the requests are not missed. The price: a flood against a UDP service
// that keeps answering is reported only once it is over about 31 times the answers.
//
// ICMP types: NetFlow v5 (and v9 from exporters that use its port fields) carry the
// ICMP type and code in the destination port as type*256+code; IPFIX exporters such
// as softflowd put them in icmpTypeCodeIPv4, which flow.Record does not keep, so its
// DstPort is 0 (which is also an echo reply's code). An ICMP flow with DstPort 0 is
// therefore taken as a probe of unknown type.
//
// # Thresholds and their sources
//
//   - ScanPorts 15 distinct ports and SweepHosts 25 distinct hosts in a 5-minute scan
//     window: Zeek's policy/misc/scan.zeek defaults (port_scan_threshold 15.0,
//     addr_scan_threshold 25.0, both intervals 5 min).
//   - SYNFloodPPS 256 SYN/s and DDoSSYNPPS 256 SYN/s: ntopng's syn_flood host check
//     (check_definitions/host/syn_flood.lua: threshold 256, in SYN/s, applied to a
//     host as attacker and as victim).
//   - DDoSUDPPPS 10,000 pps: FastNetMon's per-protocol threshold_udp_pps (10000 in
//     its fastnetmon.conf templates, whose global defaults are threshold_pps 20000,
//     threshold_mbps 1000, threshold_flows 3500); DDoSBPS 1 Gb/s is its
//     threshold_mbps = 1000.
//   - Our own choices: DDoSICMPPPS 1,000 pps (between ntopng's icmp_flood of 256 ICMP
//     flows/s and FastNetMon's 10,000 pps per protocol); DDoSReflectionPPS 1,000 pps
//     (reflected replies are large: fewer packets carry the same harm); DDoSSources
//     32; BaselineFactor 3 and BaselineAlpha 0.1 (about ten windows of memory);
//     MinSpan 10 s; the severities (warning at the threshold, major at 4 times,
//     critical at 16 times).
//
// # Memory
//
// Memory is bounded whatever the address cardinality. Distinct ports, hosts and
// sources are counted exactly up to 64 values (32-bit keys; every default threshold
// is below that, so the thresholds are exact) and then by a HyperLogLog of 256 one-byte
// registers (about 6.5 % standard error) that replaces them; top sources and ports
// by space-saving summaries of eight. Each of the three tables (source-host pairs, source-port sweeps,
// destinations) holds at most its Config.Max* entries: when full, the lightest
// half is evicted, so a flood of spoofed one-off sources evicts itself while the
// heavy keys stay. Stats says how many were evicted.
//
// # Caveats
//
// Step holds the lock while it evaluates (about 13 ms over full tables): the
// collector's sink waits that long once a step.
//
// A lasting attack is reported once per window it lasts (same Kind and Targets, so a
// consumer can merge them). Traceroute to one host looks like a UDP port scan. A
// busy recursive resolver receives DNS replies from many servers: allow-list it, or
// rely on its baseline. QUIC is UDP: a QUIC flash crowd is a UDP flood to this
// package unless its baseline knows it.
package detect
