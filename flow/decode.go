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
	"github.com/netsampler/goflow2/v2/utils/templates"
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
	// "version", "template missing" (data before its template), "malformed".
	Errors map[string]uint64
}

// Decoder decodes datagrams from any number of exporters. NetFlow v9 and IPFIX templates
// and sampling rates are kept per exporter address and port (and, inside goflow2, per
// observation domain), as the protocols define them. It is safe for concurrent use.
type Decoder struct {
	producer producer.ProducerInterface

	mu        sync.Mutex
	templates map[netip.AddrPort]netflow.NetFlowTemplateSystem
	stats     Stats
}

// NewDecoder returns a Decoder with no templates known.
func NewDecoder() *Decoder {
	cfg, err := (&protoproducer.ProducerConfig{}).Compile()
	if err != nil {
		panic(fmt.Sprintf("goflow2 default producer configuration: %v", err)) // static: cannot fail
	}
	p, err := protoproducer.CreateProtoProducer(cfg, protoproducer.CreateSamplingSystem)
	if err != nil {
		panic(fmt.Sprintf("goflow2 producer: %v", err))
	}
	return &Decoder{producer: p, templates: map[netip.AddrPort]netflow.NetFlowTemplateSystem{},
		stats: Stats{Errors: map[string]uint64{}}}
}

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
// *Error saying why; a NetFlow v9 or IPFIX data set whose template is not known yet is
// skipped and counted in Stats.Errors["template missing"], the rest of its datagram
// decoded.
func (d *Decoder) Decode(payload []byte, from netip.AddrPort, received time.Time, emit func(Record)) error {
	d.count(func(s *Stats) { s.Datagrams++ })
	if len(payload) < 4 {
		return d.fail(from, "short", fmt.Errorf("%d bytes", len(payload)))
	}
	args := producer.ProduceArgs{Src: from, TimeReceived: received, SamplerAddress: from.Addr()}
	var msg any
	var sflowIfs [][2]uint32 // input and output ifIndex of each sFlow flow sample, in order
	switch version := binary.BigEndian.Uint16(payload); {
	case binary.BigEndian.Uint32(payload) == 5: // sFlow's version is 32 bits
		var p sflow.Packet
		if err := sflow.DecodeMessageVersion(bytes.NewBuffer(payload), &p); err != nil {
			return d.fail(from, "malformed", err)
		}
		msg = &p
		sflowIfs = sflowInterfaces(&p)
	case version == 5:
		var p netflowlegacy.PacketNetFlowV5
		if err := netflowlegacy.DecodeMessageVersion(bytes.NewBuffer(payload), &p); err != nil {
			return d.fail(from, "malformed", err)
		}
		msg = &p
	case version == 9 || version == 10:
		// goflow2 skips a data set whose template it has not seen (it arrived first, or
		// the exporter restarted): counting lookups that miss says how many.
		ts := &countingTemplates{NetFlowTemplateSystem: d.templateSystem(from)}
		var err error
		if version == 9 {
			var p netflow.NFv9Packet
			err = netflow.DecodeMessageNetFlow(bytes.NewBuffer(payload[2:]), ts, &p)
			msg = &p
		} else {
			var p netflow.IPFIXPacket
			err = netflow.DecodeMessageIPFIX(bytes.NewBuffer(payload[2:]), ts, &p)
			msg = &p
		}
		if ts.missed > 0 {
			d.count(func(s *Stats) { s.Errors["template missing"] += uint64(ts.missed) })
		}
		// A set without its template is counted, not an error: every collector sees
		// some after its own start or an exporter's. The sets before it are produced.
		if err != nil && !errors.Is(err, netflow.ErrorTemplateNotFound) {
			return d.fail(from, "malformed", err)
		}
	default:
		return d.fail(from, "version", fmt.Errorf("export version %d unknown", version))
	}
	set, err := d.producer.Produce(msg, &args)
	defer d.producer.Commit(set)
	n := 0
	for _, m := range set {
		pm, ok := m.(*protoproducer.ProtoProducerMessage)
		if !ok {
			continue
		}
		r := record(&pm.FlowMessage, from.Addr())
		if r.Kind == SFlow5 && n < len(sflowIfs) {
			r.InIf, r.OutIf = sflowIfs[n][0], sflowIfs[n][1]
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

// errEmptyTemplate is a template whose records would take no bytes: goflow2 would
// decode records of it from a data set for ever.
var errEmptyTemplate = errors.New("template of records without length")

// countingTemplates counts the template lookups of one datagram that found nothing,
// and refuses templates whose records have no length.
type countingTemplates struct {
	netflow.NetFlowTemplateSystem
	missed int
}

func (t *countingTemplates) GetTemplate(version uint16, domain uint32, id uint16) (any, error) {
	tmpl, err := t.NetFlowTemplateSystem.GetTemplate(version, domain, id)
	if errors.Is(err, netflow.ErrorTemplateNotFound) {
		t.missed++
	}
	return tmpl, err
}

func (t *countingTemplates) AddTemplate(version uint16, domain uint32, id uint16, tmpl any) error {
	var fields []netflow.Field
	switch r := tmpl.(type) {
	case netflow.TemplateRecord:
		fields = r.Fields
	case netflow.IPFIXOptionsTemplateRecord:
		fields = append(append(fields, r.Scopes...), r.Options...)
	case netflow.NFv9OptionsTemplateRecord:
		fields = append(append(fields, r.Scopes...), r.Options...)
	}
	size := 0
	for _, f := range fields {
		size += int(f.Length) // a variable length (65535) counts as more than zero
	}
	if size == 0 {
		return errEmptyTemplate
	}
	return t.NetFlowTemplateSystem.AddTemplate(version, domain, id, tmpl)
}

func (d *Decoder) templateSystem(from netip.AddrPort) netflow.NetFlowTemplateSystem {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.templates[from]
	if !ok {
		t = templates.DefaultTemplateGenerator(from.String())
		d.templates[from] = t
	}
	return t
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
	return r
}
