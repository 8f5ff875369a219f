package mrtgimport

// The forms of Target[] (mrtg-reference "Target"), read as MRTG_lib's targparser reads
// them: backtick programs first, then OID pairs ("in&out:community@host"), then
// interfaces ("2:community@host", "-#eth0:..."), each replaced by a placeholder; what is
// left must be "+" between them, a sum mrtgo keeps as an [[aggregate]]. Anything else of
// Perl (a difference, a product, a constant) is listed with the reason.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
)

// Form says what a target reads, and so what it becomes in targets.toml.
type Form int

// The forms of Target[].
const (
	FormInterface Form = iota // one interface's octet counters: an interface of a device
	FormOIDs                  // an OID pair of one agent: a [[device.target]]
	FormCommand               // a program's four lines (backticks): a command [[device.target]]
	FormSum                   // a sum of forms, or an interface with in and out swapped: an [[aggregate]]
)

func (f Form) String() string {
	return [...]string{"interface", "OID pair", "command", "sum"}[f]
}

// MRTG_lib.pm's regular expressions, as targparser writes them.
const (
	ifSimple = `(\d+)|/(\d+(?:\.\d+)+)|\\((?:\\[\s:&@]|[^\s:&@])+)|#((?:\\[\s:&@]|[^\s:&@])+)|!([a-fA-F0-9]+(?:-[a-fA-F0-9]+)+)|%(\d+)`
	// An OID (maybe starting with a MIB name) and the interface it reads.
	ifComplex = `((?:\.\d+)*?\.?[-a-zA-Z0-9]*(?:\.\d+)*?)(\.(?:` + ifSimple + `))?`
	comHost   = `((?:\\[@ ]|[^\s@])+)@(\[[^\]\s@]*\]|[-\w]+(?:\.[-\w]+)*)((?::[\d.!]*)*)(?:\|([a-zA-Z_]\w*))?`
)

var (
	backtickRe = lazyRegexp("`((?:\\\\`|[^`])+)`")
	complexRe  = lazyRegexp(ifComplex + `&` + ifComplex + `:` + comHost)
	simpleRe   = lazyRegexp(`(-)?(?:` + ifSimple + `):` + comHost)
	sumRe      = lazyRegexp(`^\x00\d+\x00(?:\+\x00\d+\x00)*$`)
	termRe     = lazyRegexp(`\x00(\d+)\x00`)
)

// term is one target form found in a Target[] expression.
type term struct {
	raw  string
	form Form
	m    []string // the submatches of its regular expression
}

// parseTarget reads Raw into the form fields, or says in Skip why it cannot.
func (t *Target) parseTarget(nohc bool) {
	key := "Target[" + t.Name + "]"
	raw := strings.TrimSpace(t.Raw)
	var terms []term
	// Each form found is replaced by \x00N\x00, so that the later expressions do not
	// read it again.
	replace := func(s string, re func() *regexp.Regexp, form Form) string {
		var b strings.Builder
		for {
			loc := re().FindStringSubmatchIndex(s)
			if loc == nil {
				b.WriteString(s)
				return b.String()
			}
			m := make([]string, len(loc)/2)
			for i := range m {
				if loc[2*i] >= 0 {
					m[i] = s[loc[2*i]:loc[2*i+1]]
				}
			}
			if form == FormOIDs && complexEscapeEnd(m) {
				// targparser leaves such a match to the simple forms.
				b.WriteString(s[:loc[1]])
				s = s[loc[1]:]
				continue
			}
			b.WriteString(s[:loc[0]])
			fmt.Fprintf(&b, "\x00%d\x00", len(terms))
			terms = append(terms, term{raw: m[0], form: form, m: m})
			s = s[loc[1]:]
		}
	}
	expr := replace(raw, backtickRe, FormCommand)
	expr = replace(expr, complexRe, FormOIDs)
	expr = replace(expr, simpleRe, FormInterface)
	if len(terms) == 0 {
		t.skip("%s: %q is not a target form mrtgo knows", key, raw)
		return
	}
	if !sumRe().MatchString(strings.Join(strings.Fields(expr), "")) {
		shown := termRe().ReplaceAllStringFunc(expr, func(s string) string {
			i, _ := strconv.Atoi(strings.Trim(s, "\x00"))
			return terms[i].raw
		})
		t.skip("%s: a Perl expression (%s); mrtgo sums targets (an aggregate) but does not subtract, multiply or add constants", key, shown)
		return
	}
	var parsed []*Target
	for _, m := range termRe().FindAllStringSubmatch(expr, -1) {
		i, _ := strconv.Atoi(m[1])
		tm := terms[i] // in the order written: the aggregate's members
		p := &Target{Name: t.Name, File: t.File, Line: t.Line, Raw: tm.raw, Retries: -1, Options: t.Options,
			SnmpOptions: t.SnmpOptions, snmpOptionsLine: t.snmpOptionsLine, snmpOptionsKey: t.snmpOptionsKey, Kind: t.Kind, names: t.names}
		p.parseTerm(tm, nohc)
		t.Notes = append(t.Notes, p.Notes...)
		if p.Skip != "" {
			t.skip("%s", p.Skip)
			return
		}
		parsed = append(parsed, p)
	}
	if len(parsed) == 1 && !parsed[0].Swap {
		p := parsed[0]
		t.Form, t.Ref, t.Key, t.Community, t.Host, t.Port = p.Form, p.Ref, p.Key, p.Community, p.Host, p.Port
		t.Timeout, t.Retries, t.Version, t.HC, t.V3 = p.Timeout, p.Retries, p.Version, p.HC, p.V3
		t.OIDs, t.OIDRef, t.OIDKey, t.Command = p.OIDs, p.OIDRef, p.OIDKey, p.Command
		if t.Form == FormInterface && t.kind() != config.KindCounter {
			t.skip("%s: Options %s over interface octets; mrtgo keeps an interface's octets as counters", key, t.kind())
		}
		return
	}
	for _, p := range parsed {
		if p.Form == FormInterface && t.kind() != config.KindCounter {
			t.skip("%s: Options %s over interface octets; mrtgo keeps an interface's octets as counters", key, t.kind())
			return
		}
	}
	t.Form, t.Terms = FormSum, parsed
}

// complexEscapeEnd reports targparser's exception: an OID pair whose ifDescr or ifName
// ends in a backslash is read again as a simple form.
func complexEscapeEnd(m []string) bool {
	for _, i := range []int{5, 6, 13, 14} { // Desc and Name of in and out
		if strings.HasSuffix(m[i], `\`) {
			return true
		}
	}
	return false
}

// kind is the target's kind, counter when not set.
func (t *Target) kind() string {
	if t.Kind == "" {
		return config.KindCounter
	}
	return t.Kind
}

func (t *Target) skip(format string, args ...any) {
	if t.Skip == "" {
		t.Skip = fmt.Sprintf(format, args...)
	}
}

// parseTerm reads one form of a Target[] expression.
func (t *Target) parseTerm(tm term, nohc bool) {
	key := "Target[" + t.Name + "]"
	m := tm.m
	t.Form = tm.form
	switch tm.form {
	case FormCommand:
		t.Command = commandArgs(strings.ReplaceAll(m[1], "\\`", "`"))
		if len(t.Command) == 0 {
			t.skip("%s: empty program between backticks", key)
		}
		return
	case FormInterface:
		t.Swap = m[1] == "-"
		switch {
		case m[2] != "":
			t.Ref, t.Key = RefIndex, m[2]
		case m[3] != "":
			t.Ref, t.Key = RefIP, m[3]
		case m[4] != "":
			t.Ref, t.Key = RefDescr, unescape(m[4])
		case m[5] != "":
			t.Ref, t.Key = RefName, unescape(m[5])
		case m[6] != "":
			t.Ref, t.Key = RefMAC, normMAC(m[6])
		default:
			t.Ref, t.Key = RefType, m[7]
		}
		t.session(m[8], m[9], m[10], m[11], false, nohc)
		return
	}
	// An OID pair: 1 OID, 2 interface, 3-8 its forms; 9-16 the same for out.
	for d := range 2 {
		o := m[1+8*d]
		oid, err := resolveOID(o, t.names)
		if err != "" {
			t.skip("%s: %s", key, err)
			return
		}
		t.OIDs[d] = oid
		if m[2+8*d] == "" {
			continue
		}
		f := m[3+8*d : 9+8*d]
		switch {
		case f[0] != "":
			t.OIDs[d] += "." + f[0]
		case f[1] != "":
			t.OIDRef[d], t.OIDKey[d] = RefIP, f[1]
		case f[2] != "":
			t.OIDRef[d], t.OIDKey[d] = RefDescr, unescape(f[2])
		case f[3] != "":
			t.OIDRef[d], t.OIDKey[d] = RefName, unescape(f[3])
		case f[4] != "":
			t.OIDRef[d], t.OIDKey[d] = RefMAC, normMAC(f[4])
		default:
			t.OIDRef[d], t.OIDKey[d] = RefType, f[5]
		}
	}
	if !t.session(m[17], m[18], m[19], m[20], true, nohc) {
		return
	}
	t.octetPair()
}

// octetPair makes an OID pair that reads one interface's in and out octet counters an
// interface: "ifHCInOctets.4&ifHCOutOctets.4" is what "4:" polls on SNMPv2c.
func (t *Target) octetPair() {
	if t.kind() != config.KindCounter || t.OIDRef[0] != t.OIDRef[1] || t.OIDKey[0] != t.OIDKey[1] {
		return
	}
	in, inIdx := splitLast(t.OIDs[0])
	out, outIdx := splitLast(t.OIDs[1])
	if t.OIDKey[0] != "" {
		in, out, inIdx, outIdx = t.OIDs[0], t.OIDs[1], "", ""
	}
	ci, ok1 := counterOIDs[in]
	co, ok2 := counterOIDs[out]
	if !ok1 || !ok2 || !ci.in || co.in || inIdx != outIdx || ci.hc != co.hc {
		return
	}
	if ci.hc && t.Version == "1" {
		t.skip("Target[%s]: 64-bit counters need SNMPv2c", t.Name)
		return
	}
	t.Form, t.HC = FormInterface, ci.hc
	if t.OIDKey[0] != "" {
		t.Ref, t.Key = t.OIDRef[0], t.OIDKey[0]
	} else {
		t.Ref, t.Key = RefIndex, inIdx
	}
	t.OIDs, t.OIDRef, t.OIDKey = [2]string{}, [2]Ref{}, [2]string{}
}

// counterOIDs maps the octet counter columns to (in, 64-bit).
var counterOIDs = map[string]struct {
	in bool
	hc bool
}{
	"1.3.6.1.2.1.2.2.1.10": {true, false}, "1.3.6.1.2.1.2.2.1.16": {false, false},
	"1.3.6.1.2.1.31.1.1.1.6": {true, true}, "1.3.6.1.2.1.31.1.1.1.10": {false, true},
}

// splitLast splits a numeric OID into its column and last arc.
func splitLast(oid string) (col, idx string) {
	i := strings.LastIndexByte(oid, '.')
	if i < 0 {
		return oid, ""
	}
	return oid[:i], oid[i+1:]
}

// resolveOID turns an OID of Target[] into a numeric one without the leading dot, as
// Net_SNMP_util's toOID does: a leading MIB name of names (MRTG's table when nil)
// becomes its number, the rest is appended. The error is "" when it resolves.
func resolveOID(s string, names map[string]string) (string, string) {
	if names == nil {
		names = mibNames()
	}
	o := strings.TrimPrefix(s, ".")
	if o == "" {
		return "", "an empty OID"
	}
	switch o {
	case "PseudoZero", "PseudoOne":
		return "", fmt.Sprintf("%s is a constant MRTG makes up; mrtgo reads values from the agent", o)
	}
	if o[0] >= '0' && o[0] <= '9' {
		n, err := config.ParseOID(o)
		if err != nil {
			return "", err.Error()
		}
		return n, ""
	}
	name, rest, _ := strings.Cut(o, ".")
	num, ok := names[name]
	if !ok {
		for n, v := range names {
			if strings.EqualFold(n, name) {
				num, ok = v, true
				break
			}
		}
	}
	if !ok {
		return "", fmt.Sprintf("OID name %q is neither in MRTG's table nor in a MIB of LoadMIBs; write the OID in numbers", name)
	}
	if rest != "" {
		num += "." + rest
	}
	n, err := config.ParseOID(num)
	if err != nil {
		return "", fmt.Sprintf("OID %s: %v", s, err)
	}
	return n, ""
}

// commandArgs splits a backtick command as Perl's open("cmd|") does: through /bin/sh
// when it holds a shell metacharacter, else on white space.
func commandArgs(cmd string) []string {
	cmd = strings.TrimSpace(cmd)
	if cmd == "" {
		return nil
	}
	if strings.ContainsAny(cmd, "$&*(){}[]'\";\\|?<>~`\n") {
		return []string{"/bin/sh", "-c", cmd}
	}
	return strings.Fields(cmd)
}

// session reads the community@host:port:timeout:retries:backoff:version part of a form
// (explicit: an OID pair, whose OIDs say the counter width). It reports false after a
// skip.
func (t *Target) session(community, host, info, conv string, explicit, nohc bool) bool {
	key := "Target[" + t.Name + "]"
	t.Community = strings.NewReplacer(`\@`, "@", `\ `, " ").Replace(community)
	// The host is read as targets.toml reads it; the port is the first of the fields after it.
	h, _, err := config.ParseHost(host)
	if err != nil {
		t.skip("%s: %v", key, err)
		return false
	}
	t.Host = h
	if conv != "" {
		t.skip("%s: converts values with the Perl subroutine %s", key, conv)
		return false
	}
	fields := strings.Split(info, ":")
	if len(fields) > 0 {
		fields = fields[1:] // info starts with ":"
	}
	get := func(i int) string {
		if i < len(fields) {
			return fields[i]
		}
		return ""
	}
	t.Port = 161
	if p := get(0); p != "" {
		n, err := config.ParsePort(p)
		if err != nil {
			t.skip("%s: %v", key, err)
			return false
		}
		t.Port = n
	}
	if v := get(1); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			t.skip("%s: timeout %q is not a number of seconds", key, v)
			return false
		}
		t.Timeout = time.Duration(f * float64(time.Second))
	}
	if v := get(2); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.skip("%s: retries %q is not a count", key, v)
			return false
		}
		t.Retries = min(n, 10)
		if n > 10 {
			t.note(t.Line, key, "retries %d lowered to 10, mrtgo's maximum", n)
		}
	}
	if v := get(3); v != "" && v != "1" && v != "1.0" {
		t.note(t.Line, key, "backoff %s: mrtgo waits the same timeout on every retry", v)
	}
	t.Version = "1"
	switch v := strings.ToLower(get(4)); v {
	case "", "1":
	case "2", "2c":
		t.Version = "2c"
		t.HC = !explicit && !nohc
	case "3":
		t.Version = "3"
		t.HC = !explicit && !nohc
		if err := t.v3(); err != "" {
			t.skip("%s: %s", key, err)
			return false
		}
	default:
		t.skip("%s: SNMP version %q unknown", key, v)
		return false
	}
	if len(fields) > 5 {
		t.note(t.Line, key, "session fields after the SNMP version (%s) are not translated", strings.Join(fields[5:], ":"))
	}
	if t.SnmpOptions != "" && t.Version != "3" {
		t.note(t.snmpOptionsLine, t.snmpOptionsKey, "Perl SNMP session options are not translated")
	}
	if nohc && t.Version == "2c" && !explicit {
		t.note(t.Line, key, "NoHC: mrtgo polls 64-bit counters on SNMPv2c; to poll 32-bit counters use version \"1\"")
	}
	return true
}
