package flowquery

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/flow"
)

func testFlow(src, dst string, sp, dp uint16, proto, flags uint8, packets, bytes uint64) *flow.Flow {
	return &flow.Flow{Record: flow.Record{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
		SrcPort: sp, DstPort: dp, Proto: proto, TCPFlags: flags, Packets: packets, Bytes: bytes,
		Exporter: netip.MustParseAddr("192.0.2.1"), SamplingRate: 1},
		Device: "core1", In: "Gi0/1 uplink", Out: "xe-0/0/1.100"}
}

func TestFilterMatch(t *testing.T) {
	web := testFlow("10.1.2.3", "192.0.2.10", 40000, 443, 6, 0x18, 10, 12000)
	syn := testFlow("203.0.113.5", "10.1.2.3", 51000, 22, 6, 0x02, 1, 40)
	dns := testFlow("2001:db8::53", "2001:db8:1::1", 53, 33000, 17, 0, 1, 1500)
	for _, tt := range []struct {
		filter string
		want   [3]bool // web, syn, dns
	}{
		{"", [3]bool{true, true, true}},
		{"any", [3]bool{true, true, true}},
		{"src net 10.0.0.0/8 and dst port 443 and proto tcp", [3]bool{true, false, false}},
		{"net 10.0.0.0/8", [3]bool{true, true, false}},
		{"net 2001:db8::/32", [3]bool{false, false, true}},
		{"dst net 2001:db8:1::/48", [3]bool{false, false, true}},
		{"src net 2001:db8:1::/48", [3]bool{false, false, false}},
		{"host 10.1.2.3", [3]bool{true, true, false}},
		{"dst host 10.1.2.3", [3]bool{false, true, false}},
		{"src ip 10.1.2.3", [3]bool{true, false, false}},
		{"host ::ffff:10.1.2.3", [3]bool{true, true, false}}, // mapped addresses are unmapped
		{"port 22", [3]bool{false, true, false}},
		{"port > 1023", [3]bool{true, true, true}},
		{"dst port > 1023", [3]bool{false, false, true}},
		{"dst port <= 443", [3]bool{true, true, false}},
		{"dst port gt 443", [3]bool{false, false, true}},
		{"port in [53 123]", [3]bool{false, false, true}},
		{"dst port in [22, 443]", [3]bool{true, true, false}},
		{"proto tcp", [3]bool{true, true, false}},
		{"proto 17", [3]bool{false, false, true}},
		{"PROTO UDP", [3]bool{false, false, true}},
		{"flags S", [3]bool{false, true, false}},
		{"flags AP", [3]bool{true, false, false}},
		{"flags SA", [3]bool{false, false, false}},
		{"flags S and not flags AFRPU", [3]bool{false, true, false}},
		{"bytes > 1k", [3]bool{true, false, true}},
		{"bytes >= 1500", [3]bool{true, false, true}},
		{"bytes < 1K", [3]bool{false, true, false}},
		{"bytes = 12000", [3]bool{true, false, false}},
		{"bytes 40", [3]bool{false, true, false}},
		{"packets > 1", [3]bool{true, false, false}},
		{"bytes > 1M", [3]bool{false, false, false}},
		{"device core1", [3]bool{true, true, true}},
		{`device "core2"`, [3]bool{false, false, false}},
		{`in if "Gi0/1 uplink"`, [3]bool{true, true, true}},
		{"out if xe-0/0/1.100", [3]bool{true, true, true}},
		{`if "Gi0/1 uplink"`, [3]bool{true, true, true}},
		{"in if xe-0/0/1.100", [3]bool{false, false, false}},
		{"exporter 192.0.2.1", [3]bool{true, true, true}},
		{"exporter 192.0.2.2", [3]bool{false, false, false}},
		{"not proto tcp", [3]bool{false, false, true}},
		{"!proto tcp", [3]bool{false, false, true}},
		{"proto udp or port 22", [3]bool{false, true, true}},
		{"proto udp || port 22 && flags S", [3]bool{false, true, true}},
		{"proto tcp and port 22 or proto udp", [3]bool{false, true, true}},
		{"proto tcp and (port 22 or proto udp)", [3]bool{false, true, false}},
		{"not (proto tcp and port 22)", [3]bool{true, false, true}},
		{"not proto tcp and port 22", [3]bool{false, false, false}},
		{"not not proto udp", [3]bool{false, false, true}},
		// nfdump's negation of flags: none of them set.
		{"not flags SA", [3]bool{false, false, true}},
		{"not flags S", [3]bool{true, false, true}},
		{"not (flags AR and proto tcp)", [3]bool{false, true, true}},
		{"not not flags SA", [3]bool{false, false, false}},
		{"not (not flags SA or port 22)", [3]bool{false, false, false}},
		{"not (not flags AP or port 23)", [3]bool{true, false, false}},
	} {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Errorf("%q: %v", tt.filter, err)
			continue
		}
		for i, fl := range []*flow.Flow{web, syn, dns} {
			if got := f.Match(fl); got != tt.want[i] {
				t.Errorf("%q on flow %d: %v, want %v", tt.filter, i, got, tt.want[i])
			}
		}
		// The canonical form means the same.
		g, err := ParseFilter(f.String())
		if err != nil {
			t.Errorf("%q printed as %q: %v", tt.filter, f.String(), err)
			continue
		}
		for i, fl := range []*flow.Flow{web, syn, dns} {
			if g.Match(fl) != tt.want[i] {
				t.Errorf("%q printed as %q on flow %d: %v", tt.filter, f.String(), i, !tt.want[i])
			}
		}
	}
	var none *Filter
	if !none.Match(web) || none.String() != "any" {
		t.Error("a nil filter does not match everything")
	}
}

func TestFilterString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"SRC NET 10.1.0.0/8 && DST PORT 443 && PROTO 6", "src net 10.0.0.0/8 and dst port 443 and proto tcp"},
		{"proto tcp and (port 22 or port 23) or not (host 10.0.0.1 and proto udp)",
			"proto tcp and (port 22 or port 23) or not (host 10.0.0.1 and proto udp)"},
		{"((proto tcp))", "proto tcp"},
		{"proto tcp and (port 1 and port 2)", "proto tcp and port 1 and port 2"},
		{"proto tcp or (port 1 or port 2)", "proto tcp or port 1 or port 2"},
		{"not (not proto tcp)", "not not proto tcp"},
		{"port in [ 123, 53 53 ]", "port in [53 123]"},
		{"port in [53]", "port 53"},
		{"port == 53", "port 53"},
		{"port ge 1024", "port >= 1024"},
		{"bytes > 1.5", ""},
		{"bytes > 2k", "bytes > 2000"},
		{"packets < 3M", "packets < 3000000"},
		{"flags fsx", "flags UAPRSF"},
		{"flags SA", "flags AS"},
		{"device and", ""},
		{`device "and"`, `device "and"`},
		{`device "a \"b\" \\"`, `device "a \"b\" \\"`},
		{`in if "Gi0/1"`, "in if Gi0/1"},
		{`out if "Gi0/1 uplink"`, `out if "Gi0/1 uplink"`},
		{"net 10.1.2.3/16", "net 10.1.0.0/16"},
		{"dst net 2001:DB8::/32", "dst net 2001:db8::/32"},
		{"exporter ::ffff:192.0.2.1", "exporter 192.0.2.1"},
		{"proto 47", "proto gre"},
		{"proto 253", "proto 253"},
	} {
		f, err := ParseFilter(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%q parsed as %q, want an error", tt.in, f)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := f.String(); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	for _, tt := range []struct {
		filter string
		col    int
		msg    string
	}{
		{"src port 1 or port https", 20, `expected a port number (0-65535), got "https"`},
		{"dst port 65536", 10, `expected a port number (0-65535), got "65536"`},
		{"proto tcpp", 7, `expected a protocol`},
		{"proto 256", 7, `expected a protocol`},
		{"src net 10.0.0.0", 9, `expected a network such as 10.0.0.0/8`},
		{"src net 10.0.0.0/33", 9, `expected a network`},
		{"host 10.0.0.300", 6, `expected an IPv4 or IPv6 address, got "10.0.0.300"`},
		{"host fe80::1%eth0", 13, `unexpected character '%'`},
		{"proto tcp and", 14, `expected a filter primitive (host, net, port, proto, ...), got end of filter`},
		{"proto tcp port 22", 11, `expected "and", "or" or the end of the filter, got "port"`},
		{"(proto tcp", 11, `expected ")" to close the "(" at column 1, got end of filter`},
		{"proto tcp)", 10, `unbalanced ")"`},
		{"src foo 1", 5, `expected host, net or port after "src", got "foo"`},
		{"flags SQ", 7, `expected TCP flags`},
		{"bytes > lots", 9, `expected a number`},
		{"bytes > 99999999999999999999", 9, `expected a number`},
		{"bytes > 99999999999999999k", 9, `out of range`},
		{"port in [53 123", 16, `expected "]" to close the "[" at column 9, got end of filter`},
		{"port in []", 10, `expected a port number`},
		{"port in 53", 9, `expected "[" to start a list of ports`},
		{"in 3", 4, `expected "if" after "in"`},
		{"device", 7, `expected a device name`},
		{`device "core1`, 8, `quoted string not closed`},
		{"port 22 & port 23", 9, `expected "&&", got "&"`},
		{"port != 22", 6, `"!=" is not an operator`},
		{"port 22 ; drop", 9, `unexpected character ';'`},
		{"héllo 1", 1, `expected a filter primitive (host, net, port, proto, ...), got "héllo"`},
		{"device é and port x", 19, `expected a port number`},
		{strings.Repeat("(", 300) + "any" + strings.Repeat(")", 300), 201, "nested deeper than 200"},
		{strings.Repeat("not ", 300) + "any", 801, "nested deeper than 200"},
	} {
		_, err := ParseFilter(tt.filter)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("%q: error %v, want a *SyntaxError", tt.filter, err)
			continue
		}
		if se.Column != tt.col || !strings.Contains(se.Msg, tt.msg) || se.Filter != tt.filter {
			t.Errorf("%q: column %d %q, want column %d %q", tt.filter, se.Column, se.Msg, tt.col, tt.msg)
		}
	}
}

func TestSyntaxErrorCaret(t *testing.T) {
	_, err := ParseFilter("src port 1 or\tport https")
	se := err.(*SyntaxError)
	want := "filter: column 20: expected a port number (0-65535), got \"https\"\n" +
		"  src port 1 or\tport https\n" +
		"               \t     ^"
	if got := se.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := se.Error(); got != `filter: column 20: expected a port number (0-65535), got "https"` {
		t.Errorf("Error() = %q", got)
	}
}

func TestFilterAllocs(t *testing.T) {
	f := MustParseFilter("src net 10.0.0.0/8 and dst port in [443 8443] and proto tcp and not flags R or device core1 and bytes > 1k")
	fl := testFlow("10.1.2.3", "192.0.2.10", 40000, 443, 6, 0x18, 10, 12000)
	if n := testing.AllocsPerRun(100, func() { f.Match(fl) }); n != 0 {
		t.Errorf("Match allocates %v times per call", n)
	}
}

// FuzzParse: no filter makes the parser panic, and whatever parses prints back to a
// filter that parses to the same tree and prints the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"src net 10.0.0.0/8 and dst port 443 and proto tcp",
		"not (host 2001:db8::1 or port in [53, 123]) && flags SA || bytes >= 10k",
		`in if "Gi0/1 \"x\"" and out if xe-0/0/1 and device core1 and exporter 192.0.2.1`,
		"!!(any)", "packets < 3M or proto 47", "port > 1023 and dst port le 1", "((", "port in [",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parse(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("%q: error %T %v, want a *SyntaxError", s, err, err)
			}
			return
		}
		printed := e.String()
		e2, err := parse(printed)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, printed, err)
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("%q printed as %q, which parses to another tree:\n%#v\n%#v", s, printed, e, e2)
		}
		if p2 := e2.String(); p2 != printed {
			t.Fatalf("%q printed as %q, then as %q", s, printed, p2)
		}
		e.compile(false)(testFlow("10.1.2.3", "192.0.2.10", 40000, 443, 6, 0x18, 10, 12000))
	})
}
