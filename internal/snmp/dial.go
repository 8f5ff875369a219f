package snmp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
)

// Client is the part of *gosnmp.GoSNMP a Session uses, so that a hand-written fake can
// drive the tests. Walks are built on GetBulk/GetNext rather than on gosnmp's
// BulkWalk/Walk: those stop silently on tooBig (returning a partial table with no error)
// and walk one column per request, where a Session walks several columns in one PDU.
type Client interface {
	Connect() error
	Get(oids []string) (*gosnmp.SnmpPacket, error)
	GetNext(oids []string) (*gosnmp.SnmpPacket, error)
	GetBulk(oids []string, nonRepeaters uint8, maxRepetitions uint32) (*gosnmp.SnmpPacket, error)
	Close() error
}

var _ Client = (*gosnmp.GoSNMP)(nil)

// Conn is a client dialled by Dial. It can outlive one context (an SNMPv3 client is kept
// across poll cycles so that engine discovery and key localisation happen once).
type Conn struct{ *gosnmp.GoSNMP }

var _ Client = (*Conn)(nil)

// SetContext bounds the requests sent from now on by ctx.
func (c *Conn) SetContext(ctx context.Context) { c.Context = ctx }

// EngineKnown reports whether an SNMPv3 client has learnt the agent's engine ID, that is
// whether the agent answered engine discovery.
func (c *Conn) EngineKnown() bool {
	sp, ok := c.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	return ok && sp.AuthoritativeEngineID != ""
}

// Dial builds an unconnected client for the agent at host with the settings of s;
// settings s leaves at zero take config's defaults (version, port, timeout, PDU size).
// ctx bounds every request it sends and onSent, if not nil, is called for every datagram
// sent, retries included. Errors name protocols and levels, never a secret.
func Dial(ctx context.Context, host string, s config.SNMP, onSent func()) (*Conn, error) {
	v, err := version(s.Version)
	if err != nil {
		return nil, err
	}
	port := s.Port
	if port == 0 {
		port = config.DefaultPort
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("port %d out of range", port)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = config.DefaultTimeout
	}
	c := &gosnmp.GoSNMP{
		Target:    host,
		Port:      uint16(port),
		Transport: "udp",
		Community: s.Community,
		Version:   v,
		Context:   ctx,
		Timeout:   timeout,
		Retries:   max(s.Retries, 0),
		// A fixed timeout keeps an unreachable agent's cost at timeout × (retries+1).
		ExponentialTimeout: false,
		MaxOids:            MaxOIDs(s),
	}
	if onSent != nil {
		c.OnSent = func(*gosnmp.GoSNMP) { onSent() }
	}
	if v == gosnmp.Version3 {
		if err := setupUSM(c, s); err != nil {
			return nil, err
		}
		c.Community = ""
	}
	return &Conn{c}, nil
}

// MaxOIDs is the number of OIDs s packs in one PDU: its max_oids, else config's default.
func MaxOIDs(s config.SNMP) int {
	if s.MaxOIDs > 0 {
		return s.MaxOIDs
	}
	return config.DefaultMaxOIDs
}

// version is gosnmp's value for a configured SNMP version: "1", "2c" or "3"; "" is
// config's default.
func version(s string) (gosnmp.SnmpVersion, error) {
	if s == "" {
		s = config.DefaultVersion
	}
	switch s {
	case "1":
		return gosnmp.Version1, nil
	case "2c":
		return gosnmp.Version2c, nil
	case "3":
		return gosnmp.Version3, nil
	}
	return 0, fmt.Errorf("SNMP version %q not supported (use \"1\", \"2c\" or \"3\")", s)
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

// setupUSM sets c up for SNMPv3 with the user-based security model of s. Errors name
// protocols and levels, never a password.
func setupUSM(c *gosnmp.GoSNMP, s config.SNMP) error {
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

// USMError says what an SNMPv3 failure most likely means for the configuration s; other
// errors come back unchanged. discovered tells whether the agent answered engine
// discovery (Conn.EngineKnown) before the failure.
func USMError(err error, s config.SNMP, discovered bool) error {
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

// TimedOut reports whether err is a request that got no answer in time: gosnmp gave up
// after its retries, or the context's deadline passed.
func TimedOut(err error) bool {
	return errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || errors.Is(err, context.DeadlineExceeded)
}
