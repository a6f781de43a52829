package oauth

import (
	"sync"
	"time"
)

// failureWindow is the sliding window of Auth.SignInFailuresPerMinute.
const failureWindow = time.Minute

// maxLimiterKeyLen bounds the user-name part of a limiter key: the name
// comes from the network.
const maxLimiterKeyLen = 256

// failureLimiter counts failed sign-ins per key ("user:<name>",
// "addr:<ip>") in a sliding one-minute window. Once a key has limit failures
// in the window, check refuses it until the oldest of them is a minute old.
// Attempts refused that way are not counted, so a client that keeps trying
// gets limit guesses a minute, no more and no fewer.
type failureLimiter struct {
	limit int

	mu       sync.Mutex
	failures map[string][]time.Time // at most limit entries each, oldest first
}

func newFailureLimiter(limit int) *failureLimiter {
	return &failureLimiter{limit: limit, failures: map[string][]time.Time{}}
}

// userKey and addrKey are the limiter's keys.
func userKey(name string) string {
	if len(name) > maxLimiterKeyLen {
		name = name[:maxLimiterKeyLen]
	}
	return "user:" + name
}

func addrKey(addr string) string { return "addr:" + addr }

// check reports whether any of keys is over the limit, and when the first
// further attempt will be allowed.
func (l *failureLimiter) check(now time.Time, keys ...string) (retryAfter time.Duration, limited bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		ts := l.recentLocked(k, now)
		if len(ts) >= l.limit {
			limited = true
			retryAfter = max(retryAfter, ts[len(ts)-l.limit].Add(failureWindow).Sub(now))
		}
	}
	return retryAfter, limited
}

// fail counts a failure for each key and reports whether one of them has
// just reached the limit (to log that once).
func (l *failureLimiter) fail(now time.Time, keys ...string) (reached bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		ts := append(l.recentLocked(k, now), now)
		if len(ts) > l.limit {
			ts = ts[len(ts)-l.limit:]
		}
		l.failures[k] = ts
		if len(ts) == l.limit {
			reached = true
		}
	}
	return reached
}

// reset forgets a key's failures (a user who signed in successfully).
func (l *failureLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// recentLocked returns the key's failures within the window, dropping older
// ones.
func (l *failureLimiter) recentLocked(key string, now time.Time) []time.Time {
	ts := l.failures[key]
	i := 0
	for i < len(ts) && !now.Before(ts[i].Add(failureWindow)) {
		i++
	}
	if i > 0 {
		ts = append([]time.Time(nil), ts[i:]...)
		if len(ts) == 0 {
			delete(l.failures, key)
		} else {
			l.failures[key] = ts
		}
	}
	return ts
}

// prune forgets keys whose failures are all older than the window.
func (l *failureLimiter) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.failures {
		l.recentLocked(k, now)
	}
}
