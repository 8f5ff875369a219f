// Package browsertest drives a headless Chromium over the DevTools protocol for tests
// that check pages the way a user meets them: Start a private browser, Load a page
// and read back its text, its images (decoded or not) and the errors it logged, and
// save a Screenshot. A test without Chromium skips, unless CI is set, where it fails.
package browsertest

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

// Browser is a headless Chromium started for one test, driven over the
// DevTools protocol.
type Browser struct {
	c       *cdp
	session string // the one page target all navigation happens in
}

// Binary finds chromium; MRTGO_CHROMIUM overrides the path. A
// missing browser skips the test, except under CI where it fails.
func Binary(t testing.TB) string {
	t.Helper()
	name := os.Getenv("MRTGO_CHROMIUM")
	if name == "" {
		name = "chromium"
	}
	return testneed.Program(t, name, "apt-get install chromium")
}

// Start starts headless Chromium (bin, from Binary) with a private profile and a
// DevTools port chosen by the browser, attaches to a fresh page and
// stops the browser (and only its own process group) when the test ends.
func Start(t testing.TB, bin string) *Browser {
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
	var b *Browser
	t.Cleanup(func() {
		if b != nil {
			b.c.call("", "Browser.close", nil, nil)
			b.c.Close()
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
	b = &Browser{c: c}

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

// Report is what a test reads back from a loaded page.
type Report struct {
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

// This runs only in the test, through DevTools, after the load event (which
// waits for every image and has run the page's own scripts, if any).
const reportScript = `JSON.stringify({
	title: document.title,
	text: document.body.innerText,
	scripts: document.scripts.length,
	images: Array.from(document.images, i => ({src: i.currentSrc || i.src, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}))
})`

// Load opens url at the given device pixel ratio, waits for the load
// event (which waits for every image) and returns the page report and the
// errors the page produced: console errors, uncaught exceptions, failed
// loads, Content-Security-Policy violations and JavaScript dialogs.
func (b *Browser) Load(t testing.TB, url string, scale int) (Report, []string) {
	t.Helper()
	err := b.c.call(b.session, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": 1200, "height": 900, "deviceScaleFactor": scale, "mobile": false,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.c.clearSeen()
	var nav struct{ ErrorText string }
	if err := b.c.call(b.session, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		t.Fatal(err)
	}
	if nav.ErrorText != "" {
		t.Fatalf("navigate %s: %s", url, nav.ErrorText)
	}
	if _, err := b.c.waitEvent(b.session, "Page.loadEventFired"); err != nil {
		t.Fatalf("load %s: %v (errors: %q)", url, err, b.c.pageErrors())
	}
	var res struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	if err := b.c.call(b.session, "Runtime.evaluate", map[string]any{"expression": reportScript, "returnByValue": true}, &res); err != nil {
		t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		t.Fatalf("report script on %s: %s", url, res.ExceptionDetails)
	}
	var rep Report
	if err := json.Unmarshal([]byte(res.Result.Value), &rep); err != nil {
		t.Fatalf("decode page report %q: %v", res.Result.Value, err)
	}
	return rep, b.c.pageErrors()
}

// Eval evaluates the JavaScript expression expr, which must give a string, in
// the page loaded last, and returns the string: a test reads the state of a
// page its scripts changed, or changes it as a user would (set a select's
// value and dispatch "change"). An exception fails the test.
func (b *Browser) Eval(t testing.TB, expr string) string {
	t.Helper()
	var res struct {
		Result struct {
			Type  string `json:"type"`
			Value any    `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	if err := b.c.call(b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res); err != nil {
		t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		t.Fatalf("evaluate %s: %s", expr, res.ExceptionDetails)
	}
	s, ok := res.Result.Value.(string)
	if !ok {
		t.Fatalf("evaluate %s: a %s, want a string", expr, res.Result.Type)
	}
	return s
}

// Screenshot saves the current viewport (1200×900) as a PNG file.
func (b *Browser) Screenshot(t testing.TB, file string) {
	t.Helper()
	var shot struct{ Data string }
	if err := b.c.call(b.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
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

// Page is a page of a site to check, and what it must show.
type Page struct {
	Name   string   // names the subtest and the screenshot
	Path   string   // relative to the site's root
	Images int      // img elements on the page
	Text   []string // shown as text (device-supplied markup among it)
	// Scripts is the number of script elements the page has (the events page's
	// filter); every other page has none.
	Scripts int
}

// Source is a way to reach a site: a base URL ending in '/' (http or file) and
// the device pixel ratio to load it at.
type Source struct {
	Name, Base string
	Scale      int
}

// CheckSite loads every page from every source, each in a subtest, and fails it
// when the page logs an error (a script the Content-Security-Policy blocks among
// them) or has other than its Scripts, when a text is not shown, or when
// an image does not decode at MRTG's 500×135 (in CSS pixels) or is not the
// density's file (name@2x.png at scale 2). Pages loaded at scale 1 are
// screenshot into shots as source-page.png.
func (b *Browser) CheckSite(t *testing.T, sources []Source, pages []Page, shots string) {
	t.Helper()
	for _, src := range sources {
		for _, p := range pages {
			t.Run(src.Name+"/"+p.Name, func(t *testing.T) {
				url := src.Base + p.Path
				rep, errs := b.Load(t, url, src.Scale)
				for _, e := range errs {
					t.Errorf("%s: %s", url, e)
				}
				if rep.Scripts != p.Scripts {
					t.Errorf("%s: %d script elements, want %d", url, rep.Scripts, p.Scripts)
				}
				for _, w := range p.Text {
					if !strings.Contains(rep.Text, w) {
						t.Errorf("%s: text %q not shown", url, w)
					}
				}
				if len(rep.Images) != p.Images {
					t.Errorf("%s: %d images, want %d", url, len(rep.Images), p.Images)
				}
				for _, img := range rep.Images {
					// naturalWidth is in CSS pixels: a 2x image of 1000 pixels reports 500.
					if !img.Complete || img.Width != 500 || img.Height != 135 {
						t.Errorf("%s: image %s complete %v, natural size %dx%d, want 500x135",
							url, img.Src, img.Complete, img.Width, img.Height)
					}
					if got2x := strings.HasSuffix(img.Src, "@2x.png"); got2x != (src.Scale == 2) {
						t.Errorf("%s: at %dx pixel density loaded %s", url, src.Scale, img.Src)
					}
				}
				if src.Scale == 1 {
					b.Screenshot(t, filepath.Join(shots, src.Name+"-"+p.Name+".png"))
				}
			})
		}
	}
}

// ScreenshotDir is the test's directory (named after it) in
// MRTGO_SCREENSHOT_DIR, created if missing, or a temporary directory.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("MRTGO_SCREENSHOT_DIR")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
