package config

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// RemoteWrite is [remote_write]: the Prometheus-compatible engine every committed step
// is sent to (remote-write protocol v1), through a queue on disk.
type RemoteWrite struct {
	// URL is the receiver's remote-write endpoint; empty means none.
	URL string
	// Queue is the directory of the queue; Load resolves it against the file's
	// directory, "remote-write" beside the store by default. MaxQueueSize caps it:
	// past it the oldest steps are dropped, and counted.
	Queue        string
	MaxQueueSize int64
	// Timeout bounds one request. FlushTimeout is how long "poll --once" goes on
	// sending before it leaves the rest queued for the next run.
	Timeout, FlushTimeout time.Duration
	// MaxSamplesPerSend is the most samples one request carries.
	MaxSamplesPerSend int
	// Username and Password: HTTP basic auth. BearerToken, or the first line of
	// BearerTokenFile (read at each start): "Authorization: Bearer".
	Username, Password           string
	BearerToken, BearerTokenFile string
	// Headers are sent with every request (a tenant's X-Scope-OrgID, say).
	Headers map[string]string
	// Labels are added to every series sent (site = "ams", say).
	Labels map[string]string
	// TLS: the CA that signs the receiver's certificate (empty: the system's), the
	// client's certificate and key, and whether the receiver's certificate is not
	// checked at all.
	TLSCA, TLSCert, TLSKey string
	TLSInsecure            bool
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

type remoteWriteFile struct {
	URL             *string           `toml:"url"`
	Queue           *string           `toml:"queue"`
	MaxQueueSize    *size             `toml:"max_queue_size"`
	Timeout         *duration         `toml:"timeout"`
	FlushTimeout    *duration         `toml:"flush_timeout"`
	MaxSamples      *int              `toml:"max_samples_per_send"`
	Username        *string           `toml:"username"`
	Password        *string           `toml:"password"`
	BearerToken     *string           `toml:"bearer_token"`
	BearerTokenFile *string           `toml:"bearer_token_file"`
	Headers         map[string]string `toml:"headers"`
	Labels          map[string]string `toml:"labels"`
	TLSCA           *string           `toml:"tls_ca"`
	TLSCert         *string           `toml:"tls_cert"`
	TLSKey          *string           `toml:"tls_key"`
	TLSInsecure     *bool             `toml:"tls_insecure_skip_verify"`
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// remoteWrite checks [remote_write].
func (p *parser) remoteWrite(f *file, c *Config) {
	r := &c.RemoteWrite
	r.Timeout, r.FlushTimeout = DefaultRemoteTimeout, DefaultRemoteFlushTimeout
	r.MaxQueueSize, r.MaxSamplesPerSend = DefaultRemoteQueueSize, DefaultRemoteMaxSamples
	w := f.RemoteWrite
	if w == nil {
		return
	}
	bad := func(key, format string, args ...any) { p.bad("remote_write", -1, key, nil, format, args...) }
	if w.URL == nil || strings.TrimSpace(*w.URL) == "" {
		bad("url", "[remote_write] needs a url (e.g. \"http://127.0.0.1:8428/api/v1/write\")")
	} else if u, err := url.Parse(strings.TrimSpace(*w.URL)); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("url", "url %q is not an http:// or https:// address", *w.URL)
	} else {
		r.URL = u.String()
	}
	str := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	str(&r.Queue, w.Queue)
	if w.Queue != nil && r.Queue == "" {
		bad("queue", "must not be empty")
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
	for _, t := range []struct {
		key string
		v   *duration
		dst *time.Duration
	}{{"timeout", w.Timeout, &r.Timeout}, {"flush_timeout", w.FlushTimeout, &r.FlushTimeout}} {
		switch {
		case t.v == nil:
		case t.v.err != nil:
			bad(t.key, "%v", t.v.err)
		case t.v.d <= 0:
			bad(t.key, "must be positive")
		default:
			*t.dst = t.v.d
		}
	}
	if m := w.MaxSamples; m != nil {
		if *m < 1 || *m > 1000000 {
			bad("max_samples_per_send", "max_samples_per_send %d: want 1 to 1000000", *m)
		} else {
			r.MaxSamplesPerSend = *m
		}
	}
	str(&r.Username, w.Username)
	if w.Password != nil {
		r.Password = *w.Password
	}
	if w.Password != nil && r.Username == "" {
		bad("password", "a password without a username")
	}
	str(&r.BearerToken, w.BearerToken)
	str(&r.BearerTokenFile, w.BearerTokenFile)
	if r.BearerToken != "" && r.BearerTokenFile != "" {
		bad("bearer_token_file", "bearer_token and bearer_token_file both set: keep one")
	}
	if r.Username != "" && (r.BearerToken != "" || r.BearerTokenFile != "") {
		bad("username", "basic auth and a bearer token both set: keep one")
	}
	for _, k := range sortedKeys(w.Headers) {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " :\r\n") {
			p.bad("remote_write", -1, "headers", []string{k}, "header name %q is not a valid HTTP header name", k)
			continue
		}
		if r.Headers == nil {
			r.Headers = map[string]string{}
		}
		r.Headers[k] = w.Headers[k]
	}
	for _, k := range sortedKeys(w.Labels) {
		switch {
		case !labelName.MatchString(k) || strings.HasPrefix(k, "__"):
			p.bad("remote_write", -1, "labels", []string{k}, "label name %q: use letters, digits and _, not starting with a digit or __", k)
			continue
		case slices.Contains(RemoteLabels, k):
			p.bad("remote_write", -1, "labels", []string{k}, "label %q is one mrtgo sets itself (%s)", k, strings.Join(RemoteLabels, ", "))
			continue
		}
		if r.Labels == nil {
			r.Labels = map[string]string{}
		}
		r.Labels[k] = w.Labels[k]
	}
	str(&r.TLSCA, w.TLSCA)
	str(&r.TLSCert, w.TLSCert)
	str(&r.TLSKey, w.TLSKey)
	if (r.TLSCert == "") != (r.TLSKey == "") {
		bad("tls_cert", "tls_cert and tls_key go together")
	}
	if w.TLSInsecure != nil {
		r.TLSInsecure = *w.TLSInsecure
	}
	if (r.TLSCA != "" || r.TLSCert != "" || r.TLSInsecure) && strings.HasPrefix(r.URL, "http://") {
		bad("url", "TLS settings given for an http:// url; use https://")
	}
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
