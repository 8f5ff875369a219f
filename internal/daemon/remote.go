package daemon

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
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
	o := remotewrite.Options{URL: rc.URL, Timeout: rc.Timeout, Username: rc.Username, Password: rc.Password,
		BearerToken: rc.BearerToken, Headers: rc.Headers, Log: log}
	if rc.BearerTokenFile != "" {
		tok, err := firstLine(rc.BearerTokenFile)
		if err != nil {
			return nil, fmt.Errorf("[remote_write] bearer_token_file: %w", err)
		}
		o.BearerToken = tok
	}
	if rc.TLSCA != "" || rc.TLSCert != "" || rc.TLSInsecure {
		t := &tls.Config{InsecureSkipVerify: rc.TLSInsecure, MinVersion: tls.VersionTLS12}
		if rc.TLSCA != "" {
			pem, err := os.ReadFile(rc.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("[remote_write] tls_ca: %w", err)
			}
			t.RootCAs = x509.NewCertPool()
			if !t.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("[remote_write] tls_ca: no PEM certificate in %s", rc.TLSCA)
			}
		}
		if rc.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(rc.TLSCert, rc.TLSKey)
			if err != nil {
				return nil, fmt.Errorf("[remote_write] tls_cert, tls_key: %w", err)
			}
			t.Certificates = []tls.Certificate{cert}
		}
		o.TLS = t
	}
	q, err := remotewrite.OpenQueue(rc.Queue, remotewrite.QueueOptions{MaxSamples: rc.MaxSamplesPerSend, MaxBytes: rc.MaxQueueSize})
	if err != nil {
		return nil, fmt.Errorf("[remote_write] queue: %w", err)
	}
	x, err := pipeline.NewRemote(db, q, rc.Labels, log)
	if err != nil {
		q.Close()
		return nil, err
	}
	w, err := remotewrite.NewWriter(q, o)
	if err != nil {
		q.Close()
		return nil, err
	}
	return &Remote{q: q, x: x, w: w, cfg: rc, log: log}, nil
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

// Run sends until ctx ends.
func (r *Remote) Run(ctx context.Context) { r.w.Run(ctx) }

// Flush sends what is queued for at most the configured flush timeout.
func (r *Remote) Flush(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.FlushTimeout)
	defer cancel()
	return r.w.Flush(ctx)
}

// Stats reports the sender's counts and the queue.
func (r *Remote) Stats() remotewrite.Stats { return r.w.Stats() }

// Close closes the queue.
func (r *Remote) Close() error { return r.q.Close() }

// flushAtExit is how long the daemon goes on sending when it stops, so that a clean
// stop leaves little queued.
const flushAtExit = 5 * time.Second
