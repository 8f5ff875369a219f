package pipeline

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/web"
)

// A site larger than DrawUpTo gets its pages from Publish and its graphs from
// Handler, over real HTTP: a stale graph is drawn when asked for, a current one is
// served from the site directory with an ETag (304 to If-None-Match), concurrent
// requests for one graph draw it once, and the pages' numbers are those a full
// render shows.
func TestHandlerDrawsOnRequest(t *testing.T) {
	db := openDB(t)
	step := 5 * time.Minute
	rec := NewRecorder(db, step, nil, quiet)
	ifaces := []string{"ge-0/0/0", "ge-0/0/1"}
	counters := map[string][2]uint64{}
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	history(t, rec, "r1", ifaces, t0.Add(-2*24*time.Hour), t0, step, counters, rhythm)

	var clock atomic.Int64 // read by the server's goroutines
	clock.Store(t0.Add(10 * time.Second).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	dir := t.TempDir()
	pub := &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: now, DrawUpTo: 1}
	publish := func(what string, summarized int) {
		t.Helper()
		st, err := pub.Publish(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if st.Drawn != 0 || st.Summarized != summarized {
			t.Errorf("%s: Publish drew %d graphs and summarized %d, want none drawn above DrawUpTo and %d summarized",
				what, st.Drawn, st.Summarized, summarized)
		}
	}
	publish("first publish", 8)
	// A daemon that restarts takes the numbers from the state file.
	pub = &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: now, DrawUpTo: 1}
	publish("restart", 0)
	day := web.GraphFile("r1", "ge-0/0/0", "day", 1)
	if _, err := os.Stat(filepath.Join(dir, day)); err == nil {
		t.Fatalf("%s drawn by Publish above DrawUpTo", day)
	}

	srv := httptest.NewServer(pub.Handler(web.Handler(dir)))
	defer srv.Close()
	get := func(rel string, hdr map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/"+rel, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	drawn := func(what string, want int) {
		t.Helper()
		if got := pub.DrawnOnRequest(); got != want {
			t.Errorf("%s: %d graphs drawn on request, want %d", what, got, want)
		}
	}

	// Stale (never drawn): drawn on request.
	resp, png := get(day, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || len(png) < 100 {
		t.Fatalf("GET %s: %d %s, %d bytes", day, resp.StatusCode, resp.Header.Get("Content-Type"), len(png))
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Errorf("GET %s: no ETag", day)
	}
	drawn("first request", 1)
	// Both scales were drawn: the 2x file is current too.
	if resp, _ := get(web.GraphFile("r1", "ge-0/0/0", "day", 2), nil); resp.StatusCode != 200 {
		t.Errorf("GET 2x: %d", resp.StatusCode)
	}
	drawn("2x of the graph just drawn", 1)

	// Current: served from the site directory, same tag, 304 when the client has it.
	resp, again := get(day, nil)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != etag || string(again) != string(png) {
		t.Errorf("second GET: %d, ETag %q (first %q), same bytes %v", resp.StatusCode, resp.Header.Get("ETag"), etag, string(again) == string(png))
	}
	if resp, b := get(day, map[string]string{"If-None-Match": etag}); resp.StatusCode != 304 || len(b) != 0 {
		t.Errorf("GET with If-None-Match: %d, %d bytes, want 304 and none", resp.StatusCode, len(b))
	}
	drawn("current graph", 1)

	// A new step in the store (and a Publish, which only summarizes): the old tag no
	// longer matches and the graph is drawn again, once for many requests at a time.
	history(t, rec, "r1", ifaces, t0, t0.Add(step), step, counters, rhythm)
	clock.Store(t0.Add(step + 10*time.Second).UnixNano())
	publish("one new step", 2) // the day graphs
	var wg sync.WaitGroup
	tags := make([]string, 8)
	codes := make([]int, 8)
	for i := range tags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/"+day, nil)
			req.Header.Set("If-None-Match", etag)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			tags[i], codes[i] = resp.Header.Get("ETag"), resp.StatusCode
		}()
	}
	wg.Wait()
	for i := range tags {
		if codes[i] != 200 || tags[i] == etag || tags[i] != tags[0] {
			t.Errorf("concurrent GET %d after a new step: %d, ETag %q (old %q, first %q)", i, codes[i], tags[i], etag, tags[0])
		}
	}
	drawn("eight concurrent requests for a stale graph", 2)
	// Not a graph of the site, and a period that does not exist: left to the site.
	if resp, _ := get("r1/nothing-day.png", nil); resp.StatusCode != 404 {
		t.Errorf("GET unknown graph: %d, want 404", resp.StatusCode)
	}
	if resp, _ := get("r1/ge-0_0_0-decade.png", nil); resp.StatusCode != 404 {
		t.Errorf("GET unknown period: %d, want 404", resp.StatusCode)
	}
	drawn("unknown names", 2)

	// The pages show what a full render shows, apart from generation times.
	full := &Publisher{DB: db, Dir: t.TempDir(), Location: time.UTC, Step: step, Log: quiet, Now: now}
	if _, err := full.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	stamp := regexp.MustCompile(`Generated [^<]* by `)
	got, want := readSite(t, dir), readSite(t, full.Dir)
	for _, p := range []string{"index.html", web.DevicePage("r1"), web.InterfacePage("r1", "ge-0/0/1")} {
		if g, w := stamp.ReplaceAllString(got[p], ""), stamp.ReplaceAllString(want[p], ""); g != w {
			t.Errorf("%s differs from a full render's:\n%s\nfull:\n%s", p, g, w)
		}
	}

	// "mrtgo render" on the same directory draws every graph not drawn on request
	// since its numbers moved (the state file, saved by the daemon's next Publish,
	// marks them pending): 8 graphs less the day graph of ge-0/0/0.
	publish("the daemon's next step", 0)
	cron := &Publisher{DB: db, Dir: dir, Location: time.UTC, Step: step, Log: quiet, Now: now}
	st, err := cron.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Drawn != 7 {
		t.Errorf("render after the daemon drew %d graphs, want 7", st.Drawn)
	}

	// A new interface's graphs are served once a Publish has put it on the site (the
	// names of the site are indexed again only after a Publish).
	if resp, _ := get("r1/nothing-day.png", nil); resp.StatusCode != 404 { // indexes the names again
		t.Errorf("GET unknown graph: %d, want 404", resp.StatusCode)
	}
	history(t, rec, "r1", []string{"ge-0/0/2"}, t0, t0.Add(step), step, counters, rhythm)
	fresh := web.GraphFile("r1", "ge-0/0/2", "week", 2)
	before := pub.DrawnOnRequest()
	if resp, _ := get(fresh, nil); resp.StatusCode != 404 {
		t.Errorf("GET %s before a Publish: %d, want 404", fresh, resp.StatusCode)
	}
	publish("a new interface", 4)
	if resp, _ := get(fresh, nil); resp.StatusCode != 200 {
		t.Errorf("GET %s after a Publish: %d, want 200", fresh, resp.StatusCode)
	}
	drawn("new interface", before+1)
}
