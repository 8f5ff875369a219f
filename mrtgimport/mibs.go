package mrtgimport

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// MIB files of LoadMIBs, read as Net_SNMP_util's snmpMIB_to_OID reads them: not a MIB
// compiler, a few substitutions that find every "name OBJECT-TYPE ... ::= { parent n }"
// (and OBJECT IDENTIFIER, MODULE-IDENTITY, ...) and resolve parents through the names
// known so far. MRTG resolves Target[] names through what this finds, so the import
// does the same, and a name MRTG could not resolve is not translated either.

// The expressions are compiled on first use (lazyRegexp): every command links the
// importer, and only an import with LoadMIBs reads a MIB.
var (
	mibQuoted   = lazyRegexp(`"[^"]*"`)
	mibComment  = lazyRegexp(`--.*?--`)
	mibComment2 = lazyRegexp(`--.*`)
	mibSpace    = lazyRegexp(`\s+`)
	mibBegin    = lazyRegexp(`DEFINITIONS *::= *BEGIN`)
	mibImports  = lazyRegexp(` IMPORTS .*;`)
	mibSequence = lazyRegexp(` SEQUENCE *\{.*\}`)
	mibSyntax   = lazyRegexp(` SYNTAX .*`)
	mibTypeDef  = lazyRegexp(` [\w\-]+ *::= *OBJECT IDENTIFIER`)
	mibAssign   = lazyRegexp(` OBJECT IDENTIFIER.*::= *\{`)
	mibDef      = lazyRegexp(` ([\w\-]+) OBJECT IDENTIFIER *::= *\{([^}]+)\}`)
	mibParenSp  = lazyRegexp(`\s+\(`)
	mibParenIn  = lazyRegexp(`\(\s+`)
	mibParenOut = lazyRegexp(`\s+\)`)
	mibNamed    = lazyRegexp(`([\w\-]+)\((\d+)\)`)
	mibNumber   = lazyRegexp(`^\d+$`)
)

// replaceFirst is Perl's s/re/repl/ (without g).
func replaceFirst(re *regexp.Regexp, s, repl string) string {
	loc := re.FindStringIndex(s)
	if loc == nil {
		return s
	}
	return s[:loc[0]] + repl + s[loc[1]:]
}

// readMIB adds the OID names of one MIB file's text to names.
func readMIB(src string, names map[string]string) {
	t := map[string]string{}
	got := false
	quote := false
	buf := ""
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if quote {
			if !strings.Contains(line, `"`) {
				continue
			}
			quote = false
		}
		buf += " " + line
		buf = mibQuoted().ReplaceAllString(buf, "")
		buf = mibComment().ReplaceAllString(buf, " ")
		buf = replaceFirst(mibComment2(), buf, "")
		buf = mibSpace().ReplaceAllString(buf, " ")
		if strings.Contains(buf, `"`) {
			quote = true
			continue
		}
		if mibBegin().MatchString(buf) {
			if got {
				fillMIB(t, names)
			}
			buf, t, got = "", map[string]string{}, false
			continue
		}
		for _, kw := range []string{"OBJECT-TYPE", "OBJECT-IDENTITY", "OBJECT-GROUP", "MODULE-IDENTITY", "NOTIFICATION-TYPE"} {
			buf = strings.Replace(buf, kw, "OBJECT IDENTIFIER", 1)
		}
		buf = replaceFirst(mibImports(), buf, "")
		buf = replaceFirst(mibSequence(), buf, "")
		buf = replaceFirst(mibSyntax(), buf, "")
		buf = replaceFirst(mibTypeDef(), buf, "")
		buf = replaceFirst(mibAssign(), buf, " OBJECT IDENTIFIER ::= {")
		m := mibDef().FindStringSubmatch(buf)
		if m == nil {
			continue
		}
		name, def := m[1], strings.TrimRight(m[2], " ")
		def = mibParenSp().ReplaceAllString(def, "(")
		def = mibParenIn().ReplaceAllString(def, "(")
		def = mibParenOut().ReplaceAllString(def, ")")
		start := ""
		for _, part := range strings.Fields(def) {
			if pm := mibNamed().FindStringSubmatch(part); pm != nil {
				switch v, ok := t[start]; {
				case ok:
					t[pm[1]] = v + "." + pm[2]
				case start != "":
					t[pm[1]] = start + "." + pm[2]
				default:
					t[pm[1]] = pm[2]
				}
				start, got = pm[1], true
			} else if mibNumber().MatchString(part) {
				if v, ok := t[start]; ok {
					t[name] = v + "." + part
				} else {
					t[name] = start + "." + part
				}
				got = true
			} else {
				start = part
			}
		}
		buf = ""
	}
	if got {
		fillMIB(t, names)
	}
}

// fillMIB resolves the definitions t (name to "parent.n") through names, adding those
// that become numeric, until no more do (Net_SNMP_util's MIB_fill_OID). A name already
// known keeps the longer of its two OIDs.
func fillMIB(t map[string]string, names map[string]string) {
	for changed := true; changed; {
		changed = false
		for _, name := range sortedKeys(t) {
			val := ""
			for _, part := range strings.Split(t[name], ".") {
				switch {
				case mibNumber().MatchString(part):
					val += "." + part
				case names[part] != "":
					val = names[part]
				default:
					val += "." + part
				}
			}
			if strings.Trim(val, "0123456789.") != "" {
				continue
			}
			val = strings.TrimLeft(val, ".")
			if old, ok := names[name]; !ok || len(val) > len(old) {
				names[name] = val
				changed = true
			}
			delete(t, name)
		}
	}
}

// sortedKeys: any order resolves the same names; a fixed one keeps runs alike.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
