package web

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// goldenName maps a site path to its golden file: "core1/index.html" ->
// "testdata/core1~index.html.golden".
func goldenName(rel string) string {
	return filepath.Join("testdata", strings.ReplaceAll(rel, "/", "~")+".golden")
}

// siteFiles lists the regular files under dir, relative, with '/'.
func siteFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	slices.Sort(files)
	return files
}

func TestWriteGolden(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, sampleSite()); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got := siteFiles(t, dir)
	want := []string{
		"core1/ge-0_0_0.html",
		"core1/index.html",
		"core1/index=.html",
		"core1/xe-1_0_0.100.html",
		"edge=202/eth0.html",
		"edge=202/index.html",
		"index.html",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("files written = %q, want %q", got, want)
	}
	for _, rel := range got {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		golden := goldenName(rel)
		if *update {
			if err := os.WriteFile(golden, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("read golden (regenerate with go test ./web -update): %v", err)
		}
		if string(b) != string(want) {
			kept := keepPage(t, rel, b)
			t.Errorf("%s differs from %s; the page is kept as %s (diff -u %s %s; regenerate with go test ./web -update if intended):\n%s",
				rel, golden, kept, golden, kept, firstDiff(string(b), string(want)))
		}
	}
}

// keepPage writes a page that differs from its golden into a directory that
// outlives the test, for a person to open or diff, and returns its path.
func keepPage(t *testing.T, rel string, b []byte) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mrtgo-web-golden-")
	if err != nil {
		t.Fatalf("keep failing page: %v", err)
	}
	name := filepath.Join(dir, strings.ReplaceAll(rel, "/", "~"))
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatalf("keep failing page: %v", err)
	}
	return name
}

// firstDiff shows the first differing line of got and want.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return "(no line differs)"
}

// An interface over a threshold stands out on the index, its device page and its own.
func TestWriteAlerts(t *testing.T) {
	dir := t.TempDir()
	s := sampleSite()
	s.Devices[0].Interfaces[0].Alerts = []Alert{{Direction: "in", Bound: "max", Limit: 900e6}, {Direction: "out", Bound: "min", Limit: 1e6}}
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	ifc := s.Devices[0].Interfaces[0]
	for file, want := range map[string][]string{
		"index.html":                               {`<div class="graph alert">`, "Over threshold: in above 900 Mb/s", "Over threshold: out below 1.00 Mb/s"},
		DevicePage(s.Devices[0].Name):              {`<div class="graph alert">`, "Over threshold: in above 900 Mb/s"},
		InterfacePage(s.Devices[0].Name, ifc.Name): {`<td class="err">over: in above 900 Mb/s</td>`, `<td class="err">over: out below 1.00 Mb/s</td>`},
	} {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: missing %q", file, w)
			}
		}
		if n := strings.Count(string(b), `class="graph alert"`); file != InterfacePage(s.Devices[0].Name, ifc.Name) && n != 1 {
			t.Errorf("%s: %d interfaces stand out, want 1", file, n)
		}
	}
}

func TestWriteEscapes(t *testing.T) {
	dir := t.TempDir()
	s := sampleSite()
	if err := Write(dir, s); err != nil {
		t.Fatalf("Write: %v", err)
	}
	tests := []struct {
		file string
		want []string // must appear
	}{
		{"index.html", []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "Juniper &lt;b&gt;MX&lt;/b&gt; &amp; &#34;friends&#34;", "timeout &lt;after 2s&gt;"}},
		{"core1/index.html", []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "Juniper &lt;b&gt;MX&lt;/b&gt;"}},
		{"core1/ge-0_0_0.html", []string{"<tr><th>Description</th><td>&lt;script&gt;alert(1)&lt;/script&gt;</td></tr>"}},
		{"core1/xe-1_0_0.100.html", []string{"uplink to isp &#34;A&#34; &amp; &#39;B&#39;"}},
		{"edge=202/index.html", []string{`<span class="err">get sysUpTime.0: timeout &lt;after 2s&gt;</span>`}},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(tt.file)))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		if n := strings.Count(strings.ToLower(page), "<script"); n != 0 {
			t.Errorf("%s: %d <script elements, want 0", tt.file, n)
		}
		if strings.Contains(page, "<b>MX") {
			t.Errorf("%s: sysDescr markup not escaped", tt.file)
		}
		for _, w := range tt.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: missing %q", tt.file, w)
			}
		}
	}
}

func TestWritePageContent(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, sampleSite()); err != nil {
		t.Fatalf("Write: %v", err)
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		file string
		want []string
	}{
		{"index.html", []string{
			`<meta http-equiv="refresh" content="300">`,
			`<a href="core1/index.html">core1</a>`,
			`<a href="core1/ge-0_0_0.html"><img src="core1/ge-0_0_0-day.png" srcset="core1/ge-0_0_0-day.png 1x, core1/ge-0_0_0-day@2x.png 2x" width="500" height="135"`,
			`<a href="edge=202/eth0.html">eth0</a>`,
			"Generated 2026-03-14 15:09:56 CET",
		}},
		{"core1/index.html", []string{
			`<a href="../index.html">mrtgo</a>`,
			"<tr><th>Up for</th><td>12 days, 3:04:05</td></tr>",
			"<tr><th>Poll took</th><td>850 ms</td></tr>",
			"<tr><th>Last success</th><td>2026-03-14 15:09:26 CET</td></tr>",
			"<tr><th>Requests</th><td>17</td></tr>",
			"<tr><th>Retries</th><td>2</td></tr>",
			`<span class="ok">OK</span>`,
			`<td><a href="ge-0_0_0.html">ge-0/0/0</a></td>`,
			`<td>98.7 Mb/s</td>`,
			`<a href="index=.html">index</a>`,
		}},
		{"core1/ge-0_0_0.html", []string{
			"<h2>&#39;Daily&#39; Graph (5 Minute Average)</h2>",
			"<h2>&#39;Weekly&#39; Graph (30 Minute Average)</h2>",
			"<h2>&#39;Monthly&#39; Graph (2 Hour Average)</h2>",
			"<h2>&#39;Yearly&#39; Graph (1 Day Average)</h2>",
			`<img src="ge-0_0_0-year.png" srcset="ge-0_0_0-year.png 1x, ge-0_0_0-year@2x.png 2x" width="500" height="135"`,
			"<th>Max</th><th>Average</th><th>Current</th><th>95th percentile</th><th>Total</th>",
			`<td>203 Mb/s <span class="pct">(20.3%)</span></td>`,
			"<td>1.23 TB</td>",
			"<tr><th>Speed</th><td>1 Gb/s</td></tr>",
			"last updated <b>2026-03-14 15:09:26 CET</b>",
			"up for <b>12 days, 3:04:05</b>",
			`<p class="note">95th percentile of 5-minute averages over week &lt;rows&gt;.</p>`,
		}},
		{"edge=202/index.html", []string{
			"<tr><th>Last success</th><td>unknown</td></tr>",
			"<tr><th>Requests</th><td>3</td></tr>",
			`<tr><th>Not found</th><td class="err">eth9, &lt;b&gt;gone&lt;/b&gt;</td></tr>`,
		}},
		{"core1/index=.html", []string{
			`<td>–</td>`,
			`<img src="index=-day.png" srcset="index=-day.png 1x, index=-day@2x.png 2x" alt=`,
			"<tr><th>Speed</th><td>unknown</td></tr>",
		}},
		{"edge=202/eth0.html", []string{"<p>No graphs yet.</p>", "up for <b>unknown</b>", "last updated <b>unknown</b>"}},
	}
	for _, tt := range tests {
		page := read(tt.file)
		for _, w := range tt.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: missing %q", tt.file, w)
			}
		}
	}
}

func TestWriteAtomicAndUnchanged(t *testing.T) {
	dir := t.TempDir()
	s := sampleSite()
	if err := Write(dir, s); err != nil {
		t.Fatalf("Write: %v", err)
	}
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, rel := range siteFiles(t, dir) {
		if err := os.Chtimes(filepath.Join(dir, rel), old, old); err != nil {
			t.Fatal(err)
		}
	}
	// Same model: nothing is rewritten.
	if err := Write(dir, s); err != nil {
		t.Fatalf("second Write: %v", err)
	}
	for _, rel := range siteFiles(t, dir) {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(old) {
			t.Errorf("%s rewritten with unchanged content: mtime %v", rel, fi.ModTime())
		}
		if strings.Contains(rel, ".tmp") || strings.HasPrefix(filepath.Base(rel), ".") {
			t.Errorf("temporary file %s left behind", rel)
		}
	}
	// A new generation time alone changes no page's content: it is what the
	// page says when it was last generated (when its numbers last moved).
	s.Generated = s.Generated.Add(5 * time.Minute)
	if err := Write(dir, s); err != nil {
		t.Fatalf("third Write: %v", err)
	}
	for _, rel := range siteFiles(t, dir) {
		if fi, err := os.Stat(filepath.Join(dir, rel)); err != nil || !fi.ModTime().Equal(old) {
			t.Errorf("%s rewritten for a new generation time alone (%v)", rel, err)
		}
	}
	// A new title changes every page, which then carries the new time.
	s.Title = "traffic"
	if err := Write(dir, s); err != nil {
		t.Fatalf("fourth Write: %v", err)
	}
	stamp := "Generated " + formatTime(s.Generated, location(s))
	for _, rel := range siteFiles(t, dir) {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().Equal(old) {
			t.Errorf("%s not rewritten after a change", rel)
		}
		if b, err := os.ReadFile(filepath.Join(dir, rel)); err != nil || !strings.Contains(string(b), stamp) {
			t.Errorf("%s does not say %q (%v)", rel, stamp, err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s mode = %v, want 0644", rel, fi.Mode().Perm())
		}
	}
}

func TestWriteDuplicateNames(t *testing.T) {
	tests := []struct {
		name string
		site Site
	}{
		{"devices", Site{Devices: []Device{{Name: "a"}, {Name: "a"}}}},
		{"interfaces", Site{Devices: []Device{{Name: "a", Interfaces: []Interface{{Name: "x"}, {Name: "x"}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Write(dir, tt.site); err == nil {
				t.Errorf("Write = nil, want error for duplicate %s", tt.name)
			}
			if files := siteFiles(t, dir); len(files) != 0 {
				t.Errorf("files written despite error: %q", files)
			}
		})
	}
}

func TestWriteEmptySite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "site")
	if err := Write(dir, Site{}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, w := range []string{"<title>mrtgo</title>", "No devices configured.", "Generated unknown"} {
		if !strings.Contains(page, w) {
			t.Errorf("index.html missing %q", w)
		}
	}
	if strings.Contains(page, "refresh") {
		t.Errorf("index.html has a meta refresh with Refresh = 0")
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	rel := GraphFile("core1", "ge-0/0/0", "day", 2)
	if err := WriteFile(dir, rel, []byte("png")); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil || string(got) != "png" {
		t.Errorf("read back %q, %v; want %q", got, err, "png")
	}
	if files := siteFiles(t, dir); !slices.Equal(files, []string{rel}) {
		t.Errorf("files = %q, want only %q", files, rel)
	}
	for _, bad := range []string{"../x.png", "/tmp/x.png", "a/../../x.png", ""} {
		if err := WriteFile(dir, bad, []byte("x")); err == nil {
			t.Errorf("WriteFile(%q) = nil, want error", bad)
		}
	}
}

// Pages rewrites only the pages whose content moved, without reading back the
// others, and a page it rewrites carries the new generation time.
func TestPagesRewritesWhatMoved(t *testing.T) {
	dir := t.TempDir()
	s := sampleSite()
	p := &Pages{Dir: dir}
	if err := p.Write(s); err != nil {
		t.Fatalf("Write: %v", err)
	}
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, rel := range siteFiles(t, dir) {
		if err := os.Chtimes(filepath.Join(dir, rel), old, old); err != nil {
			t.Fatal(err)
		}
	}
	// One interface's current rate moves: its page and its device's page (which
	// lists the rates now) change; the index shows no rates.
	d := s.Devices[0]
	s.Devices[0].Interfaces = slices.Clone(d.Interfaces)
	ifc := &s.Devices[0].Interfaces[0]
	ifc.Graphs = slices.Clone(ifc.Graphs)
	ifc.Graphs[0].In.Current *= 2
	s.Generated = s.Generated.Add(5 * time.Minute)
	if err := p.Write(s); err != nil {
		t.Fatalf("second Write: %v", err)
	}
	moved := map[string]bool{DevicePage(d.Name): true, InterfacePage(d.Name, ifc.Name): true}
	stamp := "Generated " + formatTime(s.Generated, location(s))
	for _, rel := range siteFiles(t, dir) {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if got := !fi.ModTime().Equal(old); got != moved[filepath.ToSlash(rel)] {
			t.Errorf("%s rewritten = %v, want %v", rel, got, moved[filepath.ToSlash(rel)])
		}
		if got := strings.Contains(string(b), stamp); got != moved[filepath.ToSlash(rel)] {
			t.Errorf("%s says %q = %v, want %v", rel, stamp, got, moved[filepath.ToSlash(rel)])
		}
	}
}
