package flowquery

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/flow"
)

// RecordWriter writes flows one by one, for raw output. Close flushes what is
// buffered and ends the output; it does not close the underlying writer.
type RecordWriter interface {
	Write(*flow.Flow) error
	Close() error
}

var (
	_ RecordWriter = (*JSONLinesWriter)(nil)
	_ RecordWriter = (*ZeekWriter)(nil)
)

// NewRecordWriter returns the RecordWriter for format: "json" (JSON lines) or "zeek"
// (a Zeek conn.log-style TSV log). now stamps the Zeek log's #open and #close lines;
// nil is time.Now.
func NewRecordWriter(format string, w io.Writer, now func() time.Time) (RecordWriter, error) {
	switch format {
	case "json":
		return NewJSONLinesWriter(w), nil
	case "zeek":
		return NewZeekWriter(w, now), nil
	}
	return nil, fmt.Errorf("raw output format %q unknown: want json or zeek", format)
}

// nanoTime is RFC 3339 with all nine digits of nanoseconds, so that lines align and
// sort as text.
const nanoTime = "2006-01-02T15:04:05.000000000Z07:00"

// jsonTime is a time in UTC, nanoTime, or null when zero.
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return []byte("null"), nil
	}
	return tt.UTC().AppendFormat([]byte{'"'}, nanoTime+`"`), nil
}

// jsonAddr is an address as a string, or null when unset.
type jsonAddr netip.Addr

func (a jsonAddr) MarshalJSON() ([]byte, error) {
	if !netip.Addr(a).IsValid() {
		return []byte("null"), nil
	}
	return strconv.AppendQuote(nil, netip.Addr(a).String()), nil
}

// jsonFlow is every field of a flow.Flow.
type jsonFlow struct {
	Received     jsonTime `json:"received"`
	Start        jsonTime `json:"start"`
	End          jsonTime `json:"end"`
	Kind         string   `json:"kind"`
	Exporter     jsonAddr `json:"exporter"`
	Domain       uint32   `json:"domain"`
	SamplingRate uint64   `json:"sampling_rate"`
	Device       string   `json:"device"`
	InIf         uint32   `json:"in_if"`
	OutIf        uint32   `json:"out_if"`
	In           string   `json:"in"`
	Out          string   `json:"out"`
	Src          jsonAddr `json:"src"`
	Dst          jsonAddr `json:"dst"`
	SrcPort      uint16   `json:"src_port"`
	DstPort      uint16   `json:"dst_port"`
	Proto        uint8    `json:"proto"`
	TCPFlags     uint8    `json:"tcp_flags"`
	Packets      uint64   `json:"packets"`
	Bytes        uint64   `json:"bytes"`
}

// JSONLinesWriter writes one JSON object per flow and line, with every field of the
// flow: times in RFC 3339 with nanoseconds, UTC (null when unknown), addresses as
// strings (null when unset), interfaces by ifIndex (in_if, out_if) and by name (in,
// out), tcp_flags as a number.
type JSONLinesWriter struct {
	bw  *bufio.Writer
	enc *json.Encoder
}

// NewJSONLinesWriter returns a JSONLinesWriter writing to w.
func NewJSONLinesWriter(w io.Writer) *JSONLinesWriter {
	bw := bufio.NewWriter(w)
	return &JSONLinesWriter{bw: bw, enc: json.NewEncoder(bw)}
}

// Write writes f as one line.
func (j *JSONLinesWriter) Write(f *flow.Flow) error {
	return j.enc.Encode(jsonFlow{Received: jsonTime(f.Received), Start: jsonTime(f.Start), End: jsonTime(f.End),
		Kind: f.Kind.String(), Exporter: jsonAddr(f.Exporter), Domain: f.Domain, SamplingRate: f.SamplingRate,
		Device: f.Device, InIf: f.InIf, OutIf: f.OutIf, In: f.In, Out: f.Out,
		Src: jsonAddr(f.Src), Dst: jsonAddr(f.Dst), SrcPort: f.SrcPort, DstPort: f.DstPort,
		Proto: f.Proto, TCPFlags: f.TCPFlags, Packets: f.Packets, Bytes: f.Bytes})
}

// Close flushes the lines buffered.
func (j *JSONLinesWriter) Close() error { return j.bw.Flush() }

// zeekFields are the columns of the Zeek log, with their Zeek types. The first ones
// are conn.log's, meaning what they mean there: ts is the flow's first packet,
// id.orig_* its source and id.resp_* its destination (a flow is one direction, so
// the resp_ counters of conn.log have no place here). The byte count is IP bytes,
// headers included, as flows count them: conn.log's orig_ip_bytes, not orig_bytes
// (payload only). The others are mrtgo's: where the flow was seen and how.
var zeekFields = []struct{ name, typ string }{
	{"ts", "time"}, {"id.orig_h", "addr"}, {"id.orig_p", "port"}, {"id.resp_h", "addr"}, {"id.resp_p", "port"},
	{"proto", "enum"}, {"ip_proto", "count"}, {"duration", "interval"}, {"orig_pkts", "count"},
	{"orig_ip_bytes", "count"}, {"tcp_flags", "string"}, {"device", "string"}, {"in_iface", "string"},
	{"out_iface", "string"}, {"in_ifindex", "count"}, {"out_ifindex", "count"}, {"exporter", "addr"},
	{"export", "string"}, {"sampling_rate", "count"},
}

// ZeekWriter writes flows as a Zeek ASCII log (the format of conn.log): the header
// lines #separator, #set_separator, #empty_field, #unset_field, #path (mrtgo_flows),
// #open, #fields and #types, one tab-separated line per flow, and #close. Times are
// seconds since the epoch with six decimals, as Zeek writes them; an empty string is
// "(empty)", an unknown value "-"; a tab, a backslash or a control character in a
// string is written \xNN.
type ZeekWriter struct {
	bw     *bufio.Writer
	now    func() time.Time
	header bool
	line   []byte
}

// NewZeekWriter returns a ZeekWriter writing to w; now stamps #open and #close (nil is
// time.Now).
func NewZeekWriter(w io.Writer, now func() time.Time) *ZeekWriter {
	if now == nil {
		now = time.Now
	}
	return &ZeekWriter{bw: bufio.NewWriter(w), now: now}
}

// zeekStamp is how Zeek writes the time in #open and #close.
const zeekStamp = "2006-01-02-15-04-05"

func (z *ZeekWriter) writeHeader() {
	z.header = true
	names, types := make([]string, len(zeekFields)), make([]string, len(zeekFields))
	for i, f := range zeekFields {
		names[i], types[i] = f.name, f.typ
	}
	fmt.Fprintf(z.bw, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"+
		"#path\tmrtgo_flows\n#open\t%s\n#fields\t%s\n#types\t%s\n",
		z.now().Format(zeekStamp), strings.Join(names, "\t"), strings.Join(types, "\t"))
}

// Write writes f as one line, after the header for the first.
func (z *ZeekWriter) Write(f *flow.Flow) error {
	if !z.header {
		z.writeHeader()
	}
	b := z.line[:0]
	if f.Start.IsZero() {
		b = append(b, '-')
	} else {
		b = zeekTime(b, f.Start)
	}
	b = zeekAddr(append(b, '\t'), f.Src)
	b = strconv.AppendUint(append(b, '\t'), uint64(f.SrcPort), 10)
	b = zeekAddr(append(b, '\t'), f.Dst)
	b = strconv.AppendUint(append(b, '\t'), uint64(f.DstPort), 10)
	b = append(append(b, '\t'), zeekProto(f.Proto)...)
	b = strconv.AppendUint(append(b, '\t'), uint64(f.Proto), 10)
	b = append(b, '\t')
	if f.Start.IsZero() || f.End.IsZero() {
		b = append(b, '-')
	} else {
		b = strconv.AppendFloat(b, f.End.Sub(f.Start).Seconds(), 'f', 6, 64)
	}
	b = strconv.AppendUint(append(b, '\t'), f.Packets, 10)
	b = strconv.AppendUint(append(b, '\t'), f.Bytes, 10)
	b = append(b, '\t')
	if f.Proto == 6 {
		b = zeekString(b, flagLetters(f.TCPFlags))
	} else {
		b = append(b, '-')
	}
	b = zeekString(append(b, '\t'), f.Device)
	b = zeekString(append(b, '\t'), f.In)
	b = zeekString(append(b, '\t'), f.Out)
	b = strconv.AppendUint(append(b, '\t'), uint64(f.InIf), 10)
	b = strconv.AppendUint(append(b, '\t'), uint64(f.OutIf), 10)
	b = zeekAddr(append(b, '\t'), f.Exporter)
	b = append(append(b, '\t'), f.Kind.String()...)
	b = strconv.AppendUint(append(b, '\t'), f.SamplingRate, 10)
	z.line = append(b, '\n')
	_, err := z.bw.Write(z.line)
	return err
}

// Close writes #close (and the header, when no flow came) and flushes.
func (z *ZeekWriter) Close() error {
	if !z.header {
		z.writeHeader()
	}
	fmt.Fprintf(z.bw, "#close\t%s\n", z.now().Format(zeekStamp))
	return z.bw.Flush()
}

func zeekTime(b []byte, t time.Time) []byte {
	us := t.UnixMicro()
	b = strconv.AppendInt(b, us/1e6, 10)
	frac := us % 1e6
	if frac < 0 {
		frac = -frac
	}
	b = append(b, '.')
	s := strconv.FormatInt(frac+1e6, 10) // leading zeros kept
	return append(b, s[1:]...)
}

func zeekAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, '-')
	}
	return a.AppendTo(b)
}

// zeekProto is Zeek's transport_proto enum: tcp, udp, icmp (for ICMPv6 too) or
// unknown_transport.
func zeekProto(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1, 58:
		return "icmp"
	}
	return "unknown_transport"
}

func zeekString(b []byte, s string) []byte {
	switch s {
	case "":
		return append(b, "(empty)"...)
	case "-":
		return append(b, `\x2d`...) // not the unset field
	case "(empty)":
		return append(b, `\x28empty)`...) // not the empty field
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == '\\' {
			b = append(b, fmt.Sprintf(`\x%02x`, c)...)
			continue
		}
		b = append(b, c)
	}
	return b
}
