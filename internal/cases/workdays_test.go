package cases

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDefaultCalendar(t *testing.T) {
	c := DefaultCalendar()
	if got := c.Years(); !slices.Equal(got, []int{2024, 2025, 2026}) {
		t.Fatalf("years = %v", got)
	}
	for y, want := range map[int]string{2024: "国办发明电〔2023〕7号", 2025: "国办发明电〔2024〕12号", 2026: "国办发明电〔2025〕7号"} {
		if got, _ := c.Notice(y); got != want {
			t.Errorf("notice of %d = %q, want %q", y, got, want)
		}
	}
	// The counts SOURCE.md states.
	for y, want := range map[int][2]int{2024: {28, 8}, 2025: {28, 5}, 2026: {33, 6}} {
		var off, work int
		for d := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == y; d = d.AddDate(0, 0, 1) {
			if h, ok := c.Day(d); ok {
				if h.Off {
					off++
				} else {
					work++
				}
			}
		}
		if off != want[0] || work != want[1] {
			t.Errorf("%d: %d days off and %d make-up days, want %v", y, off, work, want)
		}
	}
	h, ok := c.Day(day("2025-01-26"))
	if !ok || h.Off || h.Name != "春节" || h.Notice != "国办发明电〔2024〕12号" || !h.Weekend {
		t.Errorf("2025-01-26 = %+v, %v", h, ok)
	}
}

func TestIsWorkday(t *testing.T) {
	c := DefaultCalendar()
	cases := []struct {
		date string
		want bool
		why  string
	}{
		{"2025-01-24", true, "Friday before the Spring Festival"},
		{"2025-01-25", false, "Saturday"},
		{"2025-01-26", true, "Sunday, make-up working day of the Spring Festival"},
		{"2025-01-27", true, "Monday"},
		{"2025-01-28", false, "除夕, first day off"},
		{"2025-01-29", false, "春节"},
		{"2025-01-30", false, "春节"},
		{"2025-01-31", false, "春节"},
		{"2025-02-01", false, "春节 (Saturday)"},
		{"2025-02-02", false, "春节 (Sunday)"},
		{"2025-02-03", false, "春节"},
		{"2025-02-04", false, "正月初七, last day off"},
		{"2025-02-05", true, "first working day after"},
		{"2025-02-08", true, "Saturday, make-up working day"},
		{"2025-02-09", false, "Sunday"},
		{"2025-01-01", false, "元旦 (Wednesday)"},
		{"2025-10-08", false, "last day of 国庆节、中秋节 2025"},
		{"2025-10-11", true, "Saturday, make-up day"},
		{"2024-02-09", true, "除夕 2024 is a working day (leave only encouraged)"},
		{"2024-02-18", true, "Sunday, make-up day"},
		{"2024-06-10", false, "端午节 2024 (Monday)"},
		{"2026-01-02", false, "元旦 2026 (Friday)"},
		{"2026-01-04", true, "Sunday, make-up day of 元旦 2026"},
		{"2026-02-13", true, "Friday"},
		{"2026-02-14", true, "Saturday, make-up working day of the Spring Festival 2026"},
		{"2026-02-15", false, "春节 2026, first day (Sunday)"},
		{"2026-02-16", false, "春节 2026 (Monday)"},
		{"2026-02-23", false, "春节 2026, last day (Monday)"},
		{"2026-02-24", true, "Tuesday after"},
		{"2026-02-28", true, "Saturday, make-up day"},
		{"2026-09-20", true, "Sunday, make-up day of 国庆节 2026"},
		{"2026-09-25", false, "中秋节 2026 (Friday)"},
		{"2026-09-30", true, "Wednesday before National Day"},
		{"2026-10-01", false, "国庆节 2026"},
		{"2026-10-05", false, "国庆节 2026 (Monday)"},
		{"2026-10-07", false, "国庆节 2026, last day (Wednesday)"},
		{"2026-10-08", true, "Thursday after National Day"},
		{"2026-10-10", true, "Saturday, make-up day"},
		{"2026-10-11", false, "Sunday"},
		{"2027-01-01", true, "uncovered year: weekends only (a Friday)"},
		{"2027-01-02", false, "uncovered year: a Saturday"},
		{"2023-12-29", true, "uncovered year: a Friday"},
	}
	for _, tc := range cases {
		if got := c.IsWorkday(day(tc.date)); got != tc.want {
			t.Errorf("IsWorkday(%s) = %v, want %v (%s)", tc.date, got, tc.want, tc.why)
		}
	}
	// The date counts in the time's own location.
	sh := time.FixedZone("CST", 8*3600)
	if c.IsWorkday(time.Date(2025, 1, 27, 23, 30, 0, 0, sh)) != true || c.IsWorkday(time.Date(2025, 1, 28, 0, 30, 0, 0, sh)) {
		t.Error("IsWorkday should read the date in the time's location")
	}
}

func TestAddWorkdays(t *testing.T) {
	c := DefaultCalendar()
	cases := []struct {
		start string
		n     int
		want  string
	}{
		// Across the 2025 Spring Festival (1-28…2-4 off, 1-26 and 2-8 worked).
		{"2025-01-24", 1, "2025-01-26"},
		{"2025-01-24", 2, "2025-01-27"},
		{"2025-01-24", 3, "2025-02-05"},
		{"2025-01-24", 5, "2025-02-07"},
		{"2025-01-24", 6, "2025-02-08"},
		{"2025-01-24", 7, "2025-02-10"},
		{"2025-01-27", 1, "2025-02-05"},
		{"2025-01-28", 1, "2025-02-05"}, // received on a day off: the count starts the next day
		{"2025-01-20", 15, "2025-02-14"},
		// 2025 National Day and Mid-Autumn (10-1…10-8 off, 9-28 and 10-11 worked).
		{"2025-09-26", 10, "2025-10-16"},
		// 2026 Spring Festival (2-15…2-23 off, 2-14 and 2-28 worked).
		{"2026-02-13", 1, "2026-02-14"},
		{"2026-02-13", 2, "2026-02-24"},
		{"2026-02-13", 6, "2026-02-28"},
		// 2026 National Day (10-1…10-7 off, 9-20 and 10-10 worked).
		{"2026-09-18", 1, "2026-09-20"},
		{"2026-09-30", 1, "2026-10-08"},
		{"2026-09-30", 3, "2026-10-10"},
		{"2026-09-30", 4, "2026-10-12"},
		// New year: 2026-01-01…03 off, 01-04 (Sunday) worked.
		{"2025-12-31", 1, "2026-01-04"},
		// A Friday with 1 day: Monday.
		{"2025-03-07", 1, "2025-03-10"},
		{"2025-03-07", 0, "2025-03-07"},
		{"2025-03-08", 0, "2025-03-08"}, // n = 0 returns the start even on a day off
		// Backwards.
		{"2025-02-05", -1, "2025-01-27"},
		{"2025-02-05", -2, "2025-01-26"},
		{"2025-02-05", -3, "2025-01-24"},
		{"2026-10-08", -1, "2026-09-30"},
		// Weekends only outside the covered years.
		{"2027-12-31", 1, "2028-01-03"},
		{"2023-12-29", 1, "2024-01-02"}, // 2024-01-01 is 元旦
	}
	for _, tc := range cases {
		got := c.AddWorkdays(day(tc.start), tc.n)
		if got.Format(time.DateOnly) != tc.want {
			t.Errorf("AddWorkdays(%s, %d) = %s, want %s", tc.start, tc.n, got.Format(time.DateOnly), tc.want)
		}
		if tc.n >= 0 {
			if back := c.WorkdaysBetween(day(tc.start), got); back != tc.n {
				t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d", tc.start, tc.want, back, tc.n)
			}
		}
	}
	sh := time.FixedZone("CST", 8*3600)
	got := c.AddWorkdays(time.Date(2025, 1, 27, 22, 0, 0, 0, sh), 1)
	if want := time.Date(2025, 2, 5, 0, 0, 0, 0, sh); !got.Equal(want) || got.Location() != sh {
		t.Errorf("AddWorkdays in Shanghai time = %v, want %v", got, want)
	}
}

func TestWorkdaysBetween(t *testing.T) {
	c := DefaultCalendar()
	cases := []struct {
		a, b string
		want int
	}{
		{"2025-01-24", "2025-02-05", 3}, // 1-26, 1-27, 2-5
		{"2025-02-05", "2025-01-24", -3},
		{"2025-01-27", "2025-01-27", 0},
		{"2025-01-27", "2025-02-04", 0}, // the whole holiday
		{"2026-09-30", "2026-10-11", 3}, // 10-8, 10-9, 10-10
	}
	for _, tc := range cases {
		if got := c.WorkdaysBetween(day(tc.a), day(tc.b)); got != tc.want {
			t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	// Whole years, counted by hand for 2025: 365 days from a Wednesday hold 261
	// weekdays; 18 of the 28 days off are weekdays and 5 weekend days are worked: 248.
	for y, want := range map[int]int{2024: 251, 2025: 248, 2026: 248} {
		a, b := time.Date(y-1, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC)
		if got := c.WorkdaysBetween(a, b); got != want {
			t.Errorf("working days of %d = %d, want %d", y, got, want)
		}
	}
}

// naiveBetween and naiveAdd recompute from scratch, day by day.
func naiveBetween(c *Calendar, a, b time.Time) int {
	n := 0
	for d := a.AddDate(0, 0, 1); !d.After(b); d = d.AddDate(0, 0, 1) {
		if c.IsWorkday(d) {
			n++
		}
	}
	return n
}

func naiveAdd(c *Calendar, start time.Time, n int) time.Time {
	d := start
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDate(0, 0, step)
		if c.IsWorkday(d) {
			n--
		}
	}
	return d
}

func TestCalendarAgreesWithNaive(t *testing.T) {
	c := DefaultCalendar()
	r := rand.New(rand.NewPCG(1, 2))
	base := day("2023-06-01")
	for i := 0; i < 5000; i++ {
		start := base.AddDate(0, 0, r.IntN(4*365))
		n := r.IntN(241) - 40
		got, want := c.AddWorkdays(start, n), naiveAdd(c, start, n)
		if !got.Equal(want) {
			t.Fatalf("AddWorkdays(%s, %d) = %s, day by day %s", start.Format(time.DateOnly), n, got.Format(time.DateOnly), want.Format(time.DateOnly))
		}
		end := start.AddDate(0, 0, r.IntN(400))
		if got, want := c.WorkdaysBetween(start, end), naiveBetween(c, start, end); got != want {
			t.Fatalf("WorkdaysBetween(%s, %s) = %d, day by day %d", start.Format(time.DateOnly), end.Format(time.DateOnly), got, want)
		}
		if n >= 0 {
			if got := c.WorkdaysBetween(start, c.AddWorkdays(start, n)); got != n {
				t.Fatalf("WorkdaysBetween(start, AddWorkdays(start, %d)) = %d from %s", n, got, start.Format(time.DateOnly))
			}
			if !c.IsWorkday(c.AddWorkdays(start, n)) && n > 0 {
				t.Fatalf("AddWorkdays(%s, %d) is not a working day", start.Format(time.DateOnly), n)
			}
		}
	}
	// Far away and large n: closed form, no loop per day.
	if got := c.AddWorkdays(day("2030-01-01"), 5_000_000); got.Year() < 21000 {
		t.Errorf("AddWorkdays(2030-01-01, 5e6) = %v", got)
	}
}

func TestDue(t *testing.T) {
	c := DefaultCalendar()
	if d, err := c.Due(day("2026-12-01"), 5); err != nil || d.Format(time.DateOnly) != "2026-12-08" {
		t.Errorf("Due inside 2026 = %v, %v", d, err)
	}
	d, err := c.Due(day("2026-12-28"), 5)
	var ue *UncoveredError
	if !errors.As(err, &ue) || !slices.Equal(ue.Years, []int{2027}) || d.Format(time.DateOnly) != "2027-01-04" {
		t.Errorf("Due into 2027 = %v, %v", d, err)
	}
	if err != nil && !strings.Contains(err.Error(), "2027") {
		t.Errorf("message %q", err)
	}
	if _, err := c.Due(day("2026-12-31"), 0); err != nil {
		t.Errorf("Due with n = 0 counts nothing: %v", err)
	}
	if _, err := c.Due(day("2024-01-02"), -1); err == nil {
		t.Error("Due back into 2023 should be flagged")
	}
	if err := c.CheckCovered(day("2026-05-01"), day("2024-03-01")); err != nil {
		t.Errorf("CheckCovered 2024–2026: %v", err)
	}
	if err := c.CheckCovered(day("1990-01-01"), day("2200-01-01")); err == nil || len(err.(*UncoveredError).Years) > 6 {
		t.Errorf("CheckCovered over centuries: %v", err)
	}
}

func TestParseCalendarErrors(t *testing.T) {
	const head = "# comment\ndate,kind,holiday,notice\n"
	cases := []struct {
		name, data string
		line       int
		want       string
	}{
		{"bad header", "day,kind\n2025-01-01,off,元旦,X\n", 1, "首行"},
		{"bad date", head + "2025-01-01,off,元旦,X\n2025-13-01,off,元旦,X\n", 4, "YYYY-MM-DD"},
		{"make-up day on a weekday", head + "2025-01-27,work,春节,X\n", 3, "星期一"},
		{"unknown kind", head + "2025-01-01,holiday,元旦,X\n", 3, "kind"},
		{"date twice", head + "2025-01-01,off,元旦,X\n2025-01-01,off,元旦,X\n", 4, "重复"},
		{"two notices in a year", head + "2025-01-01,off,元旦,X\n2025-01-28,off,春节,Y\n", 4, "X"},
		{"missing notice", head + "2025-01-01,off,元旦,\n", 3, "通知文号"},
		{"wrong column count", head + "2025-01-01,off,元旦\n", 3, "4 列"},
		{"bad quoting", head + "2025-01-01,off,\"元旦,X\n", 3, "无法读取"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCalendar(strings.NewReader(tc.data), "h.csv")
			if err == nil {
				t.Fatal("accepted")
			}
			wantPrefix := "h.csv:" + strconv.Itoa(tc.line) + ": "
			if !strings.HasPrefix(err.Error(), wantPrefix) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want prefix %q and %q", err, wantPrefix, tc.want)
			}
		})
	}
	if _, err := ParseCalendar(strings.NewReader(head), "h.csv"); err == nil {
		t.Error("a file without dates was accepted")
	}
}

func TestLoadCalendar(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h.csv")
	data := "date,kind,holiday,notice\n2027-01-01,off,元旦,国办发明电〔2026〕X号\n2027-01-02,off,元旦,国办发明电〔2026〕X号\n"
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCalendar(p)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Covers(day("2027-06-01")) || c.Covers(day("2026-06-01")) || c.IsWorkday(day("2027-01-01")) {
		t.Error("a calendar loaded from a file should cover its year only")
	}
	if _, err := LoadCalendar(filepath.Join(t.TempDir(), "none.csv")); err == nil {
		t.Error("a missing file was accepted")
	}
}
