package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/testsnmpd"
)

// BenchmarkPollOnceProcess is cron's path on a real net-snmp snmpd with 1,000
// interfaces (veth links in a network namespace of its own): "mrtgo poll --once" as a
// process of its own with a warm store (the interface mapping and counters of the last
// run in it), beside two snmpbulkwalks of the same counters and MRTG in rrdtool mode
// over the same interfaces. Each is run several times; the medians are reported as
// poll-once-ms, bulkwalk2-ms and mrtg-rrdtool-ms, and MRTG's time over ours as
// x-faster-than-mrtg. It needs root, iproute2 and net-snmp, and MRTG for its column.
func BenchmarkPollOnceProcess(b *testing.B) {
	b.Run("interfaces=1000", func(b *testing.B) {
		const n = 1000
		if os.Geteuid() != 0 {
			b.Skip("needs root to make a network namespace")
		}
		ip, err := exec.LookPath("ip")
		if err != nil {
			b.Skip("needs iproute2's ip")
		}
		snmpget, err1 := exec.LookPath("snmpget")
		walk, err2 := exec.LookPath("snmpbulkwalk")
		if err1 != nil || err2 != nil {
			b.Skip("needs net-snmp's snmpget and snmpbulkwalk")
		}
		ns := fmt.Sprintf("mrtgo-bench-once-%d", os.Getpid())
		if out, err := exec.Command(ip, "netns", "add", ns).CombinedOutput(); err != nil {
			b.Skipf("no network namespaces here: %v: %s", err, out)
		}
		b.Cleanup(func() { _ = exec.Command(ip, "netns", "delete", ns).Run() })
		var batch strings.Builder
		batch.WriteString("link set lo up\n")
		names := make([]string, 0, n)
		for i := range n / 2 {
			a, z := fmt.Sprintf("v%da", i), fmt.Sprintf("v%db", i)
			fmt.Fprintf(&batch, "link add %s type veth peer name %s\nlink set %s up\nlink set %s up\n", a, z, a, z)
			names = append(names, a, z)
		}
		dir := b.TempDir()
		bf := filepath.Join(dir, "links")
		if err := os.WriteFile(bf, []byte(batch.String()), 0o600); err != nil {
			b.Fatal(err)
		}
		if out, err := exec.Command(ip, "-n", ns, "-batch", bf).CombinedOutput(); err != nil {
			b.Fatalf("make links: %v: %s", err, out)
		}
		inNS := []string{ip, "netns", "exec", ns}
		agent := testsnmpd.StartWith(b, testsnmpd.Options{
			Community: "bench-ro",
			Prefix:    inNS,
			Answers: func(a *testsnmpd.Agent) bool {
				return exec.Command(ip, "netns", "exec", ns, snmpget, "-v2c", "-c", a.Community, "-r0", "-t0.3",
					"-m", "", "-On", fmt.Sprintf("127.0.0.1:%d", a.Port), ".1.3.6.1.2.1.1.3.0").Run() == nil
			},
		})

		cfgPath := filepath.Join(dir, "targets.toml")
		quoted := make([]string, len(names))
		for i, name := range names {
			quoted[i] = fmt.Sprintf("%q", name)
		}
		conf := fmt.Sprintf("step = \"5m\"\ndata = \"mrtgo.db\"\nsite = \"site\"\n\n[[device]]\nname = \"bench\"\nhost = \"127.0.0.1\"\nport = %d\ncommunity = %q\ntimeout = \"5s\"\ninterfaces = [%s]\n",
			agent.Port, agent.Community, strings.Join(quoted, ", "))
		if err := os.WriteFile(cfgPath, []byte(conf), 0o600); err != nil {
			b.Fatal(err)
		}
		self, err := os.Executable()
		if err != nil {
			b.Fatal(err)
		}
		timed := func(env []string, name string, args ...string) time.Duration {
			cmd := exec.Command(name, args...)
			cmd.Env, cmd.Dir = env, dir
			start := time.Now()
			out, err := cmd.CombinedOutput()
			d := time.Since(start)
			if err != nil {
				b.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
			}
			return d
		}
		mrtgoEnv := append(os.Environ(), asMainEnv+"=1")
		pollOnce := func() time.Duration {
			return timed(mrtgoEnv, ip, "netns", "exec", ns, self, "poll", "--once", "-c", cfgPath, "-log-level", "warn")
		}
		// Warm: the first run walks and creates the series; the second is the first
		// with a mapping to check.
		pollOnce()
		pollOnce()
		b.ResetTimer()
		for b.Loop() {
			pollOnce()
		}
		b.StopTimer()
		median := func(runs int, f func() time.Duration) float64 {
			ds := make([]time.Duration, runs)
			for i := range ds {
				ds[i] = f()
			}
			slices.Sort(ds)
			return float64(ds[runs/2].Microseconds()) / 1000
		}
		ours := median(9, pollOnce)
		b.ReportMetric(ours, "poll-once-ms")
		b.ReportMetric(median(9, func() time.Duration {
			var d time.Duration
			for _, col := range []string{".1.3.6.1.2.1.31.1.1.1.6", ".1.3.6.1.2.1.31.1.1.1.10"} {
				d += timed(os.Environ(), ip, "netns", "exec", ns, walk, "-v2c", "-c", agent.Community, "-Cr60",
					"-m", "", "-On", "-Oq", fmt.Sprintf("127.0.0.1:%d", agent.Port), col)
			}
			return d
		}), "bulkwalk2-ms")

		// MRTG in rrdtool mode over the same interfaces, from the configuration its
		// cfgmaker writes, each run after a first that created the RRD files.
		cfgmaker, err1 := exec.LookPath("cfgmaker")
		mrtg, err2 := exec.LookPath("mrtg")
		if err1 != nil || err2 != nil {
			b.Log("no MRTG here: its column is left out")
			return
		}
		mdir := filepath.Join(dir, "mrtg")
		if err := os.Mkdir(mdir, 0o755); err != nil {
			b.Fatal(err)
		}
		env := append(os.Environ(), "LANG=C", "LC_ALL=C", "TZ=UTC", "HOME="+mdir)
		mcfg := filepath.Join(mdir, "mrtg.cfg")
		timed(env, ip, "netns", "exec", ns, cfgmaker, "--global", "WorkDir: "+mdir, "--global", "LogFormat: rrdtool",
			"--snmp-options=:::::2", "--output="+mcfg, fmt.Sprintf("%s@127.0.0.1:%d", agent.Community, agent.Port))
		runMRTG := func() time.Duration {
			return timed(env, ip, "netns", "exec", ns, mrtg, "--lock-file", filepath.Join(mdir, "lock"),
				"--confcache-file", filepath.Join(mdir, "ok"), mcfg)
		}
		runMRTG()
		theirs := median(3, runMRTG) // a second or more each
		b.ReportMetric(theirs, "mrtg-rrdtool-ms")
		b.ReportMetric(theirs/ours, "x-faster-than-mrtg")
	})
}
