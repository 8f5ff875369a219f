package snmp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/mrtgo/mrtgo/config"
)

// Settings left at zero take config's defaults; the ones given are kept.
func TestDialDefaults(t *testing.T) {
	c, err := Dial(context.Background(), "192.0.2.1", config.SNMP{Community: "c"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Target != "192.0.2.1" || c.Port != config.DefaultPort || c.Timeout != config.DefaultTimeout ||
		c.MaxOids != config.DefaultMaxOIDs || c.Version != gosnmp.Version2c || c.Retries != 0 ||
		c.Community != "c" || c.ExponentialTimeout || c.Transport != "udp" || c.OnSent != nil {
		t.Errorf("defaults: %+v", c.GoSNMP)
	}
	sent := 0
	c, err = Dial(context.Background(), "192.0.2.1", config.SNMP{Version: "1", Port: 1161, Timeout: time.Second,
		Retries: 3, MaxOIDs: 10}, func() { sent++ })
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 1161 || c.Timeout != time.Second || c.MaxOids != 10 || c.Version != gosnmp.Version1 || c.Retries != 3 || c.OnSent == nil {
		t.Errorf("given: %+v", c.GoSNMP)
	}
	c.OnSent(c.GoSNMP)
	if sent != 1 {
		t.Errorf("onSent called %d times, want 1", sent)
	}
	if c.EngineKnown() {
		t.Error("a v1 client claims to know an SNMPv3 engine")
	}
	c, err = Dial(context.Background(), "h", config.SNMP{Retries: -2}, nil)
	if err != nil || c.Retries != 0 {
		t.Errorf("negative retries: %v, %v", c, err)
	}
	for _, tt := range []struct {
		s    config.SNMP
		want string
	}{
		{config.SNMP{Version: "4"}, `SNMP version "4" not supported`},
		{config.SNMP{Port: 70000}, "port 70000 out of range"},
		{config.SNMP{Port: -1}, "port -1 out of range"},
		{config.SNMP{Version: "3", SecurityLevel: "authOnly"}, `snmpv3 security level "authOnly" unknown`},
	} {
		if _, err := Dial(context.Background(), "h", tt.s, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.s, err, tt.want)
		}
	}
}

// Every protocol config names maps to gosnmp's, with the level and context given.
func TestDialV3(t *testing.T) {
	for _, auth := range config.AuthProtocols {
		for _, priv := range config.PrivProtocols {
			s := config.SNMP{Version: "3", Community: "not-sent", Username: "u", SecurityLevel: config.AuthPriv, Context: "vrf-red",
				AuthProtocol: auth, AuthPassword: "auth-pass", PrivProtocol: priv, PrivPassword: "priv-pass"}
			c, err := Dial(context.Background(), "192.0.2.1", s, nil)
			if err != nil {
				t.Fatalf("%s/%s: %v", auth, priv, err)
			}
			g := c.GoSNMP
			sp, ok := g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
			if !ok || g.Version != gosnmp.Version3 || g.MsgFlags&gosnmp.AuthPriv != gosnmp.AuthPriv || g.ContextName != "vrf-red" ||
				g.SecurityModel != gosnmp.UserSecurityModel || g.Community != "" {
				t.Fatalf("%s/%s: client %+v", auth, priv, g)
			}
			if sp.UserName != "u" || sp.AuthenticationProtocol != authProtocols[auth] || sp.PrivacyProtocol != privProtocols[priv] ||
				sp.AuthenticationPassphrase != "auth-pass" || sp.PrivacyPassphrase != "priv-pass" {
				t.Errorf("%s/%s: security parameters %v %v", auth, priv, sp.AuthenticationProtocol, sp.PrivacyProtocol)
			}
			if sp.AuthenticationProtocol <= gosnmp.NoAuth || sp.PrivacyProtocol <= gosnmp.NoPriv {
				t.Errorf("%s/%s: no protocol", auth, priv)
			}
		}
	}
	for _, level := range []string{config.NoAuthNoPriv, config.AuthNoPriv} {
		c, err := Dial(context.Background(), "h", config.SNMP{Version: "3", Username: "u", SecurityLevel: level,
			AuthProtocol: "SHA", AuthPassword: "auth-pass", PrivProtocol: "AES", PrivPassword: "priv-pass"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sp := c.SecurityParameters.(*gosnmp.UsmSecurityParameters)
		if sp.PrivacyProtocol != gosnmp.NoPriv || sp.PrivacyPassphrase != "" ||
			(level == config.NoAuthNoPriv) != (sp.AuthenticationProtocol == gosnmp.NoAuth) {
			t.Errorf("%s: auth %v priv %v", level, sp.AuthenticationProtocol, sp.PrivacyProtocol)
		}
	}
	for _, s := range []config.SNMP{
		{Version: "3", Username: "u", SecurityLevel: config.AuthNoPriv, AuthProtocol: "SHA-1024", AuthPassword: "auth-pass"},
		{Version: "3", Username: "u", SecurityLevel: config.AuthPriv, AuthProtocol: "SHA", AuthPassword: "auth-pass",
			PrivProtocol: "ROT13", PrivPassword: "priv-pass"},
	} {
		if _, err := Dial(context.Background(), "h", s, nil); err == nil || strings.Contains(err.Error(), "-pass") {
			t.Errorf("unknown protocol: err = %v", err)
		}
	}
}

// USMError names the likely mistake, keeps the cause for errors.Is, never shows a secret,
// and leaves other errors alone.
func TestUSMError(t *testing.T) {
	s := config.SNMP{Version: "3", Username: "ops", SecurityLevel: config.AuthPriv, AuthPassword: "auth-secret", PrivPassword: "priv-secret"}
	timeout := fmt.Errorf("request timeout (after 1 retries)")
	for _, tt := range []struct {
		name       string
		err        error
		discovered bool
		want       string // "" means unchanged
	}{
		{"wrong digest", gosnmp.ErrWrongDigest, true, "authentication failed"},
		{"not authentic", errors.New("incoming packet is not authentic, discarding"), true, "authentication failed"},
		{"timeout after discovery", timeout, true, "check priv_protocol and priv_password"},
		{"timeout without discovery", timeout, false, ""},
		{"unknown user", gosnmp.ErrUnknownUsername, false, "the agent has no such user"},
		{"decryption", gosnmp.ErrDecryption, true, "decryption failed"},
		{"security level", gosnmp.ErrUnknownSecurityLevel, true, "refuses security level authPriv"},
		{"time window", gosnmp.ErrNotInTimeWindow, true, "engine discovery failed"},
		{"engine id", gosnmp.ErrUnknownEngineID, false, "engine discovery failed"},
		{"other", errors.New("connection refused"), true, ""},
	} {
		got := USMError(tt.err, s, tt.discovered)
		if tt.want == "" {
			if got != tt.err {
				t.Errorf("%s: %v, want it unchanged", tt.name, got)
			}
			continue
		}
		if !strings.Contains(got.Error(), tt.want) || !strings.Contains(got.Error(), `"ops"`) || !errors.Is(got, tt.err) {
			t.Errorf("%s: %v, want %q naming the user and wrapping the cause", tt.name, got, tt.want)
		}
		if strings.Contains(got.Error(), "secret") {
			t.Errorf("%s: %v shows a secret", tt.name, got)
		}
	}
}

func TestTimedOut(t *testing.T) {
	if !TimedOut(fmt.Errorf("get: %w", gosnmp.ErrMaxRetriesExceeded)) || !TimedOut(context.DeadlineExceeded) ||
		TimedOut(errors.New("connection refused")) || TimedOut(nil) {
		t.Error("TimedOut tells timeouts wrongly")
	}
}
