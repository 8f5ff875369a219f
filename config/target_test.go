package config

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// targetFile is a file with one device and the target lines given (line 5 on).
func targetSrc(lines ...string) string {
	return "[[device]]\nname = \"srv\"\nhost = \"127.0.0.1\"\n[[device.target]]\n" + strings.Join(lines, "\n") + "\n"
}

func TestTargetKeys(t *testing.T) {
	c, err := Parse("t.toml", []byte(targetSrc(
		`name = "cpu"`,
		`oids = [".1.3.6.1.4.1.2021.10.1.5.1", "1.3.6.1.4.1.2021.10.1.5.2"]`,
		`kind = "gauge"`,
		`factor = 0.01`,
		`per = "minute"`,
		`max = 100`,
		`unit = "%"`,
		`title = "CPU load"`,
		`ylegend = "load %"`,
		`legend_in = "1 min"`,
		`legend_out = "5 min"`,
		`kmg = ["", "k"]`,
		`unscaled = "dw"`,
		`swap = true`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Devices[0]
	if len(d.Interfaces) != 0 || len(d.Targets) != 1 {
		t.Fatalf("device = %+v, want no interfaces and one target", d)
	}
	got := d.Targets[0]
	want := Target{Name: "cpu", OIDs: []string{"1.3.6.1.4.1.2021.10.1.5.1", "1.3.6.1.4.1.2021.10.1.5.2"},
		Kind: KindGauge, Factor: 0.01, Per: "minute", Max: 100, Unit: "%", Title: "CPU load",
		YLegend: "load %", LegendIn: "1 min", LegendOut: "5 min", KMG: []string{"", "k"},
		Unscaled: "dw", Swap: true, Line: 4}
	if !sameTarget(got, want) {
		t.Errorf("target =\n%+v, want\n%+v", got, want)
	}
	if !got.UnscaledFor("day") || got.UnscaledFor("month") {
		t.Errorf("UnscaledFor day/month = %v/%v, want true/false", got.UnscaledFor("day"), got.UnscaledFor("month"))
	}
	// A gauge's ceiling is undone of the factor only: 100 % of 0.01 is 10000 raw.
	if m := got.StoredMax(); m != 10000 {
		t.Errorf("StoredMax = %v, want 10000", m)
	}
}

func sameTarget(a, b Target) bool {
	return a.Name == b.Name && slices.Equal(a.OIDs, b.OIDs) && slices.Equal(a.Command, b.Command) &&
		a.Timeout == b.Timeout && a.Kind == b.Kind && a.Factor == b.Factor && a.Per == b.Per &&
		(a.Max == b.Max || math.IsNaN(a.Max) && math.IsNaN(b.Max)) && a.Unit == b.Unit &&
		a.Title == b.Title && a.YLegend == b.YLegend && a.LegendIn == b.LegendIn &&
		a.LegendOut == b.LegendOut && slices.Equal(a.KMG, b.KMG) && a.Unscaled == b.Unscaled &&
		a.Swap == b.Swap && a.Line == b.Line && a.Preset == b.Preset && a.Column == b.Column && a.Used == b.Used && a.Sensor == b.Sensor
}

func TestTargetDefaults(t *testing.T) {
	c, err := Parse("t.toml", []byte(targetSrc(`name = "errs"`, `oids = ["1.3.6.1.2.1.2.2.1.14.1"]`)))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Devices[0].Targets[0]
	want := Target{Name: "errs", OIDs: []string{"1.3.6.1.2.1.2.2.1.14.1"}, Kind: KindCounter, Factor: 1,
		Per: "second", Max: math.NaN(), Title: "errs", KMG: DefaultKMG, Line: 4}
	if !sameTarget(got, want) {
		t.Errorf("target =\n%+v, want\n%+v", got, want)
	}
	// A counter shown per minute: 600/min is 10 raw per second.
	tg := Target{Kind: KindCounter, Factor: 1, Per: "minute", Max: 600}
	if m := tg.StoredMax(); m != 10 {
		t.Errorf("StoredMax of 600/min = %v, want 10/s", m)
	}
}

func TestTargetPresets(t *testing.T) {
	c, err := Parse("t.toml", []byte(targetSrc(
		`name = "load"`, `preset = "cpu"`, `title = "Load of srv"`,
		`[[device.target]]`, `name = "cpu"`, `preset = "cpu-hr"`,
		`[[device.target]]`, `name = "mem"`, `preset = "memory"`, `max = 8e9`,
		`[[device.target]]`, `name = "load5"`, `preset = "cpu"`, `oids = ["1.3.6.1.4.1.2021.10.1.5.2"]`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	ts := c.Devices[0].Targets
	if len(ts) != 4 {
		t.Fatalf("got %d targets, want 4", len(ts))
	}
	cpu := Presets["cpu"]
	if ts[0].Preset != "cpu" || !slices.Equal(ts[0].OIDs, cpu.OIDs) || ts[0].Kind != KindGauge ||
		ts[0].Factor != 0.01 || ts[0].LegendIn != "1 min" || ts[0].Title != "Load of srv" {
		t.Errorf("cpu preset with a title = %+v", ts[0])
	}
	if !ts[1].Column || ts[1].Max != 100 || ts[1].Unit != "%" {
		t.Errorf("cpu-hr preset = %+v, want a column averaged, max 100 %%", ts[1])
	}
	if !ts[2].Used || ts[2].Max != 8e9 || ts[2].Factor != 1024 || ts[2].LegendOut != "total" {
		t.Errorf("memory preset with max = %+v", ts[2])
	}
	if len(ts[3].OIDs) != 1 || ts[3].Column || ts[3].Kind != KindGauge {
		t.Errorf("cpu preset with its own oids = %+v", ts[3])
	}
	// The preset's slices are the target's own: changing one leaves the preset alone.
	ts[0].OIDs[0] = "9.9"
	if Presets["cpu"].OIDs[0] == "9.9" {
		t.Error("a target shares its preset's OIDs")
	}
}

func TestCommandTarget(t *testing.T) {
	c, err := Parse("t.toml", []byte("step = \"60s\"\n"+targetSrc(`name = "users"`, `command = ["/bin/sh", "-c", "echo 1"]`, `kind = "gauge"`)))
	if err != nil {
		t.Fatal(err)
	}
	tg := c.Devices[0].Targets[0]
	if !slices.Equal(tg.Command, []string{"/bin/sh", "-c", "echo 1"}) || tg.Timeout != 10*time.Second {
		t.Errorf("command target = %+v, want the command and a 10s timeout", tg)
	}
	c, err = Parse("t.toml", []byte("step = \"15s\"\n"+targetSrc(`name = "users"`, `command = ["/bin/true"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if tg := c.Devices[0].Targets[0]; tg.Timeout != 5*time.Second {
		t.Errorf("timeout at a 15s step = %s, want a third of it", tg.Timeout)
	}
}

func TestTargetMistakes(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		line  int
		want  string
	}{
		{"no name", []string{`oids = ["1.3.6.1.2.1.1.3.0"]`}, 4, `device[1].target[1].name: target has no name`},
		{"slash", []string{`name = "a/b"`, `oids = ["1.3.6"]`}, 5, `target name "a/b" may not contain /`},
		{"nothing", []string{`name = "a"`}, 4, `target "a" has neither oids, command nor preset`},
		{"three oids", []string{`name = "a"`, `oids = ["1.3", "1.4", "1.5"]`}, 6, `give one or two OIDs (in, out), not 3`},
		{"no oids", []string{`name = "a"`, `oids = []`}, 6, `give one or two OIDs`},
		{"bad oid", []string{`name = "a"`, `oids = ["sysUpTime.0"]`}, 6, `"sysUpTime.0" is not a numeric OID`},
		{"bad kind", []string{`name = "a"`, `oids = ["1.3"]`, `kind = "gauges"`}, 7, `kind "gauges" is not one of counter, gauge, derive, absolute (did you mean "gauge"?)`},
		{"zero factor", []string{`name = "a"`, `oids = ["1.3"]`, `factor = 0`}, 7, `factor must be a finite number other than 0`},
		{"bad per", []string{`name = "a"`, `oids = ["1.3"]`, `per = "day"`}, 7, `per "day" is not one of second, minute, hour`},
		{"bad max", []string{`name = "a"`, `oids = ["1.3"]`, `max = -1`}, 7, `max must be a positive number`},
		{"empty kmg", []string{`name = "a"`, `oids = ["1.3"]`, `kmg = []`}, 7, `kmg must list at least one prefix`},
		{"bad unscaled", []string{`name = "a"`, `oids = ["1.3"]`, `unscaled = "dx"`}, 7, `unscaled "dx" may hold only d, w, m and y`},
		{"swap one", []string{`name = "a"`, `oids = ["1.3"]`, `swap = true`}, 7, `swap needs two values`},
		{"bad preset", []string{`name = "a"`, `preset = "cpus"`}, 6, `unknown preset "cpus" (one of cpu, cpu-hr, memory, memory-hr, temperature) (did you mean "cpu"?)`},
		{"command and oids", []string{`name = "a"`, `oids = ["1.3"]`, `command = ["/bin/true"]`}, 7, `give either command or oids`},
		{"empty command", []string{`name = "a"`, `command = []`}, 6, `command is empty`},
		{"timeout without command", []string{`name = "a"`, `oids = ["1.3"]`, `timeout = "1s"`}, 7, `timeout is for command targets`},
		{"long timeout", []string{`name = "a"`, `command = ["/bin/true"]`, `timeout = "10m"`}, 7, `timeout 10m0s must be positive and shorter than the step 5m0s`},
		{"bad timeout", []string{`name = "a"`, `command = ["/bin/true"]`, `timeout = "soon"`}, 7, `bad duration "soon"`},
		{"unknown key", []string{`name = "a"`, `oids = ["1.3"]`, `legnd_in = "x"`}, 7, `device[1].target[1].legnd_in: unknown key (did you mean "legend_in"?)`},
		{"duplicate", []string{`name = "a"`, `oids = ["1.3"]`, `[[device.target]]`, `name = "a"`, `oids = ["1.4"]`}, 8, `duplicate target name "a" in device "srv" (first at line 5)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.toml", []byte(targetSrc(tt.lines...)))
			var all Errors
			if !errors.As(err, &all) {
				t.Fatalf("error %v, want config.Errors", err)
			}
			if len(all) != 1 {
				t.Errorf("got %d errors, want 1:\n%v", len(all), err)
			}
			if all[0].Line != tt.line || !strings.Contains(all[0].Error(), tt.want) {
				t.Errorf("error %q at line %d, want %q at line %d", all[0], all[0].Line, tt.want, tt.line)
			}
		})
	}
}

// A device table after a target (its thresholds) is still the device's: errors in it
// point at it, and the next device's targets are counted on.
func TestTargetLocatorAcrossDevices(t *testing.T) {
	src := targetSrc(`name = "a"`, `oids = ["1.3"]`) +
		"[device.thresholds]\nin_max = \"fast\"\n" +
		"[[device]]\nname = \"b\"\nhost = \"127.0.0.2\"\n[[device.target]]\nname = \"a\"\noids = [\"x\"]\n"
	_, err := Parse("t.toml", []byte(src))
	var all Errors
	if !errors.As(err, &all) || len(all) != 2 {
		t.Fatalf("errors %v, want 2", err)
	}
	if all[0].Line != 8 || !strings.HasPrefix(all[0].Key, "device[1].thresholds") {
		t.Errorf("first error %q at line %d key %q, want line 8 in device[1].thresholds", all[0], all[0].Line, all[0].Key)
	}
	if all[1].Line != 14 || all[1].Key != "device[2].target[1].oids" {
		t.Errorf("second error %q at line %d key %q, want line 14 device[2].target[1].oids", all[1], all[1].Line, all[1].Key)
	}
}

func TestAggregates(t *testing.T) {
	base := "[[device]]\nname = \"core1\"\nhost = \"127.0.0.1\"\ninterfaces = [\"xe-0/0/1\", \"ge-0/0/0\"]\n" +
		"[[device.target]]\nname = \"cpu\"\npreset = \"cpu\"\n" +
		"[[device]]\nname = \"edge1\"\nhost = \"127.0.0.2\"\ninterfaces = [\"*\"]\n"
	c, err := Parse("t.toml", []byte(base+"[[aggregate]]\nname = \"customer-a\"\nsum = [\"core1/xe-0/0/1\", \"-edge1/ge-0/0/3\", \"core1:cpu\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Member{{Device: "core1", Interface: "xe-0/0/1"}, {Device: "edge1", Interface: "ge-0/0/3", Swap: true}, {Device: "core1", Target: "cpu"}}
	if len(c.Aggregates) != 1 || c.Aggregates[0].Name != "customer-a" || !slices.Equal(c.Aggregates[0].Members, want) || c.Aggregates[0].Line != 12 {
		t.Errorf("aggregates = %+v, want customer-a at line 12 with %v", c.Aggregates, want)
	}
	if s := want[1].String(); s != "-edge1/ge-0/0/3" {
		t.Errorf("member written as %q", s)
	}
	for _, tt := range []struct {
		name, agg string
		line      int
		want      string
	}{
		{"no device", "name = \"x\"\nsum = [\"core9/xe-0/0/1\"]", 14, `aggregate[1].sum: member "core9/xe-0/0/1": no device "core9" in this file`},
		{"no interface", "name = \"x\"\nsum = [\"core1/xe-0/0/9\"]", 14, `device "core1" does not poll interface "xe-0/0/9"`},
		{"no target", "name = \"x\"\nsum = [\"core1:mem\"]", 14, `device "core1" has no target "mem"`},
		{"bad member", "name = \"x\"\nsum = [\"core1\"]", 14, `member "core1" is neither`},
		{"empty", "name = \"x\"\nsum = []", 14, `aggregate "x" sums nothing`},
		{"no name", "sum = [\"core1:cpu\"]", 12, `aggregate[1].name: aggregate has no name`},
		{"duplicate", "name = \"x\"\nsum = [\"core1:cpu\"]\n[[aggregate]]\nname = \"x\"\nsum = [\"core1:cpu\"]", 16, `duplicate aggregate name "x" (first at line 13)`},
		{"unknown key", "name = \"x\"\nsum = [\"core1:cpu\"]\nsums = []", 15, `aggregate[1].sums: unknown key (did you mean "sum"?)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.toml", []byte(base+"[[aggregate]]\n"+tt.agg+"\n"))
			var all Errors
			if !errors.As(err, &all) || len(all) != 1 {
				t.Fatalf("errors %v, want one", err)
			}
			if all[0].Line != tt.line || !strings.Contains(all[0].Error(), tt.want) {
				t.Errorf("error %q at line %d, want %q at line %d", all[0], all[0].Line, tt.want, tt.line)
			}
		})
	}
}

// Format writes targets with the keys that differ from their preset or the defaults,
// and they load back as they were; Merge adds the targets a device lacks after its
// last table, keeping what is there.
func TestWriteTargets(t *testing.T) {
	src := targetSrc(`name = "load"`, `preset = "cpu"`, `title = "Load of srv"`,
		`[[device.target]]`, `name = "mails"`, `oids = ["1.3.6.1.4.1.99.1", "1.3.6.1.4.1.99.2"]`, `per = "minute"`,
		`max = 600`, `unit = "msg"`, `kmg = ["", "k"]`, `unscaled = "dw"`, `swap = true`,
		`[[device.target]]`, `name = "users"`, `command = ["/usr/local/bin/users", "-n"]`, `timeout = "3s"`, `kind = "gauge"`)
	c, err := Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f := File{Devices: []FileDevice{{Name: "srv", Host: "127.0.0.1", SNMP: DefaultSNMP(), Targets: c.Devices[0].Targets}}}
	out := Format(f)
	for _, w := range []string{"name = \"load\"\npreset = \"cpu\"\ntitle = \"Load of srv\"\n", "per = \"minute\"\nmax = 600\n",
		"command = [\"/usr/local/bin/users\", \"-n\"]\ntimeout = \"3s\"\nkind = \"gauge\"\n"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("Format lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(string(out), "interfaces") || strings.Contains(string(out), "factor") {
		t.Errorf("Format wrote an interfaces array or a default:\n%s", out)
	}
	back, err := Parse("t.toml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for i, tg := range back.Devices[0].Targets {
		want := c.Devices[0].Targets[i]
		want.Line = tg.Line
		if !sameTarget(tg, want) {
			t.Errorf("target %d loaded back as\n%+v, want\n%+v", i, tg, want)
		}
	}

	// Merge: an existing device gets the target it lacks, after its thresholds table;
	// the next device is left as it was.
	old := "[[device]]\nname = \"srv\"\nhost = \"127.0.0.1\"\ninterfaces = [\"lo\"]\n[[device.target]]\nname = \"load\"\npreset = \"cpu\"\n" +
		"[device.thresholds]\nin_max = \"90%\"\n\n# the next one\n[[device]]\nname = \"b\"\nhost = \"127.0.0.2\"\ninterfaces = [\"*\"]\n"
	mem := Target{Name: "mem", Preset: "memory"}
	p := Presets["memory"]
	mem.OIDs, mem.Used, mem.Kind, mem.Factor, mem.Per, mem.Max = p.OIDs, true, p.Kind, p.Factor, p.Per, p.Max
	mem.Unit, mem.Title, mem.YLegend, mem.LegendIn, mem.LegendOut, mem.KMG = p.Unit, p.Title, p.YLegend, p.LegendIn, p.LegendOut, p.KMG
	merged, changes, err := Merge("t.toml", []byte(old), File{Devices: []FileDevice{
		{Name: "srv", Host: "127.0.0.1", Targets: []Target{{Name: "load", Preset: "cpu"}, mem}},
		{Name: "new", Host: "127.0.0.3", SNMP: DefaultSNMP(), Targets: []Target{mem}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := "[[device]]\nname = \"srv\"\nhost = \"127.0.0.1\"\ninterfaces = [\"lo\"]\n[[device.target]]\nname = \"load\"\npreset = \"cpu\"\n" +
		"[device.thresholds]\nin_max = \"90%\"\n\n[[device.target]]\nname = \"mem\"\npreset = \"memory\"\n\n# the next one\n" +
		"[[device]]\nname = \"b\"\nhost = \"127.0.0.2\"\ninterfaces = [\"*\"]\n\n[[device]]\nname = \"new\"\nhost = \"127.0.0.3\"\n" +
		"\n[[device.target]]\nname = \"mem\"\npreset = \"memory\"\n"
	if string(merged) != want {
		t.Errorf("Merge:\n%s\nwant:\n%s", merged, want)
	}
	if len(changes) != 2 || !slices.Equal(changes[0].AddedTargets, []string{"mem"}) || !changes[1].New || !slices.Equal(changes[1].AddedTargets, []string{"mem"}) {
		t.Errorf("changes = %+v", changes)
	}
}

// PresetTarget is what a file with the preset alone loads as.
func TestPresetTarget(t *testing.T) {
	for _, name := range PresetNames() {
		c, err := Parse("t.toml", []byte(targetSrc(`name = "x"`, `preset = "`+name+`"`)))
		if err != nil {
			t.Fatal(err)
		}
		want := c.Devices[0].Targets[0]
		got, ok := PresetTarget("x", name)
		got.Line = want.Line
		if !ok || !sameTarget(got, want) {
			t.Errorf("PresetTarget(%q) =\n%+v, want\n%+v", name, got, want)
		}
	}
	if _, ok := PresetTarget("x", "nope"); ok {
		t.Error("an unknown preset made a target")
	}
}

func TestLoadValidTargets(t *testing.T) {
	c, err := Load("testdata/valid-targets.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Devices[0].TargetNames(); !slices.Equal(got, []string{"load", "errors", "mailq"}) {
		t.Errorf("srv1 targets %q", got)
	}
	if !c.Devices[0].Thresholds.InMax.Set {
		t.Error("the thresholds table after a target is not srv1's")
	}
	if d := c.Devices[1]; len(d.Interfaces) != 0 || len(d.Targets) != 1 || !d.Targets[0].Sensor || d.Targets[0].Max != 90 {
		t.Errorf("sensors = %+v", d)
	}
	if len(c.Aggregates) != 1 || len(c.Aggregates[0].Members) != 2 || !c.Aggregates[0].Members[1].Swap {
		t.Errorf("aggregates %+v", c.Aggregates)
	}
}
