package render

import (
	"fmt"
	"strconv"
	"time"
)

// xTick is a vertical grid line: a dotted black line, or a red one at the
// start of a new period (midnight, Monday, the 1st of a month, New Year).
type xTick struct {
	At    time.Time
	Major bool
}

// xLabel is a time label centred under At.
type xLabel struct {
	At   time.Time
	Text string
}

// timeTicks returns MRTG's grid lines and labels for a graph of period p
// covering [lo, hi], on the wall clock of loc:
//
//	day:   a line every hour, red at midnight, the hour under every even hour
//	week:  a line every midnight, red on Monday, the weekday name under noon
//	month: a line every Monday, red on the 1st, "Week NN" (ISO) under Thursday noon
//	year:  a line on every 1st, red on 1 January, the month name under the 15th
//
// Lines sit where the wall clock changes, so a DST day has 23 or 25 hours.
func timeTicks(p Period, lo, hi time.Time, loc *time.Location) ([]xTick, []xLabel) {
	if loc == nil {
		loc = time.UTC
	}
	if p == Day {
		return hourTicks(lo, hi, loc)
	}
	var ticks []xTick
	var labels []xLabel
	y, m, d := lo.In(loc).Date()
	for i := 0; ; i++ {
		// Civil date arithmetic in UTC, where every day has 24 hours.
		cy, cm, cd := time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC).Date()
		start := dayStart(cy, cm, cd, loc)
		if start.After(hi) {
			break
		}
		wd := start.In(loc).Weekday()
		tick, major := false, false
		var label string
		var labelAt time.Time
		switch p {
		case Week:
			tick, major = true, wd == time.Monday
			label, labelAt = wd.String()[:3], time.Date(cy, cm, cd, 12, 0, 0, 0, loc)
		case Month:
			tick, major = wd == time.Monday || cd == 1, cd == 1
			if wd == time.Thursday {
				labelAt = time.Date(cy, cm, cd, 12, 0, 0, 0, loc)
				_, week := labelAt.ISOWeek()
				label = fmt.Sprintf("Week %02d", week)
			}
		case Year:
			tick, major = cd == 1, cd == 1 && cm == time.January
			if cd == 15 {
				label, labelAt = cm.String()[:3], time.Date(cy, cm, cd, 12, 0, 0, 0, loc)
			}
		}
		if tick && !start.Before(lo) {
			ticks = append(ticks, xTick{At: start, Major: major})
		}
		if label != "" && !labelAt.Before(lo) && !labelAt.After(hi) {
			labels = append(labels, xLabel{At: labelAt, Text: label})
		}
	}
	return ticks, labels
}

// tzGranule divides every UTC offset in use, so scanning absolute time in
// these steps meets every wall-clock hour boundary (+05:45 included).
const tzGranule = 15 * time.Minute

func hourTicks(lo, hi time.Time, loc *time.Location) ([]xTick, []xLabel) {
	var ticks []xTick
	var labels []xLabel
	t := lo.Truncate(tzGranule)
	if t.Before(lo) {
		t = t.Add(tzGranule)
	}
	prev := t.Add(-tzGranule).In(loc)
	for ; !t.After(hi); t = t.Add(tzGranule) {
		lt := t.In(loc)
		if lt.Minute() == 0 {
			// A new date starts here even where midnight does not exist.
			major := lt.Day() != prev.Day()
			ticks = append(ticks, xTick{At: t, Major: major})
			if lt.Hour()%2 == 0 {
				labels = append(labels, xLabel{At: t, Text: strconv.Itoa(lt.Hour())})
			}
		}
		prev = lt
	}
	return ticks, labels
}

// dayStart returns the first instant of a civil date in loc. Where DST skips
// midnight, time.Date may pick the hour before; walk forward to the first
// instant that carries the date.
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	for i := 0; i < 8; i++ {
		if _, _, ld := t.In(loc).Date(); ld == d {
			break
		}
		t = t.Add(tzGranule)
	}
	return t
}
