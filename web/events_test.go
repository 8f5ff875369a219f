package web

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/events"
	"github.com/mrtgo/mrtgo/internal/browsertest"
)

// sampleEvents are events of every sort the pages show, around sampleSite's time:
// a flood going on with a capture, an ended scan, a threshold and an anomaly of
// interfaces, a flood on another device, a sweep seen on a device the site does not
// have (with a hostile name), and one seen on no device.
func sampleEvents(at time.Time) []events.Event {
	a := netip.MustParseAddr
	ago := func(m int) time.Time { return at.Add(-time.Duration(m) * time.Minute).UTC() }
	return []events.Event{
		{Kind: "ddos-udp", Severity: events.Critical, State: events.Active, Start: ago(40), End: ago(0),
			Device: "core1", Interface: "ge-0/0/0",
			Sources: []netip.Addr{a("198.51.100.1"), a("198.51.100.2")}, SourceCount: 200,
			Targets: []netip.Addr{a("192.0.2.7")}, TargetCount: 1, Proto: 17, Ports: []uint16{53, 123}, PortCount: 18,
			PPS: 20000, BPS: 1.2e8, Packets: 4.8e7, Bytes: 3.6e10, Flows: 90000, Value: 20000, Threshold: 10000,
			Evidence: []events.Evidence{{Measure: "pps", Value: 20000, Threshold: 10000}, {Measure: "sources", Value: 200, Threshold: 50}},
			BPF:      "udp and dst host 192.0.2.7", Capture: "20260314-ddos-udp-192.0.2.7.pcap"},
		{Kind: "vertical-scan", Severity: events.Warning, State: events.Ended, Start: ago(300), End: ago(290),
			Device: "core1", Interface: "xe-1/0/0.100",
			Sources: []netip.Addr{a("203.0.113.66")}, SourceCount: 1, Targets: []netip.Addr{a("192.0.2.10")}, TargetCount: 1,
			Proto: 6, Ports: []uint16{22, 23, 80, 443}, PortCount: 1021, Value: 1021, Threshold: 100,
			Evidence: []events.Evidence{{Measure: "distinct ports", Value: 1021, Threshold: 100}},
			BPF:      "tcp and src host 203.0.113.66 and dst host 192.0.2.10"},
		{Kind: events.Threshold, Severity: events.Major, State: events.Ended, Start: ago(200), End: ago(150),
			Device: "core1", Interface: "ge-0/0/0", Direction: "in", Bound: "max", Value: 9.5e8, Threshold: 9e8},
		{Kind: events.Anomaly, Severity: events.Info, State: events.Active, Start: ago(25), End: ago(0),
			Device: "edge 2", Interface: "eth0", Direction: "out", Value: 1.2e7},
		{Kind: "ddos-udp", Severity: events.Warning, State: events.Ended, Start: ago(1000), End: ago(990),
			Device: "edge 2", Interface: "eth0", Sources: []netip.Addr{a("2001:db8::1")}, SourceCount: 60,
			Targets: []netip.Addr{a("2001:db8:1::53")}, TargetCount: 1, Proto: 17, PPS: 8000, BPS: 9e7,
			Evidence: []events.Evidence{{Measure: "bps", Value: 9e7, Threshold: 5e7}, {Measure: "pps / baseline pps", Value: 12.5, Threshold: 8}},
			BPF:      "udp and dst host 2001:db8:1::53"},
		{Kind: "horizontal-sweep", Severity: events.Major, State: events.Ended, Start: ago(600), End: ago(580),
			Device: `<b>ghost</b> "1"`, Interface: "x<y>", Sources: []netip.Addr{a("192.0.2.99")}, SourceCount: 1,
			TargetCount: 300, Proto: 6, Ports: []uint16{3389}, PortCount: 1,
			Evidence: []events.Evidence{{Measure: "distinct hosts", Value: 300, Threshold: 64}},
			BPF:      "tcp dst port 3389 and src host 192.0.2.99 and tcp[tcpflags] & tcp-syn != 0"},
		{Kind: "icmp-sweep", Severity: events.Warning, State: events.Ended, Start: ago(700), End: ago(695),
			Sources: []netip.Addr{a("192.0.2.200")}, SourceCount: 1, TargetCount: 254, Proto: 1,
			Evidence: []events.Evidence{{Measure: "distinct hosts", Value: 254, Threshold: 64}}, BPF: "icmp and src host 192.0.2.200"},
	}
}

// eventsSite is sampleSite with sampleEvents, written to an event log and read back
// as the pipeline reads it, and spread over the pages as the pipeline spreads them.
func eventsSite(t *testing.T) Site {
	t.Helper()
	s := sampleSite()
	at := s.Devices[0].LastPoll
	l, err := events.Open(t.TempDir(), events.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, e := range sampleEvents(at) {
		if err := l.Put(&e); err != nil {
			t.Fatal(err)
		}
	}
	r, err := events.Open(l.Dir(), events.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	since := at.Add(-31 * 24 * time.Hour)
	list, err := r.Find(events.Query{From: since})
	if err != nil {
		t.Fatal(err)
	}
	ev := &Events{List: list, Since: since, Omitted: 3, Active: map[string]int{}, Captures: map[uint64]string{}}
	for _, e := range list {
		if e.State == events.Active {
			ev.Active[e.Severity]++
		}
		if e.Capture != "" {
			ev.Captures[e.ID] = CaptureFile(e.Capture)
		}
		for di := range s.Devices {
			d := &s.Devices[di]
			if d.Name != e.Device {
				continue
			}
			d.Events = append(d.Events, e)
			for ii := range d.Interfaces {
				if ifc := &d.Interfaces[ii]; ifc.Name == e.Interface {
					ifc.Events = append(ifc.Events, e)
				}
			}
		}
	}
	s.Events = ev
	// ge-0/0/0's day graph marks its two events.
	s.Devices[0].Interfaces[0].Graphs = slices.Clone(s.Devices[0].Interfaces[0].Graphs)
	s.Devices[0].Interfaces[0].Graphs[0].Marks = 2
	s.Devices[0].Interfaces[0].Graphs[1].Marks = 1
	return s
}

// The events page, the index and a device's and an interface's page with events
// are as their golden files; without events the pages are those of TestWriteGolden.
func TestWriteEventsGolden(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, eventsSite(t)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	for _, rel := range []string{EventsPage, "index.html", DevicePage("core1"), InterfacePage("core1", "ge-0/0/0")} {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		golden := goldenName("events/" + rel)
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

// What the pages say of events: each row's fields, links to the pages that exist
// and to the capture, the counts on the index, the marks explained; every name is
// escaped, and only the events page has a script, the one the policy allows.
func TestWriteEventsContent(t *testing.T) {
	dir := t.TempDir()
	s := eventsSite(t)
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	page := read(EventsPage)
	rows := regexp.MustCompile(`(?s)<tr class="sev-[a-z]+( active)?" data-kind="([^"]*)" data-device="([^"]*)">(.*?)</tr>`).FindAllStringSubmatch(page, -1)
	var kinds []string
	for _, r := range rows {
		kinds = append(kinds, r[2])
	}
	// Newest first, as the log gives them.
	if want := []string{"anomaly", "ddos-udp", events.Threshold, "vertical-scan", "horizontal-sweep", "icmp-sweep", "ddos-udp"}; !slices.Equal(kinds, want) {
		t.Fatalf("events page rows of kinds %q, want %q", kinds, want)
	}
	if rows[0][1] != " active" || rows[1][1] != " active" || rows[2][1] != "" {
		t.Errorf("active rows not marked: %q %q %q", rows[0][1], rows[1][1], rows[2][1])
	}
	flood := rows[1][4]
	for _, want := range []string{
		"<td>2026-03-14 14:29:26 CET</td><td>2026-03-14 15:09:26 CET</td><td>active</td>",
		`<span class="sev">critical</span>`,
		`<a href="core1/index.html">core1</a> <a href="core1/ge-0_0_0.html">ge-0/0/0</a>`,
		"198.51.100.1, 198.51.100.2 and 198 more → 192.0.2.7",
		"<td>udp 53, 123 (18 in all)</td>",
		"<td>20.0 kpkt/s, 120 Mb/s</td>",
		"pps 20.0 kpkt/s (threshold 10.0 kpkt/s)<br>sources 200 (threshold 50)",
		"<code>udp and dst host 192.0.2.7</code>",
		`<a href="captures/20260314-ddos-udp-192.0.2.7.pcap" download>pcap</a>`,
	} {
		if !strings.Contains(flood, want) {
			t.Errorf("flood row lacks %q:\n%s", want, flood)
		}
	}
	for i, want := range map[int][]string{
		0: {`<a href="edge=202/index.html">edge 2</a> <a href="edge=202/eth0.html">eth0</a> out`, "out 12.0 Mb/s, outside its usual band"},
		2: {"in 950 Mb/s, above 900 Mb/s"},
		3: {"tcp 22, 23, 80, 443 (1021 in all)", "distinct ports 1021 (threshold 100)"},
		// A device the site does not have is not linked, and its name is escaped.
		4: {`<td>&lt;b&gt;ghost&lt;/b&gt; &#34;1&#34; x&lt;y&gt;</td>`, "192.0.2.99 → 300 hosts", "tcp[tcpflags] &amp; tcp-syn != 0"},
		6: {"2001:db8::1 and 59 more → 2001:db8:1::53", "bps 90.0 Mb/s (threshold 50.0 Mb/s)<br>pps / baseline pps 12.5× (threshold 8.0×)"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[i][4], w) {
				t.Errorf("row %d lacks %q:\n%s", i, w, rows[i][4])
			}
		}
	}
	if !strings.Contains(page, `data-device="&lt;b&gt;ghost&lt;/b&gt; &#34;1&#34;"`) || !strings.Contains(page, `<option value="&lt;b&gt;ghost&lt;/b&gt; &#34;1&#34;">`) {
		t.Errorf("a hostile device name is not escaped in the rows' data and the device choice")
	}
	if !strings.Contains(page, "(the newest 7: 3 older ones are left out)") {
		t.Errorf("events page does not say how many were left out")
	}
	for rel, want := range map[string][]string{
		"index.html": {`<a class="navev" href="events.html">Events</a>`,
			`Events going on: <span class="sev-critical"><span class="sev">1 critical</span></span>, <span class="sev-info"><span class="sev">1 info</span></span>. <a href="events.html">See the events</a>.`},
		DevicePage("core1"): {`<a class="navev" href="../events.html">Events</a>`, `<a href="../events.html?device=core1">All events of core1</a>`,
			`<a href="index.html">core1</a> <a href="xe-1_0_0.100.html">xe-1/0/0.100</a>`},
		InterfacePage("core1", "ge-0/0/0"): {`<a href="../events.html?device=core1">All events of core1</a>`,
			"The vertical lines mark where 2 events of this interface began, each in the colour of its severity",
			"The vertical line marks where an event of this interface began"},
		DevicePage("edge 2"): {`<a href="../events.html?device=edge&#43;2">All events of edge 2</a>`},
	} {
		p := read(rel)
		for _, w := range want {
			if !strings.Contains(p, w) {
				t.Errorf("%s lacks %q", rel, w)
			}
		}
	}
	// ge-0/0/0 lists its two events, not the scan of xe-1/0/0.100; its device all three.
	if n := strings.Count(read(InterfacePage("core1", "ge-0/0/0")), `data-kind=`); n != 2 {
		t.Errorf("ge-0/0/0's page lists %d events, want 2", n)
	}
	if n := strings.Count(read(DevicePage("core1")), `data-kind=`); n != 3 {
		t.Errorf("core1's page lists %d events, want 3", n)
	}
	// An interface without events has no section.
	if p := read(InterfacePage("core1", "index")); strings.Contains(p, "<h2>Events</h2>") {
		t.Errorf("an interface without events has an events section")
	}
	for _, rel := range siteFiles(t, dir) {
		p := strings.ToLower(read(rel))
		want := 0
		if rel == EventsPage {
			want = 1
		}
		if n := strings.Count(p, "<script"); n != want {
			t.Errorf("%s: %d script elements, want %d", rel, n, want)
		}
		if strings.Contains(p, "<b>ghost") {
			t.Errorf("%s: a device name's markup is not escaped", rel)
		}
	}
	if !strings.Contains(page, "<script>"+eventsJS+"</script>") {
		t.Errorf("the events page's script is not the one whose hash the policy allows")
	}
}

// The colours of the severities on the pages are those of the marks on the graphs.
func TestSeverityColors(t *testing.T) {
	hex := regexp.MustCompile(`^#[0-9a-f]{6}$`)
	seen := map[string]bool{}
	for _, sev := range []string{events.Info, events.Warning, events.Major, events.Critical} {
		c := SeverityColor(sev)
		if !hex.MatchString(c) || seen[c] {
			t.Errorf("severity %s has colour %q: not #rrggbb, or another's", sev, c)
		}
		seen[c] = true
		if rule := fmt.Sprintf(".sev-%s{--sev:%s}", sev, c); !strings.Contains(eventsCSS, rule) {
			t.Errorf("events.css lacks %s", rule)
		}
	}
	if SeverityColor("unheard-of") != SeverityColor(events.Info) {
		t.Errorf("an unknown severity is not shown as info")
	}
}

// TestEventsInChromium loads the events page in headless Chromium over HTTP (whose
// Content-Security-Policy must let the filter's script run) and from a file:// URL:
// ?kind= and ?device= in the URL and the select boxes show only the matching rows,
// and with the script off every row shows.
func TestEventsInChromium(t *testing.T) {
	bin := browsertest.Binary(t)
	dir := t.TempDir()
	s := eventsSite(t)
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	writeTestPNGs(t, dir, s)
	if err := WriteFile(dir, CaptureFile(s.Events.List[0].Capture), []byte("pcap")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(dir)) // listens on 127.0.0.1
	defer srv.Close()
	b := browsertest.Start(t, bin)

	// visible lists the kind and device of each row shown, and what the page says.
	visible := func() (rows []string, shown string) {
		t.Helper()
		out := b.Eval(t, `JSON.stringify({rows: Array.from(document.querySelectorAll("#events tbody tr"))
			.filter(r => !r.hidden && r.offsetParent !== null)
			.map(r => r.dataset.kind + "@" + r.dataset.device), shown: document.getElementById("evshown").textContent,
			bar: !document.getElementById("evfilter").hidden})`)
		var v struct {
			Rows  []string
			Shown string
			Bar   bool
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("page state %q: %v", out, err)
		}
		if !v.Bar {
			t.Errorf("the filter's select boxes are hidden: the script did not run")
		}
		return v.Rows, v.Shown
	}
	choose := func(id, value string) {
		t.Helper()
		b.Eval(t, fmt.Sprintf(`(() => { const s = document.getElementById(%q); s.value = %q;
			s.dispatchEvent(new Event("change")); return s.value; })()`, id, value))
	}
	for _, base := range []string{srv.URL + "/", "file://" + filepath.ToSlash(dir) + "/"} {
		_, errs := b.Load(t, base+EventsPage+"?kind=ddos-udp", 1)
		for _, e := range errs {
			t.Errorf("%s: %s", base, e)
		}
		rows, shown := visible()
		if want := []string{"ddos-udp@core1", "ddos-udp@edge 2"}; !slices.Equal(rows, want) || shown != "2 of 7 shown" {
			t.Errorf("%s%s?kind=ddos-udp shows %q (%q), want %q", base, EventsPage, rows, shown, want)
		}
		// Then a device as well, from the select box.
		choose("evdevice", "edge 2")
		if rows, _ := visible(); !slices.Equal(rows, []string{"ddos-udp@edge 2"}) {
			t.Errorf("%s: kind ddos-udp and device edge 2 show %q", base, rows)
		}
		// All kinds of that device.
		choose("evkind", "")
		if rows, _ := visible(); !slices.Equal(rows, []string{"anomaly@edge 2", "ddos-udp@edge 2"}) {
			t.Errorf("%s: device edge 2 shows %q", base, rows)
		}
		if base != srv.URL+"/" {
			continue
		}
		// Over HTTP the choice is kept in the URL, for a reload or a link.
		if u := b.Eval(t, "location.search"); u != "?device=edge+2" {
			t.Errorf("URL after choosing: %q, want ?device=edge+2", u)
		}
		// A device page's link, a device with no events, and a hostile name.
		b.Load(t, srv.URL+"/"+EventsHref("core1"), 1)
		if rows, _ := visible(); !slices.Equal(rows, []string{"ddos-udp@core1", events.Threshold + "@core1", "vertical-scan@core1"}) {
			t.Errorf("%s shows %q", EventsHref("core1"), rows)
		}
		b.Load(t, srv.URL+"/"+EventsHref("nowhere"), 1)
		if rows, shown := visible(); len(rows) != 0 || shown != "0 of 7 shown" {
			t.Errorf("%s shows %q (%q), want none", EventsHref("nowhere"), rows, shown)
		}
		b.Load(t, srv.URL+"/"+EventsHref(`<b>ghost</b> "1"`), 1)
		if rows, _ := visible(); !slices.Equal(rows, []string{`horizontal-sweep@<b>ghost</b> "1"`}) {
			t.Errorf("the hostile device's link shows %q", rows)
		}
	}

	// The pages with events, as a user meets them: no errors, the texts shown.
	pages := []browsertest.Page{
		{Name: "events", Path: EventsPage, Scripts: 1, Text: []string{"ddos-udp", "198.51.100.1, 198.51.100.2 and 198 more → 192.0.2.7",
			"tcp[tcpflags] & tcp-syn != 0", `<b>ghost</b> "1" x<y>`, "pcap"}},
		{Name: "index", Path: "index.html", Images: 3, Text: []string{"Events going on: 1 critical, 1 info."}},
		{Name: "interface", Path: InterfacePage("core1", "ge-0/0/0"), Images: 5, Text: []string{"in 950 Mb/s, above 900 Mb/s",
			"The vertical lines mark where 2 events of this interface began"}},
	}
	sources := []browsertest.Source{
		{Name: "http", Base: srv.URL + "/", Scale: 1},
		{Name: "file", Base: "file://" + filepath.ToSlash(dir) + "/", Scale: 1},
	}
	b.CheckSite(t, sources, pages, browsertest.ScreenshotDir(t))

	// Without JavaScript every row shows and the select boxes do not.
	var v struct {
		Shown  int
		Hidden bool
	}
	page, err := os.ReadFile(filepath.Join(dir, EventsPage))
	if err != nil {
		t.Fatal(err)
	}
	noJS := strings.Replace(string(page), "<script>", "<script>/*off*/ throw 0;", 1)
	if err := os.WriteFile(filepath.Join(dir, "nojs.html"), []byte(noJS), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Load(t, "file://"+filepath.ToSlash(dir)+"/nojs.html?kind=ddos-udp", 1)
	out := b.Eval(t, `JSON.stringify({shown: Array.from(document.querySelectorAll("#events tbody tr")).filter(r => r.offsetParent !== null).length,
		hidden: document.getElementById("evfilter").offsetParent === null})`)
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Shown != 7 || !v.Hidden {
		t.Errorf("without the script %d rows show (want 7) and the select boxes hidden = %v", v.Shown, v.Hidden)
	}
}
