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
// Aggregation is exact: an open-addressing hash table of every distinct key, the
// counts beside the key in slots of 64 bytes for conv and 48 for an address, kept
// between three eighths and three quarters full (BenchmarkGroupConv measures 134
// bytes a conv key held). Result picks the top rows in one pass over the table; only
// a query without Top sorts every key, in a Row of about 110 bytes each. A query holds at
// most Query.MaxKeys keys (DefaultMaxKeys, about a million, when unset) and fails
// with ErrTooManyKeys beyond, rather than give a top list that might be wrong:
// narrow the filter or the range, or raise the limit.
//
// A store that reads with several goroutines gives each an Aggregator of the same
// Query and merges them at the end. Those of NewAggregators add into one table,
// divided into shards each behind its lock, so that a key is held once and the
// merge adds up totals only; those of NewAggregator each have a table of their own:
//
//	aggs := q.NewAggregators(workers) // worker i calls aggs[i].Add(f) for its flows
//	// ... after the workers are done:
//	for _, a := range aggs[1:] {
//		aggs[0].Merge(a)
//	}
//	res, err := aggs[0].Result()
//
// Query.Run and Query.RunScan do it in one goroutine over an iter.Seq or a scan
// function.
//
// # Reading columns
//
// Query.Fields (and Filter.Fields) name the fields of flow.Flow a query reads, so
// that a store can decode only those. A store that hands over its records column by
// column (the Columns interface: flowstore's Block) is added a batch at a time with
// Aggregator.AddColumns: grouped by address, a batch is added up by its dictionary
// index into a small dense array first, and the table is touched once for each
// address of the batch rather than once for each record. With flowstore, the whole
// of a query is
//
//	aggs := q.NewAggregators(store.Workers())
//	_, err := store.ScanColumns(from, to, q.Fields(), func(w int, b *flowstore.Block) error {
//		aggs[w].AddColumns(b)
//		return nil
//	})
//	// ... Merge and Result as above.
//
// On the 2-core machine of the benchmarks, the ten sources of the most bytes among
// 10,000,000 records (485,597 sources; flowstore's BenchmarkTopQuery) take 1.1–1.4 s
// of CPU time, 110–140 ns a record, of which decoding the three columns takes about
// 30: 0.64 s of wall time when the other load on the machine left both cores to it,
// 1.1–1.7 s when it did not. Through ScanParallel and Add, record by record, each
// worker with a table of its own, the same query took 5.5 s of CPU time.
//
// # Output
//
// A Result writes itself as an aligned table with nfdump's units (1.2 M), as CSV (a
// header line of stable column names, exact integers) or as JSON. Raw flows are
// written by a RecordWriter: JSON lines with every field of a flow, or a log in Zeek's
// ASCII format, with conn.log's columns for what a flow and a connection share.
package flowquery
