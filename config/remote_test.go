package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRemoteWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "targets.toml")
	src := `data = "var/mrtgo.db"

[remote_write]
url = "https://vm.example.net:8427/api/v1/write"
max_queue_size = "2GB"
flush_timeout = "10s"
bearer_token_file = "secrets/token"
tls_ca = "/etc/ssl/ca.pem"
headers = { "X-Scope-OrgID" = "tenant-1" }
labels = { site = "ams", poller = "p1" }
protocol = "auto"
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r := c.RemoteWrite
	if r.URL != "https://vm.example.net:8427/api/v1/write" || r.MaxQueueSize != 2e9 || r.FlushTimeout != 10*time.Second ||
		r.Timeout != DefaultRemoteTimeout || r.MaxSamplesPerSend != DefaultRemoteMaxSamples {
		t.Errorf("remote write %+v", r)
	}
	if r.Queue != filepath.Join(dir, "var", "remote-write") || r.BearerTokenFile != filepath.Join(dir, "secrets", "token") || r.TLSCA != "/etc/ssl/ca.pem" {
		t.Errorf("paths: queue %q, token file %q, CA %q", r.Queue, r.BearerTokenFile, r.TLSCA)
	}
	if r.Protocol != "auto" {
		t.Errorf("protocol %q, want auto", r.Protocol)
	}
	if r.Headers["X-Scope-OrgID"] != "tenant-1" || r.Labels["site"] != "ams" || r.Labels["poller"] != "p1" {
		t.Errorf("headers %v, labels %v", r.Headers, r.Labels)
	}
	// Without the table nothing is sent.
	c, err = Parse("t.toml", []byte(""))
	if err != nil || c.RemoteWrite.URL != "" {
		t.Errorf("no [remote_write]: %+v, %v", c.RemoteWrite, err)
	}
	c, err = Parse("t.toml", []byte("[remote_write]\nurl = \"http://127.0.0.1:8428/api/v1/write\"\n"))
	if err != nil || c.RemoteWrite.Protocol != "v1" {
		t.Errorf("protocol by default: %q, %v; want v1", c.RemoteWrite.Protocol, err)
	}
}

func TestRemoteWriteMistakes(t *testing.T) {
	src := `[remote_write]
url = "vm:8428/api/v1/write"
max_queue_size = "10kB"
timeout = "0s"
password = "x"
bearer_token = "t"
labels = { device = "x", "9lives" = "y" }
tls_cert = "c.pem"
max_samples_per_sends = 5
protocol = "v3"
`
	_, err := Parse("targets.toml", []byte(src))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v", err)
	}
	want := []string{
		`targets.toml:2: remote_write.url: url "vm:8428/api/v1/write" is not an http:// or https:// address`,
		`targets.toml:3: remote_write.max_queue_size: max_queue_size 10000 bytes is less than 1MiB`,
		`targets.toml:4: remote_write.timeout: must be positive`,
		`targets.toml:5: remote_write.password: a password without a username`,
		`targets.toml:7: remote_write.labels.9lives: label name "9lives": use letters, digits and _, not starting with a digit or __`,
		`targets.toml:7: remote_write.labels.device: label "device" is one mrtgo sets itself (` + strings.Join(RemoteLabels, ", ") + `)`,
		`targets.toml:8: remote_write.tls_cert: tls_cert and tls_key go together`,
		`targets.toml:9: remote_write.max_samples_per_sends: unknown key (did you mean "max_samples_per_send"?)`,
		`targets.toml:10: remote_write.protocol: protocol "v3": use "v1", "v2" or "auto"`,
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
