package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/events"
)

// Alerter runs the alert command for each event that begins, escalates or ends, one
// at a time in a goroutine of its own, so that a slow command never holds up polling
// or collecting: events queue (up to a bound, beyond which they are logged and
// dropped) and each command is killed after its timeout.
//
// Which command: [events] command for the kinds [events] kinds lists (every kind when
// it lists none); without it, [thresholds] command for threshold events alone, as
// before there were other events. The event is in the command's environment (see
// Env).
type Alerter struct {
	log   *slog.Logger
	queue chan events.Update
	mu    sync.Mutex
	cfg   alertConfig
	done  chan struct{}
}

type alertConfig struct {
	thresholds, events config.Alert
	kinds              []string
	captures           string // directory of capture files, for MRTGO_CAPTURE
}

func alertConfigOf(cfg *config.Config) alertConfig {
	return alertConfig{thresholds: cfg.Alert, events: cfg.Events.Alert, kinds: cfg.Events.Kinds, captures: cfg.Detect.Capture.Dir}
}

// command is the command an event of kind runs, if any.
func (c alertConfig) command(kind string) (config.Alert, bool) {
	if c.events.Command != "" {
		return c.events, len(c.kinds) == 0 || slices.Contains(c.kinds, kind)
	}
	return c.thresholds, kind == events.Threshold && c.thresholds.Command != ""
}

// alertQueue is how many events may wait for the command.
const alertQueue = 1024

// NewAlerter starts an Alerter for cfg's commands; Close stops it.
func NewAlerter(cfg *config.Config, log *slog.Logger) *Alerter {
	a := &Alerter{log: log, cfg: alertConfigOf(cfg), queue: make(chan events.Update, alertQueue), done: make(chan struct{})}
	go a.loop()
	return a
}

// Configure takes the commands of a reloaded configuration.
func (a *Alerter) Configure(cfg *config.Config) {
	a.mu.Lock()
	a.cfg = alertConfigOf(cfg)
	a.mu.Unlock()
}

// Send logs u and queues its command; it never blocks. A lasting event's updates are
// logged at debug level and run no command.
func (a *Alerter) Send(u events.Update) {
	ev := u.Event
	var attrs []any
	if ev.Kind == events.Threshold {
		attrs = []any{"device", ev.Device, "interface", ev.Interface, "direction", ev.Direction, "bound", ev.Bound,
			"value", ev.Value, "threshold", ev.Threshold, "id", ev.ID}
		if u.Change == events.Began {
			a.log.Warn("threshold exceeded", attrs...)
		} else {
			a.log.Info("threshold recovered", attrs...)
		}
	} else {
		attrs = []any{"id", ev.ID, "kind", ev.Kind, "severity", ev.Severity, "summary", ev.Summary()}
		switch u.Change {
		case events.Began, events.Escalated:
			a.log.Warn("event "+string(u.Change), attrs...)
		case events.Finished:
			a.log.Info("event ended", attrs...)
		default:
			a.log.Debug("event goes on", attrs...)
			return
		}
	}
	select {
	case a.queue <- u:
	default:
		a.log.Error("alert queue full; command not run", attrs...)
	}
}

// Close waits for the queued commands to finish.
func (a *Alerter) Close() {
	close(a.queue)
	<-a.done
}

func (a *Alerter) loop() {
	defer close(a.done)
	for u := range a.queue {
		a.mu.Lock()
		cfg := a.cfg
		a.mu.Unlock()
		alert, ok := cfg.command(u.Event.Kind)
		if !ok {
			continue
		}
		if err := runAlert(alert, Env(u, cfg.captures)); err != nil {
			a.log.Error("alert command", "id", u.Event.ID, "kind", u.Event.Kind, "device", u.Event.Device,
				"interface", u.Event.Interface, "change", u.Change, "err", err)
		}
	}
}

// Env is the alert command's environment for u (beside mrtgo's own):
//
//	MRTGO_EVENT_ID, MRTGO_KIND, MRTGO_SEVERITY    the event, its kind and severity
//	MRTGO_CHANGE                                  began, escalated or ended
//	MRTGO_STATE                                   thresholds: exceeded or recovered; others: active or ended
//	MRTGO_START, MRTGO_END, MRTGO_TIME            RFC 3339; MRTGO_TIME is when it changed
//	MRTGO_DEVICE, MRTGO_INTERFACE                 where it was seen
//	MRTGO_DIRECTION, MRTGO_BOUND                  thresholds and anomalies: in/out, max/min
//	MRTGO_VALUE, MRTGO_THRESHOLD                  the main measure and its threshold
//	MRTGO_SOURCES, MRTGO_TARGETS, MRTGO_PORTS     space-separated, heaviest first
//	MRTGO_SOURCE_COUNT, MRTGO_TARGET_COUNT        distinct ones (estimated beyond eight)
//	MRTGO_PROTO, MRTGO_PPS, MRTGO_BPS             IP protocol number, peak rates
//	MRTGO_BPF                                     a pcap-filter expression for its packets
//	MRTGO_CAPTURE                                 the pcap file taken of them, when one was
//	MRTGO_SUMMARY                                 one line for a person
//	MRTGO_EVENT                                   the whole event as JSON
func Env(u events.Update, captures string) []string {
	ev := u.Event
	state := ev.State
	at := ev.End
	if ev.Kind == events.Threshold {
		state = StateRecovered
		if u.Change == events.Began {
			state, at = StateExceeded, ev.Start
		}
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	join := func(n int, f func(i int) string) string {
		s := make([]string, n)
		for i := range s {
			s[i] = f(i)
		}
		return strings.Join(s, " ")
	}
	capture := ""
	if ev.Capture != "" {
		capture = filepath.Join(captures, ev.Capture)
	}
	whole, _ := json.Marshal(ev)
	env := []string{
		"MRTGO_EVENT_ID=" + strconv.FormatUint(ev.ID, 10),
		"MRTGO_KIND=" + ev.Kind,
		"MRTGO_SEVERITY=" + ev.Severity,
		"MRTGO_CHANGE=" + string(u.Change),
		"MRTGO_STATE=" + state,
		"MRTGO_START=" + ev.Start.UTC().Format(time.RFC3339),
		"MRTGO_END=" + ev.End.UTC().Format(time.RFC3339),
		"MRTGO_TIME=" + at.UTC().Format(time.RFC3339),
		"MRTGO_DEVICE=" + ev.Device,
		"MRTGO_INTERFACE=" + ev.Interface,
		"MRTGO_DIRECTION=" + ev.Direction,
		"MRTGO_BOUND=" + ev.Bound,
		"MRTGO_VALUE=" + num(ev.Value),
		"MRTGO_THRESHOLD=" + num(ev.Threshold),
		"MRTGO_SOURCES=" + join(len(ev.Sources), func(i int) string { return ev.Sources[i].String() }),
		"MRTGO_SOURCE_COUNT=" + strconv.Itoa(ev.SourceCount),
		"MRTGO_TARGETS=" + join(len(ev.Targets), func(i int) string { return ev.Targets[i].String() }),
		"MRTGO_TARGET_COUNT=" + strconv.Itoa(ev.TargetCount),
		"MRTGO_PORTS=" + join(len(ev.Ports), func(i int) string { return strconv.Itoa(int(ev.Ports[i])) }),
		"MRTGO_PROTO=" + strconv.Itoa(int(ev.Proto)),
		"MRTGO_PPS=" + num(ev.PPS),
		"MRTGO_BPS=" + num(ev.BPS),
		"MRTGO_BPF=" + ev.BPF,
		"MRTGO_CAPTURE=" + capture,
		"MRTGO_SUMMARY=" + ev.Summary(),
		"MRTGO_EVENT=" + string(whole),
	}
	return env
}

func runAlert(alert config.Alert, env []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), alert.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", alert.Command)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return fmt.Errorf("run %q: killed after %v", alert.Command, alert.Timeout)
	}
	if err != nil {
		return fmt.Errorf("run %q: %w: %.200s", alert.Command, err, out)
	}
	return nil
}
