package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// Server timeouts: generous for slow clients on a LAN, short enough that
// idle or stalled connections do not pile up.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// Handler serves the site in dir. Only GET and HEAD are allowed; a
// directory serves its index.html (there are no listings); names starting
// with '.' (hidden and temporary files) are not served. Files are opened
// through an os.Root, so neither "..", absolute paths nor symbolic links
// reach outside dir. Responses carry an ETag (a hash of the content) and
// Last-Modified, and answer If-None-Match and If-Modified-Since with 304;
// pages also carry a Content-Security-Policy that allows no script. dir
// may not exist yet: it is opened per request (503 until it does).
func Handler(dir string) http.Handler {
	return &handler{dir: dir, csp: contentSecurityPolicy()}
}

type handler struct {
	dir string
	csp string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := cleanPath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	root, err := os.OpenRoot(h.dir)
	if err != nil {
		http.Error(w, "site not available", http.StatusServiceUnavailable)
		return
	}
	defer root.Close()

	f, err := root.Open(name)
	if err != nil {
		httpError(w, r, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		httpError(w, r, err)
		return
	}
	if fi.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			// Relative links in the directory's index.html need the slash.
			http.Redirect(w, r, path.Base(r.URL.Path)+"/", http.StatusMovedPermanently)
			return
		}
		f.Close()
		name = path.Join(name, "index.html")
		if f, err = root.Open(name); err != nil {
			httpError(w, r, err)
			return
		}
		defer f.Close()
		if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
	}
	if !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	// Pages change every step: let browsers keep a copy but revalidate it,
	// which the ETag makes a cheap 304.
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if strings.HasSuffix(name, ".html") {
		hdr.Set("Content-Security-Policy", h.csp)
	}
	var content io.ReadSeeker = f
	if fi.Size() <= maxHashed {
		b, err := io.ReadAll(io.LimitReader(f, maxHashed+1))
		if err != nil {
			http.Error(w, "read error", http.StatusInternalServerError)
			return
		}
		hdr.Set("ETag", contentTag(b))
		content = bytes.NewReader(b)
	} else {
		hdr.Set("ETag", statTag(fi))
	}
	http.ServeContent(w, r, name, fi.ModTime(), content)
}

// maxHashed bounds the files whose ETag is a content hash. Pages and
// graphs are a few kilobytes; anything larger is tagged by size and time.
const maxHashed = 4 << 20

// contentTag is a strong validator from the content itself, so it changes
// exactly when the content does, however quickly files are replaced.
func contentTag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// statTag is a validator from size and modification time.
func statTag(fi fs.FileInfo) string {
	return `"` + strconv.FormatInt(fi.ModTime().UnixNano(), 36) + "-" + strconv.FormatInt(fi.Size(), 36) + `"`
}

// cleanPath turns a URL path into a name relative to the site root, or
// reports false for names the site never serves.
func cleanPath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = path.Clean(p)
	if p == "/" {
		return "index.html", true
	}
	name := p[1:]
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || strings.HasPrefix(seg, ".") || strings.ContainsRune(seg, '\\') || strings.ContainsRune(seg, 0) {
			return "", false
		}
	}
	return name, true
}

func httpError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		http.NotFound(w, r)
	case errors.Is(err, fs.ErrPermission):
		http.Error(w, "forbidden", http.StatusForbidden)
	default:
		// Includes os.Root refusing a path that leads outside the site.
		http.NotFound(w, r)
	}
}

// Serve serves the site in dir on listen (host:port) until ctx is done,
// then shuts the server down gracefully and returns nil. It returns an
// error if listen cannot be bound or the server fails.
func Serve(ctx context.Context, listen, dir string, log *slog.Logger) error {
	return ServeHandler(ctx, listen, Handler(dir), log)
}

// ServeHandler is Serve for any handler (the daemon adds /metrics in front of the
// site), with the same timeouts and graceful shutdown.
func ServeHandler(ctx context.Context, listen string, h http.Handler, log *slog.Logger) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", listen, err)
	}
	return serve(ctx, ln, h, log)
}

// serve serves h on an open listener, which it closes.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := newServer(ctx, h, log)
	log.Info("serving site", "addr", "http://"+ln.Addr().String()+"/")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		<-errc
		return fmt.Errorf("shut down server: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	log.Info("server stopped")
	return nil
}

func newServer(ctx context.Context, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
}
