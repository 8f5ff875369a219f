package mrtgimport

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseBroken(t *testing.T) {
	tests := []struct {
		file string
		want string // the whole message
	}{
		{"broken-continuation-first.cfg", "testdata/broken-continuation-first.cfg:1: continuation line (starts with a space) before any keyword"},
		{"broken-nonsense.cfg", `testdata/broken-nonsense.cfg:2: "this line has no colon" does not make sense: want "Keyword: value" or "Keyword[target]: value"`},
		{"broken-unknown-keyword.cfg", `testdata/broken-unknown-keyword.cfg:3: unknown keyword "MaxByte[a]" (did you mean MaxBytes?)`},
		{"broken-unknown-global.cfg", `testdata/broken-unknown-global.cfg:2: unknown keyword "WrokDir" (did you mean WorkDir?)`},
		{"broken-duplicate-target.cfg", "testdata/broken-duplicate-target.cfg:4: duplicate Target[A] (first at line 2)"},
		{"broken-no-maxbytes.cfg", "testdata/broken-no-maxbytes.cfg:4: Target[r1] has no MaxBytes[r1] (MRTG requires it, or both MaxBytes1 and MaxBytes2)"},
		{"broken-maxbytes-suffix.cfg", `testdata/broken-maxbytes-suffix.cfg:3: MaxBytes[r1]: "10M" must be a whole number of bytes per second above 0`},
		{"broken-interval.cfg", `testdata/broken-interval.cfg:2: Interval: "5 minutes" is not MM or MM:SS`},
		{"broken-interval-long.cfg", "testdata/broken-interval-long.cfg:2: Interval: 1h30m0s is outside 1 second to 60 minutes"},
		{"broken-logformat.cfg", `testdata/broken-logformat.cfg:2: LogFormat: "sqlite" is neither rateup nor rrdtool`},
		{"broken-orphan-keyword.cfg", `testdata/broken-orphan-keyword.cfg:4: Title[b] names target "b", which has no Target[b] line`},
		{"broken-include.cfg", "testdata/broken-include.cfg:2: Include: open testdata/does-not-exist.inc: no such file or directory"},
		{"broken-absmax.cfg", "testdata/broken-absmax.cfg:4: AbsMax[a]: 10 is below MaxBytes 1000"},
		{"broken-option.cfg", `testdata/broken-option.cfg:4: Options[a]: unknown option "growleft"`},
		{"broken-factor.cfg", `testdata/broken-factor.cfg:4: Factor[a]: "ten" is not a number other than 0`},
		{"broken-unscaled.cfg", `testdata/broken-unscaled.cfg:4: Unscaled[a]: "dx" may hold only d, w, m and y (day, week, month, year)`},
		{"broken-nohc.cfg", `testdata/broken-nohc.cfg:4: NoHC[a]: "maybe" must be yes or no`},
		{"broken-userrdtool.cfg", "testdata/broken-userrdtool.cfg:2: UseRRDtool: not valid any more (MRTG itself rejects it): use LogFormat: rrdtool"},
		{"broken-no-workdir.cfg", "testdata/broken-no-workdir.cfg: no WorkDir (MRTG requires WorkDir or LogDir: where the logs are)"},
		{"broken-include-loop.cfg", "testdata/broken-include-loop.cfg: Include: nested more than 10 deep (a loop?)"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", tt.file))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n %s\nwant\n %s", err, tt.want)
			}
		})
	}
}

func TestParseMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "mrtg.cfg"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want not exist", err)
	}
}

func TestParseExotic(t *testing.T) {
	c, err := Load("testdata/exotic.cfg")
	if err != nil {
		t.Fatal(err)
	}
	if c.WorkDir != "/var/www/mrtg" || c.LogDir != "/var/lib/mrtg" || c.Interval != 10*time.Minute || c.LogFormat != "rateup" {
		t.Errorf("globals %q %q %s %q", c.WorkDir, c.LogDir, c.Interval, c.LogFormat)
	}
	type want struct {
		ref       Ref
		key       string
		host      string
		port      int
		community string
		version   string
		hc        bool
		title     string
		maxBytes  uint64
		absMax    uint64
		skip      string // substring of Skip; "" means translatable
	}
	wants := map[string]want{
		"included": {RefName, "xe-1/0/0", "router2", 161, "public", "2c", true, "Traffic on", 125000000, 0, ""},
		"byname":   {RefName, "ge-0/0/1", "router1", 161, "public", "1", false, "Traffic on uplink", 125000000, 0, ""},
		"byindex":  {RefIndex, "3", "router1", 161, "public", "1", false, "Traffic on", 125000000, 0, ""},
		"bydescr":  {RefDescr, "GigabitEthernet0/2 uplink", "router1", 1161, "public", "2c", true, "Traffic on", 1250000000, 2500000000, ""},
		"byip":     {RefIP, "192.0.2.7", "router1", 161, "public", "1", false, "Traffic on", 125000000, 0, ""},
		"bymac":    {skip: `Target[bymac]: a Perl expression (!0:1a:2b-3c-4d-5e-6f:public@router1); mrtgo sums targets`},
		"bymac2":   {RefMAC, "00:1a:2b:3c:4d:5e", "router1", 161, "public", "1", false, "Traffic on", 125000000, 0, ""},
		"oids":     {RefIndex, "4", "2001:db8::1", 161, "s@cret", "2c", true, "Traffic on", 125000000, 0, ""},
		"v3":       {RefName, "ge-0/0/9", "router1", 161, "user", "3", true, "Traffic on", 125000000, 0, ""},
		"v3key":    {skip: "Target[v3key]: SnmpOptions authkey: localized keys cannot be translated; targets.toml takes passwords"},
		"conv":     {skip: "Target[conv]: converts values with the Perl subroutine toBytes"},
		"splitmax": {RefName, "ge-0/0/7", "router2", 161, "public", "2c", false, "Traffic on", 2000, 0, ""},
		"dupe":     {RefName, "xe-1/0/0", "router2", 161, "public", "2c", true, "Traffic on", 125000000, 0, ""},
	}
	// The forms that are not one interface.
	forms := map[string]string{
		"errors":   "OID pair [1.3.6.1.2.1.2.2.1.14.1 1.3.6.1.2.1.2.2.1.20.1] counter router1 public 1",
		"temp":     "OID pair [1.3.6.1.4.1.9.9.13.1.3.1.3.1 1.3.6.1.4.1.9.9.13.1.3.1.3.1] gauge router1 public 1",
		"script":   "command [/usr/local/bin/uptime-probe router1] counter",
		"sum":      "sum [1:public@router1 2:public@router1] counter",
		"swapped":  "sum [-#ge-0/0/5:public@router1] counter",
		"discards": "OID pair [1.3.6.1.2.1.2.2.1.13 1.3.6.1.2.1.2.2.1.19] counter router1 public 1",
	}
	if len(c.Targets) != len(wants)+len(forms) {
		t.Errorf("%d targets, want %d", len(c.Targets), len(wants)+len(forms))
	}
	for _, tg := range c.Targets {
		if w, ok := forms[tg.Name]; ok {
			what := fmt.Sprint(tg.OIDs)
			switch tg.Form {
			case FormCommand:
				what = fmt.Sprint(tg.Command)
			case FormSum:
				var raws []string
				for _, tm := range tg.Terms {
					raws = append(raws, tm.Raw)
				}
				what = fmt.Sprint(raws)
			}
			if got := strings.TrimSpace(fmt.Sprintf("%s %s %s %s %s %s", tg.Form, what, tg.Kind, tg.Host, tg.Community, tg.Version)); got != w || tg.Skip != "" {
				t.Errorf("%s: %s (skip %q), want %s", tg.Name, got, tg.Skip, w)
			}
			continue
		}
		w, ok := wants[tg.Name]
		if !ok {
			t.Errorf("unexpected target %q", tg.Name)
			continue
		}
		if w.skip != "" {
			if !strings.Contains(tg.Skip, w.skip) {
				t.Errorf("%s: Skip %q, want %q", tg.Name, tg.Skip, w.skip)
			}
			continue
		}
		if tg.Skip != "" {
			t.Errorf("%s: skipped: %s", tg.Name, tg.Skip)
			continue
		}
		got := want{tg.Ref, tg.Key, tg.Host, tg.Port, tg.Community, tg.Version, tg.HC, tg.Title, tg.MaxBytes, tg.AbsMax, ""}
		if got != w {
			t.Errorf("%s:\n got %+v\nwant %+v", tg.Name, got, w)
		}
	}
	// Nothing dropped silently: the keywords mrtgo does not translate are noted.
	notes := map[string]string{
		"included":  "exotic-part.inc:2: PageTop[included]: page layout is mrtgo's own",
		"oids":      "exotic.cfg:27: Options[oids]: unknaszero: mrtgo stores an unknown sample as unknown and draws a gap",
		"splitmax":  "exotic.cfg:48: ThreshMaxI[splitmax]: thresholds and alerts are not part of mrtgo",
		"splitmax2": "exotic.cfg:46: MaxBytes1[splitmax]: mrtgo has one maximum per interface: using 2000 bytes/s for both directions",
		"v3":        "exotic.cfg:36: SnmpOptions[v3]: retries is not translated",
	}
	for _, tg := range c.Targets {
		for _, key := range []string{tg.Name, tg.Name + "2"} {
			want, ok := notes[key]
			if !ok {
				continue
			}
			var all []string
			for _, n := range tg.Notes {
				all = append(all, n.String())
			}
			if !strings.Contains(strings.Join(all, "\n"), want) {
				t.Errorf("%s: notes\n%s\nwant one containing %q", tg.Name, strings.Join(all, "\n"), want)
			}
		}
	}
	for _, tg := range c.Targets {
		if tg.Name == "v3" {
			want := V3{Username: "mrtg", SecurityLevel: "authNoPriv", AuthProtocol: "SHA", AuthPassword: "v3-auth-secret", Context: "vrf1"}
			if tg.V3 != want {
				t.Errorf("v3: %+v, want %+v", tg.V3, want)
			}
		}
	}
	var global []string
	for _, n := range c.Notes {
		global = append(global, n.String())
	}
	if g := strings.Join(global, "\n"); !strings.Contains(g, "exotic.cfg:5: RunAsDaemon: not needed by mrtgo") {
		t.Errorf("global notes:\n%s", g)
	}
}

// Target[] hosts are read by config.ParseHost: MRTG's IPv6 form is "[addr]", with the
// port in the field after it.
func TestTargetHosts(t *testing.T) {
	tests := []struct {
		raw  string
		host string
		port int
		skip string
	}{
		{"2:public@127.0.0.1", "127.0.0.1", 161, ""},
		{"2:public@127.0.0.1:16161", "127.0.0.1", 16161, ""},
		{"2:public@localhost:16161::::2", "localhost", 16161, ""},
		{"2:public@[::1]", "::1", 161, ""},
		{"2:public@[::1]:16161", "::1", 16161, ""},
		{`#eth0:pub\@lic@[2001:db8::1]:1161:2:1:1:2`, "2001:db8::1", 1161, ""},
		{"2:public@[::ffff:192.0.2.1]:161", "::ffff:192.0.2.1", 161, ""},
		{"2:public@[router1]:161", "", 0, `Target[t]: host "[router1]": brackets hold an IPv6 address only`},
		{"2:public@[]", "", 0, "brackets hold an IPv6 address only"},
		{"2:public@192.0.2.300", "", 0, `host "192.0.2.300": not an IPv4 address`},
		{"2:public@127.0.0.1:99999", "", 0, `Target[t]: port "99999" out of range 1-65535`},
		{"2:public@[::1", "", 0, "is not a target form mrtgo knows"},
	}
	for _, tt := range tests {
		tg := &Target{Name: "t", Raw: tt.raw}
		tg.parseTarget(false)
		if tt.skip != "" {
			if !strings.Contains(tg.Skip, tt.skip) {
				t.Errorf("%s: Skip %q, want %q", tt.raw, tg.Skip, tt.skip)
			}
			continue
		}
		if tg.Skip != "" || tg.Host != tt.host || tg.Port != tt.port {
			t.Errorf("%s: host %q port %d skip %q, want %q %d", tt.raw, tg.Host, tg.Port, tg.Skip, tt.host, tt.port)
		}
	}
}
