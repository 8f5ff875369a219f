package snmpsim

import (
	"github.com/gosnmp/gosnmp"
)

// Limits that keep one request from making the agent build a huge response.
const (
	maxRepetitions  = 1000
	maxBulkVarbinds = 10000
)

// handle answers one request datagram; nil means no answer (silent mode,
// wrong community, undecodable or unsupported message).
func (a *Agent) handle(msg []byte) []byte {
	req, err := a.decoder.SnmpDecodePacket(msg)
	if err != nil {
		a.log.Debug("decode request", "err", err)
		return nil
	}
	if req.Version != gosnmp.Version1 && req.Version != gosnmp.Version2c {
		return nil
	}
	if req.Community != a.dev.Community {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.silent {
		return nil
	}
	now := a.now()
	r := &request{now: now, uptime: ticks(now.Sub(a.boot)), cachePos: -1}
	v1 := req.Version == gosnmp.Version1
	resp := &gosnmp.SnmpPacket{
		Version:   req.Version,
		Community: req.Community,
		PDUType:   gosnmp.GetResponse,
		RequestID: req.RequestID,
	}
	switch req.PDUType {
	case gosnmp.GetRequest:
		a.get(r, req, resp, v1)
	case gosnmp.GetNextRequest:
		a.getNext(r, req, resp, v1)
	case gosnmp.GetBulkRequest:
		if v1 {
			return nil
		}
		a.getBulk(r, req, resp)
		return a.encodeBulk(resp)
	case gosnmp.SetRequest:
		resp.Variables = req.Variables
		if v1 {
			resp.Error = gosnmp.NoSuchName
		} else {
			resp.Error = gosnmp.NoAccess
		}
		resp.ErrorIndex = 1
	default:
		return nil
	}
	return a.encode(resp, req)
}

// fail turns resp into an SNMPv1-style error response for varbind i.
func fail(resp, req *gosnmp.SnmpPacket, status gosnmp.SNMPError, i int) {
	resp.Error = status
	resp.ErrorIndex = uint8(min(i+1, 255))
	resp.Variables = make([]gosnmp.SnmpPDU, len(req.Variables))
	for j, v := range req.Variables {
		resp.Variables[j] = gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.Null}
	}
}

func (a *Agent) get(r *request, req, resp *gosnmp.SnmpPacket, v1 bool) {
	resp.Variables = make([]gosnmp.SnmpPDU, 0, len(req.Variables))
	for i, v := range req.Variables {
		o, ok := parseOID(v.Name)
		col, pos, found := -1, 0, false
		if ok {
			col, pos, found = a.lookup(o, v1)
		}
		if !found {
			if v1 {
				fail(resp, req, gosnmp.NoSuchName, i)
				return
			}
			t := gosnmp.NoSuchObject
			if col >= 0 {
				t = gosnmp.NoSuchInstance
			}
			resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: v.Name, Type: t})
			continue
		}
		typ, val := a.cols[col].value(a, r, pos)
		resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: v.Name, Type: typ, Value: val})
	}
}

// nextVarbind is the GETNEXT answer for name; ok is false at the end of the
// MIB.
func (a *Agent) nextVarbind(r *request, name string, v1 bool) (gosnmp.SnmpPDU, bool) {
	o, ok := parseOID(name)
	if !ok {
		o = nil // an unparsable OID sorts before everything
	}
	col, pos, oid, ok := a.next(o, v1)
	if !ok {
		return gosnmp.SnmpPDU{Name: name, Type: gosnmp.EndOfMibView}, false
	}
	typ, val := a.cols[col].value(a, r, pos)
	return gosnmp.SnmpPDU{Name: formatOID(oid), Type: typ, Value: val}, true
}

func (a *Agent) getNext(r *request, req, resp *gosnmp.SnmpPacket, v1 bool) {
	resp.Variables = make([]gosnmp.SnmpPDU, 0, len(req.Variables))
	for i, v := range req.Variables {
		vb, ok := a.nextVarbind(r, v.Name, v1)
		if !ok && v1 {
			fail(resp, req, gosnmp.NoSuchName, i)
			return
		}
		resp.Variables = append(resp.Variables, vb)
	}
}

func (a *Agent) getBulk(r *request, req, resp *gosnmp.SnmpPacket) {
	n := min(int(req.NonRepeaters), len(req.Variables))
	reps := min(int(req.MaxRepetitions), maxRepetitions)
	rest := req.Variables[n:]
	resp.Variables = make([]gosnmp.SnmpPDU, 0, n+min(reps*len(rest), maxBulkVarbinds))
	for _, v := range req.Variables[:n] {
		vb, _ := a.nextVarbind(r, v.Name, false)
		resp.Variables = append(resp.Variables, vb)
	}
	if len(rest) == 0 {
		return
	}
	cursor := make([]string, len(rest))
	for i, v := range rest {
		cursor[i] = v.Name
	}
	for range reps {
		allEnd := true
		for i := range cursor {
			if len(resp.Variables) >= maxBulkVarbinds {
				return
			}
			vb, ok := a.nextVarbind(r, cursor[i], false)
			if ok {
				allEnd = false
				cursor[i] = vb.Name
			}
			resp.Variables = append(resp.Variables, vb)
		}
		if allEnd {
			return
		}
	}
}

// encode marshals resp, or a tooBig error when it exceeds the size limit.
func (a *Agent) encode(resp, req *gosnmp.SnmpPacket) []byte {
	out, err := resp.MarshalMsg()
	if err != nil {
		a.log.Debug("encode response", "err", err)
		resp.Variables = nil
		fail(resp, req, gosnmp.GenErr, 0)
		if out, err = resp.MarshalMsg(); err != nil {
			return nil
		}
	}
	if len(out) <= a.maxSize {
		return out
	}
	resp.Error, resp.ErrorIndex = gosnmp.TooBig, 0
	if resp.Version == gosnmp.Version1 {
		fail(resp, req, gosnmp.TooBig, -1)
	} else {
		resp.Variables = nil
	}
	out, err = resp.MarshalMsg()
	if err != nil || len(out) > a.maxSize {
		return nil
	}
	return out
}

// encodeBulk marshals a GETBULK response, dropping trailing varbinds until
// it fits the size limit (RFC 3416 4.2.3); tooBig only when none fits.
func (a *Agent) encodeBulk(resp *gosnmp.SnmpPacket) []byte {
	all := resp.Variables
	out, err := resp.MarshalMsg()
	if err != nil {
		a.log.Debug("encode response", "err", err)
		return nil
	}
	if len(out) <= a.maxSize {
		return out
	}
	// Largest prefix that fits, by bisection on the varbind count.
	lo, hi := 0, len(all) // lo fits (or is 0), hi does not
	var best []byte
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		resp.Variables = all[:mid]
		b, err := resp.MarshalMsg()
		if err != nil {
			return nil
		}
		if len(b) <= a.maxSize {
			lo, best = mid, b
		} else {
			hi = mid
		}
	}
	if best != nil {
		return best
	}
	resp.Variables = nil
	resp.Error = gosnmp.TooBig
	out, err = resp.MarshalMsg()
	if err != nil || len(out) > a.maxSize {
		return nil
	}
	return out
}
