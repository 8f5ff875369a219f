package daemon

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/remotewrite"
	"github.com/mrtgo/mrtgo/rrd"
)

// [remote_write] over https: the receiver's certificate checked against tls_ca, the
// bearer token read from its file; a CA that did not sign it is refused.
func TestRemoteWriteTLS(t *testing.T) {
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	// Another CA (httptest's servers all share one certificate).
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "other.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := rrd.Open(filepath.Join(dir, "mrtgo.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, caFile := range []string{"ca.pem", "other.pem"} {
		file := filepath.Join(dir, fmt.Sprintf("targets%d.toml", i))
		src := fmt.Sprintf("data = \"mrtgo.db\"\n[remote_write]\nurl = %q\nqueue = \"queue%d\"\ntls_ca = %q\nbearer_token_file = \"token\"\nflush_timeout = \"1s\"\n",
			srv.URL+"/api/v1/write", i, caFile)
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		r, err := OpenRemote(cfg, db, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		r.Put([]remotewrite.Series{{Labels: []remotewrite.Label{{Name: "__name__", Value: "x"}}, Samples: []remotewrite.Sample{{Time: time.Unix(1764400000, 0), Value: 1}}}})
		err = r.Flush(context.Background())
		st := r.Stats()
		r.Close()
		switch {
		case caFile == "ca.pem" && (err != nil || st.Sent != 1):
			t.Errorf("with the receiver's CA: %v, %+v", err, st)
		case caFile == "other.pem" && (err == nil || st.Sent != 0 || !strings.Contains(st.LastError, "certificate")):
			t.Errorf("with another CA: %v, %+v; want a certificate error", err, st)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) != 1 || auth[0] != "Bearer s3cret" {
		t.Errorf("Authorization headers %q", auth)
	}
}
