package web

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const secret = "SECRET-OUTSIDE-SITE"

// testSiteDir makes <tmp>/site with a few files, and beside it a secret
// file and symbolic links from inside the site to outside it.
func testSiteDir(t *testing.T) (site, secretFile string) {
	t.Helper()
	tmp := t.TempDir()
	site = filepath.Join(tmp, "site")
	files := map[string]string{
		"index.html":       "<!DOCTYPE html><title>index</title>",
		"core1/index.html": "<!DOCTYPE html><title>core1</title>",
		"core1/a-day.png":  "\x89PNG\r\n\x1a\nnot really",
		".hidden":          "hidden",
		"core1/.x.tmp1":    "half a page",
		"empty/keep.txt":   "no index here",
	}
	for name, body := range files {
		p := filepath.Join(site, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	secretFile = filepath.Join(tmp, "secret.txt")
	if err := os.WriteFile(secretFile, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secretFile, filepath.Join(site, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(tmp, filepath.Join(site, "linkdir")); err != nil {
		t.Fatal(err)
	}
	return site, secretFile
}

func TestHandler(t *testing.T) {
	site, secretFile := testSiteDir(t)
	h := Handler(site)
	tests := []struct {
		method, target string
		status         int
		body           string // expected substring, if any
	}{
		{"GET", "/", 200, "<title>index</title>"},
		{"GET", "/index.html", 200, "<title>index</title>"},
		{"HEAD", "/index.html", 200, ""},
		{"GET", "/core1/", 200, "<title>core1</title>"},
		{"GET", "/core1", 301, ""},
		{"GET", "/core1/a-day.png", 200, "not really"},
		{"GET", "/missing.html", 404, ""},
		{"GET", "/core1/missing.png", 404, ""},
		{"GET", "/empty/", 404, ""},
		{"GET", "/.hidden", 404, ""},
		{"GET", "/core1/.x.tmp1", 404, ""},
		{"GET", "/../secret.txt", 404, ""},
		{"GET", "/%2e%2e/secret.txt", 404, ""},
		{"GET", "/core1/../../secret.txt", 404, ""},
		{"GET", "/..%2fsecret.txt", 404, ""},
		{"GET", "/..%5csecret.txt", 404, ""},
		{"GET", "/" + secretFile, 404, ""},
		{"GET", "//" + secretFile, 404, ""},
		{"GET", "/link.txt", 404, ""},
		{"GET", "/linkdir/secret.txt", 404, ""},
		{"POST", "/index.html", 405, ""},
		{"DELETE", "/index.html", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://site.test"+tt.target, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d (body %q)", rec.Code, tt.status, body)
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("body = %q, want it to contain %q", body, tt.body)
			}
			if strings.Contains(body, secret) || strings.Contains(body, "hidden") || strings.Contains(body, "half a page") {
				t.Errorf("body = %q: served a file it must not", body)
			}
			if tt.method == "HEAD" && body != "" {
				t.Errorf("HEAD body = %q, want empty", body)
			}
		})
	}
}

func TestHandlerHeaders(t *testing.T) {
	site, _ := testSiteDir(t)
	h := Handler(site)
	tests := []struct {
		target, contentType string
		csp                 bool
	}{
		{"/index.html", "text/html; charset=utf-8", true},
		{"/core1/a-day.png", "image/png", false},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.target, nil))
		hdr := rec.Result().Header
		if got := hdr.Get("Content-Type"); got != tt.contentType {
			t.Errorf("%s: Content-Type = %q, want %q", tt.target, got, tt.contentType)
		}
		if got := hdr.Get("Content-Security-Policy") != ""; got != tt.csp {
			t.Errorf("%s: has Content-Security-Policy = %v, want %v", tt.target, got, tt.csp)
		}
		for _, k := range []string{"ETag", "Last-Modified", "Cache-Control"} {
			if hdr.Get(k) == "" {
				t.Errorf("%s: no %s header", tt.target, k)
			}
		}
		if got := hdr.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", tt.target, got)
		}
	}
}

// TestHandlerTraversalRaw sends requests over TCP exactly as written, so
// no client cleans the path first.
func TestHandlerTraversalRaw(t *testing.T) {
	site, secretFile := testSiteDir(t)
	srv := httptest.NewServer(Handler(site))
	defer srv.Close()
	for _, target := range []string{
		"/../secret.txt",
		"/core1/../../secret.txt",
		"/./../secret.txt",
		secretFile,
		"/%2e%2e/secret.txt",
		"/%2e%2e%2fsecret.txt",
	} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			conn.Close()
			t.Fatalf("%s: %v", target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode == 200 || strings.Contains(string(body), secret) {
			t.Errorf("GET %s: status %d, body %q: reached outside the site", target, resp.StatusCode, body)
		}
	}
}

func TestHandlerConditional(t *testing.T) {
	dir := t.TempDir()
	s := sampleSite()
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	h := Handler(dir)
	get := func(hdr map[string]string) *http.Response {
		req := httptest.NewRequest("GET", "/index.html", nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	first := get(nil)
	etag, lastMod := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	if first.StatusCode != 200 || etag == "" || lastMod == "" {
		t.Fatalf("first GET: status %d, ETag %q, Last-Modified %q", first.StatusCode, etag, lastMod)
	}
	lm, err := http.ParseTime(lastMod)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"matching etag", map[string]string{"If-None-Match": etag}, 304},
		{"etag in list", map[string]string{"If-None-Match": `"other", ` + etag}, 304},
		{"wildcard", map[string]string{"If-None-Match": "*"}, 304},
		{"other etag", map[string]string{"If-None-Match": `"other"`}, 200},
		{"not modified since", map[string]string{"If-Modified-Since": lastMod}, 304},
		{"modified since", map[string]string{"If-Modified-Since": lm.Add(-time.Hour).Format(http.TimeFormat)}, 200},
		{"etag wins over date", map[string]string{"If-None-Match": `"other"`, "If-Modified-Since": lastMod}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(tt.hdr)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 304 {
				if b, _ := io.ReadAll(resp.Body); len(b) != 0 {
					t.Errorf("304 with body %q", b)
				}
			}
		})
	}
	// A new generation of the site invalidates the old tag at once.
	s.Generated = s.Generated.Add(time.Second)
	s.Title = "traffic"
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	resp := get(map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 200 {
		t.Errorf("after rewrite: status = %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("ETag"); got == etag {
		t.Errorf("after rewrite: ETag unchanged %q", got)
	}
}

func TestHandlerMissingDir(t *testing.T) {
	h := Handler(filepath.Join(t.TempDir(), "not-yet"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want %d", rec.Code, http.StatusServiceUnavailable)
	}
}

func TestServe(t *testing.T) {
	site, _ := testSiteDir(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	log := slog.New(slog.DiscardHandler)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, Handler(site), log) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<title>index</title>") {
		t.Errorf("GET / = %d %q", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after cancel = %v, want nil", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Errorf("listener still accepting after shutdown")
	}
}

func TestServeBadListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// The address is taken: Serve must say so instead of blocking.
	err = Serve(t.Context(), ln.Addr().String(), t.TempDir(), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("Serve on a busy address = %v, want a listen error", err)
	}
}

func TestServerTimeouts(t *testing.T) {
	srv := newServer(t.Context(), Handler(t.TempDir()), slog.New(slog.DiscardHandler))
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout,
		"ReadTimeout":       srv.ReadTimeout,
		"WriteTimeout":      srv.WriteTimeout,
		"IdleTimeout":       srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s = %v, want > 0", name, d)
		}
	}
}
