package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/syncbuf"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

func freeTCPAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// "mrtgo run" polls on the step, renders and serves; cancelling it (SIGTERM in main)
// ends it cleanly with exit 0.
func TestRunDaemon(t *testing.T) {
	net := snmpsim.DemoNetwork()[:1]
	agents, err := snmpsim.StartNetwork(context.Background(), "127.0.0.1:0", net, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer agents[0].Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	cfg := fmt.Sprintf("step = \"1s\"\n[[device]]\nname = %q\nhost = \"127.0.0.1\"\nport = %d\ncommunity = %q\ninterfaces = [\"*\"]\n",
		agents[0].Name(), agents[0].Port(), agents[0].Community())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freeTCPAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", "-c", cfgPath, "--listen", listen}, io.Discard, &stderr) }()

	// Wait until a page lists the device's interfaces with a graph.
	deadline := time.Now().Add(30 * time.Second)
	for {
		body := get(t, "http://"+listen+"/"+agents[0].Name()+"/index.html")
		if strings.Contains(body, ".png") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no device page with graphs after 30s; log:\n%s", stderr.String())
		}
		select {
		case code := <-done:
			t.Fatalf("run exited early with %d:\n%s", code, stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	// At least two cycles were committed.
	for !strings.Contains(stderr.String(), "cycle done") || strings.Count(stderr.String(), "cycle done") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than two cycles in 30s:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("run exited %d after cancel:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop within 20s of cancel")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
