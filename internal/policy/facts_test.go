package policy

import (
	"testing"
	"time"
)

// FuzzParseDate checks the fast date parser against time.Parse.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "1950-13-01", "2025-07-01", "0000-01-01", "2024-1-01", "abcd-ef-gh", "2024-04-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := time.Parse(time.DateOnly, s)
		got, ok := parseDate(s)
		if ok != (err == nil) || (ok && !got.Equal(want)) {
			t.Fatalf("parseDate(%q) = %v %v; time.Parse = %v %v", s, got, ok, want, err)
		}
	})
}
