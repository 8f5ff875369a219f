package mrtgimport

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
)

// target checks one target's keywords and translates its Target[] value.
func (c *Config) target(t *Target, vals map[string]*entry) error {
	tgt := vals["target"]
	if tgt == nil {
		var e *entry
		for _, v := range vals {
			if e == nil || v.line < e.line {
				e = v
			}
		}
		return &Error{File: e.file, Line: e.line, Msg: fmt.Sprintf("%s names target %q, which has no Target[%s] line", keyName(e), t.Name, t.Name)}
	}
	t.File, t.Line, t.Raw = tgt.file, tgt.line, tgt.value
	bad := func(e *entry, format string, args ...any) error {
		return &Error{File: e.file, Line: e.line, Msg: keyName(e) + ": " + fmt.Sprintf(format, args...)}
	}
	num := func(kw string, positive bool) (uint64, *entry, error) {
		e := vals[kw]
		if e == nil {
			return 0, nil, nil
		}
		v, err := strconv.ParseUint(strings.TrimSpace(e.value), 10, 64)
		if err != nil || (positive && v == 0) {
			return 0, e, bad(e, "%q must be a whole number of bytes per second above 0", e.value)
		}
		return v, e, nil
	}
	var err error
	var mbE *entry
	if t.MaxBytes, mbE, err = num("maxbytes", true); err != nil {
		return err
	}
	if t.MaxBytes1, _, err = num("maxbytes1", true); err != nil {
		return err
	}
	if t.MaxBytes2, _, err = num("maxbytes2", true); err != nil {
		return err
	}
	if t.AbsMax, _, err = num("absmax", false); err != nil {
		return err
	}
	if mbE == nil && (t.MaxBytes1 == 0 || t.MaxBytes2 == 0) {
		return &Error{File: tgt.file, Line: tgt.line, Msg: fmt.Sprintf("Target[%s] has no MaxBytes[%s] (MRTG requires it, or both MaxBytes1 and MaxBytes2)", t.Name, t.Name)}
	}
	if t.MaxBytes1 != 0 || t.MaxBytes2 != 0 {
		// MaxBytes1 and MaxBytes2 override MaxBytes for in and out.
		in, out := t.MaxBytes, t.MaxBytes
		if t.MaxBytes1 != 0 {
			in = t.MaxBytes1
		}
		if t.MaxBytes2 != 0 {
			out = t.MaxBytes2
		}
		t.MaxBytes = max(in, out)
		e := vals["maxbytes1"]
		if e == nil {
			e = vals["maxbytes2"]
		}
		t.note(e.line, keyName(e), "mrtgo has one maximum per interface: using %d bytes/s for both directions", t.MaxBytes)
	}
	if e := vals["absmax"]; e != nil && t.AbsMax != 0 && t.AbsMax < t.MaxBytes {
		return bad(e, "%d is below MaxBytes %d", t.AbsMax, t.MaxBytes)
	}
	if e := vals["title"]; e != nil {
		t.Title = strings.TrimSpace(htmlTag().ReplaceAllString(e.value, ""))
	}
	if e := vals["directory"]; e != nil {
		t.Directory = strings.TrimSpace(e.value)
	}
	if e := vals["snmpoptions"]; e != nil {
		t.SnmpOptions = e.value
		t.snmpOptionsLine, t.snmpOptionsKey = e.line, keyName(e)
	}
	nohc := false
	if e := vals["nohc"]; e != nil {
		switch strings.ToLower(strings.TrimSpace(e.value)) {
		case "yes":
			nohc = true
		case "no":
		default:
			return bad(e, "%q must be yes or no", e.value)
		}
	}
	if e := vals["options"]; e != nil {
		for _, o := range strings.FieldsFunc(strings.ToLower(e.value), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
			t.Options = append(t.Options, o)
			msg, skip, ok := option(o)
			if !ok {
				return bad(e, "unknown option %q", o)
			}
			if skip != "" && t.Skip == "" {
				t.Skip = skip
			}
			if msg != "" {
				t.note(e.line, keyName(e), "%s: %s", o, msg)
			}
		}
	}
	for kw, e := range vals {
		if msg := targetKeywords[kw]; msg != "" {
			t.note(e.line, keyName(e), "%s", msg)
		}
	}
	t.parseTarget(nohc)
	sortNotes(t.Notes)
	return nil
}

var htmlTag = lazyRegexp(`<[^>]*>`)

// option says what mrtgo makes of one Options[] word: a note, a reason the target cannot
// be translated, and whether MRTG knows the word at all.
func option(o string) (note, skip string, ok bool) {
	switch o {
	case "bits", "growright":
		return "", "", true // what mrtgo does anyway
	case "gauge":
		return "", "Options gauge: the values are not octet counters, mrtgo stores only interface traffic", true
	case "absolute":
		return "", "Options absolute: a counter reset on every read is not an interface octet counter", true
	case "derive":
		return "", "Options derive: a counter that may decrease is not an interface octet counter", true
	case "unknaszero":
		return "mrtgo stores an unknown sample as unknown and draws a gap", "", true
	case "withzeroes":
		return "mrtgo averages only known samples", "", true
	case "perminute", "perhour":
		return "mrtgo shows rates per second", "", true
	case "noi", "noo":
		return "mrtgo draws both directions", "", true
	case "nopercent", "noinfo", "nobanner", "nolegend", "printrouter", "pngdate", "logscale", "expscale",
		"secondmean", "integer", "avgpeak", "dorelpercent", "transparent", "noborder", "noarrow":
		return "display option: mrtgo's pages have their own layout", "", true
	case "":
		return "", "", true
	}
	return "", "", false
}

// The forms of Target[]: mrtg-reference "Target".
var (
	simpleRe     = lazyRegexp(`^(-)?(\d+|/\d+(?:\.\d+){3}|\\(?:\\[\s:&@]|[^\s:&@])+|#(?:\\[\s:&@]|[^\s:&@])+|![a-fA-F0-9]+(?:-[a-fA-F0-9]+)+|%\d+):` + comHost + `$`)
	oidsRe       = lazyRegexp(`^([A-Za-z0-9.]+)&([A-Za-z0-9.]+):` + comHost + `$`)
	comHost      = `((?:\\[@ ]|[^\s@])+)@(\[[^\]\s@]*\]|[-\w]+(?:\.[-\w]+)*)((?::[\d.!]*)*)(?:\|([a-zA-Z_]\w*))?`
	targetLikeRe = lazyRegexp(`(?:\d+|#\S+|\\\S+|/[\d.]+|![-\w]+|[\w.]+&[\w.]+):\S+@`)
)

// counterOIDs maps the OIDs an explicit target may name to (column, 64-bit).
var counterOIDs = map[string]struct {
	in bool
	hc bool
}{
	"ifinoctets": {true, false}, "1.3.6.1.2.1.2.2.1.10": {true, false},
	"ifoutoctets": {false, false}, "1.3.6.1.2.1.2.2.1.16": {false, false},
	"ifhcinoctets": {true, true}, "1.3.6.1.2.1.31.1.1.1.6": {true, true},
	"ifhcoutoctets": {false, true}, "1.3.6.1.2.1.31.1.1.1.10": {false, true},
}

// parseTarget fills the SNMP fields from Raw or says in Skip why it cannot.
func (t *Target) parseTarget(nohc bool) {
	raw := strings.TrimSpace(t.Raw)
	key := "Target[" + t.Name + "]"
	skip := func(format string, args ...any) {
		if t.Skip == "" {
			t.Skip = fmt.Sprintf(format, args...)
		}
	}
	var m []string
	explicit := false
	switch {
	case strings.Contains(raw, "`"):
		skip("%s: runs an external program (%s); mrtgo polls SNMP only", key, raw)
		return
	case simpleRe().MatchString(raw):
		m = simpleRe().FindStringSubmatch(raw)
		if m[1] == "-" {
			skip("%s: \"-\" swaps in and out; mrtgo cannot store an interface reversed", key)
			return
		}
		spec := m[2]
		switch spec[0] {
		case '/':
			t.Ref, t.Key = RefIP, spec[1:]
		case '\\':
			t.Ref, t.Key = RefDescr, unescape(spec[1:])
		case '#':
			t.Ref, t.Key = RefName, unescape(spec[1:])
		case '!':
			t.Ref, t.Key = RefMAC, normMAC(spec[1:])
		case '%':
			t.Ref, t.Key = RefType, spec[1:]
		default:
			t.Ref, t.Key = RefIndex, spec
		}
		m = m[3:]
	case oidsRe().MatchString(raw):
		o := oidsRe().FindStringSubmatch(raw)
		in, inIdx, okIn := splitOID(o[1])
		out, outIdx, okOut := splitOID(o[2])
		ci, ko1 := counterOIDs[in]
		co, ko2 := counterOIDs[out]
		if !okIn || !okOut || !ko1 || !ko2 || !ci.in || co.in || inIdx != outIdx || ci.hc != co.hc {
			skip("%s: polls %s and %s, which are not the in and out octet counters of one interface", key, o[1], o[2])
			return
		}
		t.Ref, t.Key = RefIndex, inIdx
		m = o[3:]
		explicit = true
		t.HC = ci.hc
		defer func() {
			if t.HC && t.Version == "1" {
				skip("%s: 64-bit counters need SNMPv2c", key)
			}
		}()
	case targetLikeRe().MatchString(raw) && strings.ContainsAny(raw, " +*()"):
		skip("%s: a Perl expression over targets (%s); mrtgo polls one interface per entry", key, raw)
		return
	default:
		skip("%s: %q is not a target form mrtgo knows", key, raw)
		return
	}
	community, host, info, conv := m[0], m[1], m[2], m[3]
	t.Community = strings.NewReplacer(`\@`, "@", `\ `, " ").Replace(community)
	// The host is read as targets.toml reads it; the port is the first of the fields after it.
	h, _, err := config.ParseHost(host)
	if err != nil {
		skip("%s: %v", key, err)
		return
	}
	t.Host = h
	if conv != "" {
		skip("%s: converts values with the Perl subroutine %s", key, conv)
		return
	}
	// :port:timeout:retries:backoff:version
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
			skip("%s: %v", key, err)
			return
		}
		t.Port = n
	}
	if v := get(1); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			skip("%s: timeout %q is not a number of seconds", key, v)
			return
		}
		t.Timeout = time.Duration(f * float64(time.Second))
	}
	if v := get(2); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			skip("%s: retries %q is not a count", key, v)
			return
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
		if !explicit {
			t.HC = !nohc
		}
	case "3":
		t.Version = "3"
		t.HC = !nohc && !explicit
		if explicit {
			t.HC = true // explicit OIDs were checked above
		}
		if err := t.v3(); err != "" {
			skip("%s: %s", key, err)
			return
		}
	default:
		skip("%s: SNMP version %q unknown", key, v)
		return
	}
	if len(fields) > 5 {
		t.note(t.Line, key, "session fields after the SNMP version (%s) are not translated", strings.Join(fields[5:], ":"))
	}
	if t.SnmpOptions != "" && t.Version != "3" {
		t.note(t.snmpOptionsLine, t.snmpOptionsKey, "Perl SNMP session options are not translated")
	}
	if nohc && t.Version == "2c" {
		t.note(t.Line, key, "NoHC: mrtgo polls 64-bit counters on SNMPv2c; to poll 32-bit counters use version \"1\"")
	}
}

// splitOID splits "ifInOctets.2" or "1.3.6.1.2.1.2.2.1.10.2" into a lower-case column and index.
func splitOID(s string) (col, idx string, ok bool) {
	s = strings.TrimPrefix(strings.ToLower(s), ".")
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", "", false
	}
	if _, err := strconv.Atoi(s[i+1:]); err != nil {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// normMAC writes an MRTG MAC address (hex octets joined by "-") as config writes them.
func normMAC(s string) string {
	parts := strings.Split(s, "-")
	for i, p := range parts {
		v, _ := strconv.ParseUint(p, 16, 8)
		parts[i] = fmt.Sprintf("%02x", v)
	}
	return strings.Join(parts, ":")
}

func sortNotes(ns []Note) {
	for i := 1; i < len(ns); i++ {
		for j := i; j > 0 && (ns[j].Line < ns[j-1].Line || ns[j].Line == ns[j-1].Line && ns[j].Msg < ns[j-1].Msg); j-- {
			ns[j], ns[j-1] = ns[j-1], ns[j]
		}
	}
}

var snmpOptRe = lazyRegexp(`(\w+)\s*=>\s*(?:'([^']*)'|"([^"]*)"|([^,\s]+))\s*(?:,|$)`)

// v3 reads the SNMPv3 user from SnmpOptions[] (Net_SNMP_util's names), or says why not.
func (t *Target) v3() string {
	if t.SnmpOptions == "" {
		return "SNMPv3 without SnmpOptions[" + t.Name + "] (username, authpassword, ...)"
	}
	opts := map[string]string{}
	for _, m := range snmpOptRe().FindAllStringSubmatch(t.SnmpOptions, -1) {
		opts[strings.ToLower(m[1])] = m[2] + m[3] + m[4]
	}
	var v V3
	for k, val := range opts {
		switch k {
		case "username":
			v.Username = val
		case "authpassword":
			v.AuthPassword = val
		case "privpassword":
			v.PrivPassword = val
		case "contextname":
			v.Context = val
		case "authprotocol", "privprotocol":
		case "authkey", "privkey":
			return fmt.Sprintf("SnmpOptions %s: localized keys cannot be translated; targets.toml takes passwords", k)
		default:
			t.note(t.snmpOptionsLine, t.snmpOptionsKey, "%s is not translated", k)
		}
	}
	if v.Username == "" {
		return "SNMPv3 without a username in SnmpOptions[" + t.Name + "]"
	}
	v.SecurityLevel = "noAuthNoPriv"
	if v.AuthPassword != "" {
		v.SecurityLevel = "authNoPriv"
		p, ok := map[string]string{"": "MD5", "md5": "MD5", "sha": "SHA", "sha1": "SHA", "sha224": "SHA-224",
			"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512"}[strings.ReplaceAll(strings.ToLower(opts["authprotocol"]), "-", "")]
		if !ok {
			return fmt.Sprintf("SnmpOptions authprotocol %q is not one mrtgo knows", opts["authprotocol"])
		}
		v.AuthProtocol = p
	}
	if v.PrivPassword != "" {
		if v.AuthPassword == "" {
			return "SnmpOptions privpassword without authpassword"
		}
		v.SecurityLevel = "authPriv"
		p, ok := map[string]string{"": "DES", "des": "DES", "aes": "AES", "aes128": "AES", "aescfb128": "AES",
			"aes192": "AES-192", "aes256": "AES-256"}[strings.ReplaceAll(strings.ToLower(opts["privprotocol"]), "-", "")]
		if !ok {
			return fmt.Sprintf("SnmpOptions privprotocol %q is not one mrtgo knows", opts["privprotocol"])
		}
		v.PrivProtocol = p
	}
	t.V3 = v
	return ""
}
