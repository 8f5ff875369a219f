// Package receivertest starts the Prometheus-compatible engines mrtgo writes to, for
// tests: Debian's prometheus with its remote-write receiver, and Debian's
// victoria-metrics, each on a free loopback port with its data in a directory of the
// test's. A receiver can be stopped and started again on the same data and port, as
// an outage is. Query reads a series' raw samples back through the engine's query API.
package receivertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

// Receiver is a running (or stopped) engine.
type Receiver struct {
	Kind string // "prometheus" or "victoria-metrics"
	// WriteURL is the remote-write endpoint, BaseURL the root of the query API.
	WriteURL, BaseURL string

	tb   testing.TB
	prog string
	args []string
	addr string
	log  string
	cmd  *exec.Cmd
}

// Prometheus starts Debian's prometheus with --web.enable-remote-write-receiver.
func Prometheus(tb testing.TB) *Receiver { return PrometheusWith(tb, PrometheusOptions{}) }

// PrometheusOptions shape the prometheus PrometheusWith starts.
type PrometheusOptions struct {
	// OutOfOrder is storage.tsdb.out_of_order_time_window in prometheus.yml: how far
	// behind its newest sample prometheus takes older ones, as a back-fill sends. 0
	// leaves it off, as prometheus has it by default: a sample older than what the
	// head holds (about an hour behind the newest) is then refused.
	OutOfOrder time.Duration
	// Retention is --storage.tsdb.retention.time, 30 days when 0.
	Retention time.Duration
}

// PrometheusWith starts Debian's prometheus with --web.enable-remote-write-receiver
// and o.
func PrometheusWith(tb testing.TB, o PrometheusOptions) *Receiver {
	tb.Helper()
	prog := testneed.Program(tb, "prometheus", "apt-get install prometheus")
	dir := tb.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	yml := "global:\n  scrape_interval: 1h\n"
	if o.OutOfOrder > 0 {
		yml += fmt.Sprintf("storage:\n  tsdb:\n    out_of_order_time_window: %ds\n", int64(o.OutOfOrder/time.Second))
	}
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		tb.Fatal(err)
	}
	retention := "30d"
	if o.Retention > 0 {
		retention = fmt.Sprintf("%ds", int64(o.Retention/time.Second))
	}
	addr := freeAddr(tb)
	r := &Receiver{Kind: "prometheus", tb: tb, prog: prog, addr: addr, log: filepath.Join(dir, "log"),
		WriteURL: "http://" + addr + "/api/v1/write", BaseURL: "http://" + addr,
		args: []string{"--config.file=" + cfg, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr, "--web.enable-remote-write-receiver",
			"--storage.tsdb.retention.time=" + retention}}
	r.Start()
	tb.Cleanup(r.Stop)
	return r
}

// VictoriaMetrics starts Debian's victoria-metrics (single node) with queries that see
// samples as soon as they are written, and deduplication of samples sent twice.
func VictoriaMetrics(tb testing.TB) *Receiver {
	tb.Helper()
	prog := testneed.Program(tb, "victoria-metrics", "apt-get install victoria-metrics")
	dir := tb.TempDir()
	addr := freeAddr(tb)
	r := &Receiver{Kind: "victoria-metrics", tb: tb, prog: prog, addr: addr, log: filepath.Join(dir, "log"),
		WriteURL: "http://" + addr + "/api/v1/write", BaseURL: "http://" + addr,
		args: []string{"-httpListenAddr=" + addr, "-storageDataPath=" + filepath.Join(dir, "data"),
			"-search.latencyOffset=0s", "-search.disableCache", "-retentionPeriod=1y",
			// Remote write is at least once: a request whose answer was lost (the
			// receiver stopped mid-request) is sent again. Prometheus stores a sample
			// sent twice once; victoria-metrics does with deduplication on.
			"-dedup.minScrapeInterval=1ms"}}
	r.Start()
	tb.Cleanup(r.Stop)
	return r
}

func freeAddr(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start starts the receiver (again) and waits until it answers.
func (r *Receiver) Start() {
	r.tb.Helper()
	logf, err := os.OpenFile(r.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		r.tb.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(r.prog, r.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		r.tb.Fatalf("start %s: %v", r.Kind, err)
	}
	r.cmd = cmd
	ready := "/-/ready"
	if r.Kind == "victoria-metrics" {
		ready = "/health"
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(r.BaseURL + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(r.log)
			r.tb.Fatalf("%s did not become ready on %s: %v\n%s", r.Kind, r.addr, err, tail(b))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops the receiver, as a service manager would (SIGTERM), and waits for it.
func (r *Receiver) Stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Point is one stored sample as the engine returns it.
type Point struct {
	Time  time.Time
	Value float64
}

// Flush makes what was written searchable at once (victoria-metrics keeps the last
// second's samples in memory; prometheus has nothing to do).
func (r *Receiver) Flush() {
	if r.Kind != "victoria-metrics" {
		return
	}
	if resp, err := http.Get(r.BaseURL + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}
}

// Query returns the raw samples of every series that selector (a PromQL series
// selector such as `mrtgo_interface_bits_per_second{device="core1"}`) matches between
// from and to, by the series' labels written as name=value pairs joined by commas,
// sorted by name.
func (r *Receiver) Query(selector string, from, to time.Time) (map[string][]Point, error) {
	window := to.Sub(from).Round(time.Second) + time.Second
	res, err := r.query(fmt.Sprintf("%s[%ds]", selector, int(window.Seconds())), to)
	if err != nil {
		return nil, err
	}
	out := map[string][]Point{}
	for _, s := range res {
		var pts []Point
		for _, v := range s.Values {
			p, err := r.point(v)
			if err != nil {
				return nil, err
			}
			pts = append(pts, p)
		}
		out[labelKey(s.Metric)] = pts
	}
	return out, nil
}

// Vector evaluates a PromQL query at one instant and returns its result, an instant
// vector, by the labels of each element (as Query writes them).
func (r *Receiver) Vector(query string, at time.Time) (map[string]float64, error) {
	res, err := r.query(query, at)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(res))
	for _, s := range res {
		p, err := r.point(s.Value)
		if err != nil {
			return nil, err
		}
		out[labelKey(s.Metric)] = p.Value
	}
	return out, nil
}

// result is an element of a query's result: an instant vector's (Value) or a range
// vector's (Values).
type result struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
	Values [][2]any          `json:"values"`
}

// query evaluates a PromQL query at one instant, after making what was written
// searchable.
func (r *Receiver) query(query string, at time.Time) ([]result, error) {
	r.Flush()
	q := url.Values{"query": {query}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.BaseURL+"/api/v1/query", strings.NewReader(q.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []result `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("%s query %s: %s: %w", r.Kind, query, resp.Status, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("%s query %s: %s", r.Kind, query, body.Error)
	}
	return body.Data.Result, nil
}

// point reads a [time, "value"] pair of the API.
func (r *Receiver) point(v [2]any) (Point, error) {
	ts, _ := v[0].(float64)
	str, _ := v[1].(string)
	f, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return Point{}, fmt.Errorf("%s: value %q: %w", r.Kind, str, err)
	}
	return Point{Time: time.UnixMilli(int64(ts*1000 + 0.5)), Value: f}, nil
}

// labelKey writes labels as name=value pairs sorted by name, joined by commas.
func labelKey(m map[string]string) string {
	labels := make([]string, 0, len(m))
	for k, v := range m {
		labels = append(labels, k+"="+v)
	}
	slices.Sort(labels)
	return strings.Join(labels, ",")
}
