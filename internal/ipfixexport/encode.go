// Package ipfixexport encodes flow records as IPFIX messages (RFC 7011) and sends them
// over UDP, as a router's exporting process does: one observation domain per exporter,
// sequence numbers counting its data records, the templates sent first and again every
// so many messages or seconds (a collector that starts late, or loses a datagram, must
// learn them again), and messages small enough not to be fragmented.
//
// It knows nothing of where the records come from; the simulated network of package
// snmpsim feeds it for the demo and for tests of the collector.
package ipfixexport

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// Record is one flow to export.
type Record struct {
	Src, Dst         netip.Addr // both IPv4 or both IPv6
	SrcPort, DstPort uint16
	Proto            uint8
	TCPFlags         uint8
	Bytes, Packets   uint64
	InIf, OutIf      uint32 // ingressInterface, egressInterface; 0 for none
	Start, End       time.Time
}

// Options tunes an Encoder. A nil *Options means all defaults.
type Options struct {
	// MaxMessageSize bounds each message in octets; 0 means DefaultMaxMessageSize.
	// It must leave room for the templates and one record (at least 256).
	MaxMessageSize int
	// TemplateEvery puts the templates in one message of every TemplateEvery at
	// least; 0 means DefaultTemplateEvery, 1 every message.
	TemplateEvery int
	// TemplateInterval sends the templates again in the first message this long (by
	// export time) after they were last sent; 0 means DefaultTemplateInterval.
	TemplateInterval time.Duration
}

// Defaults of Options.
const (
	// DefaultMaxMessageSize keeps a message and its IP and UDP headers inside a
	// 1500-octet Ethernet MTU, with room for tunnels.
	DefaultMaxMessageSize = 1400
	// DefaultTemplateEvery and DefaultTemplateInterval are the refresh of Cisco's
	// and Juniper's exporters, roughly: a collector that missed the templates loses
	// at most this much.
	DefaultTemplateEvery    = 20
	DefaultTemplateInterval = time.Minute
)

// Template IDs: data sets name the template of their records.
const (
	TemplateIPv4 = 256
	TemplateIPv6 = 257
)

// Information elements (IANA IPFIX registry) of the two templates.
const (
	ieOctetDeltaCount          = 1
	iePacketDeltaCount         = 2
	ieProtocolIdentifier       = 4
	ieTCPControlBits           = 6
	ieSourceTransportPort      = 7
	ieSourceIPv4Address        = 8
	ieIngressInterface         = 10
	ieDestinationTransportPort = 11
	ieDestinationIPv4Address   = 12
	ieEgressInterface          = 14
	ieSourceIPv6Address        = 27
	ieDestinationIPv6Address   = 28
	ieFlowStartMilliseconds    = 152
	ieFlowEndMilliseconds      = 153
)

type field struct{ id, length uint16 }

// templateFields lists a template's fields in record order; the address fields are
// the family's.
func templateFields(v6 bool) []field {
	src, dst := field{ieSourceIPv4Address, 4}, field{ieDestinationIPv4Address, 4}
	if v6 {
		src, dst = field{ieSourceIPv6Address, 16}, field{ieDestinationIPv6Address, 16}
	}
	return []field{
		src, dst,
		{ieSourceTransportPort, 2}, {ieDestinationTransportPort, 2},
		{ieProtocolIdentifier, 1},
		{ieTCPControlBits, 2}, // unsigned16 since RFC 7125
		{ieOctetDeltaCount, 8}, {iePacketDeltaCount, 8},
		{ieIngressInterface, 4}, {ieEgressInterface, 4},
		{ieFlowStartMilliseconds, 8}, {ieFlowEndMilliseconds, 8},
	}
}

// recordSize is the octets of one data record of the family.
func recordSize(v6 bool) int {
	n := 0
	for _, f := range templateFields(v6) {
		n += int(f.length)
	}
	return n
}

const (
	headerSize    = 16
	setHeaderSize = 4
	setTemplate   = 2
	version       = 10
)

// templateSet is the template set announcing both templates.
var templateSet = func() []byte {
	b := []byte{0, setTemplate, 0, 0}
	for _, t := range []struct {
		id uint16
		v6 bool
	}{{TemplateIPv4, false}, {TemplateIPv6, true}} {
		fs := templateFields(t.v6)
		b = binary.BigEndian.AppendUint16(b, t.id)
		b = binary.BigEndian.AppendUint16(b, uint16(len(fs)))
		for _, f := range fs {
			b = binary.BigEndian.AppendUint16(b, f.id)
			b = binary.BigEndian.AppendUint16(b, f.length)
		}
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}()

// Encoder turns records into the IPFIX messages of one observation domain. It keeps
// the domain's sequence number and when the templates were last sent, so one Encoder
// serves one exporter's stream. It is not safe for concurrent use.
type Encoder struct {
	domain        uint32
	max           int
	every         int
	interval      time.Duration
	seq           uint32    // data records sent so far, modulo 2^32
	sinceTemplate int       // messages since the last with templates
	lastTemplate  time.Time // export time of that message; zero: never sent
}

// NewEncoder returns an Encoder for the observation domain, which has sent nothing.
func NewEncoder(domain uint32, o *Options) (*Encoder, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.MaxMessageSize == 0 {
		opts.MaxMessageSize = DefaultMaxMessageSize
	}
	if opts.TemplateEvery == 0 {
		opts.TemplateEvery = DefaultTemplateEvery
	}
	if opts.TemplateInterval == 0 {
		opts.TemplateInterval = DefaultTemplateInterval
	}
	if minSize := headerSize + len(templateSet) + setHeaderSize + recordSize(true); opts.MaxMessageSize < minSize || opts.MaxMessageSize > 65535 {
		return nil, fmt.Errorf("ipfix max message size %d: want %d to 65535", opts.MaxMessageSize, minSize)
	}
	if opts.TemplateEvery < 0 || opts.TemplateInterval < 0 {
		return nil, fmt.Errorf("ipfix template refresh: negative")
	}
	return &Encoder{domain: domain, max: opts.MaxMessageSize, every: opts.TemplateEvery, interval: opts.TemplateInterval}, nil
}

// Sequence is the number of data records encoded so far, modulo 2^32: the sequence
// number of the next message.
func (e *Encoder) Sequence() uint32 { return e.seq }

// Encode returns the messages that carry recs, exported at now, in order: IPv4
// records first, then IPv6, each family's in the order given. Templates open the
// first message ever and any message due for a refresh. No records, no messages. A
// record whose addresses are not both IPv4 or both IPv6 is an error, and nothing is
// encoded.
func (e *Encoder) Encode(now time.Time, recs []Record) ([][]byte, error) {
	for i := range recs {
		if !recs[i].Src.IsValid() || !recs[i].Dst.IsValid() || recs[i].Src.Is4() != recs[i].Dst.Is4() {
			return nil, fmt.Errorf("ipfix record %d: addresses %v and %v are not of one family", i, recs[i].Src, recs[i].Dst)
		}
	}
	var msgs [][]byte
	var msg []byte
	set := -1    // offset of the open data set in msg; -1 none
	records := 0 // data records in msg
	open := func() {
		msg = make([]byte, headerSize, e.max)
		binary.BigEndian.PutUint16(msg[0:], version)
		binary.BigEndian.PutUint32(msg[4:], uint32(now.Unix()))
		binary.BigEndian.PutUint32(msg[8:], e.seq)
		binary.BigEndian.PutUint32(msg[12:], e.domain)
		if e.templateDue(now) {
			msg = append(msg, templateSet...)
			e.sinceTemplate, e.lastTemplate = 0, now
		} else {
			e.sinceTemplate++
		}
		set, records = -1, 0
	}
	closeSet := func() {
		if set >= 0 {
			binary.BigEndian.PutUint16(msg[set+2:], uint16(len(msg)-set))
			set = -1
		}
	}
	flush := func() {
		closeSet()
		binary.BigEndian.PutUint16(msg[2:], uint16(len(msg)))
		msgs = append(msgs, msg)
		e.seq += uint32(records)
		msg = nil
	}
	for _, v6 := range []bool{false, true} {
		id, size := uint16(TemplateIPv4), recordSize(v6)
		if v6 {
			id = TemplateIPv6
		}
		for i := range recs {
			r := &recs[i]
			if r.Src.Is4() == v6 {
				continue
			}
			if msg != nil {
				need := size
				if set < 0 {
					need += setHeaderSize
				}
				if len(msg)+need > e.max {
					flush()
				}
			}
			if msg == nil {
				open()
			}
			if set < 0 {
				set = len(msg)
				msg = binary.BigEndian.AppendUint16(msg, id)
				msg = append(msg, 0, 0)
			}
			msg = appendRecord(msg, r)
			records++
		}
		closeSet()
	}
	if msg != nil {
		flush()
	}
	return msgs, nil
}

// templateDue reports whether the next message must carry the templates.
func (e *Encoder) templateDue(now time.Time) bool {
	return e.lastTemplate.IsZero() || e.sinceTemplate+1 >= e.every || now.Sub(e.lastTemplate) >= e.interval
}

// appendRecord appends r in the field order of templateFields.
func appendRecord(b []byte, r *Record) []byte {
	if r.Src.Is4() {
		s, d := r.Src.As4(), r.Dst.As4()
		b = append(append(b, s[:]...), d[:]...)
	} else {
		s, d := r.Src.As16(), r.Dst.As16()
		b = append(append(b, s[:]...), d[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, r.SrcPort)
	b = binary.BigEndian.AppendUint16(b, r.DstPort)
	b = append(b, r.Proto)
	b = binary.BigEndian.AppendUint16(b, uint16(r.TCPFlags))
	b = binary.BigEndian.AppendUint64(b, r.Bytes)
	b = binary.BigEndian.AppendUint64(b, r.Packets)
	b = binary.BigEndian.AppendUint32(b, r.InIf)
	b = binary.BigEndian.AppendUint32(b, r.OutIf)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Start.UnixMilli()))
	return binary.BigEndian.AppendUint64(b, uint64(r.End.UnixMilli()))
}
