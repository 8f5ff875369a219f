package config

import (
	"strings"
)

// keys lists the keys set in s, by their names in the file.
func (s snmpFile) keys() map[string]bool {
	set := map[string]bool{}
	for k, v := range map[string]bool{
		"version": s.Version != nil, "community": s.Community != nil, "port": s.Port != nil,
		"timeout": s.Timeout != nil, "retries": s.Retries != nil, "max_oids": s.MaxOIDs != nil,
		"max_inflight": s.MaxInflight != nil,
		"username":     s.Username != nil, "security_level": s.SecurityLevel != nil,
		"auth_protocol": s.AuthProtocol != nil, "auth_password": s.AuthPassword != nil,
		"priv_protocol": s.PrivProtocol != nil, "priv_password": s.PrivPassword != nil,
		"context": s.Context != nil,
	} {
		if v {
			set[k] = true
		}
	}
	return set
}

// apply overlays the keys set in s on base and validates the result, reporting every
// mistake to fail. A device (device true) may not set keys its SNMP version does not
// use; the [snmp] table may, as defaults for the devices that do.
func (s snmpFile) apply(base SNMP, device bool, fail func(field, format string, args ...any)) SNMP {
	out := base
	if s.Version != nil {
		out.Version = *s.Version
	}
	if s.Community != nil {
		out.Community = *s.Community
	}
	if s.Port != nil {
		out.Port = *s.Port
	}
	if s.Timeout != nil {
		if s.Timeout.err != nil {
			fail("timeout", "%v", s.Timeout.err)
		} else {
			out.Timeout = s.Timeout.d
		}
	}
	if s.Retries != nil {
		out.Retries = *s.Retries
	}
	if s.MaxOIDs != nil {
		out.MaxOIDs = *s.MaxOIDs
	}
	if s.MaxInflight != nil {
		out.MaxInflight = *s.MaxInflight
	}
	if out.Version != "1" && out.Version != "2c" && out.Version != "3" {
		// What else is right or wrong depends on the version.
		fail("version", "SNMP version %q is not supported (use \"1\", \"2c\" or \"3\")", out.Version)
		return out
	}
	v3 := []struct {
		key string
		src *string
		dst *string
	}{
		{"username", s.Username, &out.Username},
		{"security_level", s.SecurityLevel, &out.SecurityLevel},
		{"auth_protocol", s.AuthProtocol, &out.AuthProtocol},
		{"auth_password", s.AuthPassword, &out.AuthPassword},
		{"priv_protocol", s.PrivProtocol, &out.PrivProtocol},
		{"priv_password", s.PrivPassword, &out.PrivPassword},
		{"context", s.Context, &out.Context},
	}
	for _, k := range v3 {
		if k.src == nil {
			continue
		}
		if device && out.Version != "3" {
			fail(k.key, "%s is an SNMPv3 key but the device uses version %q (set version = \"3\")", k.key, out.Version)
			continue
		}
		*k.dst = *k.src
	}
	if device && s.Community != nil && out.Version == "3" {
		fail("community", "community is not used with SNMP version \"3\" (use username and passwords)")
	}
	if out.Port < 1 || out.Port > 65535 {
		fail("port", "port %d out of range 1-65535", out.Port)
	}
	if out.Timeout <= 0 {
		fail("timeout", "timeout must be positive")
	}
	if out.Retries < 0 || out.Retries > 10 {
		fail("retries", "retries %d out of range 0-10", out.Retries)
	}
	if out.MaxOIDs < 1 || out.MaxOIDs > 1000 {
		fail("max_oids", "max_oids %d out of range 1-1000", out.MaxOIDs)
	}
	if out.MaxInflight < 1 || out.MaxInflight > 16 {
		fail("max_inflight", "max_inflight %d out of range 1-16", out.MaxInflight)
	}
	switch {
	case !device:
		out, _ = usmNames(out, fail) // defaults: devices check what they end up with
		return out
	case out.Version == "3":
		return usm(out, fail)
	}
	out.Username, out.SecurityLevel, out.Context = "", "", ""
	out.AuthProtocol, out.AuthPassword, out.PrivProtocol, out.PrivPassword = "", "", "", ""
	return out
}

// usmNames makes the SNMPv3 names given in s canonical, without asking for the keys a
// level needs. It reports whether the security level is known (or not given).
func usmNames(s SNMP, fail func(field, format string, args ...any)) (SNMP, bool) {
	levelOK := true
	if s.SecurityLevel != "" {
		if l, ok := canonical(s.SecurityLevel, []string{NoAuthNoPriv, AuthNoPriv, AuthPriv}); ok {
			s.SecurityLevel = l
		} else {
			fail("security_level", "security level %q is not one of noAuthNoPriv, authNoPriv, authPriv", s.SecurityLevel)
			levelOK = false
		}
	}
	if s.AuthProtocol != "" {
		if p, ok := canonical(s.AuthProtocol, AuthProtocols); ok {
			s.AuthProtocol = p
		} else {
			fail("auth_protocol", "auth_protocol %q is not one of %s", s.AuthProtocol, strings.Join(AuthProtocols, ", "))
		}
	}
	if s.PrivProtocol != "" {
		if p, ok := canonical(s.PrivProtocol, PrivProtocols); ok {
			s.PrivProtocol = p
		} else {
			fail("priv_protocol", "priv_protocol %q is not one of %s", s.PrivProtocol, strings.Join(PrivProtocols, ", "))
		}
	}
	return s, levelOK
}

// minPassword is the shortest USM password: RFC 3414 §11.2 asks for at least eight
// characters, and net-snmp refuses shorter ones.
const minPassword = 8

// usm validates the SNMPv3 settings of s and makes its names canonical. Messages name
// the key, never a password.
func usm(s SNMP, fail func(field, format string, args ...any)) SNMP {
	if strings.TrimSpace(s.Username) == "" {
		fail("username", "SNMP version \"3\" needs a username")
	}
	s, levelOK := usmNames(s, fail)
	if !levelOK {
		return s // which keys are needed depends on the level
	}
	if s.SecurityLevel == "" {
		// Follow the passwords given, so that the common cases need no level.
		switch {
		case s.PrivPassword != "":
			s.SecurityLevel = AuthPriv
		case s.AuthPassword != "":
			s.SecurityLevel = AuthNoPriv
		default:
			s.SecurityLevel = NoAuthNoPriv
		}
	}
	if s.SecurityLevel == NoAuthNoPriv {
		s.AuthProtocol, s.AuthPassword, s.PrivProtocol, s.PrivPassword = "", "", "", ""
		return s
	}
	if s.AuthProtocol == "" {
		fail("auth_protocol", "security level %s needs auth_protocol (one of %s)", s.SecurityLevel, strings.Join(AuthProtocols, ", "))
	}
	if len(s.AuthPassword) < minPassword {
		fail("auth_password", "security level %s needs an auth_password of at least %d characters", s.SecurityLevel, minPassword)
	}
	if s.SecurityLevel == AuthNoPriv {
		s.PrivProtocol, s.PrivPassword = "", ""
		return s
	}
	if s.PrivProtocol == "" {
		fail("priv_protocol", "security level authPriv needs priv_protocol (one of %s)", strings.Join(PrivProtocols, ", "))
	}
	if len(s.PrivPassword) < minPassword {
		fail("priv_password", "security level authPriv needs a priv_password of at least %d characters", minPassword)
	}
	return s
}

// canonical finds name among names ignoring case, dashes and underscores ("sha256",
// "SHA-256"); "AES-128" is AES.
func canonical(name string, names []string) (string, bool) {
	fold := func(s string) string {
		return strings.NewReplacer("-", "", "_", "").Replace(strings.ToUpper(strings.TrimSpace(s)))
	}
	n := fold(name)
	if n == "AES128" {
		n = "AES"
	}
	for _, c := range names {
		if fold(c) == n {
			return c, true
		}
	}
	return "", false
}
