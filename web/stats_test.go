package web

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
)

// statsTemplate is the stats table as a template, which statsTable writes by hand.
const statsTemplate = `<table class="stats">
<tr><th></th><th>Max</th><th>Average</th><th>Current</th><th>95th percentile</th><th>Total</th></tr>
{{- range .}}
<tr class="{{.Class}}"><td><span class="key"></span>{{.Label}}</td>
{{- range .Rates}}<td>{{.Value}}{{if .Pct}} <span class="pct">({{.Pct}})</span>{{end}}</td>{{end -}}
<td>{{.Total}}</td></tr>
{{- end}}
</table>`

// statsTable writes what the template writes, escaping included.
func TestStatsTable(t *testing.T) {
	tmpl := template.Must(template.New("stats").Parse(statsTemplate))
	odd := "a<b>&\"c'+d\x00é"
	for _, rows := range [][]statsRow{
		nil,
		{statsData("in", "In", Stats{Max: 1e9, Average: 5e8, Current: 2e8, P95: 9e8, Total: 1e12}, 1e9),
			statsData("out", "Out", Stats{Max: 0, Average: 1, Current: -1, P95: 3, Total: 4}, 0)},
		{{Class: odd, Label: odd, Rates: []rateCell{{odd, odd}, {odd, ""}, {"", odd}}, Total: odd}},
	} {
		var want bytes.Buffer
		if err := tmpl.Execute(&want, rows); err != nil {
			t.Fatal(err)
		}
		if got := string(statsTable(rows)); got != want.String() {
			t.Errorf("statsTable(%q):\n%s\nwant:\n%s", rows, got, want.String())
		}
	}
}

// escapeText escapes every byte html/template escapes in text, the same way.
func FuzzEscapeText(f *testing.F) {
	f.Add("a<b>&\"c'+d\x00é")
	tmpl := template.Must(template.New("text").Parse(`<p title="{{.}}">{{.}}</p>`))
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		if err := tmpl.Execute(&want, s); err != nil {
			t.Skip(err)
		}
		var b bytes.Buffer
		b.WriteString(`<p title="`)
		var e1, e2 strings.Builder
		escapeText(&e1, s)
		escapeText(&e2, s)
		b.WriteString(e1.String() + `">` + e2.String() + `</p>`)
		if b.String() != want.String() {
			t.Errorf("escape %q: %q, want %q", s, b.String(), want.String())
		}
	})
}
