package remotewrite

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
)

// fakeReceiver records what it is sent and answers with the status its test sets.
type fakeReceiver struct {
	mu      sync.Mutex
	status  []int // answers in turn; the last one repeats
	got     [][]Series
	headers []http.Header
}

func (f *fakeReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.headers = append(f.headers, r.Header.Clone())
	status := f.status[0]
	if len(f.status) > 1 {
		f.status = f.status[1:]
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	if status/100 != 2 {
		http.Error(w, "no", status)
		return
	}
	body, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s, err := Decode(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.got = append(f.got, s)
	w.WriteHeader(http.StatusNoContent)
}

func TestWriterRetriesInOrderAndDropsRefused(t *testing.T) {
	recv := &fakeReceiver{status: []int{503, 500, 429, 204, 400, 204}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	q, err := OpenQueue(t.TempDir(), QueueOptions{MaxSamples: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	w, err := NewWriter(q, Options{URL: srv.URL, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond,
		Username: "mrtgo", Password: "secret", Headers: map[string]string{"X-Scope-OrgID": "tenant-1"}})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Unix(1764400000, 0)
	q.Put(steps(3, 4, from)) // three records of four samples
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	// Three failures of the first record (12 samples sent again), then it went; the
	// second was refused for good (400) and dropped; the third went.
	if st.Sent != 8 || st.Dropped != 4 || st.Retried != 12 || st.Failures != 4 || st.Queue.Records != 0 {
		t.Errorf("stats %+v", st)
	}
	if len(recv.got) != 2 || recv.got[0][0].Labels[1].Value != "0" || recv.got[1][0].Labels[1].Value != "2" {
		t.Errorf("received %+v: want series 0's record, then series 2's", recv.got)
	}
	h := recv.headers[0]
	if u, p, ok := (&http.Request{Header: h}).BasicAuth(); !ok || u != "mrtgo" || p != "secret" {
		t.Errorf("basic auth %q %q %v", u, p, ok)
	}
	for k, v := range map[string]string{"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
		"X-Prometheus-Remote-Write-Version": "0.1.0", "X-Scope-Orgid": "tenant-1"} {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
}

func TestFlushLeavesQueuedAtDeadline(t *testing.T) {
	recv := &fakeReceiver{status: []int{503}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	dir := t.TempDir()
	q, err := OpenQueue(dir, QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := NewWriter(q, Options{URL: srv.URL, BearerToken: "tok", MinBackoff: time.Millisecond})
	q.Put(steps(2, 1, time.Unix(1764400000, 0)))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := w.Flush(ctx); err == nil {
		t.Error("Flush against a failing receiver returned no error")
	}
	if got := recv.headers[0].Get("Authorization"); got != "Bearer tok" {
		t.Errorf("Authorization %q", got)
	}
	q.Close()
	// The next run (a cron run's next process) finds the step still queued.
	q, err = OpenQueue(dir, QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if st := q.Stats(); st.Samples != 2 {
		t.Errorf("after a failed flush the queue holds %d samples, want 2", st.Samples)
	}
}

func TestRunSendsAsPut(t *testing.T) {
	recv := &fakeReceiver{status: []int{204}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	q, err := OpenQueue(t.TempDir(), QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	w, _ := NewWriter(q, Options{URL: srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	from := time.Unix(1764400000, 0)
	for i := range 5 {
		q.Put(steps(1, 1, from.Add(time.Duration(i)*time.Minute)))
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.Stats().Sent < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if st := w.Stats(); st.Sent != 5 {
		t.Fatalf("sent %d samples, want 5", st.Sent)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	var last time.Time
	for _, b := range recv.got {
		for _, s := range b {
			for _, p := range s.Samples {
				if !p.Time.After(last) {
					t.Errorf("sample at %v after %v: order lost", p.Time, last)
				}
				last = p.Time
			}
		}
	}
}
