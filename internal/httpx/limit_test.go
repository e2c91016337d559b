package httpx

import (
	"testing"
	"time"
)

// TestLimiter checks the sliding window, that a refused event is not
// counted against the other keys, and that the sweep forgets idle keys.
func TestLimiter(t *testing.T) {
	var l Limiter
	now := time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)
	short := func(k string) Limit { return Limit{Key: k, N: 2, Per: time.Minute} }
	day := Limit{Key: "day", N: 3, Per: 24 * time.Hour}
	if !l.Allow(now, short("a"), day) || !l.Allow(now, short("a"), day) {
		t.Fatal("first two refused")
	}
	if l.Allow(now, short("a"), day) {
		t.Fatal("third in a minute allowed")
	}
	if !l.Allow(now.Add(time.Minute), short("a"), day) {
		t.Fatal("refused after the window (or the refused event counted against day)")
	}
	if l.Allow(now.Add(2*time.Minute), short("b"), day) {
		t.Fatal("day budget not applied")
	}
	l.sweep(now.Add(25 * time.Hour))
	if len(l.seen) != 0 {
		t.Errorf("sweep kept %d keys", len(l.seen))
	}
}
