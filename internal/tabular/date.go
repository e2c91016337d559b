package tabular

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/width"
)

// Excel's day numbers, in its default 1900 date system.
const (
	excelLeapBug = 60      // Excel's 1900-02-29, a day that never was
	excelMaxDay  = 2958465 // 9999-12-31
)

// ParseDate parses the ways dates are written in the spreadsheets the
// package reads:
//
//	2024-07-01  2024-7-1  2024/7/1  2024.7.1  2024年7月1日  20240701
//
// each optionally followed by a time of day (" 08:30", " 08:30:00",
// "T08:30:00Z"), which is ignored, and Excel day numbers such as 45474
// (2024-07-01) or 45474.5, which is what a date cell holds when someone has
// formatted it as a number. Full-width digits and punctuation are accepted.
// The result is midnight UTC of the day; only the calendar date means
// anything.
//
// Two-digit years and day-first or month-first orders are rejected: in
// 07-01-24 no one can tell which is the month. So is a bare four-digit
// number from 1900 to 2100, which someone typing a year meant rather than an
// Excel day in 1905. The caller still has to judge whether the date is
// plausible, such as a birth date after 1900 and before today.
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if hasNonASCII(s) {
		s = width.Narrow.String(s) // ２０２４－０７－０１ → 2024-07-01
	}
	if isNumber(s) {
		if len(s) == 8 && allDigits(s) {
			return date(atoi(s[:4]), atoi(s[4:6]), atoi(s[6:]))
		}
		return excelDay(s)
	}
	y, rest, ok := digits(s, 4, 4)
	if !ok || rest == "" {
		return time.Time{}, false
	}
	var m, d int
	if sep := rest[0]; sep == '-' || sep == '/' || sep == '.' {
		if m, rest, ok = digits(rest[1:], 1, 2); !ok || rest == "" || rest[0] != sep {
			return time.Time{}, false
		}
		if d, rest, ok = digits(rest[1:], 1, 2); !ok {
			return time.Time{}, false
		}
	} else {
		var ok1, ok2 bool
		if rest, ok1 = strings.CutPrefix(rest, "年"); !ok1 {
			return time.Time{}, false
		}
		if m, rest, ok = digits(rest, 1, 2); !ok {
			return time.Time{}, false
		}
		if rest, ok2 = strings.CutPrefix(rest, "月"); !ok2 {
			return time.Time{}, false
		}
		if d, rest, ok = digits(rest, 1, 2); !ok {
			return time.Time{}, false
		}
		if r, ok := strings.CutPrefix(rest, "日"); ok {
			rest = r
		} else if r, ok := strings.CutPrefix(rest, "号"); ok {
			rest = r
		}
	}
	if rest != "" && !isTimeOfDay(rest) {
		return time.Time{}, false
	}
	return date(y, m, d)
}

// date returns the day y-m-d if it exists.
func date(y, m, d int) (time.Time, bool) {
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1000 || t.Year() != y || t.Month() != time.Month(m) || t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// excelDay converts an Excel day number in the 1900 date system, which
// counts 1900-01-01 as day 1 and, to copy a bug of Lotus 1-2-3, has a
// 1900-02-29 as day 60.
func excelDay(s string) (time.Time, bool) {
	intPart, _, _ := strings.Cut(s, ".")
	if len(intPart) == 4 && atoi(intPart) >= 1900 && atoi(intPart) <= 2100 {
		return time.Time{}, false // a year
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 1 || f >= excelMaxDay+1 {
		return time.Time{}, false
	}
	n := int(f)
	switch {
	case n == excelLeapBug:
		return time.Time{}, false
	case n < excelLeapBug:
		return time.Date(1899, 12, 31+n, 0, 0, 0, 0, time.UTC), true
	}
	return time.Date(1899, 12, 30+n, 0, 0, 0, 0, time.UTC), true
}

// isNumber reports whether s is digits with at most one decimal point
// between digits.
func isNumber(s string) bool {
	intPart, frac, hasDot := strings.Cut(s, ".")
	return allDigits(intPart) && intPart != "" && (!hasDot || allDigits(frac) && frac != "")
}

// isTimeOfDay reports whether s is a time of day after a date: a space or
// "T", then H:MM, H:MM:SS or H:MM:SS.fff, then perhaps "Z".
func isTimeOfDay(s string) bool {
	if s == "" || s[0] != ' ' && s[0] != 'T' {
		return false
	}
	s = strings.TrimSuffix(strings.TrimLeft(s[1:], " "), "Z")
	h, s, ok := digits(s, 1, 2)
	if !ok || h > 23 || !strings.HasPrefix(s, ":") {
		return false
	}
	m, s, ok := digits(s[1:], 2, 2)
	if !ok || m > 59 {
		return false
	}
	if s == "" {
		return true
	}
	if s[0] != ':' {
		return false
	}
	sec, s, ok := digits(s[1:], 2, 2)
	if !ok || sec > 59 {
		return false
	}
	return s == "" || s[0] == '.' && len(s) > 1 && allDigits(s[1:])
}

// digits parses the lo to hi decimal digits s starts with; more than hi
// digits is a failure.
func digits(s string, lo, hi int) (n int, rest string, ok bool) {
	i := 0
	for i < len(s) && i < hi && '0' <= s[i] && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i < lo || i < len(s) && '0' <= s[i] && s[i] <= '9' {
		return 0, s, false
	}
	return n, s[i:], true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi parses a short string of digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
