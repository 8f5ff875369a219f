package mrtgimport

// Tests against real MRTG: cfgmaker walks a real snmpd on 127.0.0.1, mrtg runs several
// times (under faketime, five minutes apart, the last run now), and the imported store is
// compared row by row with what MRTG wrote, in both of its log formats.

import (
	"bufio"
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
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/internal/testneed"
	"github.com/mrtgo/mrtgo/internal/testsnmpd"
	"github.com/mrtgo/mrtgo/poller"
	"github.com/mrtgo/mrtgo/rrd"
)

type mrtgRun struct {
	dir, cfg string
	agent    *testsnmpd.Agent
	last     time.Time // time of the last mrtg run
	counters string    // directory of the files the agent serves lo's octet counters from
}

// setCounters makes the agent answer in and out for lo's octet counters (ifIndex 1).
func (r *mrtgRun) setCounters(t *testing.T, in, out uint64) {
	t.Helper()
	for name, v := range map[string]uint64{"in": in, "out": out} {
		if err := os.WriteFile(filepath.Join(r.counters, name), []byte(strconv.FormatUint(v, 10)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// passScript serves one value from a file to snmpd's pass directive: args FILE TYPE -g OID.
const passScript = `#!/bin/sh
[ "$3" = "-g" ] || exit 0
echo "$4"; echo "$2"; cat "$1"
`

// runMRTG writes mrtg.cfg with cfgmaker for the agent's loopback and runs mrtg runs
// times, five minutes apart in faked time, the last run about a minute before the last
// step boundary before now. Before run i the agent's lo counters are counter(i): the agent
// serves them through pass scripts, since its own loopback counters are cached and
// barely move.
func runMRTG(t *testing.T, runs int, counter func(i int) (in, out uint64), cfgmakerArgs ...string) *mrtgRun {
	t.Helper()
	cfgmaker := testneed.Program(t, "cfgmaker", "apt-get install mrtg")
	mrtg := testneed.Program(t, "mrtg", "apt-get install mrtg")
	faketime := testneed.Program(t, "faketime", "apt-get install faketime")
	ctr := t.TempDir()
	script := filepath.Join(ctr, "value.sh")
	if err := os.WriteFile(script, []byte(passScript), 0o755); err != nil {
		t.Fatal(err)
	}
	var conf strings.Builder
	conf.WriteString("sysName mrtg-test-agent\n")
	for _, p := range []struct{ oid, file, typ string }{
		{".1.3.6.1.2.1.2.2.1.10.1", "in", "counter"}, {".1.3.6.1.2.1.2.2.1.16.1", "out", "counter"},
		{".1.3.6.1.2.1.31.1.1.1.6.1", "in", "counter64"}, {".1.3.6.1.2.1.31.1.1.1.10.1", "out", "counter64"},
	} {
		fmt.Fprintf(&conf, "pass %s /bin/sh %s %s %s\n", p.oid, script, filepath.Join(ctr, p.file), p.typ)
	}
	r := &mrtgRun{counters: ctr}
	in0, out0 := counter(0)
	r.setCounters(t, in0, out0)
	a := testsnmpd.Start(t, "mrtgimport", conf.String())
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mrtg.cfg")
	env := append(os.Environ(), "LANG=C", "LC_ALL=C", "TZ=UTC", "HOME="+dir)
	args := append([]string{"--global", "WorkDir: " + dir, "--if-filter=$if_type == 24", "--output=" + cfg}, cfgmakerArgs...)
	args = append(args, fmt.Sprintf("%s@%s:%d", a.Community, a.Host, a.Port))
	cmd := exec.Command(cfgmaker, args...)
	cmd.Env, cmd.Dir = env, dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cfgmaker: %v\n%s", err, out)
	}
	// A poll right after the import is then within the heartbeat of the last run, and
	// completes the store row that holds the last run.
	last := time.Now().UTC().Truncate(5 * time.Minute).Add(-time.Minute)
	for i := 0; i < runs; i++ {
		cin, cout := counter(i)
		r.setCounters(t, cin, cout)
		at := last.Add(-time.Duration(runs-1-i) * 5 * time.Minute)
		cmd := exec.Command(faketime, at.Format("2006-01-02 15:04:05"), mrtg,
			"--lock-file", filepath.Join(dir, "lock"), "--confcache-file", filepath.Join(dir, "ok"), cfg)
		cmd.Env, cmd.Dir = env, dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("mrtg at %s: %v\n%s", at, err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "ERROR") {
				t.Fatalf("mrtg at %s: %s", at, out)
			}
		}
	}
	r.dir, r.cfg, r.agent, r.last = dir, cfg, a, last
	return r
}

// importRun translates the run's mrtg.cfg with the real agent and imports its history
// into a new store, returning the store, the targets and the plan of the loopback.
func importRun(t *testing.T, r *mrtgRun) (*rrd.DB, *config.Config, *Plan, *Config) {
	t.Helper()
	c, err := Load(r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	found, plans := Translate(context.Background(), c, &Agent{Walk: discover.Walk, LookupIP: discover.LookupIP})
	var lo *Plan
	for _, p := range plans {
		if p.Interface == "lo" {
			lo = p
		}
	}
	if lo == nil {
		t.Fatalf("no plan for lo among %d targets: %+v", len(plans), plans[0].Target)
	}
	out, _, err := config.Merge("targets.toml", nil, TargetsFile(c, found, plans))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(r.dir, "targets.toml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	db, err := rrd.Open(filepath.Join(r.dir, "store.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ims, err := ImportHistory(context.Background(), db, c, plans, cfg.Step, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range ims {
		if im.Skipped != "" {
			t.Fatalf("history of %s not imported: %s", im.Plan.Target.Name, im.Skipped)
		}
	}
	return db, cfg, lo, c
}

// logLines reads an MRTG .log without the package's parser: the header and the rows.
func logLines(t *testing.T, path string) (head []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if head == nil {
			head = strings.Fields(sc.Text())
			continue
		}
		rows = append(rows, strings.Fields(sc.Text()))
	}
	return head, rows
}

// rising counters: rates of 1000·(i+1) bytes/s in and half that out over the five
// minutes before run i, from start.
func rising(start uint64, mask uint64) func(i int) (uint64, uint64) {
	return func(i int) (uint64, uint64) {
		var in, out uint64 = start, start / 2
		for k := 1; k <= i; k++ {
			in += uint64(1000*(k+1)) * 300
			out += uint64(500*(k+1)) * 300
		}
		return in & mask, out & mask
	}
}

func TestImportMRTGLog(t *testing.T) {
	// SNMPv1, MRTG's default: 32-bit counters, wrapping during the history.
	r := runMRTG(t, 8, rising(math.MaxUint32-3_000_000, math.MaxUint32))
	db, cfg, lo, c := importRun(t, r)
	if lo.Bits != 32 || lo.Target.Version != "1" {
		t.Errorf("plan %+v, want SNMPv1 with 32-bit counters", lo)
	}
	logPath := lo.Target.LogBase(c) + ".log"
	head, rows := logLines(t, logPath)
	h, err := ReadLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// The parser against the file read by hand: row i of History is line n-i, covering the
	// time since the line below it.
	if len(h.Rows) != len(rows)-1 {
		t.Fatalf("%d rows read, the file has %d below the header", len(h.Rows), len(rows))
	}
	for i, r := range h.Rows {
		line := rows[len(rows)-2-i]
		below := rows[len(rows)-1-i]
		want := fmt.Sprintf("%s %s %s %s %s from %s", line[0], line[1], line[2], line[3], line[4], below[0])
		got := fmt.Sprintf("%d %.0f %.0f %.0f %.0f from %d", r.End.Unix(), r.In, r.Out, r.MaxIn, r.MaxOut, r.Start.Unix())
		if got != want {
			t.Fatalf("row %d: %s, file says %s", i, got, want)
		}
	}
	if strconv.FormatInt(h.Last.Unix(), 10) != head[0] || strconv.FormatUint(h.LastIn, 10) != head[1] {
		t.Errorf("last reading %s %d, file says %v", h.Last, h.LastIn, head)
	}
	nonzero := 0
	for _, r := range h.Rows {
		if r.In > 0 {
			nonzero++
		}
	}
	if nonzero < 6 {
		t.Errorf("only %d rows with traffic: MRTG did not measure the counters", nonzero)
	}
	compareRows(t, db, lo.Series, h, float64(lo.Target.MaxBytes))
	info, err := series.Interface(db, lo.Series)
	if err != nil || info.Speed != float64(lo.Target.MaxBytes*8) || info.Bits != 32 {
		t.Errorf("stored facts %+v, %v; want MaxBytes as speed and 32-bit counters", info, err)
	}
	continuity(t, r, db, cfg, lo, h)
}

// continuity polls once more after the import: the store row holding both MRTG's last
// run and the poll must be the time-weighted mean of MRTG's last rows and the new rate.
// Had the replay not ended on MRTG's last counter readings, the new interval would be a
// counter reset (unknown) or an impossible rate (unknown), and the row MRTG's rows alone.
func continuity(t *testing.T, r *mrtgRun, db *rrd.DB, cfg *config.Config, lo *Plan, h *History) {
	t.Helper()
	const delta = 1_234_567
	r.setCounters(t, h.LastIn+delta, h.LastOut+delta)
	rec := pipeline.NewRecorder(db, cfg.Step, map[string]string{}, slog.New(slog.DiscardHandler))
	res := poller.New(cfg.Devices, poller.Options{Logger: slog.New(slog.DiscardHandler), Now: time.Now}).Poll(context.Background())
	if res[0].Err != nil || len(res[0].Samples) != 1 {
		t.Fatalf("poll after import: %+v", res[0])
	}
	s := res[0].Samples[0]
	if err := rec.Record(res); err != nil {
		t.Fatal(err)
	}
	step := cfg.Step
	b := h.Last.Truncate(step).Add(step) // the row the last run and the poll share
	if !s.Time.After(b) || s.Time.Sub(h.Last) > 2*step {
		t.Fatalf("poll at %s: not after %s or beyond the heartbeat of %s", s.Time, b, h.Last)
	}
	live := delta / s.Time.Sub(h.Last).Seconds()
	want := live * b.Sub(h.Last).Seconds() / step.Seconds()
	for _, row := range h.Rows {
		lo, hi := maxTime(row.Start, b.Add(-step)), minTime(row.End, h.Last)
		if hi.After(lo) {
			want += row.In * hi.Sub(lo).Seconds() / step.Seconds()
		}
	}
	got, err := db.Fetch(lo.Series, rrd.Average, b.Add(-step), b, step)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) == 0 || !got.Time(len(got.Rows)-1).Equal(b) {
		t.Fatalf("no store row ending %s: %+v", b, got)
	}
	if g := got.Rows[len(got.Rows)-1][0]; math.Abs(g-want) > 0.01+1e-6*want {
		t.Errorf("row ending %s after the first poll: %.3f B/s, want %.3f (MRTG's last rows and %.1f B/s since)", b, g, want, live)
	}
}

func TestImportMRTGRRD(t *testing.T) {
	testneed.Program(t, "rrdtool", "apt-get install rrdtool")
	if err := exec.Command("perl", "-MRRDs", "-e", "1").Run(); err != nil {
		testneed.Missing(t, "perl RRDs not installed (apt-get install librrds-perl)")
	}
	r := runMRTG(t, 8, rising(1<<40, math.MaxUint64), "--global", "LogFormat: rrdtool", "--snmp-options=:::::2")
	db, cfg, lo, c := importRun(t, r)
	if lo.Bits != 64 || lo.Target.Version != "2c" {
		t.Errorf("plan %+v, want SNMPv2c with 64-bit counters", lo)
	}
	rrdPath := lo.Target.LogBase(c) + ".rrd"
	// MRTG's rows by rrdtool itself, independent of the package's dump reader.
	out, err := exec.Command("rrdtool", "fetch", rrdPath, "AVERAGE", "-r", "300",
		"-s", strconv.FormatInt(r.last.Add(-2*time.Hour).Unix(), 10), "-e", strconv.FormatInt(r.last.Unix(), 10)).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64][2]float64{}
	for _, l := range strings.Split(string(out), "\n") {
		ts, vals, ok := strings.Cut(l, ":")
		f := strings.Fields(vals)
		if !ok || len(f) != 2 {
			continue
		}
		sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		in, err1 := strconv.ParseFloat(f[0], 64)
		o, err2 := strconv.ParseFloat(f[1], 64)
		if err != nil || err1 != nil || err2 != nil || math.IsNaN(in) {
			continue
		}
		want[sec] = [2]float64{in, o}
	}
	if len(want) < 5 {
		t.Fatalf("rrdtool fetch gave %d known rows:\n%s", len(want), out)
	}
	res, err := db.Fetch(lo.Series, rrd.Average, r.last.Add(-2*time.Hour), r.last, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64][]float64{}
	for i, v := range res.Rows {
		got[res.Time(i).Unix()] = v
	}
	nonzero := 0
	for sec, w := range want {
		g, ok := got[sec]
		if !ok {
			t.Errorf("row ending %d missing from the store", sec)
			continue
		}
		for d := range 2 {
			if math.Abs(g[d]-w[d]) > 0.01+2e-7*math.Abs(w[d]) {
				t.Errorf("row ending %s ds %d: store %.4f, rrdtool %.4f", time.Unix(sec, 0).UTC(), d, g[d], w[d])
			}
		}
		if w[0] > 0 {
			nonzero++
		}
	}
	if nonzero < 3 {
		t.Errorf("only %d rows with traffic", nonzero)
	}
	t.Logf("%d rows compared with rrdtool fetch", len(want))
	h, err := ReadRRD(context.Background(), rrdPath)
	if err != nil {
		t.Fatal(err)
	}
	if !h.HaveLast || h.Last.Before(r.last) || h.Last.After(r.last.Add(time.Minute)) {
		t.Fatalf("last reading at %s (known %v), want the last run at %s", h.Last, h.HaveLast, r.last)
	}
	continuity(t, r, db, cfg, lo, h)
}
