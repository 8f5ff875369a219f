package web

import (
	"strings"
	"testing"
	"time"
)

func TestSlug(t *testing.T) {
	tests := []struct{ name, want string }{
		{"core1", "core1"},
		{"ge-0/0/0", "ge-0_0_0"},
		{"ge-0_0_0", "ge-0=5F0=5F0"},
		{"xe-1/0/0.100", "xe-1_0_0.100"},
		{"Port 1", "Port=201"},
		{"", "="},
		{".", "=2E"},
		{"..", "=2E."},
		{"../etc", "=2E._etc"},
		{".hidden", "=2Ehidden"},
		{"a=b", "a=3Db"},
		{"é", "=C3=A9"},
		{`C:\x`, "C=3A=5Cx"},
		{"javascript:alert(1)", "javascript=3Aalert=281=29"},
	}
	for _, tt := range tests {
		if got := Slug(tt.name); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSlugLong(t *testing.T) {
	a := strings.Repeat("x", 300) + "a"
	b := strings.Repeat("x", 300) + "b"
	sa, sb := Slug(a), Slug(b)
	if len(sa) > maxSlug || len(sb) > maxSlug {
		t.Errorf("len(Slug) = %d, %d, want <= %d", len(sa), len(sb), maxSlug)
	}
	if sa == sb {
		t.Errorf("Slug(%q...) = Slug(%q...) = %q, want distinct", a[295:], b[295:], sa)
	}
}

func TestPaths(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{DevicePage("core1"), "core1/index.html"},
		{InterfacePage("core1", "ge-0/0/0"), "core1/ge-0_0_0.html"},
		{GraphFile("core1", "ge-0/0/0", "day", 1), "core1/ge-0_0_0-day.png"},
		{GraphFile("core1", "ge-0/0/0", "day", 0), "core1/ge-0_0_0-day.png"},
		{GraphFile("core1", "ge-0/0/0", "year", 2), "core1/ge-0_0_0-year@2x.png"},
		// An interface called "index" must not overwrite the device page,
		// nor a device called "index.html" the site's index.
		{InterfacePage("core1", "index"), "core1/index=.html"},
		{DevicePage("index.html"), "index.html=/index.html"},
		// Nor the events page and the captures it links.
		{DevicePage("events.html"), "events.html=/index.html"},
		{DevicePage("captures"), "captures=/index.html"},
		{CaptureFile("2026-11-29 ddos/udp.pcap"), "captures/2026-11-29=20ddos_udp.pcap"},
		{DevicePage(".."), "=2E./index.html"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func FuzzSlug(f *testing.F) {
	for _, s := range []string{"", ".", "..", "ge-0/0/0", "ge-0_0_0", "a=41", "A", "index", "~1", strings.Repeat("/", 200)} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		sa := Slug(a)
		if sa == "" || sa == "." || sa == ".." || strings.HasPrefix(sa, ".") || strings.ContainsAny(sa, "/\\\x00") || len(sa) > maxSlug {
			t.Errorf("Slug(%q) = %q, not a safe file name", a, sa)
		}
		if a != b && sa == Slug(b) {
			t.Errorf("Slug(%q) = Slug(%q) = %q", a, b, sa)
		}
		for _, p := range []string{DevicePage(a), InterfacePage(a, b), GraphFile(a, b, "day", 2)} {
			for _, seg := range strings.Split(p, "/") {
				if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".") {
					t.Errorf("path %q has unsafe segment %q", p, seg)
				}
			}
		}
	})
}

func TestFormat(t *testing.T) {
	nan := 0.0
	nan = nan / nan
	tests := []struct{ got, want string }{
		{formatBits(12.3e6), "12.3 Mb/s"},
		{formatBits(12345678), "12.3 Mb/s"},
		{formatBits(0), "0 b/s"},
		{formatBits(950), "950 b/s"},
		{formatBits(999.6), "1.00 kb/s"},
		{formatBits(1.234e9), "1.23 Gb/s"},
		{formatBits(123.4e6), "123 Mb/s"},
		{formatBits(nan), "–"},
		{formatBytes(1.2e9), "1.20 GB"},
		{formatBytes(5), "5 B"},
		{formatBits(5.5), "5.50 b/s"},
		{formatPercent(12.3e6, 1e9), "1.2%"},
		{formatPercent(12.3e6, 0), ""},
		{formatPercent(nan, 1e9), ""},
		{formatSpeed(1e9), "1 Gb/s"},
		{formatSpeed(2.5e9), "2.50 Gb/s"},
		{formatSpeed(100e6), "100 Mb/s"},
		{formatSpeed(0), "unknown"},
		{formatUptime(0), "unknown"},
		{formatUptime(3*3600e9 + 4*60e9 + 5e9), "3:04:05"},
		{formatUptime(24*3600e9 + 61e9), "1 day, 0:01:01"},
		{formatDuration(850e6), "850 ms"},
		{formatInterval(5 * 60e9), "5 min"},
		{formatTime(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), time.FixedZone("CEST", 7200)), "2026-03-29 03:30:00 CEST"},
		{formatTime(time.Time{}, time.UTC), "unknown"},
		{formatInterval(10e9), "10 s"},
		{formatInterval(1500e6), "1.5 s"},
		{formatDuration(2346e6), "2.35 s"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}
