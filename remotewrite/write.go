package remotewrite

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Options say where and how a Writer sends.
type Options struct {
	// URL is the receiver's remote-write endpoint: Prometheus's /api/v1/write (with
	// --web.enable-remote-write-receiver), VictoriaMetrics' /api/v1/write, Mimir's
	// /api/v1/push, Thanos Receive's /api/v1/receive.
	URL string
	// Timeout bounds one request: 30 s by default.
	Timeout time.Duration
	// Username and Password, when Username is set, are sent as HTTP basic auth;
	// BearerToken, when set, as "Authorization: Bearer". Headers are added as given
	// (a tenant's X-Scope-OrgID, say).
	Username, Password string
	BearerToken        string
	Headers            map[string]string
	// TLS, when not nil, is the client's TLS configuration (its CA, its certificate).
	TLS *tls.Config
	// MinBackoff and MaxBackoff bound the wait before a failed request is tried
	// again: it starts at MinBackoff (500 ms) and doubles up to MaxBackoff (1 min),
	// or follows the receiver's Retry-After.
	MinBackoff, MaxBackoff time.Duration
	// Log receives a line when sending starts failing and when it recovers.
	Log *slog.Logger
	// Client replaces the HTTP client built from the options above (for tests).
	Client *http.Client
	// Protocol is the remote-write version sent: "v1" (also the empty string), "v2",
	// or "auto": v2 until the receiver shows that it takes v1 only, then v1 for the
	// life of the Writer (see post).
	Protocol string
}

// Writer sends a Queue's records to a receiver, oldest first, one request at a time,
// so that the receiver sees each series' samples in order.
type Writer struct {
	q      *Queue
	o      Options
	client *http.Client

	sent, retried, dropped, failures atomic.Int64
	lastErr                          atomic.Pointer[string]
	failing                          bool        // logged as failing; only the sending goroutine
	v1only                           atomic.Bool // "auto" found a receiver of v1 only
}

// NewWriter returns a Writer of q's records to o.URL.
func NewWriter(q *Queue, o Options) (*Writer, error) {
	if o.URL == "" {
		return nil, errors.New("remote write: no url")
	}
	switch o.Protocol {
	case "", "v1", "v2", "auto":
	default:
		return nil, fmt.Errorf("remote write: protocol %q: want v1, v2 or auto", o.Protocol)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(time.Minute, o.MinBackoff)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	client := o.Client
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = o.TLS
		client = &http.Client{Transport: tr}
	}
	return &Writer{q: q, o: o, client: client}, nil
}

// Stats counts what a Writer did since it was made.
type Stats struct {
	Sent, Retried, Dropped int64 // samples: taken by the receiver, sent again after a failure, refused for good
	Failures               int64 // requests that failed
	LastError              string
	Queue                  QueueStats
	// Protocol is the version the next request is sent with: "v1" or "v2".
	Protocol string
}

// Stats reports the Writer's counts and its queue.
func (w *Writer) Stats() Stats {
	st := Stats{Sent: w.sent.Load(), Retried: w.retried.Load(), Dropped: w.dropped.Load(), Failures: w.failures.Load(), Queue: w.q.Stats()}
	if p := w.lastErr.Load(); p != nil {
		st.LastError = *p
	}
	st.Protocol = "v1"
	if w.sendsV2() {
		st.Protocol = "v2"
	}
	return st
}

// Run sends until ctx ends: every record in the queue, then each one as it is put,
// waiting with backoff while the receiver fails.
func (w *Writer) Run(ctx context.Context) {
	backoff := w.o.MinBackoff
	for ctx.Err() == nil {
		ready := w.q.Ready()
		wait, err := w.sendOne(ctx)
		switch {
		case errors.Is(err, ErrEmpty):
			select {
			case <-ready:
			case <-ctx.Done():
			}
			continue
		case err != nil:
			if wait <= 0 {
				wait = backoff
				backoff = min(2*backoff, w.o.MaxBackoff)
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
			continue
		}
		backoff = w.o.MinBackoff
	}
}

// Flush sends every queued record, waiting with backoff while the receiver fails,
// until the queue is empty or ctx ends; what is not sent by then stays queued for the
// next Flush or Run. It is the cron run's way: its step is put, then flushed with a
// deadline.
func (w *Writer) Flush(ctx context.Context) error {
	backoff := w.o.MinBackoff
	for {
		wait, err := w.sendOne(ctx)
		switch {
		case errors.Is(err, ErrEmpty):
			return nil
		case err != nil:
			if wait <= 0 {
				wait = backoff
				backoff = min(2*backoff, w.o.MaxBackoff)
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				st := w.q.Stats()
				return fmt.Errorf("remote write to %s: %w; %d samples stay queued", w.o.URL, err, st.Samples)
			}
			continue
		}
		backoff = w.o.MinBackoff
	}
}

// permanent is a refusal that sending again cannot change (400, 401, 404, ...).
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// sendOne sends the oldest record. A record the receiver refuses for good is dropped
// (counted and logged) so that it cannot block the queue; one that failed otherwise
// stays first in the queue, and wait is the receiver's Retry-After, if it sent one.
func (w *Writer) sendOne(ctx context.Context) (wait time.Duration, err error) {
	rec, err := w.q.Next()
	if err != nil {
		return 0, err
	}
	wait, err = w.post(ctx, rec)
	var perm permanent
	switch {
	case err == nil:
		w.sent.Add(int64(rec.Samples))
		if w.failing {
			w.failing = false
			w.o.Log.Info("remote write recovered", "url", w.o.URL)
		}
	case errors.As(err, &perm):
		w.dropped.Add(int64(rec.Samples))
		w.failures.Add(1)
		w.setErr(err)
		w.o.Log.Error("remote write refused a request for good; its samples are dropped", "url", w.o.URL, "samples", rec.Samples, "err", err)
	default:
		w.retried.Add(int64(rec.Samples))
		w.failures.Add(1)
		w.setErr(err)
		if !w.failing {
			w.failing = true
			w.o.Log.Warn("remote write failing; samples stay queued and are sent again", "url", w.o.URL, "err", err)
		}
		return wait, err
	}
	if aerr := w.q.Ack(rec.Seq); aerr != nil {
		return 0, aerr
	}
	return 0, nil
}

func (w *Writer) setErr(err error) {
	s := err.Error()
	w.lastErr.Store(&s)
}

func (w *Writer) sendsV2() bool {
	return w.o.Protocol == "v2" || w.o.Protocol == "auto" && !w.v1only.Load()
}

// errNotV2 is a v2 request's answer from a receiver that takes v1 only.
var errNotV2 = errors.New("the receiver does not take remote-write v2")

// post sends one record. In v2 (Protocol "v2", or "auto" until the receiver is known
// to take v1 only) the record, kept in the queue as v1, is converted first. The
// specification's negotiation: a receiver that does not take a request's Content-Type
// answers 415 Unsupported Media Type, and the sender may send the request again as
// v1. A receiver of v2 also answers every request it wrote with the
// X-Prometheus-Remote-Write-Samples-Written header; one written for v1 only, which
// reads a v2 body as a v1 WriteRequest without looking at its Content-Type (Debian's
// prometheus 2.42 and victoria-metrics 1.79 do), finds no field it knows in it (v2
// starts at field 4; 1 to 3 are reserved for this) and answers 2xx having written
// nothing, without that header. Either answer in "auto" sends the record again as v1
// at once, and every later one as v1; it is logged once. In "v2" it is a refusal:
// the record is dropped, counted and logged.
func (w *Writer) post(ctx context.Context, rec Record) (time.Duration, error) {
	if w.sendsV2() {
		body, err := v2Body(rec.Body)
		if err != nil {
			return 0, permanent{err}
		}
		wait, err := w.postBody(ctx, body, true)
		if !errors.Is(err, errNotV2) || w.o.Protocol != "auto" {
			return wait, err
		}
		if !w.v1only.Swap(true) {
			w.o.Log.Warn("remote write: the receiver takes v1 only; sending v1 from now on", "url", w.o.URL, "answer", err)
		}
	}
	return w.postBody(ctx, rec.Body, false)
}

func (w *Writer) postBody(ctx context.Context, body []byte, v2 bool) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, w.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.o.URL, bytes.NewReader(body))
	if err != nil {
		return 0, permanent{err}
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", "mrtgo")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	if v2 {
		req.Header.Set("Content-Type", ContentTypeV2)
		req.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	}
	for k, v := range w.o.Headers {
		req.Header.Set(k, v)
	}
	if w.o.Username != "" {
		req.SetBasicAuth(w.o.Username, w.o.Password)
	}
	if w.o.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+w.o.BearerToken)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if v2 && resp.StatusCode/100 == 2 && resp.Header.Get("X-Prometheus-Remote-Write-Samples-Written") == "" {
		return 0, permanent{fmt.Errorf("%w: %s without X-Prometheus-Remote-Write-Samples-Written", errNotV2, resp.Status)}
	}
	if resp.StatusCode/100 == 2 {
		return 0, nil
	}
	err = fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
	if v2 && resp.StatusCode == http.StatusUnsupportedMediaType {
		return 0, permanent{fmt.Errorf("%w: %w", errNotV2, err)}
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5 {
		wait := time.Duration(0)
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
			wait = min(time.Duration(s)*time.Second, w.o.MaxBackoff)
		}
		return wait, err
	}
	return 0, permanent{err}
}
