package idcard

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ID is a parsed, valid citizen ID number.
type ID struct {
	// Number is the 18-character number, trimmed, with an upper-case X.
	Number string
	// Region is the 6-digit address code (地址码) of positions 1–6: the
	// county where the number was first issued, possibly since abolished.
	Region string
	// Birth is the date of birth of positions 7–14, at midnight UTC.
	Birth time.Time
	// Seq is the sequence code (顺序码) of positions 15–17, 0..999.
	Seq int
	// Male is true when Seq is odd.
	Male bool
}

// Error codes of *Error. They are stable: callers and scripts match on them.
const (
	CodeLength      = "length"       // not 18 characters
	CodeChars       = "chars"        // a character other than a digit (or X last)
	CodeChecksum    = "checksum"     // the check character does not match
	CodeBirthDate   = "birth_date"   // positions 7–14 are not a calendar date
	CodeEarlyBirth  = "early_birth"  // born before 1900-01-01
	CodeFutureBirth = "future_birth" // born after today
	CodeRegion      = "region"       // unknown address code
)

// Error reports why a string is not a valid ID number. Message is a Chinese
// sentence for the window clerk; it quotes the faulty part, never the whole
// number, so that it can be logged.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error returns "idcard: " followed by the code and the message.
func (e *Error) Error() string { return "idcard: " + e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// minBirth is the earliest birth date Parse accepts.
var minBirth = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)

// Parse validates an 18-character citizen ID number (GB 11643-1999) and
// returns its parts. It trims surrounding white space and accepts a
// lower-case x and full-width digits (as pasted from a word processor). It
// checks, in this order, the length, the characters, the ISO 7064 MOD 11-2
// check character, that positions 7–14 are a real date from 1900-01-01 up to
// today's date (today is read as a calendar date in its own location), and
// that the address code is known to RegionName. A failure is an *Error.
//
// The checksum comes before the date and region checks because a wrong
// checksum almost always means a mistyped digit, and that is what the clerk
// should be told first.
func Parse(s string, today time.Time) (ID, error) {
	s = strings.TrimSpace(s)
	if !isASCII(s) {
		s = strings.Map(foldWide, s)
	}
	if len(s) != 18 || !isASCII(s) {
		return ID{}, badShape(s)
	}
	for i := 0; i < 17; i++ {
		if c := s[i]; c < '0' || c > '9' {
			return ID{}, charsError(i+1, rune(c))
		}
	}
	switch c := s[17]; {
	case c >= '0' && c <= '9', c == 'X':
	case c == 'x':
		s = s[:17] + "X"
	default:
		return ID{}, charsError(18, rune(c))
	}
	if want := CheckChar(s[:17]); s[17] != want {
		return ID{}, errorf(CodeChecksum, "身份证号码校验位错误：应为 %c，实为 %c，请逐位核对号码", want, s[17])
	}

	y := atoi(s[6:10])
	m := atoi(s[10:12])
	d := atoi(s[12:14])
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
		return ID{}, errorf(CodeBirthDate, "身份证号码中的出生日期 %s 不是有效日期", s[6:14])
	}
	birth := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if birth.Before(minBirth) {
		return ID{}, errorf(CodeEarlyBirth, "身份证号码中的出生日期 %d年%d月%d日 早于 1900 年 1 月 1 日", y, m, d)
	}
	ty, tm, td := today.Date()
	if birth.After(time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)) {
		return ID{}, errorf(CodeFutureBirth, "身份证号码中的出生日期 %d年%d月%d日 晚于今天", y, m, d)
	}

	region := s[:6]
	if _, ok := regions()[region]; !ok {
		return ID{}, errorf(CodeRegion, "身份证号码前 6 位地址码 %s 不是已知的行政区划代码", region)
	}
	seq := atoi(s[14:17])
	return ID{Number: s, Region: region, Birth: birth, Seq: seq, Male: seq%2 == 1}, nil
}

// badShape explains a trimmed, folded input that is not 18 ASCII bytes:
// either it has the wrong number of characters or one of them is not ASCII.
func badShape(s string) *Error {
	n := utf8.RuneCountInString(s)
	if n != 18 {
		switch n {
		case 0:
			return errorf(CodeLength, "请填写身份证号码")
		case 15:
			return errorf(CodeLength, "身份证号码应为 18 位，实为 15 位（可能是旧的 15 位号码，请提供 18 位号码）")
		}
		return errorf(CodeLength, "身份证号码应为 18 位，实为 %d 位", n)
	}
	pos := 0
	for _, r := range s {
		pos++
		if r >= '0' && r <= '9' || pos == 18 && (r == 'X' || r == 'x') {
			continue
		}
		return charsError(pos, r)
	}
	panic("idcard: badShape called on a well-formed string") // unreachable
}

// foldWide maps full-width digits and X (０–９, Ｘ, ｘ) to ASCII.
func foldWide(r rune) rune {
	switch {
	case r >= '０' && r <= '９':
		return r - '０' + '0'
	case r == 'Ｘ', r == 'ｘ':
		return 'X'
	}
	return r
}

func charsError(pos int, r rune) *Error {
	what := fmt.Sprintf("“%c”", r)
	switch {
	case unicode.IsSpace(r):
		what = "是空格"
	case !unicode.IsPrint(r):
		what = fmt.Sprintf("是不可见字符 %U", r)
	}
	if pos == 18 {
		return errorf(CodeChars, "身份证号码第 18 位%s，应为数字或 X", what)
	}
	return errorf(CodeChars, "身份证号码第 %d 位%s，应为数字", pos, what)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// atoi converts a string of ASCII digits, already checked.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if isLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// Age returns the completed years (周岁) of the holder on the given day, read
// as a calendar date in on's own location; it is negative before birth. A
// birthday counts from the day itself. Someone born on 29 February has
// their birthday on 28 February in common years: by 民法典 Art. 201 a period
// counted in years whose end month lacks the matching day ends on the
// month's last day.
func (id ID) Age(on time.Time) int {
	y, m, d := on.Date()
	by, bm, bd := id.Birth.Date()
	if bm == time.February && bd == 29 && !isLeap(y) {
		bd = 28
	}
	age := y - by
	if m < bm || m == bm && d < bd {
		age--
	}
	return age
}

// Mask hides the personal part of an ID number for display and logs. A
// well-formed 18-character number (17 digits, then a digit or X) keeps its
// first 6 characters (the region) and its last 4: 310104********1234. A
// 15-digit old number keeps its first 6 and last 3. Anything else may hold a
// number mistyped anywhere, or other personal data, so every character
// becomes one *. Surrounding white space is trimmed; nothing else changes.
func Mask(number string) string {
	s := strings.TrimSpace(number)
	keepHead, keepTail := 0, 0
	switch {
	case len(s) == 18 && allDigits(s[:17]) && (isDigit(s[17]) || s[17] == 'X' || s[17] == 'x'):
		keepHead, keepTail = 6, 4
	case len(s) == 15 && allDigits(s):
		keepHead, keepTail = 6, 3
	}
	n := utf8.RuneCountInString(s)
	return s[:keepHead] + strings.Repeat("*", n-keepHead-keepTail) + s[len(s)-keepTail:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
