package oauth

import (
	"net/netip"
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
// in the window, begin refuses it until the oldest of them is a minute old.
// Refused attempts are not counted, so a client that keeps trying gets
// limit guesses a minute, no more and no fewer.
//
// begin counts an attempt as a failure before the password is checked, and
// a successful sign-in takes it back. Counting after the check would let
// many attempts sent at once all pass the limit before the first failure
// is recorded.
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

// addrKey counts an IPv6 client by its /64: one host is usually handed a
// whole /64 and can pick a new address in it for every guess.
func addrKey(addr string) string {
	if a, err := netip.ParseAddr(addr); err == nil && a.Is6() && !a.Is4In6() {
		return "addr:" + netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
	}
	return "addr:" + addr
}

// begin starts an attempt at now. When a key is at the limit it refuses,
// says when the next attempt will be allowed, and counts nothing; else it
// counts the attempt as a failure of every key until succeeded takes it
// back. full reports that a key has now reached the limit (to log once).
func (l *failureLimiter) begin(now time.Time, keys ...string) (retryAfter time.Duration, limited, full bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if ts := l.recentLocked(k, now); len(ts) >= l.limit {
			limited = true
			retryAfter = max(retryAfter, ts[len(ts)-l.limit].Add(failureWindow).Sub(now))
		}
	}
	if limited {
		return retryAfter, true, false
	}
	for _, k := range keys {
		ts := append(l.recentLocked(k, now), now)
		if len(ts) > l.limit {
			ts = ts[len(ts)-l.limit:]
		}
		l.failures[k] = ts
		full = full || len(ts) == l.limit
	}
	return 0, false, full
}

// succeeded takes back the failure begin counted at `at` for each key.
func (l *failureLimiter) succeeded(at time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		ts := l.failures[k]
		for i := len(ts) - 1; i >= 0; i-- {
			if ts[i].Equal(at) {
				ts = append(ts[:i:i], ts[i+1:]...)
				break
			}
		}
		if len(ts) == 0 {
			delete(l.failures, k)
		} else {
			l.failures[k] = ts
		}
	}
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
