package discover

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mrtgo/mrtgo/config"
)

// Key says what names an interface in targets.toml: a device's interface_key.
type Key string

// Keys an interface can be named by, as targets.toml writes them. ifName is the default
// and the most stable; ifIndex changes when a device renumbers its interfaces.
const (
	KeyName  Key = config.KeyIfName
	KeyDescr Key = config.KeyIfDescr
	KeyAlias Key = config.KeyIfAlias
	KeyMAC   Key = config.KeyMAC
	KeyIndex Key = config.KeyIfIndex
)

// ParseKey reads a Key as written on the command line, in any letter case.
func ParseKey(s string) (Key, error) {
	for _, k := range []Key{KeyName, KeyDescr, KeyAlias, KeyMAC, KeyIndex} {
		if strings.EqualFold(s, string(k)) {
			return k, nil
		}
	}
	return "", fmt.Errorf("bad interface key %q (use ifName, ifDescr, ifAlias, mac or ifIndex)", s)
}

// Rule is a regular expression over one field of an interface: "name", "descr", "alias",
// "type" (the IANAifType name, e.g. "ethernetCsmacd", or its number), or "" for any of them.
type Rule struct {
	Field string
	Re    *regexp.Regexp
}

// ParseRule reads "[field=]REGEX", e.g. "type=softwareLoopback" or "^ge-".
func ParseRule(s string) (Rule, error) {
	field, expr := "", s
	if f, e, ok := strings.Cut(s, "="); ok {
		switch f {
		case "name", "descr", "alias", "type":
			field, expr = f, e
		}
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return Rule{}, fmt.Errorf("bad pattern %q: %w", s, err)
	}
	return Rule{Field: field, Re: re}, nil
}

func (r Rule) String() string {
	if r.Field == "" {
		return r.Re.String()
	}
	return r.Field + "=" + r.Re.String()
}

// Matches reports whether the rule matches f.
func (r Rule) Matches(f Interface) bool {
	fields := map[string][]string{
		"name":  {f.Name},
		"descr": {f.Descr},
		"alias": {f.Alias},
		"type":  {TypeName(f.Type), strconv.Itoa(f.Type)},
	}
	for k, vs := range fields {
		if r.Field != "" && r.Field != k {
			continue
		}
		for _, v := range vs {
			if r.Re.MatchString(v) {
				return true
			}
		}
	}
	return false
}

// Select says which interfaces to keep. The zero value keeps only interfaces that are
// administratively and operationally up, not loopbacks, with a known speed.
type Select struct {
	Key       Key    // "" means KeyName
	AdminDown bool   // keep administratively down interfaces
	OperDown  bool   // keep operationally down interfaces
	Loopback  bool   // keep software loopbacks
	ZeroSpeed bool   // keep interfaces reporting speed 0
	Include   []Rule // if any, keep only interfaces matching one of them
	Exclude   []Rule // drop interfaces matching any of them
}

// Pick is an interface kept, under the name it will have in targets.toml.
type Pick struct {
	Key string
	Interface
}

// Skip is an interface left out, and why.
type Skip struct {
	Key    string // may be "" when the interface has no name under the chosen key
	Reason string
	Interface
}

// Choose applies s to the interfaces of dev.
func (s Select) Choose(dev *Device) (keep []Pick, skip []Skip) {
	seen := map[string]int{}
	for _, f := range dev.Interfaces {
		k := s.key(f)
		reason := ""
		switch {
		case k == "":
			reason = "no " + string(s.keyOr()) + " to name it by"
		case !s.AdminDown && f.Admin != 1:
			reason = "administratively " + status(f.Admin)
		case !s.OperDown && f.Oper != 1:
			reason = "operationally " + status(f.Oper)
		case !s.Loopback && f.Type == 24:
			reason = "loopback"
		case !s.ZeroSpeed && f.Bps() == 0:
			reason = "speed 0"
		}
		if reason == "" && len(s.Include) > 0 {
			reason = "matches no --include pattern"
			for _, r := range s.Include {
				if r.Matches(f) {
					reason = ""
					break
				}
			}
		}
		if reason == "" {
			for _, r := range s.Exclude {
				if r.Matches(f) {
					reason = fmt.Sprintf("matches --exclude %s", r)
					break
				}
			}
		}
		if reason == "" {
			if idx, dup := seen[k]; dup {
				reason = fmt.Sprintf("%s %q also names ifIndex %d", s.keyOr(), k, idx)
			}
		}
		if reason != "" {
			skip = append(skip, Skip{Key: k, Reason: reason, Interface: f})
			continue
		}
		seen[k] = f.Index
		keep = append(keep, Pick{Key: k, Interface: f})
	}
	return keep, skip
}

func (s Select) keyOr() Key {
	if s.Key == "" {
		return KeyName
	}
	return s.Key
}

// KeyOf is the name f gets under the selection's key ("" when it has none).
func (s Select) KeyOf(f Interface) string { return s.key(f) }

func (s Select) key(f Interface) string {
	switch s.keyOr() {
	case KeyDescr:
		return f.Descr
	case KeyAlias:
		return f.Alias
	case KeyMAC:
		return f.MAC
	case KeyIndex:
		return strconv.Itoa(f.Index)
	}
	if f.Name == "" {
		return f.Descr // agents without ifXTable: the poller falls back to ifDescr too
	}
	return f.Name
}

func status(v int) string {
	switch v {
	case 1:
		return "up"
	case 2:
		return "down"
	case 3:
		return "testing"
	case 5:
		return "dormant"
	case 6:
		return "notPresent"
	case 7:
		return "lowerLayerDown"
	case 0:
		return "unknown"
	}
	return "status " + strconv.Itoa(v)
}

// TypeName is the IANAifType name of the common interface types, else the number.
func TypeName(t int) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return strconv.Itoa(t)
}

var typeNames = map[int]string{
	1: "other", 6: "ethernetCsmacd", 23: "ppp", 24: "softwareLoopback", 32: "frameRelay",
	37: "atm", 53: "propVirtual", 71: "ieee80211", 117: "gigabitEthernet", 131: "tunnel",
	135: "l2vlan", 136: "l3ipvlan", 150: "mplsTunnel", 161: "ieee8023adLag", 166: "mpls",
	209: "bridge",
}
