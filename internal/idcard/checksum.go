package idcard

import (
	"fmt"
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

// Build assembles a valid 18-character ID number from a 6-digit region
// code, a birth date and a sequence number 0..999 (odd = male, even = female).
func Build(region string, birth time.Time, seq int) string {
	body := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), seq%1000)
	return body + string(CheckChar(body))
}
