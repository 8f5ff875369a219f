package mrtgimport

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/config"
)

// describe writes what parseTarget made of a target, for comparing.
func describe(t *Target) string {
	if t.Skip != "" {
		return "skip: " + t.Skip
	}
	switch t.Form {
	case FormInterface:
		return fmt.Sprintf("interface %s %s @%s:%d v%s hc=%v", t.Ref, t.Key, t.Host, t.Port, t.Version, t.HC)
	case FormOIDs:
		s := fmt.Sprintf("oids %s %s @%s:%d v%s", t.OIDs[0], t.OIDs[1], t.Host, t.Port, t.Version)
		for d := range 2 {
			if t.OIDKey[d] != "" {
				s += fmt.Sprintf(" %d:%s=%s", d, t.OIDRef[d], t.OIDKey[d])
			}
		}
		return s
	case FormCommand:
		return fmt.Sprintf("command %q", t.Command)
	}
	var parts []string
	for _, tm := range t.Terms {
		s := describe(tm)
		if tm.Swap {
			s = "-" + s
		}
		parts = append(parts, s)
	}
	return "sum " + strings.Join(parts, " + ")
}

// Every form of Target[] MRTG's targparser reads, and the Perl expressions mrtgo cannot
// keep, each with its reason.
func TestParseForms(t *testing.T) {
	tests := []struct {
		raw, kind string
		want      string
	}{
		{"2:public@r1", "", "interface ifIndex 2 @r1:161 v1 hc=false"},
		{"#ge-0/0/1:public@r1:::::2", "", "interface ifName ge-0/0/1 @r1:161 v2c hc=true"},
		{"ifInOctets.3&ifOutOctets.3:public@r1", "", "interface ifIndex 3 @r1:161 v1 hc=false"},
		{"ifHCInOctets.#eth0&ifHCOutOctets.#eth0:public@r1:::::2", "", "interface ifName eth0 @r1:161 v2c hc=true"},
		{"ifHCInOctets.3&ifHCOutOctets.3:public@r1", "", "skip: Target[t]: 64-bit counters need SNMPv2c"},
		{"ifInErrors.3&ifOutErrors.3:public@r1:1161", "", "oids 1.3.6.1.2.1.2.2.1.14.3 1.3.6.1.2.1.2.2.1.20.3 @r1:1161 v1"},
		{".1.3.6.1.4.1.2021.10.1.5.1&.1.3.6.1.4.1.2021.10.1.5.2:public@[::1]:16161", "gauge",
			"oids 1.3.6.1.4.1.2021.10.1.5.1 1.3.6.1.4.1.2021.10.1.5.2 @::1:16161 v1"},
		{"ifInOctets.3&ifOutOctets.3:public@r1", "gauge", "oids 1.3.6.1.2.1.2.2.1.10.3 1.3.6.1.2.1.2.2.1.16.3 @r1:161 v1"},
		{"ifInDiscards.#Gi0/1&ifOutDiscards.\\GigabitEthernet0/1:public@r1", "",
			"oids 1.3.6.1.2.1.2.2.1.13 1.3.6.1.2.1.2.2.1.19 @r1:161 v1 0:ifName=Gi0/1 1:ifDescr=GigabitEthernet0/1"},
		{"sysUptime&sysUptime:public@r1", "gauge", "oids 1.3.6.1.2.1.1.3.0 1.3.6.1.2.1.1.3.0 @r1:161 v1"},
		{"`/usr/local/bin/probe r1 --json`", "", `command ["/usr/local/bin/probe" "r1" "--json"]`},
		{"`/usr/local/bin/probe r1 | tail -4`", "", `command ["/bin/sh" "-c" "/usr/local/bin/probe r1 | tail -4"]`},
		{"1:public@r1 + 2:public@r1+ifInErrors.3&ifOutErrors.3:public@r2", "",
			"sum interface ifIndex 1 @r1:161 v1 hc=false + interface ifIndex 2 @r1:161 v1 hc=false + oids 1.3.6.1.2.1.2.2.1.14.3 1.3.6.1.2.1.2.2.1.20.3 @r2:161 v1"},
		{"-#eth0:public@r1", "", "sum -interface ifName eth0 @r1:161 v1 hc=false"},
		{"1:public@r1 + -2:public@r1 + `/bin/probe`", "", "sum interface ifIndex 1 @r1:161 v1 hc=false + -interface ifIndex 2 @r1:161 v1 hc=false + command [\"/bin/probe\"]"},
		{"1:public@r1 - 2:public@r1", "", "skip: Target[t]: a Perl expression (1:public@r1 - 2:public@r1); mrtgo sums targets (an aggregate) but does not subtract, multiply or add constants"},
		{"8 * 1:public@r1", "", "skip: Target[t]: a Perl expression (8 * 1:public@r1); mrtgo sums targets (an aggregate) but does not subtract, multiply or add constants"},
		{"( 1:public@r1 + 2:public@r1 ) / 2", "", "skip: Target[t]: a Perl expression (( 1:public@r1 + 2:public@r1 ) / 2); mrtgo sums targets (an aggregate) but does not subtract, multiply or add constants"},
		{"-2:public@r1", "gauge", "skip: Target[t]: Options gauge over interface octets; mrtgo keeps an interface's octets as counters"},
		{"PseudoZero&ifInErrors.1:public@r1", "", "skip: Target[t]: PseudoZero is a constant MRTG makes up; mrtgo reads values from the agent"},
		{"laLoadInt.1&laLoadInt.2:public@r1", "", `skip: Target[t]: OID name "laLoadInt" is neither in MRTG's table nor in a MIB of LoadMIBs; write the OID in numbers`},
		{"2:public@r1|toBytes", "", "skip: Target[t]: converts values with the Perl subroutine toBytes"},
		{"nothing here", "", `skip: Target[t]: "nothing here" is not a target form mrtgo knows`},
	}
	for _, tt := range tests {
		tg := &Target{Name: "t", Raw: tt.raw, Retries: -1, Kind: tt.kind}
		tg.parseTarget(false)
		if got := describe(tg); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.raw, got, tt.want)
		}
	}
}

// LoadMIBs: the names of a MIB file resolve as Net_SNMP_util resolves them, through
// the parents it defines and those of MRTG's table.
func TestReadMIB(t *testing.T) {
	mib := `UCD-SNMP-MIB DEFINITIONS ::= BEGIN
IMPORTS enterprises FROM SNMPv2-SMI;
ucdavis MODULE-IDENTITY
    LAST-UPDATED "200901190000Z"
    DESCRIPTION
	"This file defines the private UCD SNMP MIB extensions
	 (with a "quote" -- and a comment)."
    ::= { enterprises 2021 }
laTable OBJECT-TYPE
    SYNTAX	SEQUENCE OF LaEntry
    MAX-ACCESS  not-accessible
    ::= { ucdavis 10 }  -- the load averages
laEntry OBJECT-TYPE
    SYNTAX	LaEntry
    INDEX	{ laIndex }
    ::= { laTable 1 }
LaEntry ::= SEQUENCE {
    laIndex	Integer32,
    laLoadInt	Integer32
}
laLoadInt OBJECT-TYPE
    SYNTAX	Integer32 (0..10000)
    ::= { laEntry 5 }
memory OBJECT IDENTIFIER ::= { ucdavis 4 }
memTotalReal OBJECT-TYPE
    SYNTAX	Integer32
    ::= { memory 5 }
END
`
	names := map[string]string{"enterprises": "1.3.6.1.4.1"}
	readMIB(mib, names)
	for name, want := range map[string]string{
		"ucdavis": "1.3.6.1.4.1.2021", "laTable": "1.3.6.1.4.1.2021.10", "laLoadInt": "1.3.6.1.4.1.2021.10.1.5",
		"memTotalReal": "1.3.6.1.4.1.2021.4.5",
	} {
		if names[name] != want {
			t.Errorf("%s = %q, want %s", name, names[name], want)
		}
	}
	oid, err := resolveOID("laLoadInt.2", names)
	if oid != "1.3.6.1.4.1.2021.10.1.5.2" || err != "" {
		t.Errorf("laLoadInt.2 = %q (%s)", oid, err)
	}
}

// Aggregates are added to a targets file after everything else, those it has by name
// left as written, and the result must load.
func TestAppendAggregates(t *testing.T) {
	src := []byte(`[[device]]
name = "r1"
host = "192.0.2.1"
interfaces = ["eth0", "eth1"]

[[aggregate]]
name = "both"
sum = ["r1/eth0"]
`)
	aggs := []config.Aggregate{
		{Name: "both", Members: []config.Member{{Device: "r1", Interface: "eth1"}}},
		{Name: "back", Members: []config.Member{{Device: "r1", Interface: "eth1", Swap: true}}},
	}
	out, added, err := AppendAggregates("t.toml", src, aggs)
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 1 || added[0] != "back" {
		t.Errorf("added %v, want back", added)
	}
	cfg, err := config.Parse("t.toml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, a := range cfg.Aggregates {
		got[a.Name] = a.Members[0].String()
	}
	if got["both"] != "r1/eth0" || got["back"] != "-r1/eth1" || !strings.HasPrefix(string(out), string(src)) {
		t.Errorf("aggregates %v, want both as written and back swapped:\n%s", got, out)
	}
	if _, _, err := AppendAggregates("t.toml", src, []config.Aggregate{{Name: "x", Members: []config.Member{{Device: "r9", Interface: "a"}}}}); err == nil ||
		!strings.Contains(err.Error(), `no device "r9"`) {
		t.Errorf("an aggregate of an unknown device: %v", err)
	}
}

// A file of programs only: they run in the cycle of a device "commands" at 127.0.0.1,
// and the targets file loads.
func TestTranslateCommandsOnly(t *testing.T) {
	src := "WorkDir: /tmp\nTarget[mailq]: `/usr/local/bin/mailq-count --active`\nMaxBytes[mailq]: 1000\nOptions[mailq]: gauge\n"
	c, err := Parse("mrtg.cfg", func(string) ([]byte, error) { return []byte(src), nil })
	if err != nil {
		t.Fatal(err)
	}
	found, plans := Translate(context.Background(), c, nil)
	out, _, err := config.Merge("t.toml", nil, TargetsFile(c, found, plans))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("t.toml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(cfg.Devices) != 1 || plans[0].Series != `commands\target/mailq` {
		t.Fatalf("devices %+v, series %q", cfg.Devices, plans[0].Series)
	}
	d := cfg.Devices[0]
	tg, _ := d.Target("mailq")
	if d.Name != "commands" || d.Host != "127.0.0.1" || len(d.Interfaces) != 0 ||
		strings.Join(tg.Command, " ") != "/usr/local/bin/mailq-count --active" || tg.Kind != config.KindGauge || tg.Max != 1000 {
		t.Errorf("device %s at %s %v, target %+v", d.Name, d.Host, d.Interfaces, tg)
	}
}

// The counter width of an OID pair's series before its first poll: IF-MIB's 32-bit
// counters on SNMPv2c, and any OID on SNMPv1, are 32-bit, other OIDs 64-bit.
func TestOIDPairBits(t *testing.T) {
	src := "WorkDir: /tmp\nMaxBytes[_]: 1000\n" +
		"Target[errors]: ifInErrors.3&ifOutErrors.3:public@r1:::::2\n" +
		"Target[mcast]: ifInMulticastPkts.3&ifOutMulticastPkts.3:public@r1:::::2\n" +
		"Target[hc]: ifHCInUcastPkts.3&ifHCOutUcastPkts.3:public@r1:::::2\n" +
		"Target[v1]: 1.3.6.1.4.1.9.2.1.58.0&1.3.6.1.4.1.9.2.1.58.0:public@r1\n"
	c, err := Parse("mrtg.cfg", func(string) ([]byte, error) { return []byte(src), nil })
	if err != nil {
		t.Fatal(err)
	}
	_, plans := Translate(context.Background(), c, nil)
	want := map[string]int{"errors": 32, "mcast": 32, "hc": 64, "v1": 32}
	for _, p := range plans {
		if p.Series == "" || p.Bits != want[p.Target.Name] {
			t.Errorf("%s: %d bits (series %q, skip %q), want %d", p.Target.Name, p.Bits, p.Series, p.Target.Skip, want[p.Target.Name])
		}
	}
}
