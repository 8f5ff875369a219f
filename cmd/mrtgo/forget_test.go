package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
	"github.com/mrtgo/mrtgo/render"
	"github.com/mrtgo/mrtgo/rrd"
	"github.com/mrtgo/mrtgo/web"
)

// An interface that vanishes from its device is kept, marked gone since the poll that
// missed it and listed inactive; "mrtgo forget" drops its series of every kind, its
// facts, its graphs and page, and leaves the other interfaces as they were. An unknown
// device or interface is a clear error, and a store held by another process is refused.
func TestGoneAndForget(t *testing.T) {
	ifs := []snmpsim.Interface{
		{Name: "ge-0/0/0", Speed: 1e9, Up: true, MeanBps: 1e8},
		{Name: "ge-0/0/1", Speed: 1e9, Up: true, MeanBps: 2e8},
	}
	// The same device before and after ge-0/0/1 was taken out (a line card pulled):
	// the targets file points at the second agent from then on.
	devs := []snmpsim.DeviceConfig{
		{Name: "r1", Seed: 3, Interfaces: ifs},
		{Name: "r1", Seed: 3, Interfaces: ifs[:1]},
	}
	agents, err := snmpsim.StartNetwork(context.Background(), "127.0.0.1:0", devs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		defer a.Close()
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	write := func(a *snmpsim.Agent) {
		t.Helper()
		body := fmt.Sprintf("step = \"1s\"\ndata = \"mrtgo.db\"\nsite = \"site\"\ncounters = [\"packets\", \"errors\"]\n\n"+
			"[[device]]\nname = \"r1\"\nhost = \"127.0.0.1\"\nport = %d\ncommunity = %q\ninterfaces = [\"ge-0/0/0\", \"ge-0/0/1\"]\n",
			a.Port(), a.Community())
		if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	must := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := runCmd(t, args...)
		if code != want {
			t.Fatalf("mrtgo %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, errs)
		}
		return out + errs
	}
	write(agents[0])
	for range 2 {
		must(exitOK, "poll", "--once", "-c", cfgPath)
		time.Sleep(1100 * time.Millisecond)
	}
	write(agents[1])
	must(exitOK, "poll", "--once", "-c", cfgPath) // the device answers, without ge-0/0/1
	must(exitOK, "render", "-c", cfgPath)

	site := filepath.Join(dir, "site")
	read := func(p string) string {
		b, _ := os.ReadFile(filepath.Join(site, p))
		return string(b)
	}
	dev := read(web.DevicePage("r1"))
	inactive, _, _ := strings.Cut(dev[strings.Index(dev, "<h2>Inactive interfaces</h2>")+1:], "</table>")
	if !strings.Contains(inactive, "ge-0/0/1</a>") || !strings.Contains(inactive, "gone since") || strings.Contains(inactive, "ge-0/0/0") {
		t.Errorf("device page's inactive section:\n%s", inactive)
	}
	if p := read(web.InterfacePage("r1", "ge-0/0/1")); !strings.Contains(p, "gone since") || !strings.Contains(p, "Packets: ") {
		t.Errorf("the gone interface's page does not say so or lost its packet graphs")
	}

	if out := must(exitUsage, "forget", "-c", cfgPath, "r9", "ge-0/0/1"); !strings.Contains(out, `device "r9": not in the store`) {
		t.Errorf("unknown device: %s", out)
	}
	if out := must(exitUsage, "forget", "-c", cfgPath, "r1", "ge-9"); !strings.Contains(out, `interface "ge-9" of device "r1": not in the store (it has ["ge-0/0/0" "ge-0/0/1"])`) {
		t.Errorf("unknown interface: %s", out)
	}
	must(exitUsage, "forget", "-c", cfgPath, "r1")

	// Another process holds the store: refused, nothing dropped.
	old := lockWait
	lockWait = 100 * time.Millisecond
	defer func() { lockWait = old }()
	held, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out := must(exitLocked, "forget", "-c", cfgPath, "r1", "ge-0/0/1"); !strings.Contains(out, "stop \"mrtgo run\"") {
		t.Errorf("locked store: %s", out)
	}
	held.Close()

	// A day graph redrawn soon after it was written keeps a spare beside it (web's
	// replaceFile): as after two steps.
	day := web.GraphFile("r1", "ge-0/0/1", render.Day.String(), 1)
	for _, b := range []string{"redrawn once", "redrawn twice"} {
		if err := web.WriteFile(site, day, []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	slug := strings.TrimSuffix(filepath.Base(web.InterfacePage("r1", "ge-0/0/1")), ".html")
	named := func() []string { // the site's files, hidden ones too, of ge-0/0/1
		var out []string
		filepath.WalkDir(site, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.Contains(d.Name(), slug) {
				out = append(out, path)
			}
			return nil
		})
		return out
	}
	if files := named(); !slices.ContainsFunc(files, func(f string) bool { return strings.HasPrefix(filepath.Base(f), ".") }) {
		t.Fatalf("no spare among ge-0/0/1's files %q", files)
	}
	if out := must(exitOK, "forget", "-c", cfgPath, "r1", "ge-0/0/1"); !strings.Contains(out, "forgot r1 ge-0/0/1: 3 series") {
		t.Errorf("forget: %s", out)
	}
	db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), &rrd.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, _ := db.Series()
	want := []string{series.Name("r1", "ge-0/0/0"), series.KindName("r1", series.KindErrors, "ge-0/0/0"), series.KindName("r1", series.KindPackets, "ge-0/0/0")}
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Errorf("series after forget %q, want %q", all, want)
	}
	if info, _ := db.Meta(series.InfoKey(series.Name("r1", "ge-0/0/1"))); info != nil {
		t.Errorf("facts kept: %s", info)
	}
	if info, _ := series.Interface(db, series.Name("r1", "ge-0/0/0")); info.Speed != 1e9 || !info.Gone.IsZero() {
		t.Errorf("ge-0/0/0's facts %+v, want untouched", info)
	}
	for _, p := range render.Periods {
		for _, f := range []string{web.GraphFile("r1", "ge-0/0/1", p.String(), 1), web.CounterGraphFile("r1", "ge-0/0/1", web.CounterPackets, p.String(), 2)} {
			if _, err := os.Stat(filepath.Join(site, f)); !os.IsNotExist(err) {
				t.Errorf("%s: %v, want it removed", f, err)
			}
		}
		if _, err := os.Stat(filepath.Join(site, web.CounterGraphFile("r1", "ge-0/0/0", web.CounterErrors, p.String(), 1))); err != nil {
			t.Errorf("ge-0/0/0's graph: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(site, web.InterfacePage("r1", "ge-0/0/1"))); !os.IsNotExist(err) {
		t.Errorf("its page: %v, want it removed", err)
	}
	if files := named(); len(files) > 0 {
		t.Errorf("ge-0/0/1's files left in the site: %q", files)
	}
	// (The device page still says the agent lacks it: the targets file lists it.)
	link := filepath.Base(web.InterfacePage("r1", "ge-0/0/1"))
	if strings.Contains(read(web.DevicePage("r1")), link) || strings.Contains(read("index.html"), link) {
		t.Errorf("the device page or the index still links the forgotten interface")
	}
}
