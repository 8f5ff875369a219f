package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

// "mrtgo discover" against a simulated agent writes a targets file that "mrtgo check"
// accepts, skips admin-down interfaces saying why, and --dry-run changes nothing.
func TestDiscoverCommand(t *testing.T) {
	var dev snmpsim.DeviceConfig // a demo device with an admin-down interface
	for _, d := range snmpsim.DemoNetwork() {
		for _, ifc := range d.Interfaces {
			if !ifc.Up && dev.Name == "" {
				dev = d
			}
		}
	}
	if dev.Name == "" {
		t.Fatal("the demo network has no admin-down interface to skip")
	}
	agent, err := snmpsim.Start(context.Background(), "127.0.0.1:0", dev, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "targets.toml")
	host := fmt.Sprintf("%s@127.0.0.1:%d", agent.Community(), agent.Port())

	code, out, errs := runCmd(t, "discover", "-c", cfgPath, "--dry-run", host)
	if code != exitOK {
		t.Fatalf("discover --dry-run: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(cfgPath); !os.IsNotExist(err) {
		t.Errorf("--dry-run wrote %s", cfgPath)
	}
	if !strings.Contains(out, "+[[device]]") {
		t.Errorf("dry run prints no diff adding a device:\n%s", out)
	}

	code, out, errs = runCmd(t, "discover", "-c", cfgPath, host)
	if code != exitOK {
		t.Fatalf("discover: exit %d: %s", code, errs)
	}
	if strings.Contains(errs, "\r") {
		t.Errorf("discover drew a progress bar on a stderr that is not a terminal: %q", errs)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("written file does not load: %v", err)
	}
	if len(cfg.Devices) != 1 || cfg.Devices[0].Name != dev.Name {
		t.Fatalf("devices %+v, want one named %s", cfg.Devices, dev.Name)
	}
	up, down := 0, ""
	for _, ifc := range dev.Interfaces {
		if ifc.Up && !strings.HasPrefix(ifc.Name, "lo") {
			up++
		} else if !ifc.Up {
			down = ifc.Name
		}
	}
	if got := len(cfg.Devices[0].Interfaces); got != up {
		t.Errorf("%d interfaces written, want the %d that are up: %v", got, up, cfg.Devices[0].Interfaces)
	}
	if !strings.Contains(out+errs, down) {
		t.Errorf("output does not say %s was skipped:\n%s%s", down, out, errs)
	}
	if code, _, errs := runCmd(t, "check", "-c", cfgPath); code != exitOK {
		t.Errorf("check of the discovered file: exit %d: %s", code, errs)
	}
}
