package cases

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// holidaysCSV is the official calendar compiled into the binary
// (calendar/holidays.csv; its source and checks are in calendar/SOURCE.md).
//
//go:embed calendar/holidays.csv
var holidaysCSV []byte

// Holiday is one day the State Council's yearly notice changes: a day off
// of a holiday (Off) or a weekend day that is a working day (调休上班).
type Holiday struct {
	Date    time.Time // midnight UTC
	Off     bool      // true: a day off (法定节假日 or a day joined to it); false: a make-up working day
	Name    string    // the holiday, e.g. 春节
	Notice  string    // the notice that set it, e.g. 国办发明电〔2024〕12号
	Weekend bool      // the day is a Saturday or Sunday
}

// Calendar says which days are working days (工作日): Monday to Friday,
// except the days off the State Council's notice of the year announces,
// plus the weekend days it makes working days. It covers the years its data
// lists; a date of another year is counted weekends-only, which Due and
// Covers report. A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	days  map[int]Holiday // day number → the notice's day
	order []int           // the day numbers of days, ascending
	years map[int]string  // covered year → its notice
}

// UncoveredError reports that a computation counted days of a year the
// calendar has no notice for; they were counted weekends-only.
type UncoveredError struct {
	Years []int
}

// Error says in Chinese which years were counted weekends-only.
func (e *UncoveredError) Error() string {
	ys := make([]string, len(e.Years))
	for i, y := range e.Years {
		ys[i] = fmt.Sprint(y)
	}
	return fmt.Sprintf("工作日历未收录 %s 年的节假日安排，按仅扣除周六、周日计算", strings.Join(ys, "、"))
}

var defaultCalendar = sync.OnceValue(func() *Calendar {
	c, err := ParseCalendar(strings.NewReader(string(holidaysCSV)), "calendar/holidays.csv")
	if err != nil {
		panic("cases: embedded calendar: " + err.Error()) // TestDefaultCalendar keeps this from happening
	}
	return c
})

// DefaultCalendar returns the calendar compiled into the binary: the
// official public holidays of 2024–2026.
func DefaultCalendar() *Calendar { return defaultCalendar() }

// LoadCalendar reads a calendar file in the format of
// calendar/holidays.csv (date,kind,holiday,notice; kind off or work; lines
// starting with # are comments), for a deployment that adds a year before
// the binary does.
func LoadCalendar(path string) (*Calendar, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseCalendar(f, path)
}

// ParseCalendar reads calendar data; name names it in errors, which give
// the line and say in Chinese what is wrong.
func ParseCalendar(r io.Reader, name string) (*Calendar, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	c := &Calendar{days: map[int]Holiday{}, years: map[int]string{}}
	header := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, fmt.Errorf("%s:%d: 无法读取：%v", name, line, err)
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
		}
		if header {
			header = false
			if strings.Join(rec, ",") != "date,kind,holiday,notice" {
				return nil, bad("首行应为 date,kind,holiday,notice")
			}
			continue
		}
		if len(rec) != 4 {
			return nil, bad("每行应有 4 列（date,kind,holiday,notice），实为 %d 列", len(rec))
		}
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(rec[0]))
		if err != nil {
			return nil, bad("日期“%s”应为 YYYY-MM-DD", rec[0])
		}
		h := Holiday{Date: t, Name: strings.TrimSpace(rec[2]), Notice: strings.TrimSpace(rec[3])}
		h.Weekend = t.Weekday() == time.Saturday || t.Weekday() == time.Sunday
		switch strings.TrimSpace(rec[1]) {
		case "off":
			h.Off = true
		case "work":
			if !h.Weekend {
				return nil, bad("%s 是%s，本来就是工作日，不能列为调休上班日", rec[0], weekdayNames[t.Weekday()])
			}
		default:
			return nil, bad("kind 应为 off（放假）或 work（调休上班），实为“%s”", rec[1])
		}
		if h.Name == "" || h.Notice == "" {
			return nil, bad("缺少节日名称或通知文号")
		}
		dn := dayNumber(t)
		if _, dup := c.days[dn]; dup {
			return nil, bad("%s 重复列出", rec[0])
		}
		if n, ok := c.years[t.Year()]; ok && n != h.Notice {
			return nil, bad("%d 年已按 %s 列出，本行却引用 %s", t.Year(), n, h.Notice)
		}
		c.years[t.Year()] = h.Notice
		c.days[dn] = h
		c.order = append(c.order, dn)
	}
	if len(c.days) == 0 {
		return nil, fmt.Errorf("%s: 没有任何日期", name)
	}
	slices.Sort(c.order)
	return c, nil
}

var weekdayNames = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

// Years returns the covered years in order.
func (c *Calendar) Years() []int {
	ys := make([]int, 0, len(c.years))
	for y := range c.years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	return ys
}

// Notice returns the notice a covered year's holidays come from.
func (c *Calendar) Notice(year int) (string, bool) { n, ok := c.years[year]; return n, ok }

// Covers reports whether the calendar has the notice of t's year.
func (c *Calendar) Covers(t time.Time) bool { _, ok := c.years[t.Year()]; return ok }

// Day returns what the notice says about t's date, if anything.
func (c *Calendar) Day(t time.Time) (Holiday, bool) { h, ok := c.days[dayNumber(t)]; return h, ok }

// IsWorkday reports whether t's date (in t's location) is a working day. In
// a year the calendar does not cover, Monday to Friday are working days.
func (c *Calendar) IsWorkday(t time.Time) bool { return c.isWorkday(dayNumber(t)) }

func (c *Calendar) isWorkday(dn int) bool {
	if h, ok := c.days[dn]; ok {
		return !h.Off
	}
	return isWeekday(dn)
}

// AddWorkdays returns the date n working days after start's date: the due
// date of a time limit of n working days that starts on start. The start
// day is not counted and the result is always a working day, so a case
// received on Friday with a limit of 1 working day is due on Monday (or the
// first working day after a holiday). n = 0 returns start's date; a
// negative n counts back to the n-th working day before it. The result is
// at midnight in start's location.
//
// The rule is the statutory one: a time limit in days does not count the
// day it starts (《民法典》第二百零一条: "按照年、月、日计算期间的，开始的
// 当日不计入，自下一日开始计算"), and a limit in working days leaves out the
// public holidays (《行政许可法》第八十二条: "本法规定的行政机关实施行政许可
// 的期限以工作日计算，不含法定节假日"). Days of years the calendar does not
// cover are counted weekends-only; Due reports when that happened.
func (c *Calendar) AddWorkdays(start time.Time, n int) time.Time {
	return dateOf(c.addWorkdays(dayNumber(start), n), start.Location())
}

// Due is AddWorkdays that also reports, as an *UncoveredError, when a day
// it counted lies in a year the calendar does not cover: the date returned
// is then the weekends-only estimate, to be flagged to the user.
func (c *Calendar) Due(start time.Time, n int) (time.Time, error) {
	from := dayNumber(start)
	to := c.addWorkdays(from, n)
	var err error
	switch {
	case n > 0:
		err = c.coverage(from+1, to) // the start day is not counted
	case n < 0:
		err = c.coverage(to, from-1)
	}
	return dateOf(to, start.Location()), err
}

// WorkdaysBetween returns the number of working days after a's date up to
// and including b's date, so that WorkdaysBetween(a, AddWorkdays(a, n)) = n
// for n ≥ 0: how many working days a case received on a has taken by b. It
// is negative when b is before a (−WorkdaysBetween(b, a)).
func (c *Calendar) WorkdaysBetween(a, b time.Time) int {
	da, db := dayNumber(a), dayNumber(b)
	if db < da {
		return -c.between(db, da)
	}
	return c.between(da, db)
}

// between counts the working days in (a, b], a ≤ b.
func (c *Calendar) between(a, b int) int {
	n := weekdaysIn(a+1, b)
	i := sort.SearchInts(c.order, a+1)
	for ; i < len(c.order) && c.order[i] <= b; i++ {
		h := c.days[c.order[i]]
		switch {
		case h.Off && !h.Weekend:
			n--
		case !h.Off && h.Weekend:
			n++
		}
	}
	return n
}

// CheckCovered returns an *UncoveredError when a year from a's date to b's
// date (either order) is not covered, and nil otherwise.
func (c *Calendar) CheckCovered(a, b time.Time) error {
	da, db := dayNumber(a), dayNumber(b)
	if db < da {
		da, db = db, da
	}
	return c.coverage(da, db)
}

func (c *Calendar) coverage(a, b int) error {
	ya, yb := dateOf(a, time.UTC).Year(), dateOf(b, time.UTC).Year()
	var missing []int
	for y := ya; y <= yb; y++ {
		if _, ok := c.years[y]; !ok {
			missing = append(missing, y)
			if len(missing) == 5 && y < yb { // a span of centuries need not list them all
				missing = append(missing, yb)
				break
			}
		}
	}
	if len(missing) > 0 {
		return &UncoveredError{Years: missing}
	}
	return nil
}

// addWorkdays moves from day dn by n working days. Between the notice's
// days the working days are the weekdays, counted in closed form, so the
// cost is one step per listed day passed rather than one per day.
func (c *Calendar) addWorkdays(dn, n int) int {
	if n == 0 {
		return dn
	}
	if n > 0 {
		for i := sort.SearchInts(c.order, dn+1); i < len(c.order); i++ {
			next := c.order[i]
			if plain := weekdaysIn(dn+1, next-1); plain >= n {
				return nthWeekday(dn, n)
			} else {
				n -= plain
			}
			dn = next
			if c.isWorkday(next) {
				if n--; n == 0 {
					return next
				}
			}
		}
		return nthWeekday(dn, n)
	}
	n = -n
	for i := sort.SearchInts(c.order, dn) - 1; i >= 0; i-- {
		prev := c.order[i]
		if plain := weekdaysIn(prev+1, dn-1); plain >= n {
			return nthWeekday(dn, -n)
		} else {
			n -= plain
		}
		dn = prev
		if c.isWorkday(prev) {
			if n--; n == 0 {
				return prev
			}
		}
	}
	return nthWeekday(dn, -n)
}

// dayNumber is t's calendar date (in t's location) as days since 1970-01-01.
func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// dateOf is the inverse of dayNumber, at midnight in loc.
func dateOf(dn int, loc *time.Location) time.Time {
	u := time.Unix(int64(dn)*86400, 0).UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, loc)
}

// isWeekday reports whether day dn is Monday to Friday (1970-01-01 was a Thursday).
func isWeekday(dn int) bool {
	w := ((dn+3)%7 + 7) % 7 // 0 = Monday … 6 = Sunday
	return w < 5
}

// weekdaysIn counts Monday to Friday in [a, b]; 0 when b < a.
func weekdaysIn(a, b int) int {
	if b < a {
		return 0
	}
	total := b - a + 1
	n := total / 7 * 5 // any 7 consecutive days hold 5 weekdays
	for d := a + total/7*7; d <= b; d++ {
		if isWeekday(d) {
			n++
		}
	}
	return n
}

// nthWeekday returns the n-th weekday after day dn (n > 0) or before it
// (n < 0), ignoring holidays.
func nthWeekday(dn, n int) int {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	weeks := (n - 1) / 5
	dn += step * weeks * 7
	n -= weeks * 5
	for n > 0 {
		dn += step
		if isWeekday(dn) {
			n--
		}
	}
	return dn
}
