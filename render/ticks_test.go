package render

import (
	"slices"
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone %s: %v", name, err)
	}
	return loc
}

func texts(ls []xLabel) []string {
	var s []string
	for _, l := range ls {
		s = append(s, l.Text)
	}
	return s
}

func majors(ts []xTick, loc *time.Location, layout string) []string {
	var s []string
	for _, t := range ts {
		if t.Major {
			s = append(s, t.At.In(loc).Format(layout))
		}
	}
	return s
}

func TestHourTicksAcrossDST(t *testing.T) {
	tests := []struct {
		zone       string
		day        time.Time // local midnight of the day shown
		wantTicks  int       // hour lines from this midnight to the next, both included
		wantLabels []string
	}{
		{"Europe/Berlin", time.Date(2026, 3, 29, 0, 0, 0, 0, mustZone(t, "Europe/Berlin")), 24,
			[]string{"0", "4", "6", "8", "10", "12", "14", "16", "18", "20", "22", "0"}},
		{"America/New_York", time.Date(2026, 11, 1, 0, 0, 0, 0, mustZone(t, "America/New_York")), 26,
			[]string{"0", "2", "4", "6", "8", "10", "12", "14", "16", "18", "20", "22", "0"}},
		{"Asia/Kathmandu", time.Date(2026, 3, 29, 0, 0, 0, 0, mustZone(t, "Asia/Kathmandu")), 25,
			[]string{"0", "2", "4", "6", "8", "10", "12", "14", "16", "18", "20", "22", "0"}},
		{"UTC", time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC), 25,
			[]string{"0", "2", "4", "6", "8", "10", "12", "14", "16", "18", "20", "22", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			loc := mustZone(t, tt.zone)
			next := time.Date(tt.day.Year(), tt.day.Month(), tt.day.Day()+1, 0, 0, 0, 0, loc)
			ticks, labels := timeTicks(Day, tt.day, next, loc)
			if len(ticks) != tt.wantTicks {
				t.Errorf("got %d hour lines, want %d", len(ticks), tt.wantTicks)
			}
			for _, tk := range ticks {
				if lt := tk.At.In(loc); lt.Minute() != 0 || lt.Second() != 0 {
					t.Errorf("hour line at %v, want on the hour in %s", lt, tt.zone)
				}
			}
			if got := majors(ticks, loc, "2006-01-02 15:04"); !slices.Equal(got, []string{
				tt.day.Format("2006-01-02 15:04"), next.Format("2006-01-02 15:04")}) {
				t.Errorf("red lines at %q, want the two midnights", got)
			}
			if got := texts(labels); !slices.Equal(got, tt.wantLabels) {
				t.Errorf("labels = %q, want %q", got, tt.wantLabels)
			}
		})
	}
}

func TestCalendarTicks(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	tests := []struct {
		name       string
		p          Period
		lo, hi     time.Time
		loc        *time.Location
		wantTicks  int
		wantMajors []string
		wantLabels []string
	}{
		{
			name: "week", p: Week, loc: berlin,
			lo:         time.Date(2026, 3, 23, 0, 0, 0, 0, berlin),
			hi:         time.Date(2026, 3, 30, 0, 0, 0, 0, berlin),
			wantTicks:  8,
			wantMajors: []string{"2026-03-23 00:00 +0100", "2026-03-30 00:00 +0200"},
			wantLabels: []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},
		},
		{
			name: "month", p: Month, loc: berlin,
			lo:         time.Date(2026, 2, 20, 0, 0, 0, 0, berlin),
			hi:         time.Date(2026, 3, 29, 18, 0, 0, 0, berlin),
			wantTicks:  6, // five Mondays and 1 March
			wantMajors: []string{"2026-03-01 00:00 +0100"},
			wantLabels: []string{"Week 09", "Week 10", "Week 11", "Week 12", "Week 13"},
		},
		{
			name: "year", p: Year, loc: time.UTC,
			lo:         time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
			hi:         time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC),
			wantTicks:  13,
			wantMajors: []string{"2026-01-01 00:00 +0000"},
			wantLabels: []string{"Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ticks, labels := timeTicks(tt.p, tt.lo, tt.hi, tt.loc)
			if len(ticks) != tt.wantTicks {
				t.Errorf("got %d lines, want %d", len(ticks), tt.wantTicks)
			}
			if got := majors(ticks, tt.loc, "2006-01-02 15:04 -0700"); !slices.Equal(got, tt.wantMajors) {
				t.Errorf("red lines at %q, want %q", got, tt.wantMajors)
			}
			if got := texts(labels); !slices.Equal(got, tt.wantLabels) {
				t.Errorf("labels = %q, want %q", got, tt.wantLabels)
			}
		})
	}
}

// Where DST skips midnight (America/Santiago, 2026-09-06), the day starts
// at 01:00 and the red line goes there.
func TestDayStartWithoutMidnight(t *testing.T) {
	loc := mustZone(t, "America/Santiago")
	got := dayStart(2026, time.September, 6, loc).In(loc)
	if got.Day() != 6 || got.Hour() != 1 || got.Minute() != 0 {
		t.Errorf("dayStart = %v, want 2026-09-06 01:00", got)
	}
	if before := got.Add(-time.Second).In(loc); before.Day() != 5 {
		t.Errorf("a second earlier is %v, want 5 September", before)
	}
	ticks, _ := timeTicks(Day, got.Add(-3*time.Hour), got.Add(3*time.Hour), loc)
	if m := majors(ticks, loc, "2006-01-02 15:04"); !slices.Equal(m, []string{"2026-09-06 01:00"}) {
		t.Errorf("red lines at %q, want 2026-09-06 01:00", m)
	}
}
