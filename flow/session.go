package flow

import (
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

// A session is what a Decoder keeps of one exporter (address and port: an IPFIX
// transport session over UDP, a NetFlow v9 exporter): its templates and sampling
// rates, each by version and observation domain, and the data sets held for a
// template not seen yet.
type session struct {
	mu        sync.Mutex
	templates map[templateKey]template
	rates     map[domainKey]uint64
	inits     map[domainKey]uint64 // systemInitTimeMilliseconds announced, by domain
	held      []heldSet
	heldBytes int
}

type templateKey struct {
	version uint16
	domain  uint32
	id      uint16
}

type domainKey struct {
	version uint16
	domain  uint32
}

type template struct {
	t         any // a netflow.TemplateRecord, IPFIXOptionsTemplateRecord or NFv9OptionsTemplateRecord
	refreshed time.Time
}

func newSession() *session {
	return &session{templates: map[templateKey]template{}, rates: map[domainKey]uint64{}, inits: map[domainKey]uint64{}}
}

// errEmptyTemplate is a NetFlow v9 template whose records would take no bytes:
// goflow2 would decode records of it from a data set for ever.
var errEmptyTemplate = errors.New("template of records without length")

// templateView is the session's templates as goflow2 sees them while it decodes one
// datagram received at now. It counts the data sets whose template it did not have,
// forgets templates not refreshed within timeout, and takes an IPFIX template record
// without fields as a withdrawal (RFC 7011, 8.1).
type templateView struct {
	s       *session
	now     time.Time
	timeout time.Duration // 0: templates never expire
	missed  int
	added   []templateKey
}

var _ netflow.NetFlowTemplateSystem = (*templateView)(nil)

func (v *templateView) GetTemplate(version uint16, domain uint32, id uint16) (any, error) {
	k := templateKey{version, domain, id}
	t, ok := v.s.templates[k]
	if ok && v.timeout > 0 && v.now.Sub(t.refreshed) > v.timeout {
		delete(v.s.templates, k)
		ok = false
	}
	if !ok {
		v.missed++
		return nil, netflow.ErrorTemplateNotFound
	}
	return t.t, nil
}

func (v *templateView) AddTemplate(version uint16, domain uint32, id uint16, tmpl any) error {
	var fields []netflow.Field
	_, options := tmpl.(netflow.IPFIXOptionsTemplateRecord)
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
	if size > 0 {
		k := templateKey{version, domain, id}
		v.s.templates[k] = template{tmpl, v.now}
		v.added = append(v.added, k)
		return nil
	}
	switch {
	case version == 10 && (id == 2 && !options || id == 3 && options):
		// Every template (set 2) or options template (set 3) of the domain withdrawn.
		for k, t := range v.s.templates {
			if _, isOptions := t.t.(netflow.IPFIXOptionsTemplateRecord); k.version == 10 && k.domain == domain && isOptions == options {
				delete(v.s.templates, k)
			}
		}
	case id < 256:
		// Padding at the end of a set, read as a record: not a template.
	case version == 10:
		delete(v.s.templates, templateKey{version, domain, id})
	default:
		return errEmptyTemplate
	}
	return nil
}

func (v *templateView) RemoveTemplate(version uint16, domain uint32, id uint16) (any, error) {
	k := templateKey{version, domain, id}
	t, ok := v.s.templates[k]
	if !ok {
		return nil, netflow.ErrorTemplateNotFound
	}
	delete(v.s.templates, k)
	return t.t, nil
}

func (v *templateView) GetTemplates() netflow.FlowBaseTemplateSet {
	out := netflow.FlowBaseTemplateSet{}
	for k, t := range v.s.templates {
		out[uint64(k.version)<<48|uint64(k.domain)<<16|uint64(k.id)] = t.t
	}
	return out
}

// expandOptionsWithdrawals returns an IPFIX message whose options template
// withdrawals (a 4-byte record: template id, field count 0) carry the scope field
// count goflow2 reads from every options template record, so that it sees them as
// options templates without fields instead of misreading the rest of the set. A
// message with none is returned as it is; one that does not parse is left to goflow2.
func expandOptionsWithdrawals(msg []byte) []byte {
	if len(msg) < 16 || int(binary.BigEndian.Uint16(msg[2:])) != len(msg) {
		return msg
	}
	var out []byte // nil until a withdrawal is found
	for at := 16; at+4 <= len(msg); {
		id, n := binary.BigEndian.Uint16(msg[at:]), int(binary.BigEndian.Uint16(msg[at+2:]))
		if n < 4 || at+n > len(msg) {
			return msg
		}
		set := msg[at : at+n]
		at += n
		if id != 3 {
			out = appendIf(out, set)
			continue
		}
		body, changed := []byte(nil), false
		for r := 4; r+4 <= len(set); {
			count := int(binary.BigEndian.Uint16(set[r+2:]))
			if count == 0 {
				body = append(append(body, set[r:r+4]...), 0, 0)
				r += 4
				changed = true
				continue
			}
			if r+6 > len(set) {
				return msg
			}
			end := r + 6
			for range count {
				if end+4 > len(set) {
					return msg
				}
				if set[end]&0x80 != 0 { // enterprise number follows
					end += 4
				}
				end += 4
			}
			if end > len(set) {
				return msg
			}
			body = append(body, set[r:end]...)
			r = end
		}
		if !changed {
			out = appendIf(out, set)
			continue
		}
		if out == nil {
			out = append([]byte(nil), msg[:at-n]...)
		}
		if len(out)+4+len(body) > math.MaxUint16 {
			return msg
		}
		out = binary.BigEndian.AppendUint16(out, 3)
		out = binary.BigEndian.AppendUint16(out, uint16(4+len(body)))
		out = append(out, body...)
	}
	if out == nil {
		return msg
	}
	binary.BigEndian.PutUint16(out[2:], uint16(len(out)))
	return out
}

// appendIf appends b to out once out is being built (non-nil).
func appendIf(out, b []byte) []byte {
	if out == nil {
		return nil
	}
	return append(out, b...)
}

// optionsSamplingRate reads the sampling rate that an exporter announces in options
// data: 1 in N packets. Elements, by the IANA IPFIX registry (NetFlow v9 shares the
// numbers below 128): samplingPacketInterval (305) packets taken then
// samplingPacketSpace (306) skipped is 1 in (305+306)/305; samplingSize (309) of
// samplingPopulation (310) is 1 in 310/309; samplingProbability (311) is 1 in 1/p;
// samplerRandomInterval (50) and samplingInterval (34) are N. goflow2 reads 305
// alone as N, which makes softflowd's "1 taken, 9 skipped" a rate of 1: 305 alone
// still counts as N here, as an exporter that sends no 306 means it so.
func optionsSamplingRate(sets []any) (uint64, bool) {
	for _, s := range sets {
		ods, ok := s.(netflow.OptionsDataFlowSet)
		if !ok {
			continue
		}
		for _, r := range ods.Records {
			v := map[uint16][]byte{}
			for _, f := range r.OptionsValues {
				if b, ok := f.Value.([]byte); ok && !f.PenProvided {
					v[f.Type] = b
				}
			}
			unsigned := func(id uint16) (uint64, bool) {
				b, ok := v[id]
				if !ok || len(b) == 0 || len(b) > 8 {
					return 0, false
				}
				var n uint64
				for _, c := range b {
					n = n<<8 | uint64(c)
				}
				return n, true
			}
			if taken, ok := unsigned(305); ok && taken > 0 {
				if skipped, ok := unsigned(306); ok {
					return (taken + skipped) / taken, true
				}
				return taken, true
			}
			if size, ok := unsigned(309); ok && size > 0 {
				if population, ok := unsigned(310); ok && population >= size {
					return population / size, true
				}
			}
			if b := v[311]; len(b) == 8 || len(b) == 4 {
				p := float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
				if len(b) == 8 {
					p = math.Float64frombits(binary.BigEndian.Uint64(b))
				}
				if p > 0 && p <= 1 {
					return uint64(math.Round(1 / p)), true
				}
			}
			for _, id := range []uint16{50, 34} {
				if n, ok := unsigned(id); ok && n > 0 {
					return n, true
				}
			}
		}
	}
	return 0, false
}

// heldSet is a data set that came before its template, with what decoding it later
// needs: the header of the message it came in and when it was received.
type heldSet struct {
	key      templateKey
	header   []byte
	set      []byte // its set header, then its records
	received time.Time
}

func (h heldSet) size() int { return len(h.header) + len(h.set) }

// message is the held set alone in a copy of the message it came in.
func (h heldSet) message() []byte {
	b := append(append([]byte(nil), h.header...), h.set...)
	if h.key.version == 9 {
		binary.BigEndian.PutUint16(b[2:], 1) // one set
	} else {
		binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	}
	return b
}

// hold keeps a copy of a data set (set header h.set, then records) whose template is
// missing, within the Decoder's limits; what they leave out is dropped and counted.
func (d *Decoder) hold(s *session, h heldSet, records []byte, replay bool) {
	if replay || d.opts.HoldTime < 0 || len(h.header) < 16 || len(h.set)+len(records) > math.MaxUint16 {
		d.count(func(st *Stats) { st.Errors["template missing"]++ })
		return
	}
	h.header = append([]byte(nil), h.header...)
	h.set = append(h.set, records...)
	binary.BigEndian.PutUint16(h.set[2:], uint16(len(h.set)))
	dropped := 0
	for len(s.held) > 0 && s.heldBytes+h.size() > d.opts.HoldBytes {
		s.heldBytes -= s.held[0].size()
		s.held = s.held[1:]
		dropped++
	}
	if h.size() > d.opts.HoldBytes {
		dropped++
	} else {
		s.held = append(s.held, h)
		s.heldBytes += h.size()
	}
	d.count(func(st *Stats) {
		if dropped > 0 {
			st.Errors["template missing"] += uint64(dropped)
		}
		st.Held += 1 - dropped
	})
}

// replay decodes the sets held for the templates just added, in the order they came.
func (d *Decoder) replay(s *session, added []templateKey, from netip.AddrPort, emit func(Record)) {
	if len(added) == 0 || len(s.held) == 0 {
		return
	}
	var now []heldSet
	keep := s.held[:0:0]
	for _, h := range s.held {
		if slices.Contains(added, h.key) {
			now = append(now, h)
			s.heldBytes -= h.size()
		} else {
			keep = append(keep, h)
		}
	}
	s.held = keep
	d.count(func(st *Stats) { st.Held -= len(now) })
	for _, h := range now {
		// The set was whole when it came; an error now is the template's, counted.
		_ = d.decodeTemplated(s, h.message(), from, h.received, emit, true)
	}
}

// expireHeld drops, as "template missing", the sets of s held longer than the hold
// time at now.
func (d *Decoder) expireHeld(s *session, now time.Time) {
	n := 0
	for n < len(s.held) && now.Sub(s.held[n].received) > d.opts.HoldTime {
		s.heldBytes -= s.held[n].size()
		n++
	}
	if n == 0 {
		return
	}
	s.held = s.held[n:]
	d.count(func(st *Stats) {
		st.Errors["template missing"] += uint64(n)
		st.Held -= n
	})
}

// Expire drops, as "template missing", the data sets of every exporter held longer
// than the hold time at now: a Collector calls it on a clock, so that the sets of an
// exporter that fell silent are counted too.
func (d *Decoder) Expire(now time.Time) {
	d.mu.Lock()
	sessions := make([]*session, 0, len(d.sessions))
	for _, s := range d.sessions {
		sessions = append(sessions, s)
	}
	d.mu.Unlock()
	for _, s := range sessions {
		s.mu.Lock()
		d.expireHeld(s, now)
		s.mu.Unlock()
	}
}

// optionsInitTime reads systemInitTimeMilliseconds (160), the Unix time in
// milliseconds of the exporter's last start, from options data: the base of the
// flowStartSysUpTime and flowEndSysUpTime (22, 21) of its records, as softflowd
// exports them in IPFIX.
func optionsInitTime(sets []any) (uint64, bool) {
	for _, s := range sets {
		ods, ok := s.(netflow.OptionsDataFlowSet)
		if !ok {
			continue
		}
		for _, r := range ods.Records {
			for _, f := range r.OptionsValues {
				if b, ok := f.Value.([]byte); ok && !f.PenProvided && f.Type == 160 && len(b) == 8 {
					return binary.BigEndian.Uint64(b), true
				}
			}
		}
	}
	return 0, false
}
