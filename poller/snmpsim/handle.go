package snmpsim

// Limits that keep one request from making the agent build a huge response.
const (
	maxRepetitions  = 1000
	maxBulkVarbinds = 10000
)

// handle answers one request datagram; nil means no answer (silent mode,
// wrong community, undecodable or unsupported message), as net-snmp does.
func (a *Agent) handle(msg []byte) []byte {
	req, err := decodeMessage(msg)
	if err != nil {
		a.log.Debug("decode request", "err", err)
		return nil
	}
	if req.version != version1 && req.version != version2c {
		return nil
	}
	if string(req.community) != a.dev.Community {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.silent {
		return nil
	}
	now := a.now()
	r := &request{now: now, uptime: ticks(now.Sub(a.boot)), cachePos: -1}
	v1 := req.version == version1
	resp := &response{version: req.version, community: req.community, requestID: req.requestID}
	switch req.pduType {
	case pduGet:
		a.get(r, req, resp, v1)
	case pduGetNext:
		a.getNext(r, req, resp, v1)
	case pduGetBulk:
		if v1 {
			return nil
		}
		a.getBulk(r, req, resp)
		return a.encodeBulk(resp)
	case pduSet:
		status := errNoAccess
		if v1 {
			status = errNoSuchName
		}
		fail(resp, req, status, 0)
	default:
		return nil
	}
	return a.encode(resp, req)
}

// fail makes resp an error response pointing at varbind i (-1: none),
// echoing the request's names with NULL values.
func fail(resp *response, req *message, status, i int) {
	resp.errStatus = status
	resp.errIndex = i + 1
	resp.vbs = make([]varbind, len(req.oids))
	for j, o := range req.oids {
		resp.vbs[j] = varbind{oid: o, tag: tagNull}
	}
}

func (a *Agent) get(r *request, req *message, resp *response, v1 bool) {
	resp.vbs = make([]varbind, len(req.oids))
	for i, o := range req.oids {
		vb := &resp.vbs[i]
		vb.oid = o
		col, pos, found := a.lookup(o, v1)
		if found {
			a.cols[col].value(a, r, pos, vb)
			continue
		}
		if v1 {
			fail(resp, req, errNoSuchName, i)
			return
		}
		vb.tag = tagNoSuchObj
		if col >= 0 {
			vb.tag = tagNoSuchInst
		}
	}
}

// nextVarbind sets vb to the GETNEXT answer for o; false at the end of the
// MIB (vb is then endOfMibView at o).
func (a *Agent) nextVarbind(r *request, o []uint32, v1 bool, vb *varbind) bool {
	col, pos, oid, ok := a.next(o, v1)
	if !ok {
		*vb = varbind{oid: o, tag: tagEndOfMib}
		return false
	}
	vb.oid = oid
	a.cols[col].value(a, r, pos, vb)
	return true
}

func (a *Agent) getNext(r *request, req *message, resp *response, v1 bool) {
	resp.vbs = make([]varbind, len(req.oids))
	for i, o := range req.oids {
		if !a.nextVarbind(r, o, v1, &resp.vbs[i]) && v1 {
			fail(resp, req, errNoSuchName, i)
			return
		}
	}
}

func (a *Agent) getBulk(r *request, req *message, resp *response) {
	n := min(max(req.field2, 0), len(req.oids))
	reps := min(max(req.field3, 0), maxRepetitions)
	rest := req.oids[n:]
	resp.vbs = make([]varbind, 0, n+min(reps*len(rest), maxBulkVarbinds))
	for _, o := range req.oids[:n] {
		var vb varbind
		a.nextVarbind(r, o, false, &vb)
		resp.vbs = append(resp.vbs, vb)
	}
	if len(rest) == 0 {
		return
	}
	cursor := make([][]uint32, len(rest))
	copy(cursor, rest)
	for range reps {
		allEnd := true
		for i := range cursor {
			if len(resp.vbs) >= maxBulkVarbinds {
				return
			}
			var vb varbind
			if a.nextVarbind(r, cursor[i], false, &vb) {
				allEnd = false
				cursor[i] = vb.oid
			}
			resp.vbs = append(resp.vbs, vb)
		}
		if allEnd {
			return
		}
	}
}

// encode marshals resp, or a tooBig error when it exceeds the size limit
// (RFC 3416 4.2.1: empty varbinds for v2c; RFC 1157 echoes them for v1).
func (a *Agent) encode(resp *response, req *message) []byte {
	if resp.size(len(resp.vbs)) <= a.maxSize {
		return resp.encode(len(resp.vbs))
	}
	if resp.version == version1 {
		fail(resp, req, errTooBig, -1)
	} else {
		resp.errStatus, resp.errIndex, resp.vbs = errTooBig, 0, nil
	}
	if resp.size(len(resp.vbs)) > a.maxSize {
		return nil
	}
	return resp.encode(len(resp.vbs))
}

// encodeBulk marshals a GETBULK response, dropping trailing varbinds until
// it fits the size limit (RFC 3416 4.2.3); tooBig only when none fits.
func (a *Agent) encodeBulk(resp *response) []byte {
	// Largest prefix that fits: sizes grow with the count, so bisect.
	lo, hi := 0, len(resp.vbs)+1 // lo fits, hi does not
	if resp.size(0) > a.maxSize {
		return nil
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if resp.size(mid) <= a.maxSize {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 && len(resp.vbs) > 0 {
		resp.errStatus, resp.vbs = errTooBig, nil
	}
	return resp.encode(lo)
}
