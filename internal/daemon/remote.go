package daemon

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/promread"
	"github.com/mrtgo/mrtgo/remotewrite"
	"github.com/mrtgo/mrtgo/rrd"
)

// Remote is [remote_write] at work: the queue on disk, what puts each commit's rows in
// it, and what sends them. The daemon exports after each commit and sends all along
// (Run); a cron run exports once and sends until its flush timeout (Flush), leaving
// the rest queued for the next run, which sends it first.
type Remote struct {
	q   *remotewrite.Queue
	x   *pipeline.Remote
	w   *remotewrite.Writer
	cfg config.RemoteWrite
	log *slog.Logger
}

// OpenRemote opens cfg's remote-write queue over db; nil, nil without [remote_write].
func OpenRemote(cfg *config.Config, db *rrd.DB, log *slog.Logger) (*Remote, error) {
	rc := cfg.RemoteWrite
	if rc.URL == "" {
		return nil, nil
	}
	tlsConfig, token, err := endpointAuth("remote_write", rc.Endpoint)
	if err != nil {
		return nil, err
	}
	o := remotewrite.Options{URL: rc.URL, Timeout: rc.Timeout, Username: rc.Username, Password: rc.Password,
		BearerToken: token, Headers: rc.Headers, TLS: tlsConfig, Log: log, Protocol: rc.Protocol}
	q, err := remotewrite.OpenQueue(rc.Queue, remotewrite.QueueOptions{MaxSamples: rc.MaxSamplesPerSend, MaxBytes: rc.MaxQueueSize})
	if err != nil {
		return nil, fmt.Errorf("[remote_write] queue: %w", err)
	}
	x, err := pipeline.NewRemote(db, q, rc.Labels, log)
	if err != nil {
		q.Close()
		return nil, err
	}
	x.Targets = pipeline.TargetsOf(cfg)
	w, err := remotewrite.NewWriter(q, o)
	if err != nil {
		q.Close()
		return nil, err
	}
	return &Remote{q: q, x: x, w: w, cfg: rc, log: log}, nil
}

// endpointAuth reads what an endpoint's keys name: its bearer token (given, or the
// first line of its file) and its TLS configuration (nil for the defaults). Errors
// name the table and key.
func endpointAuth(table string, e config.Endpoint) (*tls.Config, string, error) {
	token := e.BearerToken
	if e.BearerTokenFile != "" {
		tok, err := firstLine(e.BearerTokenFile)
		if err != nil {
			return nil, "", fmt.Errorf("[%s] bearer_token_file: %w", table, err)
		}
		token = tok
	}
	if e.TLSCA == "" && e.TLSCert == "" && !e.TLSInsecure {
		return nil, token, nil
	}
	t := &tls.Config{InsecureSkipVerify: e.TLSInsecure, MinVersion: tls.VersionTLS12}
	if e.TLSCA != "" {
		pem, err := os.ReadFile(e.TLSCA)
		if err != nil {
			return nil, "", fmt.Errorf("[%s] tls_ca: %w", table, err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, "", fmt.Errorf("[%s] tls_ca: no PEM certificate in %s", table, e.TLSCA)
		}
	}
	if e.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(e.TLSCert, e.TLSKey)
		if err != nil {
			return nil, "", fmt.Errorf("[%s] tls_cert, tls_key: %w", table, err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, token, nil
}

// OpenRemoteRead returns the engine cfg's [remote_read] names as the pages' store;
// nil, nil without [remote_read].
func OpenRemoteRead(cfg *config.Config) (*promread.Source, error) {
	rc := cfg.RemoteRead
	if rc.URL == "" {
		return nil, nil
	}
	tlsConfig, token, err := endpointAuth("remote_read", rc.Endpoint)
	if err != nil {
		return nil, err
	}
	return promread.New(promread.Options{URL: rc.URL, Timeout: rc.Timeout, Username: rc.Username, Password: rc.Password,
		BearerToken: token, Headers: rc.Headers, TLS: tlsConfig, Step: cfg.Step, Retention: cfg.Retention, Labels: rc.Labels,
		Targets: pipeline.TargetsOf(cfg)})
}

func firstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return "", errors.Join(fmt.Errorf("%s is empty", path), sc.Err())
	}
	return strings.TrimSpace(sc.Text()), nil
}

// Export queues the rows the last commit completed. A queue that cannot be written is
// logged: the rows stay in the store, and the next Export queues them.
func (r *Remote) Export() {
	if _, err := r.x.Export(); err != nil {
		r.log.Error("remote write: queue", "err", err)
	}
}

// Put queues series that are not rows of the store (the flow aggregates), keeping the
// store's position. A queue that cannot be written is logged.
func (r *Remote) Put(batch []remotewrite.Series) {
	if err := r.q.Put(batch); err != nil {
		r.log.Error("remote write: queue", "err", err)
	}
}

// Labels are the [remote_write] labels, sorted by name.
func (r *Remote) Labels() []remotewrite.Label {
	var out []remotewrite.Label
	for _, k := range slices.Sorted(maps.Keys(r.cfg.Labels)) {
		out = append(out, remotewrite.Label{Name: k, Value: r.cfg.Labels[k]})
	}
	return out
}

// Backfill queues the store's history from before where the live export began
// (pipeline.Remote.Backfill). What back-fills sent is kept in "backfill.json" in the
// queue's directory, beside the queue it was put in.
func (r *Remote) Backfill(o pipeline.BackfillOptions) (pipeline.BackfillStats, error) {
	if o.State == "" {
		o.State = filepath.Join(r.cfg.Queue, "backfill.json")
	}
	return r.x.Backfill(o)
}

// Run sends until ctx ends.
func (r *Remote) Run(ctx context.Context) { r.w.Run(ctx) }

// Flush sends what is queued for at most the configured flush timeout.
func (r *Remote) Flush(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.FlushTimeout)
	defer cancel()
	return r.w.Flush(ctx)
}

// SendAll sends what is queued until the queue is empty or ctx ends.
func (r *Remote) SendAll(ctx context.Context) error { return r.w.Flush(ctx) }

// Stats reports the sender's counts and the queue.
func (r *Remote) Stats() remotewrite.Stats { return r.w.Stats() }

// Close closes the queue.
func (r *Remote) Close() error { return r.q.Close() }

// flushAtExit is how long the daemon goes on sending when it stops, so that a clean
// stop leaves little queued.
const flushAtExit = 5 * time.Second
