package web

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// browser is a headless Chromium started for one test, driven over the
// DevTools protocol.
type browser struct {
	*cdp
	session string // the one page target all navigation happens in
}

// chromiumBinary finds chromium; MRTGO_CHROMIUM overrides the path. A
// missing browser skips the test, except under CI where it fails.
func chromiumBinary(t *testing.T) string {
	t.Helper()
	name := os.Getenv("MRTGO_CHROMIUM")
	if name == "" {
		name = "chromium"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required under CI: %v", err)
		}
		t.Skipf("chromium not installed: %v", err)
	}
	return p
}

// startBrowser starts headless Chromium with a private profile and a
// DevTools port chosen by the browser, attaches to a fresh page and
// stops the browser (and only its own process group) when the test ends.
func startBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	profile := t.TempDir()
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-quic", "--disable-extensions", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--mute-audio",
		"--window-size=1200,900",
		"--user-data-dir="+profile,
		"--remote-debugging-address=127.0.0.1",
		"--remote-debugging-port=0",
		"about:blank",
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Chromium announces its DevTools endpoint on stderr; keep the rest
	// of stderr for the failure message.
	var (
		mu  sync.Mutex
		log strings.Builder
	)
	wsURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			log.WriteString(line + "\n")
			mu.Unlock()
			if u, ok := strings.CutPrefix(line, "DevTools listening on "); ok {
				select {
				case wsURL <- strings.TrimSpace(u):
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		close(wsURL)
	}()
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	stderrText := func() string {
		mu.Lock()
		defer mu.Unlock()
		return log.String()
	}
	var b *browser
	t.Cleanup(func() {
		if b != nil {
			b.call("", "Browser.close", nil, nil)
			b.Close()
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})

	var u string
	select {
	case got, ok := <-wsURL:
		if !ok {
			t.Fatalf("chromium exited before announcing DevTools; stderr:\n%s", stderrText())
		}
		u = got
	case <-time.After(60 * time.Second):
		t.Fatalf("chromium did not announce DevTools; stderr:\n%s", stderrText())
	}
	c, err := dialCDP(u, 30*time.Second)
	if err != nil {
		t.Fatalf("connect to chromium: %v", err)
	}
	b = &browser{cdp: c}

	var target struct{ TargetID string }
	if err := c.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatal(err)
	}
	var attached struct{ SessionID string }
	if err := c.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		t.Fatal(err)
	}
	b.session = attached.SessionID
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		if err := c.call(b.session, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// pageReport is what the test reads back from a loaded page.
type pageReport struct {
	Title   string `json:"title"`
	Text    string `json:"text"`
	Scripts int    `json:"scripts"`
	Images  []struct {
		Src      string `json:"src"`
		Complete bool   `json:"complete"`
		Width    int    `json:"w"`
		Height   int    `json:"h"`
	} `json:"images"`
}

// The page itself has no JavaScript; this runs only in the test, through
// DevTools, after the load event (which waits for every image).
const reportScript = `JSON.stringify({
	title: document.title,
	text: document.body.innerText,
	scripts: document.scripts.length,
	images: Array.from(document.images, i => ({src: i.currentSrc || i.src, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}))
})`

// load opens url at the given device pixel ratio, waits for the load
// event and returns the page report and the errors the page produced.
func (b *browser) load(t *testing.T, url string, scale int) (pageReport, []string) {
	t.Helper()
	err := b.call(b.session, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": 1200, "height": 900, "deviceScaleFactor": scale, "mobile": false,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.clearSeen()
	var nav struct{ ErrorText string }
	if err := b.call(b.session, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		t.Fatal(err)
	}
	if nav.ErrorText != "" {
		t.Fatalf("navigate %s: %s", url, nav.ErrorText)
	}
	if _, err := b.waitEvent(b.session, "Page.loadEventFired"); err != nil {
		t.Fatalf("load %s: %v (errors: %q)", url, err, b.pageErrors())
	}
	var res struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	if err := b.call(b.session, "Runtime.evaluate", map[string]any{"expression": reportScript, "returnByValue": true}, &res); err != nil {
		t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		t.Fatalf("report script on %s: %s", url, res.ExceptionDetails)
	}
	var rep pageReport
	if err := json.Unmarshal([]byte(res.Result.Value), &rep); err != nil {
		t.Fatalf("decode page report %q: %v", res.Result.Value, err)
	}
	return rep, b.pageErrors()
}

// screenshot saves the current viewport as a PNG file.
func (b *browser) screenshot(t *testing.T, file string) {
	t.Helper()
	var shot struct{ Data string }
	if err := b.call(b.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		t.Fatal(err)
	}
	data, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	cfg, err := png.DecodeConfig(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if cfg.Width != 1200 || cfg.Height != 900 {
		t.Errorf("screenshot %s is %dx%d, want 1200x900", file, cfg.Width, cfg.Height)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
}

// writeTestPNGs stands in for render: a 1x and a 2x PNG for every graph
// of s, with an MRTG-ish green area and blue line.
func writeTestPNGs(t *testing.T, dir string, s Site) {
	t.Helper()
	for _, d := range s.Devices {
		for _, ifc := range d.Interfaces {
			for _, g := range ifc.Graphs {
				for _, scale := range []int{1, 2} {
					w, h := 500*scale, 135*scale
					img := image.NewNRGBA(image.Rect(0, 0, w, h))
					for y := range h {
						for x := range w {
							c := color.NRGBA{255, 255, 255, 255}
							level := h/2 + int(float64(h/4)*float64(x%97)/97)
							switch {
							case y == h-level/2:
								c = color.NRGBA{0, 0, 255, 255}
							case y > h-level/3:
								c = color.NRGBA{0, 204, 0, 255}
							}
							img.SetNRGBA(x, y, c)
						}
					}
					var buf bytes.Buffer
					if err := png.Encode(&buf, img); err != nil {
						t.Fatal(err)
					}
					if err := WriteFile(dir, GraphFile(d.Name, ifc.Name, g.Period, scale), buf.Bytes()); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
}

// TestChromium loads the index, a device page and an interface page in
// headless Chromium, from Handler over HTTP at 1x and 2x pixel density
// and from a file:// URL, and checks every image decodes, nothing is
// logged as an error, and a hostile ifAlias shows as text.
func TestChromium(t *testing.T) {
	bin := chromiumBinary(t)
	dir := t.TempDir()
	s := sampleSite()
	if err := Write(dir, s); err != nil {
		t.Fatalf("Write: %v", err)
	}
	writeTestPNGs(t, dir, s)
	srv := httptest.NewServer(Handler(dir)) // listens on 127.0.0.1
	defer srv.Close()

	shots := os.Getenv("MRTGO_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	b := startBrowser(t, bin)
	const alias = "<script>alert(1)</script>"
	pages := []struct {
		name, path string
		images     int
		text       []string
	}{
		{"index", "index.html", 3, []string{alias, "core1", "edge 2", "No graph yet."}},
		{"device", DevicePage("core1"), 3, []string{alias, `Juniper <b>MX</b> & "friends"`, "12 days, 3:04:05"}},
		{"interface", InterfacePage("core1", "ge-0/0/0"), 4, []string{alias, "'Daily' Graph (5 Minute Average)", "'Yearly' Graph (1 Day Average)", "95th percentile", "203 Mb/s (20.3%)"}},
	}
	type source struct {
		name, base string
		scale      int
	}
	sources := []source{
		{"http", srv.URL + "/", 1},
		{"http-2x", srv.URL + "/", 2},
		{"file", "file://" + filepath.ToSlash(dir) + "/", 1},
	}
	for _, src := range sources {
		for _, p := range pages {
			t.Run(src.name+"/"+p.name, func(t *testing.T) {
				url := src.base + p.path
				rep, errs := b.load(t, url, src.scale)
				for _, e := range errs {
					t.Errorf("%s: %s", url, e)
				}
				if rep.Scripts != 0 {
					t.Errorf("%s: %d script elements, want 0", url, rep.Scripts)
				}
				for _, w := range p.text {
					if !strings.Contains(rep.Text, w) {
						t.Errorf("%s: text %q not shown", url, w)
					}
				}
				if len(rep.Images) != p.images {
					t.Errorf("%s: %d images, want %d", url, len(rep.Images), p.images)
				}
				for _, img := range rep.Images {
					if !img.Complete || img.Width <= 0 || img.Height <= 0 {
						t.Errorf("%s: image %s not decoded (complete %v, naturalWidth %d)", url, img.Src, img.Complete, img.Width)
					}
					if img.Width != 500 || img.Height != 135 {
						t.Errorf("%s: image %s natural size %dx%d, want 500x135", url, img.Src, img.Width, img.Height)
					}
					if got2x := strings.HasSuffix(img.Src, "@2x.png"); got2x != (src.scale == 2) {
						t.Errorf("%s: at %dx pixel density loaded %s", url, src.scale, img.Src)
					}
				}
				if src.name == "http" {
					b.screenshot(t, filepath.Join(shots, p.name+".png"))
				}
			})
		}
	}
	// The checks must catch a broken page: a test-only page with a missing
	// image and an inline script (which the Content-Security-Policy blocks).
	// It comes last so its errors cannot spill into another page's.
	broken := "<!DOCTYPE html><title>broken</title><link rel=\"icon\" href=\"data:,\"><img src=\"missing.png\"><script>console.error('ran')</script>"
	if err := os.WriteFile(filepath.Join(dir, "broken.html"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, errs := b.load(t, srv.URL+"/broken.html", 1)
	if len(errs) == 0 {
		t.Errorf("broken page: no errors reported, want the 404 and the blocked script")
	}
	if len(rep.Images) != 1 || rep.Images[0].Width != 0 {
		t.Errorf("broken page: images %+v, want one undecoded image", rep.Images)
	}
	t.Logf("broken page errors, as expected: %q", errs)
}
