package idcard

import (
	"strconv"
	"time"
)

// weights are the ISO 7064 MOD 11-2 weights of positions 1–17.
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps the remainder 0..10 to the check character.
const checkChars = "10X98765432"

// CheckChar returns the check character (position 18) for the first 17
// digits of an ID number. It panics if body is not 17 ASCII digits.
func CheckChar(body string) byte {
	if len(body) != 17 {
		panic("idcard: CheckChar needs 17 digits")
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := body[i]
		if c < '0' || c > '9' {
			panic("idcard: CheckChar needs digits")
		}
		sum += int(c-'0') * weights[i]
	}
	return checkChars[sum%11]
}

// Build assembles an 18-character ID number with a correct check character
// from a 6-digit region code, a birth date (its calendar date in its own
// location) and a sequence number, taken modulo 1000 into 0..999 (odd = male,
// even = female). It does not check that the region is known or the date
// plausible: that is Parse's job, and tests need invalid numbers too. It
// panics if region is not 6 ASCII digits or the birth year is not 0..9999.
func Build(region string, birth time.Time, seq int) string {
	if len(region) != 6 {
		panic("idcard: Build needs a 6-digit region")
	}
	y, m, d := birth.Date()
	if y < 0 || y > 9999 {
		panic("idcard: Build needs a birth year 0..9999")
	}
	seq %= 1000
	if seq < 0 {
		seq += 1000
	}
	b := make([]byte, 0, 18)
	b = append(b, region...)
	b = appendPadded(b, y, 4)
	b = appendPadded(b, int(m), 2)
	b = appendPadded(b, d, 2)
	b = appendPadded(b, seq, 3)
	b = append(b, CheckChar(string(b)))
	return string(b)
}

// appendPadded appends n, 0 <= n < 10^width, as width decimal digits.
func appendPadded(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
