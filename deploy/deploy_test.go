// Package deploy_test checks what deploy/ holds for running mrtgo beside a
// Prometheus-compatible engine: the Prometheus rules (promtool's check and its unit
// tests) and the Grafana dashboard (every query of it answered by a real Prometheus
// holding what mrtgo sent).
package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/receivertest"
	"github.com/mrtgo/mrtgo/internal/testneed"
)

func TestRules(t *testing.T) {
	promtool := testneed.Program(t, "promtool", "apt-get install prometheus")
	for _, args := range [][]string{{"check", "rules", "mrtgo-rules.yml"}, {"test", "rules", "mrtgo-rules_test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestDashboardQueries(t *testing.T) {
	b, err := os.ReadFile("grafana/mrtgo-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard without uid or panels")
	}
	recv := receivertest.Prometheus(t)
	end := time.Now().UTC().Truncate(5 * time.Minute)
	receivertest.History(t, recv, end)
	expand := strings.NewReplacer("$device", "core1", "$interface", ".*", "$__range", "1d", "${datasource}", "")
	// Panels of series the history has (rates, speeds) must show something; the
	// others (packets, errors) must at least be valid queries.
	shows := map[string]bool{"Traffic (MRTG: in green, out blue)": true, "Utilization of the interface speed": true,
		"95th percentile over the range": true, "Device total": true, "Busiest interfaces now (all devices)": true}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			q := expand.Replace(tg.Expr)
			got, err := recv.Vector(q, end.Add(-time.Minute))
			switch {
			case err != nil:
				t.Errorf("panel %q: %s: %v", p.Title, q, err)
			case shows[p.Title] && len(got) == 0:
				t.Errorf("panel %q: %s: no data", p.Title, q)
			}
		}
	}
	for _, v := range dash.Templating.List {
		if v.Name == "datasource" {
			continue
		}
		m, _ := v.Query.(map[string]any)
		q, _ := m["query"].(string)
		if !strings.HasPrefix(q, "label_values(") {
			t.Errorf("variable %s: query %q", v.Name, q)
			continue
		}
		// label_values(selector, label) is Grafana's; ask for the selector's series.
		inner := strings.TrimSuffix(strings.TrimPrefix(q, "label_values("), ")")
		sel := expand.Replace(inner[:strings.LastIndex(inner, ",")])
		if got, err := recv.Vector("count("+sel+")", end.Add(-time.Minute)); err != nil || len(got) == 0 {
			t.Errorf("variable %s: %s: %v, %v", v.Name, sel, got, err)
		}
	}
}
