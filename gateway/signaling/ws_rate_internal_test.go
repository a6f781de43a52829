package signaling

import (
	"testing"
	"time"
)

// The bucket holds the burst and refills at the rate, never beyond the
// burst.
func TestWSRate(t *testing.T) {
	t.Parallel()
	r := newWSRate(10, 3)
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	allowed := func(at time.Time, n int) int {
		got := 0
		for range n {
			if r.allow(at) {
				got++
			}
		}
		return got
	}
	if got := allowed(t0, 5); got != 3 {
		t.Fatalf("at once: %d of 5 allowed, want the burst of 3", got)
	}
	if got := allowed(t0.Add(100*time.Millisecond), 5); got != 1 {
		t.Fatalf("after 100 ms at 10/s: %d allowed, want 1", got)
	}
	if got := allowed(t0.Add(time.Hour), 10); got != 3 {
		t.Fatalf("after an hour: %d allowed, want the burst of 3", got)
	}
}
