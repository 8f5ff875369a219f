package poller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/testsnmpd"
)

// Every host form of targets.toml, loaded by config, is polled at the address it names:
// a real snmpd answers on both 127.0.0.1 and ::1 at one port. The port key is a port
// where nothing answers, so a device that is polled at all was polled at the port its
// host names, or at the port key when the host names none and the key is right.
func TestSnmpdHostForms(t *testing.T) {
	testsnmpd.NeedIPv6Loopback(t)
	s := testsnmpd.StartWith(t, testsnmpd.Options{Community: testCommunity, IPv6: true})
	deadPort, err := testsnmpd.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		port int // the port key
	}{
		{"127.0.0.1", s.Port},
		{fmt.Sprintf("127.0.0.1:%d", s.Port), deadPort},
		{"::1", s.Port},
		{"[::1]", s.Port},
		{fmt.Sprintf("[::1]:%d", s.Port), deadPort},
		{fmt.Sprintf("localhost:%d", s.Port), deadPort},
	}
	var src strings.Builder
	fmt.Fprintf(&src, "[snmp]\ncommunity = %q\ntimeout = \"1s\"\nretries = 1\n", s.Community)
	for i, tt := range tests {
		fmt.Fprintf(&src, "\n[[device]]\nname = \"d%d\"\nhost = %q\nport = %d\ninterfaces = [\"lo\"]\n", i, tt.host, tt.port)
	}
	cfg, err := config.Parse("targets.toml", []byte(src.String()))
	if err != nil {
		t.Fatal(err)
	}
	p := New(cfg.Devices, Options{Logger: testLogger(t)})
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rs := p.Poll(ctx)
	if len(rs) != len(tests) {
		t.Fatalf("got %d results, want %d", len(rs), len(tests))
	}
	for i, r := range rs {
		d := cfg.Devices[i]
		if r.Err != nil {
			t.Errorf("host %q (dials %s): %v", tests[i].host, d.Addr(), r.Err)
			continue
		}
		if lo, ok := findSample(r, "lo"); !ok || lo.In == 0 {
			t.Errorf("host %q (dials %s): no lo counters in %+v", tests[i].host, d.Addr(), r)
		}
	}
}
