// Package flowquery answers questions about stored flows, as nfdump does: it parses
// and compiles filters, adds up the flows that pass by a key (source, destination,
// ports, protocol or conversation) into a top-N list with its remainder and total, and
// writes answers and raw flows for people and programs. It reads flows from an
// iterator and knows nothing of where they are kept.
//
// # Filters
//
// The language is nfdump's, narrowed to what a flow.Flow holds and widened with the
// names mrtgo gives devices and interfaces. Keywords are case-insensitive.
//
//	filter    = [ or ]                        (empty: every flow)
//	or        = and { ( "or" | "||" ) and }
//	and       = unary { ( "and" | "&&" ) unary }
//	unary     = ( "not" | "!" ) unary | "(" or ")" | primitive
//	primitive = "any"
//	          | [ "src" | "dst" ] ( "host" | "ip" ) ADDRESS
//	          | [ "src" | "dst" ] "net" ADDRESS "/" BITS
//	          | [ "src" | "dst" ] "port" [ cmp ] PORT
//	          | [ "src" | "dst" ] "port" "in" "[" PORT { [ "," ] PORT } "]"
//	          | "proto" ( NAME | 0-255 )
//	          | "flags" LETTERS
//	          | ( "bytes" | "packets" ) [ cmp ] NUMBER [ "k" | "M" | "G" | "T" ]
//	          | "device" NAME
//	          | [ "in" | "out" ] "if" NAME
//	          | "exporter" ADDRESS
//	cmp       = "=" | "==" | ">" | "<" | ">=" | "<=" | "eq" | "gt" | "lt" | "ge" | "le"
//
// "not" binds tighter than "and", which binds tighter than "or". Without "src" or
// "dst", an address or port primitive matches either side; without "in" or "out", "if"
// matches either interface. Addresses and networks are IPv4 or IPv6. Protocol names
// are tcp, udp, icmp, icmp6, gre, esp, ah, sctp, ipip, ipv6, igmp, ospf, pim, rsvp,
// vrrp and l2tp. Number suffixes are powers of 1000, as in nfdump: bytes > 1k is
// more than 1,000 bytes. A NAME is a bare word (letters, digits and . : / - _ + @,
// as in Gi0/1 or xe-0/0/1.100) or a double-quoted string, in which \" and \\ stand
// for " and \: in if "Gi0/1 uplink".
//
// flags tests TCP flags by letter: U, A, P, R, S, F, and X for all six. As in nfdump,
// flags SA is true when both SYN and ACK are set, whatever the others; and under a
// not it negates to none of them set, so that not flags AFRPU is true when none of
// ACK, FIN, RST, PSH and URG is set, and flags S and not flags AFRPU selects SYNs
// alone. (To say "not both", write not flags S or not flags A.)
//
// Examples:
//
//	src net 10.0.0.0/8 and dst port 443 and proto tcp
//	net 2001:db8::/32 and not port in [53 123]
//	proto udp and (dst port 53 or src port 53) and bytes > 1M
//	flags S and not flags AFRPU and dst port < 1024
//	device core1 and in if "Gi0/1 uplink" or exporter 192.0.2.1
//
// ParseFilter compiles a filter into a Filter whose Match allocates nothing. A bad
// filter gets a *SyntaxError with the column where it goes wrong; its String adds the
// filter and a caret under that column. Filter.String is the canonical form, which
// parses back to the same filter.
//
// What nfdump has and this language has not: host names, "net A mask M", ip lists
// ("ip in [...]"), AS numbers, VLANs, MAC addresses, ICMP type and code, interface
// numbers (mrtgo names interfaces), and its NSEL/NEL fields.
//
// # Queries
//
// A Query groups the flows that pass its filter by src, dst, srcport, dstport, proto
// or conv (the 5-tuple src, dst, proto, srcport, dstport: what nfdump aggregates by
// default with -a, or -A srcip,dstip,proto,srcport,dstport), and ranks the keys by
// bytes, packets or flows. The Result lists the top keys with their flows, packets,
// bytes, share of the total of the measure, and bits and packets per second over the
// query's time range; then the remainder of the keys not listed ("other") and the
// total, exact: the rows and other add up to the total. For the same flows and the
// same statistic, the numbers are nfdump's (-s srcip/bytes and the like); its rates
// differ, being over each key's own first and last flow rather than the query's range.
//
// Aggregation is exact: a hash map of every distinct key, about 130 bytes a key for
// conv, less for the others, and as much again while the result is ranked. A
// query holds at most Query.MaxKeys keys (DefaultMaxKeys, about a million, when
// unset) and fails with ErrTooManyKeys beyond, rather than give a top list that might
// be wrong: narrow the filter or the range, or raise the limit.
//
// A store that reads with several goroutines gives each its own Aggregator from the
// same Query and merges them at the end:
//
//	aggs := make([]*flowquery.Aggregator, workers)
//	for i := range aggs {
//		aggs[i] = q.NewAggregator() // worker i calls aggs[i].Add(f) for its flows
//	}
//	// ... after the workers are done:
//	for _, a := range aggs[1:] {
//		aggs[0].Merge(a)
//	}
//	res, err := aggs[0].Result()
//
// Query.Run and Query.RunScan do it in one goroutine over an iter.Seq or a scan
// function.
//
// # Output
//
// A Result writes itself as an aligned table with nfdump's units (1.2 M), as CSV (a
// header line of stable column names, exact integers) or as JSON. Raw flows are
// written by a RecordWriter: JSON lines with every field of a flow, or a log in Zeek's
// ASCII format, with conn.log's columns for what a flow and a connection share.
package flowquery
