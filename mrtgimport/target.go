package mrtgimport

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

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
	t.names = c.names
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
		t.Title = htmlText(e.value)
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
	t.Kind, t.Per, t.Factor = config.KindCounter, "second", 1
	bits := false
	if e := vals["options"]; e != nil {
		for _, o := range strings.FieldsFunc(strings.ToLower(e.value), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
			t.Options = append(t.Options, o)
			msg, ok := option(o)
			if !ok {
				return bad(e, "unknown option %q", o)
			}
			switch o {
			case "gauge", "absolute", "derive":
				t.Kind = o
			case "perminute":
				t.Per = "minute"
			case "perhour":
				t.Per = "hour"
			case "bits":
				bits = true
			}
			if msg != "" {
				t.note(e.line, keyName(e), "%s: %s", o, msg)
			}
		}
		// MRTG takes gauge over absolute over derive over perhour over perminute.
		for _, k := range []string{"gauge", "absolute", "derive"} {
			if slices.Contains(t.Options, k) {
				t.Kind = k
				break
			}
		}
		if slices.Contains(t.Options, "perhour") {
			t.Per = "hour"
		}
		if t.Kind != config.KindCounter {
			t.Per = "second" // rateup reads perminute and perhour of counters only
		}
	}
	if e := vals["factor"]; e != nil {
		f, err := strconv.ParseFloat(strings.TrimSpace(e.value), 64)
		if err != nil || f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return bad(e, "%q is not a number other than 0", e.value)
		}
		t.Factor = f
	}
	if bits {
		t.Factor *= 8 // MRTG's "bits": values shown times 8
	}
	text := func(kw string) string {
		if e := vals[kw]; e != nil {
			return htmlText(e.value)
		}
		return ""
	}
	t.Unit, t.YLegend = text("shortlegend"), text("ylegend")
	t.LegendIn, t.LegendOut = text("legendi"), text("legendo")
	if t.LegendIn == "" {
		t.LegendIn = text("legend1")
	}
	if t.LegendOut == "" {
		t.LegendOut = text("legend2")
	}
	if e := vals["kmg"]; e != nil {
		for _, p := range strings.Split(e.value, ",") {
			t.KMG = append(t.KMG, strings.TrimSpace(p))
		}
	}
	if e := vals["unscaled"]; e != nil {
		u := strings.ToLower(strings.TrimSpace(e.value))
		if strings.Trim(u, "dwmy") != "" {
			return bad(e, "%q may hold only d, w, m and y (day, week, month, year)", e.value)
		}
		t.Unscaled = u
	}
	var display []*entry
	for kw, e := range vals {
		msg := targetKeywords[kw]
		switch {
		case displayKeywords[kw]:
			display = append(display, e)
		case msg != "":
			t.note(e.line, keyName(e), "%s", msg)
		}
	}
	t.parseTarget(nohc)
	if t.Form == FormInterface {
		// An interface's page is mrtgo's own: bits per second, its legends.
		for _, e := range display {
			t.note(e.line, keyName(e), "%s", targetKeywords[e.kw])
		}
	}
	sortNotes(t.Notes)
	return nil
}

// displayKeywords are the keywords a target that is not an interface keeps (its
// [[device.target]] has them): for an interface they are notes.
var displayKeywords = map[string]bool{
	"factor": true, "ylegend": true, "shortlegend": true, "legendi": true, "legendo": true,
	"legend1": true, "legend2": true, "kmg": true, "unscaled": true,
}

// htmlText is a legend or title without its HTML: tags dropped, &nbsp; and the like
// read.
func htmlText(s string) string {
	s = htmlTag().ReplaceAllString(s, "")
	s = strings.NewReplacer("&nbsp;", " ", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&deg;", "°", "&#176;", "°").Replace(s)
	return strings.TrimSpace(s)
}

var htmlTag = lazyRegexp(`<[^>]*>`)

// option says what mrtgo makes of one Options[] word (a note when it has no meaning
// for mrtgo), and whether MRTG knows the word at all.
func option(o string) (note string, ok bool) {
	switch o {
	case "bits", "growright", "gauge", "absolute", "derive", "perminute", "perhour", "":
		return "", true // what mrtgo does anyway, or translated
	case "unknaszero":
		return "mrtgo stores an unknown sample as unknown and draws a gap", true
	case "withzeroes":
		return "mrtgo averages only known samples", true
	case "noi", "noo":
		return "mrtgo draws both directions", true
	case "nopercent", "noinfo", "nobanner", "nolegend", "printrouter", "pngdate", "logscale", "expscale",
		"secondmean", "integer", "avgpeak", "dorelpercent", "transparent", "noborder", "noarrow":
		return "display option: mrtgo's pages have their own layout", true
	}
	return "", false
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
