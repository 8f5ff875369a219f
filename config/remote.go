package config

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Endpoint is an HTTP service mrtgo talks to: its address, credentials and TLS.
type Endpoint struct {
	// URL is the address; empty means none.
	URL string
	// Timeout bounds one request.
	Timeout time.Duration
	// Username and Password: HTTP basic auth. BearerToken, or the first line of
	// BearerTokenFile (read at each start): "Authorization: Bearer".
	Username, Password           string
	BearerToken, BearerTokenFile string
	// Headers are sent with every request (a tenant's X-Scope-OrgID, say).
	Headers map[string]string
	// TLS: the CA that signs the server's certificate (empty: the system's), the
	// client's certificate and key, and whether the server's certificate is not
	// checked at all.
	TLSCA, TLSCert, TLSKey string
	TLSInsecure            bool
}

// RemoteWrite is [remote_write]: the Prometheus-compatible engine every committed step
// is sent to (remote-write protocol v1), through a queue on disk.
type RemoteWrite struct {
	// Endpoint's URL is the receiver's remote-write endpoint.
	Endpoint
	// Queue is the directory of the queue; Load resolves it against the file's
	// directory, "remote-write" beside the store by default. MaxQueueSize caps it:
	// past it the oldest steps are dropped, and counted.
	Queue        string
	MaxQueueSize int64
	// FlushTimeout is how long "poll --once" goes on sending before it leaves the
	// rest queued for the next run.
	FlushTimeout time.Duration
	// MaxSamplesPerSend is the most samples one request carries.
	MaxSamplesPerSend int
	// Labels are added to every series sent (site = "ams", say).
	Labels map[string]string
	// Protocol is the remote-write version sent: "v1" (the default), "v2", or
	// "auto": v2 until the receiver shows it takes v1 only, then v1.
	Protocol string
}

// RemoteRead is [remote_read]: the engine's query API (Prometheus's, or one speaking
// it), from which "render" and "serve" draw the pages instead of the local store.
type RemoteRead struct {
	// Endpoint's URL is the root of the query API: "http://127.0.0.1:8428" for
	// VictoriaMetrics, "http://127.0.0.1:9090" for Prometheus, a Mimir or Thanos
	// querier's prefix.
	Endpoint
	// Labels select the series of this site among others in the engine (the
	// [remote_write] labels the pollers add).
	Labels map[string]string
}

// Remote-write defaults.
const (
	DefaultRemoteTimeout      = 30 * time.Second
	DefaultRemoteFlushTimeout = 30 * time.Second
	DefaultRemoteQueueSize    = 1 << 30
	DefaultRemoteMaxSamples   = 10000
)

// RemoteLabels are the labels mrtgo puts on the series it sends; [remote_write]
// labels may not use them.
var RemoteLabels = []string{"device", "interface", "direction", "description", "target", "aggregate", "type", "unit"}

type endpointFile struct {
	URL             *string           `toml:"url"`
	Timeout         *duration         `toml:"timeout"`
	Username        *string           `toml:"username"`
	Password        *string           `toml:"password"`
	BearerToken     *string           `toml:"bearer_token"`
	BearerTokenFile *string           `toml:"bearer_token_file"`
	Headers         map[string]string `toml:"headers"`
	TLSCA           *string           `toml:"tls_ca"`
	TLSCert         *string           `toml:"tls_cert"`
	TLSKey          *string           `toml:"tls_key"`
	TLSInsecure     *bool             `toml:"tls_insecure_skip_verify"`
}

type remoteWriteFile struct {
	endpointFile
	Queue        *string           `toml:"queue"`
	MaxQueueSize *size             `toml:"max_queue_size"`
	FlushTimeout *duration         `toml:"flush_timeout"`
	MaxSamples   *int              `toml:"max_samples_per_send"`
	Labels       map[string]string `toml:"labels"`
	Protocol     *string           `toml:"protocol"`
}

type remoteReadFile struct {
	endpointFile
	Labels map[string]string `toml:"labels"`
}

// labelName is compiled on first use: only a file with [remote_write] labels needs it.
var labelName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`) })

// endpoint checks the keys of an HTTP endpoint in table, with example as the url's.
func (p *parser) endpoint(table string, w *endpointFile, e *Endpoint, example string) {
	bad := func(key, format string, args ...any) { p.bad(table, -1, key, nil, format, args...) }
	if w.URL == nil || strings.TrimSpace(*w.URL) == "" {
		bad("url", "[%s] needs a url (e.g. %q)", table, example)
	} else if u, err := url.Parse(strings.TrimSpace(*w.URL)); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("url", "url %q is not an http:// or https:// address", *w.URL)
	} else {
		e.URL = u.String()
	}
	switch t := w.Timeout; {
	case t == nil:
	case t.err != nil:
		bad("timeout", "%v", t.err)
	case t.d <= 0:
		bad("timeout", "must be positive")
	default:
		e.Timeout = t.d
	}
	str := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	str(&e.Username, w.Username)
	if w.Password != nil {
		e.Password = *w.Password
	}
	if w.Password != nil && e.Username == "" {
		bad("password", "a password without a username")
	}
	str(&e.BearerToken, w.BearerToken)
	str(&e.BearerTokenFile, w.BearerTokenFile)
	if e.BearerToken != "" && e.BearerTokenFile != "" {
		bad("bearer_token_file", "bearer_token and bearer_token_file both set: keep one")
	}
	if e.Username != "" && (e.BearerToken != "" || e.BearerTokenFile != "") {
		bad("username", "basic auth and a bearer token both set: keep one")
	}
	for _, k := range sortedKeys(w.Headers) {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " :\r\n") {
			p.bad(table, -1, "headers", []string{k}, "header name %q is not a valid HTTP header name", k)
			continue
		}
		if e.Headers == nil {
			e.Headers = map[string]string{}
		}
		e.Headers[k] = w.Headers[k]
	}
	str(&e.TLSCA, w.TLSCA)
	str(&e.TLSCert, w.TLSCert)
	str(&e.TLSKey, w.TLSKey)
	if (e.TLSCert == "") != (e.TLSKey == "") {
		bad("tls_cert", "tls_cert and tls_key go together")
	}
	if w.TLSInsecure != nil {
		e.TLSInsecure = *w.TLSInsecure
	}
	if (e.TLSCA != "" || e.TLSCert != "" || e.TLSInsecure) && strings.HasPrefix(e.URL, "http://") {
		bad("url", "TLS settings given for an http:// url; use https://")
	}
}

// labels checks a table of labels added to or selecting series.
func (p *parser) labels(table string, in map[string]string) map[string]string {
	var out map[string]string
	for _, k := range sortedKeys(in) {
		switch {
		case !labelName().MatchString(k) || strings.HasPrefix(k, "__"):
			p.bad(table, -1, "labels", []string{k}, "label name %q: use letters, digits and _, not starting with a digit or __", k)
			continue
		case slices.Contains(RemoteLabels, k):
			p.bad(table, -1, "labels", []string{k}, "label %q is one mrtgo sets itself (%s)", k, strings.Join(RemoteLabels, ", "))
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = in[k]
	}
	return out
}

// remoteWrite checks [remote_write].
func (p *parser) remoteWrite(f *file, c *Config) {
	r := &c.RemoteWrite
	r.Timeout, r.FlushTimeout = DefaultRemoteTimeout, DefaultRemoteFlushTimeout
	r.MaxQueueSize, r.MaxSamplesPerSend = DefaultRemoteQueueSize, DefaultRemoteMaxSamples
	r.Protocol = "v1"
	w := f.RemoteWrite
	if w == nil {
		return
	}
	p.endpoint("remote_write", &w.endpointFile, &r.Endpoint, "http://127.0.0.1:8428/api/v1/write")
	bad := func(key, format string, args ...any) { p.bad("remote_write", -1, key, nil, format, args...) }
	if w.Queue != nil {
		if r.Queue = strings.TrimSpace(*w.Queue); r.Queue == "" {
			bad("queue", "must not be empty")
		}
	}
	if m := w.MaxQueueSize; m != nil {
		switch {
		case m.err != nil:
			bad("max_queue_size", "%v", m.err)
		case m.v < 1<<20:
			bad("max_queue_size", "max_queue_size %d bytes is less than 1MiB", m.v)
		default:
			r.MaxQueueSize = m.v
		}
	}
	switch t := w.FlushTimeout; {
	case t == nil:
	case t.err != nil:
		bad("flush_timeout", "%v", t.err)
	case t.d <= 0:
		bad("flush_timeout", "must be positive")
	default:
		r.FlushTimeout = t.d
	}
	if m := w.MaxSamples; m != nil {
		if *m < 1 || *m > 1000000 {
			bad("max_samples_per_send", "max_samples_per_send %d: want 1 to 1000000", *m)
		} else {
			r.MaxSamplesPerSend = *m
		}
	}
	r.Labels = p.labels("remote_write", w.Labels)
	if w.Protocol != nil {
		switch v := strings.TrimSpace(*w.Protocol); v {
		case "v1", "v2", "auto":
			r.Protocol = v
		default:
			bad("protocol", "protocol %q: use \"v1\", \"v2\" or \"auto\"", *w.Protocol)
		}
	}
}

// remoteRead checks [remote_read].
func (p *parser) remoteRead(f *file, c *Config) {
	r := &c.RemoteRead
	r.Timeout = DefaultRemoteTimeout
	if f.RemoteRead == nil {
		return
	}
	p.endpoint("remote_read", &f.RemoteRead.endpointFile, &r.Endpoint, "http://127.0.0.1:8428")
	r.Labels = p.labels("remote_read", f.RemoteRead.Labels)
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
