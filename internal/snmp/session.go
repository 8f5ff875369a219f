package snmp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
)

// Session reads from one agent through Client and counts the PDUs it asks for. It is
// not safe for concurrent use: requests in flight at once each need a Session (and a
// Client) of their own, which may share MaxOIDs only when they do not run concurrently.
type Session struct {
	Client Client
	V1     bool // SNMPv1: GETNEXT instead of GETBULK, noSuchName for absent objects
	// MaxOIDs is the agent's PDU size, which the caller keeps across sessions: Get and
	// Rows halve it for good when the agent answers tooBig. nil starts at config's
	// default.
	MaxOIDs *int
	// MaxBulk is the most varbinds a GETBULK of Rows asks for, when above *MaxOIDs;
	// 0 keeps to *MaxOIDs. A GETBULK's request holds one OID a column whatever the
	// size of its answer, and an agent that cannot send so large an answer sends
	// fewer rows (RFC 3416 4.2.3), which Rows continues from; one that answers
	// tooBig instead makes this session keep to *MaxOIDs, shrunk to what it takes.
	MaxBulk int
	// MaxRepetitions is the GETBULK size of Walk, halved for good on tooBig; 0 fits
	// each walk's GETBULK to MaxOIDs (and halves it for that walk only).
	MaxRepetitions int
	Now            func() time.Time   // stamps Value.At; nil is time.Now
	OnShrink       func(from, to int) // called when MaxOIDs is halved; may be nil
	Requests       int                // PDUs asked for
}

// ErrTooBig is returned when the agent refuses even a one-OID PDU as too big.
var ErrTooBig = errors.New("agent answers tooBig even for one OID")

// ErrNoProgress is returned when a walk's agent answers an OID that is not after the
// one asked for: it went backwards or repeated itself, and would never end.
var ErrNoProgress = errors.New("agent does not advance")

func (s *Session) pdu() *int {
	if s.MaxOIDs == nil {
		n := config.DefaultMaxOIDs
		s.MaxOIDs = &n
	}
	return s.MaxOIDs
}

func (s *Session) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// MaxBulkOIDs is the most varbinds a GETBULK answer is asked for by default: net-snmp's
// snmpd answers at most 100 (its maxGetbulkResponses), whatever the repetitions.
const MaxBulkOIDs = 100

// BulkOIDs is the most varbinds a GETBULK of Rows asks for now.
func (s *Session) BulkOIDs() int { return max(*s.pdu(), s.MaxBulk) }

// Shrink lowers the PDU size to n, for this and later sessions sharing MaxOIDs; a
// larger n changes nothing.
func (s *Session) Shrink(n int) {
	p := s.pdu()
	if n < *p {
		if s.OnShrink != nil {
			s.OnShrink(*p, n)
		}
		*p = n
	}
}

// Get reads oids, packed at most *MaxOIDs per PDU, and returns one value per oid in
// order; objects the agent lacks come back absent, not as errors. On tooBig the PDU
// size is halved (for this and later sessions) and the request repeated. SNMPv1 agents
// answer a missing object with noSuchName for the whole PDU: that varbind is marked
// absent and the rest asked again.
func (s *Session) Get(oids []string) ([]Value, error) {
	out := make([]Value, len(oids))
	for start := 0; start < len(oids); {
		n := min(*s.pdu(), len(oids)-start)
		done, err := s.getChunk(oids[start:start+n], out[start:start+n])
		if err != nil {
			return nil, err
		}
		start += done
	}
	return out, nil
}

// getChunk asks for oids in one PDU (fewer if the agent says tooBig) and reports how many
// leading oids it has filled in out.
func (s *Session) getChunk(oids []string, out []Value) (int, error) {
	// pending maps the position in the request to the position in oids (v1 retries
	// drop varbinds the agent lacks).
	pending := make([]int, len(oids))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 {
		req := make([]string, len(pending))
		for i, j := range pending {
			req[i] = oids[j]
		}
		s.Requests++
		pkt, err := s.Client.Get(req)
		if err != nil {
			return 0, err
		}
		at := s.now()
		switch pkt.Error {
		case gosnmp.NoError:
		case gosnmp.TooBig:
			if len(oids) == 1 {
				return 0, ErrTooBig
			}
			s.Shrink(max(len(oids)/2, 1))
			return 0, nil // the caller comes back with the smaller size
		case gosnmp.NoSuchName:
			// SNMPv1's way of saying one object is absent: ErrorIndex is 1-based.
			k := int(pkt.ErrorIndex) - 1
			if k < 0 || k >= len(pending) {
				return 0, fmt.Errorf("agent error noSuchName at varbind %d of %d", pkt.ErrorIndex, len(pending))
			}
			out[pending[k]] = Value{PDU: gosnmp.SnmpPDU{Name: oids[pending[k]], Type: gosnmp.NoSuchObject}, At: at}
			pending = append(pending[:k], pending[k+1:]...)
			continue
		default:
			return 0, fmt.Errorf("agent error %v at varbind %d", pkt.Error, pkt.ErrorIndex)
		}
		if len(pkt.Variables) != len(req) {
			return 0, fmt.Errorf("agent answered %d varbinds to %d", len(pkt.Variables), len(req))
		}
		for i, pdu := range pkt.Variables {
			if trimDot(pdu.Name) != trimDot(req[i]) {
				return 0, fmt.Errorf("agent answered %s to %s", pdu.Name, req[i])
			}
			out[pending[i]] = Value{PDU: pdu, At: at}
		}
		pending = nil
	}
	return len(oids), nil
}

// Walk reads whole table columns indexed by one integer (ifTable, ifXTable), several
// columns per PDU: GETBULK for v2c and v3, GETNEXT for v1. It returns, per column, the
// values by index, and stops each column at its last row: the rest of an answer that ran
// past it is not looked at. Rows whose index is not a single integer are walked past but
// not returned. An agent that answers an OID not after the one asked for is refused with
// ErrNoProgress.
func (s *Session) Walk(columns []string) ([]map[int]Value, error) {
	out := make([]map[int]Value, len(columns))
	cur := make([]string, len(columns))
	active := make([]int, 0, len(columns))
	for i, c := range columns {
		out[i] = map[int]Value{}
		cur[i] = c
		active = append(active, i)
	}
	reps := 0 // this walk's GETBULK size after a tooBig, when MaxRepetitions is 0
	for len(active) > 0 {
		req := make([]string, len(active))
		for i, c := range active {
			req[i] = cur[c]
		}
		r := 1
		if !s.V1 {
			switch {
			case s.MaxRepetitions > 0:
				r = s.MaxRepetitions
			case reps > 0:
				r = reps
			default:
				r = max(*s.pdu()/len(active), 1)
			}
		}
		var pkt *gosnmp.SnmpPacket
		var err error
		s.Requests++
		if s.V1 {
			pkt, err = s.Client.GetNext(req)
		} else {
			pkt, err = s.Client.GetBulk(req, 0, uint32(r))
		}
		if err != nil {
			return nil, err
		}
		switch pkt.Error {
		case gosnmp.NoError:
		case gosnmp.TooBig:
			if r == 1 {
				return nil, ErrTooBig
			}
			if s.MaxRepetitions > 0 {
				s.MaxRepetitions = max(r/2, 1)
			} else {
				reps = max(r/2, 1)
			}
			continue
		case gosnmp.NoSuchName:
			// v1: the GETNEXT ran past the end of the MIB for this varbind.
			k := int(pkt.ErrorIndex) - 1
			if k < 0 || k >= len(active) {
				return nil, fmt.Errorf("agent error noSuchName at varbind %d of %d", pkt.ErrorIndex, len(active))
			}
			active = append(active[:k], active[k+1:]...)
			continue
		default:
			return nil, fmt.Errorf("agent error %v at varbind %d", pkt.Error, pkt.ErrorIndex)
		}
		if len(pkt.Variables) == 0 {
			break
		}
		// GETBULK answers repetition by repetition, one varbind per column asked.
		done := make(map[int]bool)
		for i, pdu := range pkt.Variables {
			c := active[i%len(active)]
			if done[c] {
				continue
			}
			idx, ok := columnIndex(columns[c], pdu)
			if !ok {
				done[c] = true
				continue
			}
			if compareOID(pdu.Name, cur[c]) <= 0 {
				return nil, fmt.Errorf("walk %s: agent answered %s after %s: %w", columns[c], pdu.Name, cur[c], ErrNoProgress)
			}
			cur[c] = pdu.Name
			if idx >= 0 {
				out[c][idx] = Value{PDU: pdu}
			}
		}
		next := active[:0:0]
		for _, c := range active {
			if !done[c] {
				next = append(next, c)
			}
		}
		active = next
	}
	return out, nil
}

// columnIndex returns the row index of pdu within column, -1 if the row index is not one
// integer, and false once the walk has left the column.
func columnIndex(column string, pdu gosnmp.SnmpPDU) (int, bool) {
	switch pdu.Type {
	case gosnmp.EndOfMibView, gosnmp.NoSuchObject, gosnmp.NoSuchInstance:
		return 0, false
	}
	prefix := trimDot(column) + "."
	name := trimDot(pdu.Name)
	if !strings.HasPrefix(name, prefix) {
		return 0, false
	}
	idx, err := strconv.Atoi(name[len(prefix):])
	if err != nil || idx < 0 {
		return -1, true
	}
	return idx, true
}

// Rows reads columns cols of the rows with indexes idx, which follow the row after (0:
// from the table's start), with GETBULK, as many repetitions per PDU as *MaxOIDs allows.
// It returns the values of the leading rows the agent answered exactly (each varbind the
// column's instance of the expected row), stopping at the first that it did not: a row
// added or removed, or an object the row lacks, is for a GET to tell. An agent that
// cannot answer even one repetition returns what was read so far, with no error. Not
// for SNMPv1.
func (s *Session) Rows(cols []string, after int, idx []int) ([][]Value, error) {
	out := make([][]Value, 0, len(idx))
	cur := after
	reps := max(s.BulkOIDs()/len(cols), 1)
	for len(out) < len(idx) {
		r := min(reps, len(idx)-len(out))
		req := make([]string, len(cols))
		for c, col := range cols {
			req[c] = col
			if cur > 0 {
				req[c] = Instance(col, cur)
			}
		}
		s.Requests++
		pkt, err := s.Client.GetBulk(req, 0, uint32(r))
		if err != nil {
			return nil, err
		}
		at := s.now()
		switch pkt.Error {
		case gosnmp.NoError:
		case gosnmp.TooBig:
			if r == 1 {
				return out, nil // the GET will tell
			}
			reps = max(r/2, 1)
			// An agent that cannot answer this many varbinds at once cannot in a
			// GET either: learn the smaller PDU for good, and keep to it.
			s.Shrink(reps * len(cols))
			s.MaxBulk = 0
			continue
		default:
			return nil, fmt.Errorf("agent error %v at varbind %d", pkt.Error, pkt.ErrorIndex)
		}
		rows := len(pkt.Variables) / len(cols)
		if rows == 0 {
			return out, nil
		}
		for k := 0; k < rows && len(out) < len(idx); k++ {
			want := idx[len(out)]
			row := make([]Value, len(cols))
			for c, col := range cols {
				pdu := pkt.Variables[k*len(cols)+c]
				if !isInstance(pdu.Name, col, want) {
					return out, nil
				}
				switch pdu.Type {
				case gosnmp.EndOfMibView, gosnmp.NoSuchObject, gosnmp.NoSuchInstance:
					return out, nil
				}
				row[c] = Value{PDU: pdu, At: at}
			}
			out = append(out, row)
			cur = want
		}
	}
	return out, nil
}
