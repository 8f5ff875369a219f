package poller

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/syncbuf"
	"github.com/mrtgo/mrtgo/internal/testsnmpd"
)

// v3User is one USM user created in the private snmpd.
type v3User struct {
	name, level      string
	auth, authPass   string // config names
	priv, privPass   string
	netAuth, netPriv string // net-snmp names in createUser
}

func (u v3User) createUser() string {
	line := "createUser " + u.name
	if u.auth != "" {
		line += fmt.Sprintf(" %s %q", u.netAuth, u.authPass)
	}
	if u.priv != "" {
		line += fmt.Sprintf(" %s %q", u.netPriv, u.privPass)
	}
	access := map[string]string{config.NoAuthNoPriv: "noauth", config.AuthNoPriv: "auth", config.AuthPriv: "priv"}[u.level]
	return line + "\nrouser " + u.name + " " + access + "\n"
}

func (u v3User) device(s *testSnmpd, name string) config.Device {
	d := snmpdDevice(s, name, "3", "lo")
	d.SNMP.Community = ""
	d.SNMP.Username, d.SNMP.SecurityLevel = u.name, u.level
	d.SNMP.AuthProtocol, d.SNMP.AuthPassword = u.auth, u.authPass
	d.SNMP.PrivProtocol, d.SNMP.PrivPassword = u.priv, u.privPass
	return d
}

var v3Users = []v3User{
	{name: "sha-aes", level: config.AuthPriv, auth: "SHA", authPass: "auth-pass-sha1", netAuth: "SHA",
		priv: "AES", privPass: "priv-pass-aes1", netPriv: "AES"},
	{name: "sha256-aes256", level: config.AuthPriv, auth: "SHA-256", authPass: "auth-pass-sha256", netAuth: "SHA-256",
		priv: "AES-256C", privPass: "priv-pass-aes256", netPriv: "AES-256"},
	{name: "sha512-aes192", level: config.AuthPriv, auth: "SHA-512", authPass: "auth-pass-sha512", netAuth: "SHA-512",
		priv: "AES-192C", privPass: "priv-pass-aes192", netPriv: "AES-192"},
	{name: "sha224-aes", level: config.AuthPriv, auth: "SHA-224", authPass: "auth-pass-sha224", netAuth: "SHA-224",
		priv: "AES", privPass: "priv-pass-aes-2", netPriv: "AES"},
	{name: "sha384-aes", level: config.AuthPriv, auth: "SHA-384", authPass: "auth-pass-sha384", netAuth: "SHA-384",
		priv: "AES", privPass: "priv-pass-aes-3", netPriv: "AES"},
	{name: "md5-des", level: config.AuthPriv, auth: "MD5", authPass: "auth-pass-md5", netAuth: "MD5",
		priv: "DES", privPass: "priv-pass-des", netPriv: "DES"},
	{name: "sha-only", level: config.AuthNoPriv, auth: "SHA", authPass: "auth-pass-only", netAuth: "SHA"},
	{name: "nobody", level: config.NoAuthNoPriv},
}

func v3Conf() string {
	var b strings.Builder
	for _, u := range v3Users {
		b.WriteString(u.createUser())
	}
	return b.String()
}

// Every security level and the protocols net-snmp offers, polled twice on one client:
// engine discovery costs one round trip in the first cycle only.
func TestSnmpdV3(t *testing.T) {
	s := startSnmpd(t, testCommunity, v3Conf())
	for _, u := range v3Users {
		t.Run(u.name, func(t *testing.T) {
			p := New([]config.Device{u.device(s, "v3-"+u.name)}, Options{Logger: testLogger(t)})
			defer p.Close()
			var requests []int
			for cycle := 1; cycle <= 3; cycle++ {
				r := onlyResult(t, p.Poll(context.Background()))
				if r.Err != nil {
					t.Fatalf("cycle %d: %v", cycle, r.Err)
				}
				lo, ok := findSample(r, "lo")
				if !ok || lo.Bits != 64 || lo.In == 0 {
					t.Fatalf("cycle %d: lo = %+v (found %v), want 64-bit non-zero counters", cycle, lo, ok)
				}
				if r.Retries != 0 {
					t.Errorf("cycle %d: %d retries, want 0", cycle, r.Retries)
				}
				requests = append(requests, r.Requests)
			}
			if requests[1] != requests[2] || requests[0] <= requests[1] {
				t.Errorf("requests per cycle %v: want the first cycle alone to discover the engine", requests)
			}
		})
	}
}

// A wrong password gives an error that names the device and says what to check, and
// neither the error nor the log shows a password.
func TestSnmpdV3WrongPassword(t *testing.T) {
	s := startSnmpd(t, testCommunity, v3Conf())
	good := v3Users[0]
	wrongAuth := good.device(s, "core-wrong-auth")
	wrongAuth.SNMP.AuthPassword = "not-the-auth-pass"
	wrongPriv := good.device(s, "core-wrong-priv")
	wrongPriv.SNMP.PrivPassword = "not-the-priv-pass"
	unknown := good.device(s, "core-unknown-user")
	unknown.SNMP.Username = "no-such-user"
	port, err := testsnmpd.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	dead := good.device(s, "core-dead")
	dead.SNMP.Port = port // nobody answers: no hint about passwords
	for _, d := range []*config.Device{&wrongAuth, &wrongPriv, &unknown, &dead} {
		d.SNMP.Timeout /= 4
		d.SNMP.Retries = 0
	}
	var logs syncbuf.Buffer
	p := New([]config.Device{wrongAuth, wrongPriv, unknown, good.device(s, "core-ok"), dead},
		Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	defer p.Close()
	rs := p.Poll(context.Background())
	wants := []string{"authentication failed: check username, auth_protocol and auth_password",
		"check priv_protocol and priv_password", "authentication failed: check username"}
	for i, want := range wants {
		r := rs[i]
		if r.Err == nil {
			t.Errorf("%s: no error", r.Device)
			continue
		}
		t.Logf("%s: %v", r.Device, r.Err)
		msg := r.Err.Error()
		if !strings.HasPrefix(msg, "poll "+r.Device+": ") || !strings.Contains(msg, want) {
			t.Errorf("%s: error %q, want it to name the device and say %q", r.Device, msg, want)
		}
	}
	if rs[3].Err != nil || len(rs[3].Samples) != 1 {
		t.Errorf("core-ok: %v, %d samples", rs[3].Err, len(rs[3].Samples))
	}
	if err := rs[4].Err; err == nil || strings.Contains(err.Error(), "check") {
		t.Errorf("core-dead: error %v, want one without hints about credentials", err)
	}
	text := logs.String()
	for _, r := range rs {
		if r.Err != nil {
			text += r.Err.Error()
		}
	}
	for _, secret := range []string{good.authPass, good.privPass, "not-the-auth-pass", "not-the-priv-pass", testCommunity} {
		if strings.Contains(text, secret) {
			t.Errorf("logs or errors show the secret %q:\n%s", secret, text)
		}
	}
}
