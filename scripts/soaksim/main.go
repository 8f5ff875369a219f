// Command soaksim runs the simulated network behind scripts/soak.sh: devices × ifaces
// simulated SNMP agents on 127.0.0.1, two targets files naming them (the second
// without the last device, so that alternating them on reload removes and adds one),
// and one device that stops answering for a while every so often (a flapping device).
// It runs until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mrtgo/mrtgo/poller/snmpsim"
)

func main() {
	devices := flag.Int("devices", 100, "simulated devices")
	ifaces := flag.Int("ifaces", 100, "interfaces per device")
	step := flag.Duration("step", 10*time.Second, "poll step written to the targets files")
	dir := flag.String("dir", ".", "directory for targets.toml and targets-alt.toml")
	flapEvery := flag.Duration("flap-every", 45*time.Second, "the first device goes silent this often")
	flapFor := flag.Duration("flap-for", 25*time.Second, "and stays silent this long")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *devices, *ifaces, *step, *dir, *flapEvery, *flapFor, log); err != nil {
		fmt.Fprintln(os.Stderr, "soaksim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, devices, ifaces int, step time.Duration, dir string, flapEvery, flapFor time.Duration, log *slog.Logger) error {
	agents, err := snmpsim.StartNetwork(ctx, "127.0.0.1:0", snmpsim.Network(devices, ifaces, 1), nil)
	if err != nil {
		return fmt.Errorf("start network: %w", err)
	}
	defer func() {
		for _, a := range agents {
			a.Close()
		}
	}()
	head := fmt.Sprintf("step = %q\ndata = \"var/mrtgo.db\"\nsite = \"var/site\"\ntimezone = \"UTC\"\n\n[snmp]\ntimeout = \"2s\"\nretries = 1\n\n", step.String())
	var all, alt strings.Builder
	all.WriteString(head)
	alt.WriteString(head)
	for i, a := range agents {
		block := fmt.Sprintf("[[device]]\nname = %q\nhost = \"127.0.0.1\"\nport = %d\ncommunity = %q\ninterfaces = [\"*\"]\n\n", a.Name(), a.Port(), a.Community())
		all.WriteString(block)
		if i < len(agents)-1 {
			alt.WriteString(block)
		}
	}
	for name, body := range map[string]string{"targets.toml": all.String(), "targets-alt.toml": alt.String()} {
		if err := os.WriteFile(dir+"/"+name, []byte(body), 0o600); err != nil {
			return err
		}
	}
	log.Info("network up", "devices", len(agents), "interfaces", len(agents)*ifaces, "flapping", agents[0].Name())
	flap := agents[0]
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(flapEvery - flapFor):
		}
		flap.SetSilent(true)
		log.Info("flap: silent", "device", flap.Name())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(flapFor):
		}
		flap.SetSilent(false)
		log.Info("flap: answering", "device", flap.Name())
	}
}
