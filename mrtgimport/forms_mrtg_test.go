package mrtgimport

// Every Target[] form against real MRTG: testdata/forms/mrtg.cfg (an interface, OID
// pairs by number and by name, gauges, absolute, perminute and perhour, a factor, a
// sum, a swapped interface, a program, SNMPv3) run by mrtg under faketime against a
// real snmpd on 127.0.0.1, then translated with the agent and imported: every target
// translated, and the store's rows those of MRTG's logs.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/discover"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/testneed"
	"github.com/mrtgo/mrtgo/internal/testsnmpd"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/rrd"
)

// playpen is NET-SNMP-MIB's netSnmpPlaypen, where the test's agent serves its values.
const playpen = "1.3.6.1.4.1.8072.9999.9"

// formsRun is testdata/forms/mrtg.cfg run by mrtg.
type formsRun struct {
	dir, cfg string
	agent    *testsnmpd.Agent
	values   string // directory of the files the agent and the program serve
}

// set writes the value a pass OID (or the program's state) is served from.
func (r *formsRun) set(t *testing.T, name, v string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.values, name), []byte(v+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// formsValues are what the agent and the program serve before run i: counters rising
// by known rates, gauges and absolute counts that change from run to run.
func formsValues(i int) map[string]string {
	var pin, pout, lin, lout uint64 = 5_000_000, 7_000_000, 1 << 33, 1 << 32
	var uin, uout uint64 = 1000, 2000
	for k := 1; k <= i; k++ {
		uin += uint64(50*k) * 300
		uout += uint64(20*k) * 300
		pin += uint64(100*k) * 300
		pout += uint64(30*k+7) * 300
		lin += uint64(2000*(k+1)) * 300
		lout += uint64(900*(k+1)) * 300
	}
	return map[string]string{
		"p1": strconv.FormatUint(pin, 10), "p2": strconv.FormatUint(pout, 10),
		"p3": strconv.Itoa(3000 + 600*i), "p4": strconv.Itoa(1500 + 30*i),
		"p5": strconv.Itoa(40 + i), "p6": strconv.Itoa(55 - i),
		"p7": strconv.Itoa(1000 + 50*i*i), "p8": strconv.Itoa(9000 - 300*i),
		"in": strconv.FormatUint(lin&math.MaxUint32, 10), "out": strconv.FormatUint(lout&math.MaxUint32, 10),
		"u1": strconv.FormatUint(uin, 10), "u2": strconv.FormatUint(uout, 10),
		"hcin": strconv.FormatUint(lin, 10), "hcout": strconv.FormatUint(lout, 10),
		"state": fmt.Sprintf("%d %d", 100_000+i*i*9_000, 50_000+i*3_000),
	}
}

// rrdtoolForms is what @RRDTOOL@ of testdata/forms/mrtg.cfg becomes in rrdtool mode: a
// derive target (MRTG takes derive in that mode only), one value rising, one falling
// (a negative rate, which MRTG's data source bounds at 0). Not named "derive": MRTG
// keeps options and targets in one hash, and a target named as an option breaks it.
const rrdtoolForms = `LogFormat: rrdtool
Target[delta]: @PLAYPEN@.7.0&@PLAYPEN@.8.0:@AGENT@
Options[delta]: derive
`

// runFormsMRTG runs testdata/forms/mrtg.cfg, in rrdtool mode when rrdtool is set.
func runFormsMRTG(t *testing.T, runs int, rrdtool bool) *formsRun {
	t.Helper()
	mrtg := testneed.Program(t, "mrtg", "apt-get install mrtg")
	faketime := testneed.Program(t, "faketime", "apt-get install faketime")
	if err := exec.Command("perl", "-MNet::SNMP", "-MCrypt::DES", "-MDigest::HMAC", "-MCrypt::Rijndael", "-e", "1").Run(); err != nil {
		testneed.Missing(t, "perl Net::SNMP and its SNMPv3 ciphers not installed, for MRTG's SNMPv3 (apt-get install libnet-snmp-perl libcrypt-des-perl libdigest-hmac-perl libcrypt-rijndael-perl)")
	}
	const ucdMIB = "/usr/share/snmp/mibs/UCD-SNMP-MIB.txt"
	if _, err := os.Stat(ucdMIB); err != nil {
		testneed.Missing(t, "%s missing (apt-get install libsnmp-base)", ucdMIB)
	}
	r := &formsRun{values: t.TempDir()}
	script := filepath.Join(r.values, "value.sh")
	if err := os.WriteFile(script, []byte(passScript), 0o755); err != nil {
		t.Fatal(err)
	}
	var conf strings.Builder
	conf.WriteString("sysName mrtg-forms-agent\n")
	conf.WriteString("createUser mrtgv3 SHA \"v3-auth-pass\" AES \"v3-priv-pass\"\nrouser mrtgv3 priv\n")
	for _, p := range []struct{ oid, file, typ string }{
		{".1.3.6.1.2.1.2.2.1.10.1", "in", "counter"}, {".1.3.6.1.2.1.2.2.1.16.1", "out", "counter"},
		{".1.3.6.1.2.1.2.2.1.11.1", "u1", "counter"}, {".1.3.6.1.2.1.2.2.1.17.1", "u2", "counter"},
		{".1.3.6.1.2.1.31.1.1.1.6.1", "hcin", "counter64"}, {".1.3.6.1.2.1.31.1.1.1.10.1", "hcout", "counter64"},
		{"." + playpen + ".1.0", "p1", "counter"}, {"." + playpen + ".2.0", "p2", "counter"},
		{"." + playpen + ".3.0", "p3", "gauge"}, {"." + playpen + ".4.0", "p4", "gauge"},
		{"." + playpen + ".5.0", "p5", "gauge"}, {"." + playpen + ".6.0", "p6", "gauge"},
		{"." + playpen + ".7.0", "p7", "gauge"}, {"." + playpen + ".8.0", "p8", "gauge"},
	} {
		fmt.Fprintf(&conf, "pass %s /bin/sh %s %s %s\n", p.oid, script, filepath.Join(r.values, p.file), p.typ)
	}
	for k, v := range formsValues(0) {
		r.set(t, k, v)
	}
	r.agent = testsnmpd.Start(t, "mrtgforms", conf.String())
	r.dir = t.TempDir()
	command, err := filepath.Abs("testdata/forms/four-lines.sh")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile("testdata/forms/mrtg.cfg")
	if err != nil {
		t.Fatal(err)
	}
	extra := ""
	if rrdtool {
		extra = rrdtoolForms
	}
	tmpl = bytes.ReplaceAll(tmpl, []byte("@RRDTOOL@"), []byte(extra))
	text := strings.NewReplacer("@WORKDIR@", r.dir, "@AGENT@", fmt.Sprintf("%s@%s:%d", r.agent.Community, r.agent.Host, r.agent.Port),
		"@PORT@", strconv.Itoa(r.agent.Port), "@PLAYPEN@", playpen, "@COMMAND@", command,
		"@STATE@", filepath.Join(r.values, "state"), "@UCDMIB@", ucdMIB).Replace(string(tmpl))
	r.cfg = filepath.Join(r.dir, "mrtg.cfg")
	if err := os.WriteFile(r.cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "LANG=C", "LC_ALL=C", "TZ=UTC", "HOME="+r.dir)
	last := time.Now().UTC().Truncate(5 * time.Minute).Add(-time.Minute)
	for i := 0; i < runs; i++ {
		for k, v := range formsValues(i) {
			r.set(t, k, v)
		}
		at := last.Add(-time.Duration(runs-1-i) * 5 * time.Minute)
		cmd := exec.Command(faketime, at.Format("2006-01-02 15:04:05"), mrtg,
			"--lock-file", filepath.Join(r.dir, "lock"), "--confcache-file", filepath.Join(r.dir, "ok"), r.cfg)
		cmd.Env, cmd.Dir = env, r.dir
		out, err := cmd.CombinedOutput()
		// The first run warns that the logs it is about to create are missing.
		if err != nil || bytes.Contains(out, []byte("ERROR")) {
			t.Fatalf("mrtg at %s: %v\n%s", at, err, out)
		}
	}
	return r
}

func TestImportMRTGForms(t *testing.T) {
	r := runFormsMRTG(t, 8, false)
	c, plans, cfg, db := importForms(t, r, 12)
	for _, p := range plans {
		h, err := ReadLog(p.Target.LogBase(c) + ".log")
		if err != nil {
			t.Fatal(err)
		}
		known := 0
		for _, row := range h.Rows {
			if row.End.Sub(row.Start) <= 10*time.Minute && row.In > 0 && row.Out > 0 {
				known++
			}
		}
		// The load average of an idle machine may be 0; every other target moved.
		if known < 5 && p.Target.Name != "load" {
			t.Errorf("%s: %d five-minute rows with values in and out: MRTG did not measure it", p.Target.Name, known)
		}
		// rateup logs perminute and perhour rates times 60 and 3600; the store keeps
		// them per second.
		per := map[string]float64{"perminute": 60, "perhour": 3600}[p.Target.Name]
		if per > 0 {
			for i := range h.Rows {
				r := &h.Rows[i]
				r.In, r.Out, r.MaxIn, r.MaxOut = r.In/per, r.Out/per, r.MaxIn/per, r.MaxOut/per
			}
		}
		limit := p.MaxRate
		if math.IsNaN(limit) {
			limit = math.Inf(1)
		}
		compareRows(t, db, p.Series, h, limit)
	}
	checkFormsRates(t, c, plans)
	formsContinuity(t, r, db, cfg, c, plans)
}

// formsContinuity polls once after the import: the OID pair's store row holding MRTG's
// last run and the poll is the time-weighted mean of MRTG's last rows and the new rate,
// as for an interface (continuity), which it is only if the import ended on MRTG's last
// counter readings.
func formsContinuity(t *testing.T, r *formsRun, db *rrd.DB, cfg *config.Config, c *Config, plans []*Plan) {
	t.Helper()
	var p *Plan
	for _, q := range plans {
		if q.Target.Name == "pair" {
			p = q
		}
	}
	h, err := ReadLog(p.Target.LogBase(c) + ".log")
	if err != nil {
		t.Fatal(err)
	}
	const delta = 1_234_567
	r.set(t, "p1", strconv.FormatUint(h.LastIn+delta, 10))
	r.set(t, "p2", strconv.FormatUint(h.LastOut+delta, 10))
	rec := pipeline.NewRecorder(db, cfg.Step, map[string]string{}, slog.New(slog.DiscardHandler))
	rec.SetTargets(cfg)
	res := poller.New(cfg.Devices, poller.Options{Logger: slog.New(slog.DiscardHandler), Now: time.Now}).Poll(context.Background())
	var at time.Time
	for _, d := range res {
		if d.Err != nil {
			t.Fatalf("poll after import: %v", d.Err)
		}
		for _, ts := range d.Targets {
			if ts.Target == "pair" {
				at = ts.Time
			}
		}
	}
	if err := rec.Record(res); err != nil {
		t.Fatal(err)
	}
	step := cfg.Step
	b := h.Last.Truncate(step).Add(step)
	if !at.After(b) || at.Sub(h.Last) > 2*step {
		t.Fatalf("poll at %s: not after %s or beyond the heartbeat of %s", at, b, h.Last)
	}
	live := delta / at.Sub(h.Last).Seconds()
	want := live * b.Sub(h.Last).Seconds() / step.Seconds()
	for _, row := range h.Rows {
		lo, hi := maxTime(row.Start, b.Add(-step)), minTime(row.End, h.Last)
		if hi.After(lo) {
			want += row.In * hi.Sub(lo).Seconds() / step.Seconds()
		}
	}
	got, err := db.Fetch(p.Series, rrd.Average, b.Add(-step), b, step)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) == 0 || !got.Time(len(got.Rows)-1).Equal(b) {
		t.Fatalf("no store row ending %s: %+v", b, got)
	}
	if g := got.Rows[len(got.Rows)-1][0]; math.Abs(g-want) > 0.01+1e-6*want {
		t.Errorf("pair's row ending %s after the first poll: %.3f/s, want %.3f (MRTG's last rows and %.1f/s since)", b, g, want, live)
	}
}

// importForms translates the run's mrtg.cfg with the agent (every one of its n targets
// must be), writes and loads the targets file, and imports the history into a new
// store.
func importForms(t *testing.T, r *formsRun, n int) (*Config, []*Plan, *config.Config, *rrd.DB) {
	t.Helper()
	c, err := Load(r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	found, plans := Translate(context.Background(), c, &Agent{Walk: discover.Walk, LookupIP: discover.LookupIP})
	var report bytes.Buffer
	Report(&report, c, plans)
	if strings.Contains(report.String(), "not translated") || len(plans) != n {
		t.Fatalf("%d targets; want all %d translated:\n%s", len(plans), n, report.String())
	}
	t.Logf("report:\n%s", report.String())
	out, _, err := config.Merge("targets.toml", nil, TargetsFile(c, found, plans))
	if err != nil {
		t.Fatal(err)
	}
	out, added, err := AppendAggregates("targets.toml", out, Aggregates(plans))
	if err != nil || len(added) != 2 {
		t.Fatalf("aggregates %v: %v\n%s", added, err, out)
	}
	t.Logf("targets file:\n%s", out)
	path := filepath.Join(r.dir, "targets.toml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	checkFormsConfig(t, cfg, string(out))

	db, err := rrd.Open(filepath.Join(r.dir, "store.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ims, err := ImportHistory(context.Background(), db, c, plans, cfg.Step, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	var hist bytes.Buffer
	ReportHistory(&hist, ims)
	for _, im := range ims {
		if im.Skipped != "" {
			t.Fatalf("history of %s not imported:\n%s", im.Plan.Target.Name, hist.String())
		}
	}
	if len(ims) != len(plans) {
		t.Fatalf("%d histories imported, want %d:\n%s", len(ims), len(plans), hist.String())
	}
	return c, plans, cfg, db
}

// checkFormsConfig checks what the targets file says of each form.
func checkFormsConfig(t *testing.T, cfg *config.Config, text string) {
	t.Helper()
	targets := map[string]config.Target{}
	devices := map[string]config.Device{}
	for _, d := range cfg.Devices {
		devices[d.Name] = d
		for _, tg := range d.Targets {
			targets[tg.Name] = tg
		}
	}
	want := map[string]string{
		"pair":        "counter second 1 [1.3.6.1.4.1.8072.9999.9.1.0 1.3.6.1.4.1.8072.9999.9.2.0] unit req/s ylegend requests/s legends served:/refused: kmg [ k M] max 1.25e+09",
		"packets":     "counter second 1 [1.3.6.1.2.1.2.2.1.11.1 1.3.6.1.2.1.2.2.1.17.1] unit  ylegend  legends / kmg [ k M G T P] max 1.25e+09",
		"load":        "gauge second 0.01 [1.3.6.1.4.1.2021.10.1.5.1 1.3.6.1.4.1.2021.10.1.5.2] unit  ylegend load legends / kmg [ k M G T P] max 1000",
		"temperature": "gauge second 1 [1.3.6.1.4.1.8072.9999.9.5.0 1.3.6.1.4.1.8072.9999.9.6.0] unit °C ylegend  legends / kmg [ k M G T P] max 200",
		"absolute":    "absolute second 1 [1.3.6.1.4.1.8072.9999.9.3.0 1.3.6.1.4.1.8072.9999.9.4.0] unit  ylegend  legends / kmg [ k M G T P] max 1.25e+09",
		"perminute":   "counter minute 1 [1.3.6.1.4.1.8072.9999.9.1.0 1.3.6.1.4.1.8072.9999.9.2.0] unit  ylegend  legends / kmg [ k M G T P] max 7.5e+10",
		"perhour":     "counter hour 0.001 [1.3.6.1.4.1.8072.9999.9.1.0 1.3.6.1.4.1.8072.9999.9.2.0] unit  ylegend  legends / kmg [ k M G T P] max 4.5e+09",
		"sum-2":       "counter second 1 [1.3.6.1.4.1.8072.9999.9.1.0 1.3.6.1.4.1.8072.9999.9.2.0] unit  ylegend  legends / kmg [ k M G T P] max 1.25e+09",
		"script":      "counter second 1 [] unit  ylegend  legends / kmg [ k M G T P] max 1.25e+09",
	}
	for name, w := range want {
		tg, ok := targets[name]
		if !ok {
			t.Errorf("no target %q in the file:\n%s", name, text)
			continue
		}
		got := fmt.Sprintf("%s %s %g %v unit %s ylegend %s legends %s/%s kmg %v max %g", tg.Kind, tg.Per, tg.Factor, tg.OIDs,
			tg.Unit, tg.YLegend, tg.LegendIn, tg.LegendOut, tg.KMG, tg.Max)
		if got != w {
			t.Errorf("target %s:\n got %s\nwant %s", name, got, w)
		}
	}
	if s := targets["script"]; len(s.Command) != 2 || !strings.HasSuffix(s.Command[0], "testdata/forms/four-lines.sh") || s.Timeout != 10*time.Second {
		t.Errorf("script: command %q timeout %s, want the program and its state file, the default timeout", s.Command, s.Timeout)
	}
	if l := targets["load"]; l.Unscaled != "dwmy" || l.StoredMax() != 100000 {
		t.Errorf("load: unscaled %q, stored max %g; want dwmy and MaxBytes 100000", l.Unscaled, l.StoredMax())
	}
	v3 := devices["127.0.0.1-v3"]
	if v3.SNMP.Version != "3" || v3.SNMP.Username != "mrtgv3" || v3.SNMP.SecurityLevel != "authPriv" || v3.SNMP.AuthProtocol != "SHA" ||
		v3.SNMP.PrivProtocol != "AES" || v3.SNMP.AuthPassword != "v3-auth-pass" || v3.SNMP.PrivPassword != "v3-priv-pass" ||
		len(v3.Interfaces) != 1 || v3.Interfaces[0] != "lo" {
		t.Errorf("v3 device %+v, want mrtgv3 with SHA and AES polling lo", v3)
	}
	aggs := map[string]string{}
	for _, a := range cfg.Aggregates {
		var ms []string
		for _, m := range a.Members {
			ms = append(ms, m.String())
		}
		aggs[a.Name] = strings.Join(ms, " + ")
	}
	if aggs["sum"] != "127.0.0.1/lo + 127.0.0.1:sum-2" || aggs["swapped"] != "-127.0.0.1/lo" {
		t.Errorf("aggregates %q, want sum of lo and the pair, and lo swapped", aggs)
	}
}

// checkFormsRates checks MRTG's rows against what the agent served, so that the rows
// compared above are the forms' meaning, not only the same numbers: the OID pair's
// rates, perminute's as rateup logs them, absolute's counts over the interval, the
// gauges as read and the swapped interface's out its in.
func checkFormsRates(t *testing.T, c *Config, plans []*Plan) {
	t.Helper()
	byName := map[string]*Plan{}
	for _, p := range plans {
		byName[p.Target.Name] = p
	}
	last := func(name string) Row {
		h, err := ReadLog(byName[name].Target.LogBase(c) + ".log")
		if err != nil {
			t.Fatal(err)
		}
		return h.Rows[len(h.Rows)-1]
	}
	// Run 7's rates: pair 700 and 217 per second, over five minutes of faked time and
	// the seconds a run of mrtg takes. rateup logs perminute and perhour times 60 and
	// 3600.
	near := func(got, want float64) bool { return math.Abs(got-want) <= max(0.02*want, 1) } // rateup logs whole numbers
	for name, per := range map[string]float64{"pair": 1, "perminute": 60, "perhour": 3600} {
		if r := last(name); !near(r.In, 700*per) || !near(r.Out, 217*per) {
			t.Errorf("%s: last row %g %g, want about %g %g", name, r.In, r.Out, 700*per, 217*per)
		}
	}
	if r := last("absolute"); !near(r.In, (3000+600*7)/300.0) || !near(r.Out, (1500+30*7)/300.0) {
		t.Errorf("absolute: last row %g %g, want the counts over 300 s", r.In, r.Out)
	}
	if r := last("temperature"); r.In != 47 || r.Out != 48 {
		t.Errorf("temperature: last row %g %g, want the gauges 47 and 48", r.In, r.Out)
	}
	sw, oc := last("swapped"), last("octets")
	// Each target's rate is over its own interval (mrtg reads them one after another).
	if !near(sw.In, oc.Out) || !near(sw.Out, oc.In) {
		t.Errorf("swapped %g %g, octets %g %g: want in and out swapped", sw.In, sw.Out, oc.In, oc.Out)
	}
	if s, o, p := last("sum"), last("octets"), last("pair"); !near(s.In, o.In+p.In) || !near(s.Out, o.Out+p.Out) {
		t.Errorf("sum %g %g, want octets %g %g plus pair %g %g", s.In, s.Out, o.In, o.Out, p.In, p.Out)
	}
}

// The same forms in rrdtool mode, with a derive target: each series' five-minute rows
// equal those "rrdtool fetch" reads from MRTG's .rrd file (rates per second whatever
// perminute and perhour say, gauges unrounded, derive's negative rate unknown).
func TestImportMRTGFormsRRD(t *testing.T) {
	testneed.Program(t, "rrdtool", "apt-get install rrdtool")
	if err := exec.Command("perl", "-MRRDs", "-e", "1").Run(); err != nil {
		testneed.Missing(t, "perl RRDs not installed (apt-get install librrds-perl)")
	}
	r := runFormsMRTG(t, 8, true)
	c, plans, _, db := importForms(t, r, 13)
	if c.LogFormat != "rrdtool" {
		t.Fatalf("log format %q", c.LogFormat)
	}
	last := time.Now().UTC().Truncate(5 * time.Minute).Add(-time.Minute)
	for _, p := range plans {
		path := p.Target.LogBase(c) + ".rrd"
		out, err := exec.Command("rrdtool", "fetch", path, "AVERAGE", "-r", "300",
			"-s", strconv.FormatInt(last.Add(-2*time.Hour).Unix(), 10), "-e", strconv.FormatInt(last.Unix(), 10)).Output()
		if err != nil {
			t.Fatalf("rrdtool fetch %s: %v", path, err)
		}
		want := map[int64][2]float64{}
		for _, l := range strings.Split(string(out), "\n") {
			ts, vals, ok := strings.Cut(l, ":")
			f := strings.Fields(vals)
			if !ok || len(f) != 2 {
				continue
			}
			num := func(s string) (float64, error) {
				if strings.TrimPrefix(s, "-") == "nan" {
					return math.NaN(), nil
				}
				return strconv.ParseFloat(s, 64)
			}
			sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
			in, err1 := num(f[0])
			o, err2 := num(f[1])
			if err != nil || err1 != nil || err2 != nil || math.IsNaN(in) && math.IsNaN(o) {
				continue
			}
			want[sec] = [2]float64{in, o}
		}
		if len(want) < 5 {
			t.Errorf("%s: rrdtool fetch gave %d known rows:\n%s", p.Target.Name, len(want), out)
			continue
		}
		res, err := db.Fetch(p.Series, rrd.Average, last.Add(-2*time.Hour), last, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64][]float64{}
		for i, v := range res.Rows {
			got[res.Time(i).Unix()] = v
		}
		for sec, w := range want {
			g, ok := got[sec]
			if !ok {
				t.Errorf("%s: row ending %d missing from the store", p.Target.Name, sec)
				continue
			}
			for d := range 2 {
				same := math.IsNaN(g[d]) && math.IsNaN(w[d]) || math.Abs(g[d]-w[d]) <= 0.01+2e-7*math.Abs(w[d])
				if !same {
					t.Errorf("%s: row ending %s ds %d: store %.4f, rrdtool %.4f", p.Target.Name, time.Unix(sec, 0).UTC(), d, g[d], w[d])
				}
			}
		}
		t.Logf("%s: %d rows compared with rrdtool fetch", p.Target.Name, len(want))
	}
}
