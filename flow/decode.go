// Package flow turns flow export datagrams (NetFlow v5, NetFlow v9, IPFIX, sFlow v5)
// into normalized records: who sent how many bytes and packets to whom, on which ports
// and protocol, seen on which interface of which exporter, with the exporter's sampling
// rate applied so that flow totals compare with the SNMP octets of the same interface.
//
// Decoding is github.com/netsampler/goflow2/v2's (its decoders and protobuf producer,
// with their NetFlow v9/IPFIX template and sampling-rate bookkeeping per exporter);
// this package keeps it behind Decoder, counts what it could not decode and why, and
// never lets a malformed datagram stop the collector.
package flow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
	"github.com/netsampler/goflow2/v2/decoders/netflowlegacy"
	"github.com/netsampler/goflow2/v2/decoders/sflow"
	flowpb "github.com/netsampler/goflow2/v2/pb"
	"github.com/netsampler/goflow2/v2/producer"
	protoproducer "github.com/netsampler/goflow2/v2/producer/proto"
)

// Kind is the export protocol a record came in.
type Kind uint8

// Export protocols.
const (
	KindUnknown Kind = iota
	NetFlowV5
	NetFlowV9
	IPFIX
	SFlow5
)

func (k Kind) String() string {
	switch k {
	case NetFlowV5:
		return "netflow5"
	case NetFlowV9:
		return "netflow9"
	case IPFIX:
		return "ipfix"
	case SFlow5:
		return "sflow5"
	}
	return "unknown"
}

// Record is one flow, normalized. Bytes and Packets are scaled by SamplingRate: they
// estimate what crossed the interface, not what the exporter counted. A NetFlow or
// IPFIX record counts IP bytes; an sFlow record is one sampled packet whose Bytes is
// the frame's length as the exporter saw it (link header and FCS included, as the
// interface's SNMP octets count them).
type Record struct {
	Received   time.Time // when the datagram arrived
	Start, End time.Time // the flow's first and last packet (Received for sFlow samples)
	Kind       Kind
	Exporter   netip.Addr // the datagram's source address
	Domain     uint32     // observation domain (IPFIX) or source ID (NetFlow v9)
	// SamplingRate is 1 in N packets; 1 when unsampled or unknown.
	SamplingRate uint64
	// InIf and OutIf are ifIndexes on the exporter; 0 when not exported, or, for sFlow,
	// when the sample names no single interface (the device itself, a discard, several).
	InIf, OutIf      uint32
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8 // IP protocol number
	TCPFlags         uint8 // the OR of the flow's TCP flags
	Bytes, Packets   uint64
}

// Stats counts a Decoder's work. Errors are by reason.
type Stats struct {
	Datagrams uint64
	Records   uint64
	// Errors counts datagrams (or parts of them) not decoded, by reason: "short",
	// "version", "malformed", and "template missing": NetFlow v9 and IPFIX data sets
	// dropped because their template did not come within the hold time.
	Errors map[string]uint64
	// Held is the number of data sets waiting for their template now.
	Held int
}

// Defaults of DecoderOptions.
const (
	// DefaultTemplateTimeout is three times the 30 minutes after which routers resend
	// their NetFlow v9 and IPFIX templates by default (those that count packets
	// instead, like pmacct and softflowd, resend far sooner).
	DefaultTemplateTimeout = 90 * time.Minute
	// DefaultHoldTime covers the few datagrams an exporter sends between its templates
	// after a collector's restart; DefaultHoldBytes bounds what that holds.
	DefaultHoldTime  = 10 * time.Second
	DefaultHoldBytes = 256 << 10
)

// DecoderOptions are a Decoder's limits; the zero value of a field is its default.
type DecoderOptions struct {
	// TemplateTimeout forgets a template not sent again within it: its data is then
	// "template missing" until the exporter resends it. Negative: never forgotten.
	TemplateTimeout time.Duration
	// HoldTime is how long a data set whose template is not known yet is held, to be
	// decoded when its template comes, before it is dropped as "template missing".
	// Negative: dropped at once.
	HoldTime time.Duration
	// HoldBytes bounds the data sets held for one exporter; beyond it the oldest are
	// dropped as "template missing".
	HoldBytes int
}

// Decoder decodes datagrams from any number of exporters. NetFlow v9 and IPFIX
// templates and sampling rates are kept per exporter address and port and per
// observation domain, as the protocols define them. It is safe for concurrent use.
type Decoder struct {
	producer producer.ProducerInterface
	opts     DecoderOptions

	mu       sync.Mutex
	sessions map[netip.AddrPort]*session
	stats    Stats
}

// NewDecoder returns a Decoder with no templates known and the default options.
func NewDecoder() *Decoder { return NewDecoderWithOptions(nil) }

// NewDecoderWithOptions returns a Decoder with no templates known; nil options are
// the defaults.
func NewDecoderWithOptions(o *DecoderOptions) *Decoder {
	cfg, err := (&protoproducer.ProducerConfig{}).Compile()
	if err != nil {
		panic(fmt.Sprintf("goflow2 default producer configuration: %v", err)) // static: cannot fail
	}
	p, err := protoproducer.CreateProtoProducer(noCustomFields{cfg}, protoproducer.CreateSamplingSystem)
	if err != nil {
		panic(fmt.Sprintf("goflow2 producer: %v", err))
	}
	var opts DecoderOptions
	if o != nil {
		opts = *o
	}
	if opts.TemplateTimeout == 0 {
		opts.TemplateTimeout = DefaultTemplateTimeout
	}
	if opts.HoldTime == 0 {
		opts.HoldTime = DefaultHoldTime
	}
	if opts.HoldBytes <= 0 {
		opts.HoldBytes = DefaultHoldBytes
	}
	return &Decoder{producer: p, opts: opts, sessions: map[netip.AddrPort]*session{},
		stats: Stats{Errors: map[string]uint64{}}}
}

// noCustomFields is goflow2's producer configuration without custom NetFlow v9 and
// IPFIX field mappings, which mrtgo does not use: goflow2 looks every field of every
// record up in the mapping by a key it formats with fmt.Sprintf, a fifth of the
// decoding time, even when the mapping is empty.
type noCustomFields struct {
	protoproducer.ProtoProducerConfig
}

func (noCustomFields) GetIPFIXMapper() protoproducer.TemplateMapper   { return nil }
func (noCustomFields) GetNetFlowMapper() protoproducer.TemplateMapper { return nil }

// Stats returns a copy of the counts so far.
func (d *Decoder) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stats
	s.Errors = make(map[string]uint64, len(d.stats.Errors))
	for k, v := range d.stats.Errors {
		s.Errors[k] = v
	}
	return s
}

// Error is a datagram, or part of one, that could not be decoded.
type Error struct {
	Exporter netip.AddrPort
	Reason   string // as counted in Stats.Errors
	Err      error
}

func (e *Error) Error() string {
	return fmt.Sprintf("flow datagram from %s: %s: %v", e.Exporter, e.Reason, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Decode decodes one datagram from the exporter at from, received at the given time,
// and calls emit for each record in it. A malformed datagram yields no record and an
// *Error saying why. A NetFlow v9 or IPFIX data set whose template is not known yet
// is held (see DecoderOptions) and its records emitted by the Decode call that brings
// the template, with the time it was received; the rest of its datagram is decoded.
// Time, for template and hold timeouts, is the received times Decode is given.
func (d *Decoder) Decode(payload []byte, from netip.AddrPort, received time.Time, emit func(Record)) error {
	d.count(func(s *Stats) { s.Datagrams++ })
	if len(payload) < 4 {
		return d.fail(from, "short", fmt.Errorf("%d bytes", len(payload)))
	}
	switch version := binary.BigEndian.Uint16(payload); {
	case binary.BigEndian.Uint32(payload) == 5: // sFlow's version is 32 bits
		var p sflow.Packet
		if err := sflow.DecodeMessageVersion(bytes.NewBuffer(payload), &p); err != nil {
			return d.fail(from, "malformed", err)
		}
		return d.produce(&p, from, received, 0, sflowInterfaces(&p), nil, emit)
	case version == 5:
		var p netflowlegacy.PacketNetFlowV5
		if err := netflowlegacy.DecodeMessageVersion(bytes.NewBuffer(payload), &p); err != nil {
			return d.fail(from, "malformed", err)
		}
		return d.produce(&p, from, received, 0, nil, nil, emit)
	case version == 9 || version == 10:
		s := d.session(from)
		s.mu.Lock()
		defer s.mu.Unlock()
		d.expireHeld(s, received)
		return d.decodeTemplated(s, payload, from, received, emit, false)
	default:
		return d.fail(from, "version", fmt.Errorf("export version %d unknown", version))
	}
}

// decodeTemplated decodes a NetFlow v9 or IPFIX message of session s, held locked.
// A replay is a held data set in the message it came in, decoded again once its
// template came: missing its template again, it is dropped, not held again.
func (d *Decoder) decodeTemplated(s *session, payload []byte, from netip.AddrPort, received time.Time, emit func(Record), replay bool) error {
	version := binary.BigEndian.Uint16(payload)
	view := &templateView{s: s, now: received, timeout: max(d.opts.TemplateTimeout, 0)}
	var msg any
	var err error
	var sets []any
	var domain uint32
	var header []byte
	if version == 9 {
		// goflow2 reads as many flow sets as the header's count, which RFC 3954 makes
		// the number of records and softflowd the number of data records: a datagram
		// of four flows behind four templates would lose its data. Every flow set
		// has its length; read them all.
		if len(payload) >= 4 {
			payload = append([]byte(nil), payload...)
			binary.BigEndian.PutUint16(payload[2:], 0xffff)
		}
		var p netflow.NFv9Packet
		err = netflow.DecodeMessageNetFlow(bytes.NewBuffer(payload[2:]), view, &p)
		msg, sets, domain, header = &p, p.FlowSets, p.SourceId, payload[:min(20, len(payload))]
	} else {
		payload = expandOptionsWithdrawals(payload)
		var p netflow.IPFIXPacket
		err = netflow.DecodeMessageIPFIX(bytes.NewBuffer(payload[2:]), view, &p)
		msg, sets, domain, header = &p, p.FlowSets, p.ObservationDomainId, payload[:min(16, len(payload))]
	}
	// A set without its template is not an error: every collector sees some after
	// its own start or an exporter's. The sets before it are produced.
	if err != nil && !errors.Is(err, netflow.ErrorTemplateNotFound) {
		return d.fail(from, "malformed", err)
	}
	if rate, ok := optionsSamplingRate(sets); ok {
		s.rates[domainKey{version, domain}] = rate
	}
	// goflow2's own reading of the rate is keyed by exporter address only, and takes
	// samplingPacketInterval alone for the rate (see optionsSamplingRate).
	rate := max(s.rates[domainKey{version, domain}], 1)
	if init, ok := optionsInitTime(sets); ok {
		s.inits[domainKey{version, domain}] = init
	}
	times := recordTimes(sets, version, s.inits[domainKey{version, domain}])
	if err := d.produce(msg, from, received, rate, nil, times, emit); err != nil {
		return err
	}
	for _, set := range sets {
		if raw, ok := set.(netflow.RawFlowSet); ok && raw.Id >= 256 {
			d.hold(s, heldSet{key: templateKey{version, domain, raw.Id}, header: header, received: received,
				set: binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, raw.Id), raw.Length)}, raw.Records, replay)
		}
	}
	if !replay {
		d.replay(s, view.added, from, emit)
	}
	return nil
}

// produce hands a decoded message to goflow2's producer and emits its records: scaled
// by rate unless it is 0 (goflow2's rate then), the sFlow interfaces ifs (by sample)
// in place of goflow2's, and the start and end times (Unix nanoseconds, by record;
// 0 keeps goflow2's) of times.
func (d *Decoder) produce(msg any, from netip.AddrPort, received time.Time, rate uint64, ifs [][2]uint32, times [][2]uint64, emit func(Record)) error {
	args := producer.ProduceArgs{Src: from, TimeReceived: received, SamplerAddress: from.Addr()}
	set, err := d.producer.Produce(msg, &args)
	defer d.producer.Commit(set)
	n := 0
	for _, m := range set {
		pm, ok := m.(*protoproducer.ProtoProducerMessage)
		if !ok {
			continue
		}
		if rate > 0 {
			pm.FlowMessage.SamplingRate = rate
		}
		r := record(&pm.FlowMessage, from.Addr())
		if n < len(ifs) {
			r.InIf, r.OutIf = ifs[n][0], ifs[n][1]
		}
		if n < len(times) {
			if t := times[n][0]; t > 0 {
				r.Start = time.Unix(0, int64(t))
			}
			if t := times[n][1]; t > 0 {
				r.End = time.Unix(0, int64(t))
			}
		}
		emit(r)
		n++
	}
	d.count(func(s *Stats) { s.Records += uint64(n) })
	if err != nil {
		return d.fail(from, "malformed", err)
	}
	return nil
}

func (d *Decoder) session(from netip.AddrPort) *session {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.sessions[from]
	if !ok {
		s = newSession()
		d.sessions[from] = s
	}
	return s
}

// sflowInterfaces returns the input and output ifIndex of each flow sample of p, in
// the order goflow2 produces their messages. sFlow version 5 gives each a format beside
// its value (the "interface" type of the specification): format 0 is an ifIndex, where
// 0x3FFFFFFF means the device itself and 0 unknown; format 1 a discard reason; format
// 2 a count of output interfaces. Only a real ifIndex is kept; the others are 0, as
// for an exporter that sends none, so they never pass for interfaces 1073741823 or 2.
func sflowInterfaces(p *sflow.Packet) [][2]uint32 {
	var out [][2]uint32
	for _, s := range p.Samples {
		switch s := s.(type) {
		case sflow.FlowSample:
			out = append(out, [2]uint32{sflowIfIndex(s.Input>>30, s.Input&0x3fffffff),
				sflowIfIndex(s.Output>>30, s.Output&0x3fffffff)})
		case sflow.ExpandedFlowSample:
			out = append(out, [2]uint32{sflowIfIndex(s.InputIfFormat, s.InputIfValue),
				sflowIfIndex(s.OutputIfFormat, s.OutputIfValue)})
		}
	}
	return out
}

func sflowIfIndex(format, value uint32) uint32 {
	if format != 0 || value == 0x3fffffff {
		return 0
	}
	return value
}

func (d *Decoder) count(f func(*Stats)) {
	d.mu.Lock()
	f(&d.stats)
	d.mu.Unlock()
}

func (d *Decoder) fail(from netip.AddrPort, reason string, err error) error {
	d.count(func(s *Stats) { s.Errors[reason]++ })
	return &Error{Exporter: from, Reason: reason, Err: err}
}

// record normalizes one of goflow2's messages.
func record(m *flowpb.FlowMessage, exporter netip.Addr) Record {
	r := Record{
		Received: time.Unix(0, int64(m.TimeReceivedNs)),
		Start:    time.Unix(0, int64(m.TimeFlowStartNs)),
		End:      time.Unix(0, int64(m.TimeFlowEndNs)),
		Exporter: exporter.Unmap(),
		Domain:   m.ObservationDomainId,
		InIf:     m.InIf, OutIf: m.OutIf,
		SrcPort: uint16(m.SrcPort), DstPort: uint16(m.DstPort),
		Proto: uint8(m.Proto), TCPFlags: uint8(m.TcpFlags),
		SamplingRate: max(m.SamplingRate, 1),
	}
	switch m.Type {
	case flowpb.FlowMessage_NETFLOW_V5:
		r.Kind = NetFlowV5
	case flowpb.FlowMessage_NETFLOW_V9:
		r.Kind = NetFlowV9
	case flowpb.FlowMessage_IPFIX:
		r.Kind = IPFIX
	case flowpb.FlowMessage_SFLOW_5:
		r.Kind = SFlow5
	}
	r.Src, _ = netip.AddrFromSlice(m.SrcAddr)
	r.Dst, _ = netip.AddrFromSlice(m.DstAddr)
	r.Src, r.Dst = r.Src.Unmap(), r.Dst.Unmap()
	r.Bytes = m.Bytes * r.SamplingRate
	r.Packets = m.Packets * r.SamplingRate
	// ICMP's type and code in the destination port, as NetFlow v5 carries them and
	// nfdump shows them for every export (type*256 + code: 2048 is an echo request).
	if (r.Proto == 1 || r.Proto == 58) && r.DstPort == 0 && r.SrcPort == 0 {
		r.DstPort = uint16(m.IcmpType)<<8 | uint16(m.IcmpCode)
	}
	return r
}

// recordTimes reads, for each data record of a NetFlow v9 or IPFIX message in the
// order goflow2 produces them, the flow's start and end in Unix nanoseconds where
// goflow2 leaves the export time: in NetFlow v9, IPFIX's absolute elements 150-157
// (which pmacct and others use in v9 too; goflow2 reads v9's uptime-relative
// FIRST_SWITCHED and LAST_SWITCHED only); in IPFIX, flowStartSysUpTime and
// flowEndSysUpTime (22, 21) from the exporter's announced systemInitTimeMilliseconds
// (initMs, 0 when not announced), as softflowd exports them. Nil when no record has
// any.
func recordTimes(sets []any, version uint16, initMs uint64) [][2]uint64 {
	var out [][2]uint64
	found := false
	for _, set := range sets {
		ds, ok := set.(netflow.DataFlowSet)
		if !ok {
			continue
		}
		for _, rec := range ds.Records {
			var t [2]uint64
			for _, f := range rec.Values {
				v, ok := f.Value.([]byte)
				if !ok || f.PenProvided {
					continue
				}
				switch {
				case version == 9:
					if ns, side, ok := absoluteTime(f.Type, v); ok {
						t[side] = ns
						found = true
					}
				case (f.Type == 21 || f.Type == 22) && initMs > 0 && len(v) <= 8:
					var up uint64
					for _, b := range v {
						up = up<<8 | uint64(b)
					}
					t[22-f.Type] = (initMs + up) * 1e6
					found = true
				}
			}
			out = append(out, t)
		}
	}
	if !found {
		return nil
	}
	return out
}

// absoluteTime decodes one of IPFIX's absolute flow times: flowStart/EndSeconds (150,
// 151), Milliseconds (152, 153), Microseconds (154, 155, NTP format) and Nanoseconds
// (156, 157, NTP format). side is 0 for a start, 1 for an end.
func absoluteTime(element uint16, v []byte) (ns uint64, side int, ok bool) {
	if element < 150 || element > 157 || len(v) == 0 || len(v) > 8 {
		return 0, 0, false
	}
	var u uint64
	for _, b := range v {
		u = u<<8 | uint64(b)
	}
	side = int(element-150) % 2
	switch element {
	case 150, 151:
		ns = u * 1e9
	case 152, 153:
		ns = u * 1e6
	default: // NTP: seconds since 1900 and a binary fraction
		const ntpToUnix = 2208988800
		secs := u >> 32
		if secs < ntpToUnix {
			return 0, 0, false
		}
		ns = (secs-ntpToUnix)*1e9 + (u&0xffffffff)*1e9>>32
	}
	return ns, side, ns > 0
}
