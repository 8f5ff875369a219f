package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ParseHost reads an agent's address as targets.toml, discover and import write it: an
// IPv4 address, an IPv6 address bare ("::1") or in brackets ("[::1]"), or a DNS name, each
// optionally followed by ":port" (for IPv6 only in brackets: "[::1]:1161"). It returns the
// bare host, without brackets, and the port given with it, 0 when none. Anything that
// could not be dialled as written — an unbalanced bracket, an empty or out-of-range
// port, spaces, a URL, a bare IPv6 address whose last group reads as a port — is an
// error saying what to write instead. Nothing is resolved.
func ParseHost(s string) (host string, port int, err error) {
	switch {
	case s == "":
		return "", 0, fmt.Errorf("empty host")
	case strings.Contains(s, "://"):
		return "", 0, fmt.Errorf("host %q is a URL; write the address alone, e.g. \"192.0.2.1\" or \"[2001:db8::1]:161\"", s)
	case strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return "", 0, fmt.Errorf("host %q contains a space or control character", s)
	}
	for _, t := range []string{"udp:", "udp6:", "tcp:", "tcp6:", "udpv6:", "udpipv6:"} {
		if len(s) > len(t) && strings.EqualFold(s[:len(t)], t) && strings.Count(s, ":") > 1 {
			return "", 0, fmt.Errorf("host %q starts with a transport; mrtgo polls over UDP: write the address alone, e.g. %q", s, strings.TrimPrefix(s[len(t):], "//"))
		}
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("host %q has no closing \"]\"", s)
		}
		host, rest := s[1:end], s[end+1:]
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return "", 0, fmt.Errorf("host %q: brackets hold an IPv6 address only (write a name or IPv4 address without them)", s)
		}
		switch {
		case rest == "":
			return host, 0, nil
		case rest[0] != ':':
			return "", 0, fmt.Errorf("host %q: unexpected %q after \"]\" (write \"[%s]:PORT\")", s, rest, host)
		}
		port, err := ParsePort(rest[1:])
		if err != nil {
			return "", 0, fmt.Errorf("host %q: %w", s, err)
		}
		return host, port, nil
	}
	if strings.ContainsAny(s, "[]") {
		return "", 0, fmt.Errorf("host %q has an unbalanced \"]\"", s)
	}
	switch strings.Count(s, ":") {
	case 0:
		if err := checkName(s); err != nil {
			return "", 0, fmt.Errorf("host %q: %w", s, err)
		}
		return s, 0, nil
	case 1:
		h, p, _ := strings.Cut(s, ":")
		if h == "" {
			return "", 0, fmt.Errorf("host %q has a port but no address", s)
		}
		if err := checkName(h); err != nil {
			return "", 0, fmt.Errorf("host %q: %w", s, err)
		}
		port, err := ParsePort(p)
		if err != nil {
			return "", 0, fmt.Errorf("host %q: %w", s, err)
		}
		return h, port, nil
	}
	// "::1:161" is an address, but one that reads as "::1" with port 161: ask which.
	// "::1:16161" is not, but means the same.
	withPort := false
	i := strings.LastIndexByte(s, ':')
	if _, err := netip.ParseAddr(s[:i]); err == nil && isDigits(s[i+1:]) {
		withPort = true
	}
	a, err := netip.ParseAddr(s)
	switch {
	case (err != nil || !a.Is6()) && withPort:
		return "", 0, fmt.Errorf("host %q: IPv6 with a port is written \"[%s]:%s\"", s, s[:i], s[i+1:])
	case err != nil || !a.Is6():
		return "", 0, fmt.Errorf("host %q is not an IPv6 address (IPv6 with a port is written \"[2001:db8::1]:161\")", s)
	case withPort:
		return "", 0, fmt.Errorf("host %q is ambiguous: write \"[%s]\" for the address or \"[%s]:%s\" for port %s", s, s, s[:i], s[i+1:], s[i+1:])
	}
	return s, 0, nil
}

// ParsePort reads a UDP port number, 1 to 65535.
func ParsePort(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty port")
	}
	n, err := strconv.Atoi(s)
	if err != nil || !isDigits(s) || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q out of range 1-65535", s)
	}
	return n, nil
}

// Addr is the address the poller dials: the host and the SNMP port, "[::1]:161" for IPv6.
func (d Device) Addr() string {
	return net.JoinHostPort(d.Host, strconv.Itoa(d.SNMP.Port))
}

// IsName reports whether a host as ParseHost returns it is a DNS name rather than an
// IP address, that is whether it needs resolving.
func IsName(host string) bool {
	_, err := netip.ParseAddr(host)
	return err != nil
}

// checkName accepts an IPv4 address or a DNS name: letters, digits, "-" and "_" in
// dot-separated labels of at most 63 characters, a trailing dot allowed. A name of
// digits and dots only must be an IPv4 address, so that "192.0.2.300" is not looked up.
func checkName(s string) error {
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	name := strings.TrimSuffix(s, ".")
	if len(name) > 253 || name == "" {
		return fmt.Errorf("not an IP address or host name")
	}
	numeric := true
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("not an IP address or host name (empty or long label)")
		}
		for _, r := range label {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '_':
				numeric = false
			case r >= '0' && r <= '9':
			default:
				return fmt.Errorf("not an IP address or host name (%q is not allowed in a name)", r)
			}
		}
	}
	if numeric {
		return fmt.Errorf("not an IPv4 address")
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
