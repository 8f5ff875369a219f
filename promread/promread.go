// Package promread reads the rates mrtgo's pollers sent to a Prometheus-compatible
// engine back through its query API (PromQL over HTTP: /api/v1/series, /api/v1/query,
// /api/v1/query_range), as the rows, facts and series list the pages are drawn from
// (pipeline.Store). A web node with no store of its own draws from it the pages the
// pollers would draw from theirs.
//
// Rows are laid out as the local store's (rrd.Spec.Layout over the archives the
// configured step and retention give): a one-step row is the sample sent for that
// step; a longer row is the average (or the maximum) of the samples of its steps,
// unknown when more than half of them are missing, as the store consolidates them.
// Rates come back in octets per second, as the store keeps them.
//
// Targets and aggregates are sent as their pages show them (factor applied, rates per
// second, minute or hour, in their unit: pipeline.RemoteTarget). The targets file,
// which a web node shares with the pollers, says how: their rows come back as the
// stored values they were made from, and their layout is the one the pollers' stores
// give them. A target or aggregate the file does not have, or has in another unit, is
// not read (its samples would be read in a unit they are not in).
package promread

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mrtgo/mrtgo/config"
	"github.com/mrtgo/mrtgo/internal/pipeline"
	"github.com/mrtgo/mrtgo/internal/series"
	"github.com/mrtgo/mrtgo/rrd"
)

// Options say where the engine is and what the pollers' series look like.
type Options struct {
	// URL is the root of the query API ("http://127.0.0.1:8428").
	URL     string
	Timeout time.Duration
	// Username and Password (basic auth), or BearerToken; Headers are sent with
	// every request; TLS configures https.
	Username, Password, BearerToken string
	Headers                         map[string]string
	TLS                             *tls.Config
	// Step and Retention are the pollers' (the targets file's): they shape the
	// rows as the pollers' stores shape theirs.
	Step      time.Duration
	Retention config.Retention
	// Labels select this site's series among others the engine holds.
	Labels map[string]string
	// Targets are the targets and aggregates of the targets file (the pollers'):
	// only those are read, in their units.
	Targets pipeline.Targets
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Source is an engine's series, read as the pages read a store.
type Source struct {
	o        Options
	client   *http.Client
	archives []rrd.Archive
	// targets are the targets and aggregates of the file, by series; swapped whole
	// when the file is read again (SetTargets) while pages are drawn.
	targets atomic.Pointer[map[string]pipeline.RemoteTarget]

	mu     sync.Mutex
	read   time.Time // when the list below was read
	names  []string
	facts  map[string]iface // by interface series name
	groups map[string]bool  // the counter group series
	// held are the target and aggregate series the engine holds, with the end of
	// their last step with a sample (zero when none recently).
	held map[string]time.Time
}

// iface is what the engine tells of an interface besides its rates.
type iface struct {
	alias string
	speed float64   // bits/s, 0 unknown
	last  time.Time // end of the last step with a sample, zero when none recently
}

// New returns a Source reading o.URL.
func New(o Options) (*Source, error) {
	if o.URL == "" {
		return nil, errors.New("remote read: no url")
	}
	if o.Step <= 0 {
		return nil, errors.New("remote read: no step")
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = o.TLS
	archives := series.Archives(o.Step, o.Retention)
	s := &Source{o: o, client: &http.Client{Transport: tr}, archives: archives}
	s.SetTargets(o.Targets)
	return s, nil
}

// SetTargets takes the targets and aggregates of a targets file read again ("mrtgo
// run" reloading it): the pages drawn next read them by it.
func (s *Source) SetTargets(t pipeline.Targets) {
	m := t.RemoteTargets(s.o.Step, s.archives)
	s.targets.Store(&m)
}

// target is the file's target or aggregate of series name.
func (s *Source) target(name string) (pipeline.RemoteTarget, bool) {
	rt, ok := (*s.targets.Load())[name]
	return rt, ok
}

var _ pipeline.Store = (*Source)(nil)

// refreshEvery is how long the list of series and their facts are kept before they
// are read again: a render reads them once, not once per graph.
const refreshEvery = 10 * time.Second

// list reads the series, their descriptions, speeds and last steps, at most every
// refreshEvery: the interfaces', their counter groups', and the targets' and
// aggregates' of the file.
func (s *Source) list() ([]string, map[string]iface, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	if s.names != nil && now.Sub(s.read) < refreshEvery {
		return s.names, s.facts, nil
	}
	keep := max(s.o.Retention.Yearly, s.o.Retention.Daily, 24*time.Hour)
	sets, err := s.seriesSets(pipeline.MetricInterfaceBits, now.Add(-keep), now)
	if err != nil {
		return nil, nil, err
	}
	facts := map[string]iface{}
	for _, l := range sets {
		name := series.Name(l[pipeline.LabelDevice], l[pipeline.LabelInterface])
		f := facts[name]
		if l[pipeline.LabelDescription] != "" {
			f.alias = l[pipeline.LabelDescription]
		}
		facts[name] = f
	}
	// The speed and the last step of each interface, from the last few steps.
	window := 3 * s.o.Step
	speeds, err := s.vector(fmt.Sprintf("max by (%s, %s) (max_over_time(%s[%s]))", pipeline.LabelDevice, pipeline.LabelInterface,
		s.selector(pipeline.MetricInterfaceSpeed, nil), promDur(window)), now)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range speeds {
		name := series.Name(v.labels[pipeline.LabelDevice], v.labels[pipeline.LabelInterface])
		if f, ok := facts[name]; ok {
			f.speed = v.value
			facts[name] = f
		}
	}
	lastEnd := time.Unix(now.Unix()/int64(s.o.Step/time.Second)*int64(s.o.Step/time.Second), 0).UTC() // steps count from the Unix epoch
	lasts, err := s.lastSteps(pipeline.MetricInterfaceBits, pipeline.LabelDevice+", "+pipeline.LabelInterface, lastEnd)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range lasts {
		name := series.Name(m.labels[pipeline.LabelDevice], m.labels[pipeline.LabelInterface])
		if f, ok := facts[name]; ok && len(m.points) > 0 {
			f.last = m.points[len(m.points)-1].t
			facts[name] = f
		}
	}
	names := make([]string, 0, len(facts))
	for n := range facts {
		names = append(names, n)
	}
	// The interfaces' counter groups, where the pollers send them.
	groups := map[string]bool{}
	for kind, metric := range groupMetrics {
		sets, err := s.seriesSets(metric, now.Add(-keep), now)
		if err != nil {
			return nil, nil, err
		}
		for _, l := range sets {
			name := series.KindName(l[pipeline.LabelDevice], kind, l[pipeline.LabelInterface])
			if _, ok := facts[series.Name(l[pipeline.LabelDevice], l[pipeline.LabelInterface])]; ok && !groups[name] {
				groups[name] = true
				names = append(names, name)
			}
		}
	}
	held := map[string]time.Time{}
	if len(*s.targets.Load()) > 0 {
		if held, err = s.listTargets(now.Add(-keep), now, lastEnd); err != nil {
			return nil, nil, err
		}
		for name := range held {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	s.names, s.facts, s.groups, s.held, s.read = names, facts, groups, held, now
	return names, facts, nil
}

// lastSteps returns, for each series of metric grouped by the labels by, the ends of
// the steps up to lastEnd (the last two and it) whose one-step window (end - step,
// end] holds a sample: the last is the end of its last step with one. (timestamp()
// would say it, but engines differ on what it gives inside a subquery.)
func (s *Source) lastSteps(metric, by string, lastEnd time.Time) ([]curve, error) {
	return s.matrix(fmt.Sprintf("count by (%s) (count_over_time(%s[%s]))", by, s.selector(metric, nil), promDur(s.o.Step-time.Millisecond)),
		lastEnd.Add(-2*s.o.Step), lastEnd, s.o.Step)
}

// targetKinds are the metrics of the targets and aggregates, and the labels that
// tell their series apart.
var targetKinds = []struct{ metric, by string }{
	{pipeline.MetricTarget, pipeline.LabelDevice + ", " + pipeline.LabelTarget + ", " + pipeline.LabelUnit},
	{pipeline.MetricAggregate, pipeline.LabelAggregate + ", " + pipeline.LabelUnit},
}

// listTargets returns the series of the file's targets and aggregates the engine
// holds samples of between from and to, each with the end of its last step with a
// sample up to lastEnd (zero when none in the last three steps).
func (s *Source) listTargets(from, to, lastEnd time.Time) (map[string]time.Time, error) {
	held := map[string]time.Time{}
	for _, k := range targetKinds {
		sets, err := s.seriesSets(k.metric, from, to)
		if err != nil {
			return nil, err
		}
		for _, l := range sets {
			if name, ok := s.targetOf(k.metric, l); ok {
				held[name] = time.Time{}
			}
		}
		lasts, err := s.lastSteps(k.metric, k.by, lastEnd)
		if err != nil {
			return nil, err
		}
		for _, m := range lasts {
			if name, ok := s.targetOf(k.metric, m.labels); ok && len(m.points) > 0 {
				held[name] = m.points[len(m.points)-1].t
			}
		}
	}
	return held, nil
}

// targetOf returns the series that the labels of a sample of metric name; ok is true
// when the file has that target or aggregate, in the sample's unit.
func (s *Source) targetOf(metric string, l map[string]string) (string, bool) {
	name := series.KindName("", series.KindAggregate, l[pipeline.LabelAggregate])
	if metric == pipeline.MetricTarget {
		name = series.KindName(l[pipeline.LabelDevice], series.KindTarget, l[pipeline.LabelTarget])
	}
	rt, ok := s.target(name)
	return name, ok && rt.Metric == metric && rt.Unit == l[pipeline.LabelUnit]
}

// Series returns the series the engine holds: the interfaces', their counter
// groups', and those of the file's targets and aggregates.
func (s *Source) Series() ([]string, error) {
	names, _, err := s.list()
	return slices.Clone(names), err
}

// spec is the layout of an interface series as the pollers' stores give it.
func (s *Source) spec(f iface) rrd.Spec {
	max := math.NaN()
	if f.speed > 0 {
		max = f.speed / 8
	}
	return rrd.Spec{Step: s.o.Step, Heartbeat: 2 * s.o.Step, Archives: s.archives,
		DS: []rrd.DS{{Name: "in", Type: rrd.Counter, Min: 0, Max: max}, {Name: "out", Type: rrd.Counter, Min: 0, Max: max}}}
}

// groupMetrics are the metrics of the counter groups, by series kind.
var groupMetrics = map[string]string{series.KindPackets: pipeline.MetricInterfacePackets, series.KindErrors: pipeline.MetricInterfaceErrors}

// Info returns the layout of a series and the end of its last step with a sample
// (zero when it has none in the last three steps). A counter group's are its
// interface's; a target's or aggregate's the one the pollers' stores give it.
func (s *Source) Info(name string) (rrd.Spec, time.Time, error) {
	_, facts, err := s.list()
	if err != nil {
		return rrd.Spec{}, time.Time{}, err
	}
	s.mu.Lock()
	group := s.groups[name]
	last, held := s.held[name]
	s.mu.Unlock()
	if rt, ok := s.target(name); ok {
		if !held {
			return rrd.Spec{}, time.Time{}, fmt.Errorf("info %s: %w", name, rrd.ErrNoSeries)
		}
		return rt.Spec, last, nil
	}
	dev, kind, ifc, _ := series.Parse(name)
	f, ok := facts[series.Name(dev, ifc)]
	if !ok || kind != series.KindOctets && !group {
		return rrd.Spec{}, time.Time{}, fmt.Errorf("info %s: %w", name, rrd.ErrNoSeries)
	}
	if _, group := groupMetrics[kind]; group {
		return series.GroupSpecWith(kind, s.o.Step, f.speed, 64, s.archives), f.last, nil
	}
	return s.spec(f), f.last, nil
}

// Meta returns the stored facts the pages read: an interface's (series.InfoKey), from
// what the engine holds of it. Others (a device's poll health, refused rates) are
// the pollers' own and are not sent: nil.
func (s *Source) Meta(key string) ([]byte, error) {
	name, ok := strings.CutPrefix(key, series.InfoKey(""))
	if !ok {
		return nil, nil
	}
	_, facts, err := s.list()
	if err != nil {
		return nil, err
	}
	f, ok := facts[name]
	if !ok {
		return nil, nil
	}
	return json.Marshal(series.Info{Alias: f.alias, Speed: f.speed, Bits: 64})
}

// FetchHoltWinters: the engine holds no Holt-Winters predictions (series from it have
// none in their spec, so the pages never ask).
func (s *Source) FetchHoltWinters(name string, start, end time.Time) (rrd.HWResult, error) {
	return rrd.HWResult{}, fmt.Errorf("fetch predictions of %s: the engine holds none", name)
}

// FetchMany is Fetch for each name.
func (s *Source) FetchMany(names []string, cf rrd.CF, start, end time.Time, resolution time.Duration) ([]rrd.Result, error) {
	out := make([]rrd.Result, len(names))
	for i, n := range names {
		r, err := s.Fetch(n, cf, start, end, resolution)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// reading is how the samples of a series are read back: their selector, the labels
// that tell its data sources apart, and what a sample is the stored value times.
type reading struct {
	sel, by string
	scale   float64
}

func (s *Source) reading(name string) reading {
	if rt, ok := s.target(name); ok {
		return reading{s.selector(rt.Metric, rt.Labels()), pipeline.LabelDirection, rt.Scale}
	}
	dev, kind, ifc, _ := series.Parse(name)
	labels := map[string]string{pipeline.LabelDevice: dev, pipeline.LabelInterface: ifc}
	if m, group := groupMetrics[kind]; group {
		return reading{s.selector(m, labels), pipeline.LabelType + ", " + pipeline.LabelDirection, 1}
	}
	return reading{s.selector(pipeline.MetricInterfaceBits, labels), pipeline.LabelDirection, 8}
}

// Fetch returns the rows of a series overlapping (start, end], laid out as the
// pollers' store would return them: in octets per second, a target's and an
// aggregate's in the values they were stored as.
func (s *Source) Fetch(name string, cf rrd.CF, start, end time.Time, resolution time.Duration) (rrd.Result, error) {
	spec, last, err := s.Info(name)
	if err != nil {
		return rrd.Result{}, err
	}
	rd := s.reading(name)
	if last.IsZero() {
		last = s.o.Now()
	}
	_, row, first, n := spec.Layout(cf, start, end, resolution, last)
	nds := len(spec.DS)
	res := rrd.Result{Start: first.Add(-row), Step: row, Rows: make([][]float64, n)}
	for _, d := range spec.DS {
		res.DS = append(res.DS, d.Name)
	}
	flat := make([]float64, nds*n)
	for i := range flat {
		flat[i] = math.NaN()
	}
	for i := range res.Rows {
		res.Rows[i] = flat[nds*i : nds*(i+1) : nds*(i+1)]
	}
	if n == 0 {
		return res, nil
	}
	sel := rd.sel
	// The window ends at the row's end and takes its steps' samples, each stamped
	// with the end of its step: (end - row, end].
	win := promDur(row - time.Millisecond)
	fn, agg := "avg_over_time", "max"
	if cf == rrd.Max {
		fn = "max_over_time"
		if rd.scale < 0 {
			// The store's peak is its largest stored value, which a negative factor
			// sends as the smallest sample.
			fn, agg = "min_over_time", "min"
		}
	}
	q := fmt.Sprintf("%s by (%s) (%s(%s[%s]))", agg, rd.by, fn, sel, win)
	if steps := int(row / s.o.Step); steps > 1 {
		// Unknown where more than half of the steps are (xff 0.5).
		q = fmt.Sprintf("%s by (%s) (%s(%s[%s]) and count_over_time(%s[%s]) >= %d)", agg, rd.by, fn, sel, win, sel, win, (steps+1)/2)
	}
	mat, err := s.matrix(q, first, first.Add(time.Duration(n-1)*row), row)
	if err != nil {
		return rrd.Result{}, fmt.Errorf("fetch %s: %w", name, err)
	}
	for _, m := range mat {
		ds := m.labels[pipeline.LabelDirection]
		if t := m.labels[pipeline.LabelType]; t != "" {
			ds = shortTypes[t] + "_" + ds
		}
		d := slices.Index(res.DS, ds)
		if d < 0 {
			continue
		}
		for _, p := range m.points {
			// A row still filling (its end after the last step) is unknown, as in the
			// store, which writes a row when its last step is done.
			i := int(p.t.Sub(first) / row)
			if i >= 0 && i < n && first.Add(time.Duration(i)*row).Equal(p.t) && !p.t.After(last) {
				res.Rows[i][d] = p.v / rd.scale
			}
		}
	}
	return res, nil
}

// shortTypes undo pipeline.RemoteTypes: type="unicast" is the data source prefix ucast.
var shortTypes = func() map[string]string {
	m := map[string]string{}
	for short, long := range pipeline.RemoteTypes {
		m[long] = short
	}
	return m
}()

// selector is metric{labels..., this site's labels...}.
func (s *Source) selector(metric string, labels map[string]string) string {
	var parts []string
	for _, m := range []map[string]string{labels, s.o.Labels} {
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range m {
				if !yield(k) {
					return
				}
			}
		}) {
			parts = append(parts, k+"="+strconv.Quote(m[k]))
		}
	}
	return metric + "{" + strings.Join(parts, ",") + "}"
}

// promDur writes d as PromQL does: whole milliseconds.
func promDur(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

type sample struct {
	labels map[string]string
	value  float64
}

type point struct {
	t time.Time
	v float64
}

type curve struct {
	labels map[string]string
	points []point
}

func (s *Source) get(ctx context.Context, path string, q url.Values, out any) error {
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(s.o.URL, "/")+path, strings.NewReader(q.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range s.o.Headers {
		req.Header.Set(k, v)
	}
	if s.o.Username != "" {
		req.SetBasicAuth(s.o.Username, s.o.Password)
	}
	if s.o.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.o.BearerToken)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: %s: %.200s", path, resp.Status, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, env.Error)
	}
	return json.Unmarshal(env.Data, out)
}

func (s *Source) seriesSets(metric string, start, end time.Time) ([]map[string]string, error) {
	var out []map[string]string
	err := s.get(context.Background(), "/api/v1/series", url.Values{
		"match[]": {s.selector(metric, nil)},
		"start":   {unix(start)}, "end": {unix(end)},
	}, &out)
	return out, err
}

func (s *Source) vector(query string, at time.Time) ([]sample, error) {
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := s.get(context.Background(), "/api/v1/query", url.Values{"query": {query}, "time": {unix(at)}}, &data); err != nil {
		return nil, err
	}
	out := make([]sample, 0, len(data.Result))
	for _, r := range data.Result {
		v, err := value(r.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, sample{r.Metric, v.v})
	}
	return out, nil
}

func (s *Source) matrix(query string, start, end time.Time, step time.Duration) ([]curve, error) {
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	q := url.Values{"query": {query}, "start": {unix(start)}, "end": {unix(end)}, "step": {promDur(step)}}
	if err := s.get(context.Background(), "/api/v1/query_range", q, &data); err != nil {
		return nil, err
	}
	out := make([]curve, 0, len(data.Result))
	for _, r := range data.Result {
		m := curve{labels: r.Metric}
		for _, v := range r.Values {
			p, err := value(v)
			if err != nil {
				return nil, err
			}
			m.points = append(m.points, p)
		}
		out = append(out, m)
	}
	return out, nil
}

// value reads a [time, "value"] pair of the API.
func value(v [2]any) (point, error) {
	ts, ok := v[0].(float64)
	str, ok2 := v[1].(string)
	if !ok || !ok2 {
		return point{}, fmt.Errorf("bad sample %v", v)
	}
	f, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return point{}, fmt.Errorf("bad value %q: %w", str, err)
	}
	return point{time.UnixMilli(int64(math.Round(ts * 1000))).UTC(), f}, nil
}

func unix(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }
