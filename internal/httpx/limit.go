package httpx

import (
	"sync"
	"time"
)

// Limit is a budget of at most N events per Per under one key (a client
// address, an address and a notice…).
type Limit struct {
	Key string
	N   int
	Per time.Duration
}

// Limiter counts events in sliding windows, in memory, for rate limits on
// what anyone may do without signing in. Its zero value is ready to use.
type Limiter struct {
	mu    sync.Mutex
	seen  map[string]*window
	calls int
}

type window struct {
	per   time.Duration
	times []time.Time // oldest first
}

// Allow reports whether one more event at now stays within every limit
// and, if so, records it under each key; a refused event is not recorded.
func (l *Limiter) Allow(now time.Time, limits ...Limit) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]*window{}
	}
	if l.calls++; l.calls%1024 == 0 {
		l.sweep(now)
	}
	for _, lim := range limits {
		if w := l.seen[lim.Key]; w != nil && w.trim(now, lim.Per) >= lim.N {
			return false
		}
	}
	for _, lim := range limits {
		w := l.seen[lim.Key]
		if w == nil {
			w = &window{}
			l.seen[lim.Key] = w
		}
		w.per = max(w.per, lim.Per)
		w.times = append(w.times, now)
	}
	return true
}

// trim drops the events older than per and returns how many are left.
func (w *window) trim(now time.Time, per time.Duration) int {
	cutoff := now.Add(-per)
	i := 0
	for i < len(w.times) && !w.times[i].After(cutoff) {
		i++
	}
	w.times = w.times[i:]
	return len(w.times)
}

// sweep forgets the keys whose every event has left its window, so that
// memory follows the recent callers only.
func (l *Limiter) sweep(now time.Time) {
	for k, w := range l.seen {
		if w.trim(now, w.per) == 0 {
			delete(l.seen, k)
		}
	}
}
