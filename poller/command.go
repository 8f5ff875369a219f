package poller

// Command targets, MRTG's backtick targets: a program that prints four lines (in, out,
// uptime, name). It runs beside the device's SNMP cycle with its own timeout, so that a
// program that hangs costs its target one unknown sample and nothing else.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/mrtgo/mrtgo/config"
)

// runCommand runs t's program and reads its output. Any failure (the program cannot
// start, exits with an error, outlives its timeout, prints what is not a number) is an
// unknown sample and one logged error naming the target.
func runCommand(ctx context.Context, device string, t config.Target, now func() time.Time, log *slog.Logger) TargetSample {
	ts := TargetSample{Device: device, Target: t.Name, In: Unknown, Out: Unknown, Bits: 64}
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, t.Command[0], t.Command[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second // children that keep the output open are not waited for
	ownGroup(cmd)
	err := cmd.Run()
	ts.Time = now()
	if err == nil {
		err = parseOutput(stdout.String(), &ts)
	} else if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s", t.Timeout)
	}
	if err != nil {
		ts.In, ts.Out = Unknown, Unknown
		log.Error("command target failed; stored as unknown", "target", t.Name,
			"command", strings.Join(t.Command, " "), "err", err, "stderr", firstLine(stderr.String()))
	}
	return ts
}

// parseOutput reads MRTG's four lines: in, out, uptime and name. The uptime is kept
// when it is a number (seconds). An empty out line is an unknown out (a target of one
// value).
func parseOutput(s string, ts *TargetSample) error {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) < 1 || strings.TrimSpace(lines[0]) == "" {
		return errors.New("printed nothing (want four lines: in, out, uptime, name)")
	}
	num := func(which, l string) (Reading, error) {
		l = strings.TrimSpace(l)
		if l == "" || strings.EqualFold(l, "unknown") || l == "U" {
			return Unknown, nil
		}
		f, err := strconv.ParseFloat(l, 64)
		if err != nil {
			return Unknown, fmt.Errorf("%s line %q is not a number", which, firstLine(l))
		}
		if u, err := strconv.ParseUint(l, 10, 64); err == nil {
			return Uint(u), nil
		}
		return Float(f), nil
	}
	var err error
	if ts.In, err = num("in", lines[0]); err != nil {
		return err
	}
	if len(lines) > 1 {
		if ts.Out, err = num("out", lines[1]); err != nil {
			return err
		}
	}
	if len(lines) > 2 {
		if up, err := strconv.ParseFloat(strings.TrimSpace(lines[2]), 64); err == nil {
			ts.Uptime, ts.HaveUptime = up, true
		}
	}
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(l) > 200 {
		l = l[:200] + "…"
	}
	return l
}
