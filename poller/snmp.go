package poller

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
)

// snmpClient is the part of *gosnmp.GoSNMP the poller uses, so that a hand-written fake
// can drive the tests. Walks are built here on GetBulk/GetNext rather than on gosnmp's
// BulkWalk/Walk: those stop silently on tooBig (returning a partial table with no error)
// and walk one column per request, where we walk several columns in one PDU.
type snmpClient interface {
	Connect() error
	Get(oids []string) (*gosnmp.SnmpPacket, error)
	GetNext(oids []string) (*gosnmp.SnmpPacket, error)
	GetBulk(oids []string, nonRepeaters uint8, maxRepetitions uint32) (*gosnmp.SnmpPacket, error)
	Close() error
}

var _ snmpClient = (*gosnmp.GoSNMP)(nil)

// dialFunc builds an unconnected client for d; ctx bounds every request it sends and
// onSent, if not nil, is called for every datagram sent (retries included).
type dialFunc func(ctx context.Context, d config.Device, onSent func()) (snmpClient, error)

// contextSetter is implemented by clients that outlive one cycle (SNMPv3): each cycle
// bounds the client's requests with its own context.
type contextSetter interface {
	setContext(ctx context.Context)
}

// goSNMP adapts *gosnmp.GoSNMP to a client that can be reused across cycles.
type goSNMP struct{ *gosnmp.GoSNMP }

func (c goSNMP) setContext(ctx context.Context) { c.Context = ctx }

// engineKnown reports whether a v3 client has learnt the agent's engine ID, that is
// whether the agent answered engine discovery.
func (c goSNMP) engineKnown() bool {
	sp, ok := c.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	return ok && sp.AuthoritativeEngineID != ""
}

var _ contextSetter = goSNMP{}

// Version is gosnmp's value for a configured SNMP version: "1", "2c" (or "") or "3".
func Version(s string) (gosnmp.SnmpVersion, error) {
	switch s {
	case "1":
		return gosnmp.Version1, nil
	case "2c", "":
		return gosnmp.Version2c, nil
	case "3":
		return gosnmp.Version3, nil
	}
	return 0, fmt.Errorf("SNMP version %q not supported (use \"1\", \"2c\" or \"3\")", s)
}

func dialGoSNMP(ctx context.Context, d config.Device, onSent func()) (snmpClient, error) {
	v, err := Version(d.SNMP.Version)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	port := d.SNMP.Port
	if port == 0 {
		port = 161
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("dial: port %d out of range", port)
	}
	timeout := d.SNMP.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	c := &gosnmp.GoSNMP{
		Target:    d.Host,
		Port:      uint16(port),
		Transport: "udp",
		Community: d.SNMP.Community,
		Version:   v,
		Context:   ctx,
		Timeout:   timeout,
		Retries:   max(d.SNMP.Retries, 0),
		// A fixed timeout keeps an unreachable device's cost at timeout × (retries+1).
		ExponentialTimeout: false,
		MaxOids:            maxOIDs(d),
	}
	if onSent != nil {
		c.OnSent = func(*gosnmp.GoSNMP) { onSent() }
	}
	if v == gosnmp.Version3 {
		if err := SetupUSM(c, d.SNMP); err != nil {
			return nil, fmt.Errorf("dial: %w", err)
		}
		c.Community = ""
	}
	return goSNMP{c}, nil
}

// Protocol names as config makes them canonical.
var (
	authProtocols = map[string]gosnmp.SnmpV3AuthProtocol{
		"MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA-224": gosnmp.SHA224,
		"SHA-256": gosnmp.SHA256, "SHA-384": gosnmp.SHA384, "SHA-512": gosnmp.SHA512,
	}
	privProtocols = map[string]gosnmp.SnmpV3PrivProtocol{
		"DES": gosnmp.DES, "AES": gosnmp.AES, "AES-192": gosnmp.AES192, "AES-256": gosnmp.AES256,
		"AES-192C": gosnmp.AES192C, "AES-256C": gosnmp.AES256C,
	}
)

// SetupUSM sets c up for SNMPv3 with the user-based security model of s (discover
// uses it too). Errors name protocols and levels, never a password.
func SetupUSM(c *gosnmp.GoSNMP, s config.SNMP) error {
	sp := &gosnmp.UsmSecurityParameters{UserName: s.Username,
		AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
	switch s.SecurityLevel {
	case config.NoAuthNoPriv, "":
		c.MsgFlags = gosnmp.NoAuthNoPriv
	case config.AuthNoPriv:
		c.MsgFlags = gosnmp.AuthNoPriv
	case config.AuthPriv:
		c.MsgFlags = gosnmp.AuthPriv
	default:
		return fmt.Errorf("snmpv3 security level %q unknown", s.SecurityLevel)
	}
	if c.MsgFlags&gosnmp.AuthNoPriv != 0 {
		p, ok := authProtocols[s.AuthProtocol]
		if !ok {
			return fmt.Errorf("snmpv3 auth protocol %q unknown", s.AuthProtocol)
		}
		sp.AuthenticationProtocol, sp.AuthenticationPassphrase = p, s.AuthPassword
	}
	if c.MsgFlags&gosnmp.AuthPriv == gosnmp.AuthPriv {
		p, ok := privProtocols[s.PrivProtocol]
		if !ok {
			return fmt.Errorf("snmpv3 priv protocol %q unknown", s.PrivProtocol)
		}
		sp.PrivacyProtocol, sp.PrivacyPassphrase = p, s.PrivPassword
	}
	c.SecurityModel = gosnmp.UserSecurityModel
	c.SecurityParameters = sp
	c.ContextName = s.Context
	return nil
}

// usmError says what an SNMPv3 failure most likely means for the configuration; other
// errors come back unchanged. discovered tells whether the agent answered engine
// discovery in the failed cycle.
func usmError(err error, s config.SNMP, discovered bool) error {
	var hint string
	switch {
	case errors.Is(err, gosnmp.ErrWrongDigest),
		// gosnmp checks the agent's report (usmStatsWrongDigests, usmStatsUnknownUserNames)
		// against our key first and says only this.
		strings.Contains(err.Error(), "not authentic"):
		hint = "authentication failed: check username, auth_protocol and auth_password"
	case discovered && s.SecurityLevel == config.AuthPriv && strings.Contains(err.Error(), "timeout"):
		// Agents drop what they cannot decrypt, so a wrong privacy key is a timeout
		// after a discovery that worked.
		hint = "the agent answered engine discovery but not the request: check priv_protocol and priv_password"
	case errors.Is(err, gosnmp.ErrUnknownUsername):
		hint = "the agent has no such user"
	case errors.Is(err, gosnmp.ErrDecryption):
		hint = "decryption failed: check priv_protocol and priv_password"
	case errors.Is(err, gosnmp.ErrUnknownSecurityLevel):
		hint = fmt.Sprintf("the agent refuses security level %s for this user", s.SecurityLevel)
	case errors.Is(err, gosnmp.ErrNotInTimeWindow), errors.Is(err, gosnmp.ErrUnknownEngineID):
		hint = "engine discovery failed"
	default:
		return err
	}
	return fmt.Errorf("snmpv3 user %q: %s: %w", s.Username, hint, err)
}

func maxOIDs(d config.Device) int {
	if d.SNMP.MaxOIDs > 0 {
		return d.SNMP.MaxOIDs
	}
	return DefaultMaxOIDs
}

func maxInflight(d config.Device) int {
	if d.SNMP.MaxInflight > 0 {
		return d.SNMP.MaxInflight
	}
	return config.DefaultMaxInflight
}

// OIDs read by the poller (IF-MIB, SNMPv2-MIB).
const (
	oidSysUpTime     = ".1.3.6.1.2.1.1.3.0"
	oidIfNumber      = ".1.3.6.1.2.1.2.1.0"
	oidIfDescr       = ".1.3.6.1.2.1.2.2.1.2"
	oidIfSpeed       = ".1.3.6.1.2.1.2.2.1.5"
	oidIfPhysAddress = ".1.3.6.1.2.1.2.2.1.6"
	oidIfAdminStatus = ".1.3.6.1.2.1.2.2.1.7"
	oidIfOperStatus  = ".1.3.6.1.2.1.2.2.1.8"
	oidIfLastChange  = ".1.3.6.1.2.1.2.2.1.9"
	oidIfInOctets    = ".1.3.6.1.2.1.2.2.1.10"
	oidIfOutOctets   = ".1.3.6.1.2.1.2.2.1.16"
	oidIfName        = ".1.3.6.1.2.1.31.1.1.1.1"
	oidIfHCInOctets  = ".1.3.6.1.2.1.31.1.1.1.6"
	oidIfHCOutOctets = ".1.3.6.1.2.1.31.1.1.1.10"
	oidIfHighSpeed   = ".1.3.6.1.2.1.31.1.1.1.15"
	oidIfAlias       = ".1.3.6.1.2.1.31.1.1.1.18"
	// ifCounterDiscontinuityTime: sysUpTime of the last counter discontinuity of the
	// interface ("clear counters", a module swap), 0 if none since the agent started.
	oidIfCounterDiscontinuityTime = ".1.3.6.1.2.1.31.1.1.1.19"
	// ifTableLastChange: sysUpTime when a row was last added to or removed from ifTable.
	oidIfTableLastChange = ".1.3.6.1.2.1.31.1.5.0"
)

func instance(column string, index int) string {
	return column + "." + strconv.Itoa(index)
}

// session is one device's client for one cycle, counting the PDUs it sends.
type session struct {
	c        snmpClient
	v1       bool
	maxOIDs  *int // the device's current PDU size; halved for good on tooBig
	now      func() time.Time
	requests int // PDUs asked for
	sent     int // datagrams sent, retries included
	onShrink func(from, to int)
	// more opens another client to the same agent, whose datagrams are counted by
	// onSent, and its closer; nil where the cycle keeps to one (SNMPv1, SNMPv3).
	more   func(onSent func()) (snmpClient, func(), error)
	window int // GETBULKs in flight at once when more is set
}

// errTooBig is returned when the agent refuses even a one-OID PDU as too big.
var errTooBig = errors.New("agent answers tooBig even for one OID")

// value is one GET answer: the varbind and when it arrived.
type value struct {
	pdu gosnmp.SnmpPDU
	at  time.Time
}

// absent reports whether the agent has no such object or instance.
func (v value) absent() bool {
	switch v.pdu.Type {
	case gosnmp.NoSuchInstance, gosnmp.NoSuchObject, gosnmp.EndOfMibView, gosnmp.Null:
		return true
	}
	return false
}

// get reads oids, packed at most *maxOIDs per PDU, and returns one value per oid in
// order; objects the agent lacks come back absent, not as errors. On tooBig the PDU
// size is halved (for this and later cycles) and the request repeated. SNMPv1 agents
// answer a missing object with noSuchName for the whole PDU: that varbind is marked
// absent and the rest asked again.
func (s *session) get(oids []string) ([]value, error) {
	out := make([]value, len(oids))
	for start := 0; start < len(oids); {
		n := min(*s.maxOIDs, len(oids)-start)
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
func (s *session) getChunk(oids []string, out []value) (int, error) {
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
		s.requests++
		pkt, err := s.c.Get(req)
		if err != nil {
			return 0, err
		}
		at := s.now()
		switch pkt.Error {
		case gosnmp.NoError:
		case gosnmp.TooBig:
			if len(oids) == 1 {
				return 0, errTooBig
			}
			half := max(len(oids)/2, 1)
			if half < *s.maxOIDs {
				if s.onShrink != nil {
					s.onShrink(*s.maxOIDs, half)
				}
				*s.maxOIDs = half
			}
			return 0, nil // caller comes back with the smaller size
		case gosnmp.NoSuchName:
			// SNMPv1's way of saying one object is absent: ErrorIndex is 1-based.
			k := int(pkt.ErrorIndex) - 1
			if k < 0 || k >= len(pending) {
				return 0, fmt.Errorf("agent error noSuchName at varbind %d of %d", pkt.ErrorIndex, len(pending))
			}
			out[pending[k]] = value{pdu: gosnmp.SnmpPDU{Name: oids[pending[k]], Type: gosnmp.NoSuchObject}, at: at}
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
			out[pending[i]] = value{pdu: pdu, at: at}
		}
		pending = nil
	}
	return len(oids), nil
}

func trimDot(oid string) string { return strings.TrimPrefix(oid, ".") }

// walk reads whole table columns indexed by one integer (ifTable, ifXTable), several
// columns per PDU: GETBULK for v2c, GETNEXT for v1. It returns, per column, the values by
// index. Rows whose index is not a single integer are skipped.
func (s *session) walk(columns []string) ([]map[int]gosnmp.SnmpPDU, error) {
	out := make([]map[int]gosnmp.SnmpPDU, len(columns))
	cur := make([]string, len(columns))
	last := make([]int, len(columns))
	var active []int
	for i, c := range columns {
		out[i] = map[int]gosnmp.SnmpPDU{}
		cur[i] = c
		last[i] = -1
		active = append(active, i)
	}
	reps := 0 // 0: derive from the PDU size
	for len(active) > 0 {
		req := make([]string, len(active))
		for i, c := range active {
			req[i] = cur[c]
		}
		r := 1
		if !s.v1 {
			r = reps
			if r == 0 {
				r = max(*s.maxOIDs/len(active), 1)
			}
		}
		var pkt *gosnmp.SnmpPacket
		var err error
		s.requests++
		if s.v1 {
			pkt, err = s.c.GetNext(req)
		} else {
			pkt, err = s.c.GetBulk(req, 0, uint32(r))
		}
		if err != nil {
			return nil, err
		}
		switch pkt.Error {
		case gosnmp.NoError:
		case gosnmp.TooBig:
			if r == 1 {
				return nil, errTooBig
			}
			reps = max(r/2, 1)
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
			if idx < 0 { // a row index we don't use; keep walking past it
				if pdu.Name == cur[c] {
					return nil, fmt.Errorf("walk %s: agent answered %s again", columns[c], pdu.Name)
				}
				cur[c] = pdu.Name
				continue
			}
			if idx <= last[c] {
				return nil, fmt.Errorf("walk %s: agent answered %s after index %d", columns[c], pdu.Name, last[c])
			}
			last[c] = idx
			cur[c] = pdu.Name
			out[c][idx] = pdu
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

// PDUUint64 reads an unsigned SNMP value (Counter32/64, Gauge32, TimeTicks, Integer ≥ 0).
func PDUUint64(pdu gosnmp.SnmpPDU) (uint64, bool) {
	switch x := pdu.Value.(type) {
	case uint64:
		return x, true
	case uint:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case int:
		if x >= 0 {
			return uint64(x), true
		}
	case int64:
		if x >= 0 {
			return uint64(x), true
		}
	}
	return 0, false
}

// PDUString reads an OCTET STRING (DisplayString) value, "" for any other type.
func PDUString(pdu gosnmp.SnmpPDU) string {
	switch x := pdu.Value.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	}
	return ""
}

// PDUMAC reads an ifPhysAddress as interface_key "mac" names it (aa:bb:cc:dd:ee:ff),
// "" unless it is six bytes.
func PDUMAC(pdu gosnmp.SnmpPDU) string {
	b, ok := pdu.Value.([]byte)
	if !ok || len(b) != 6 {
		return ""
	}
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}
