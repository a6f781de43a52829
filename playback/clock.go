package playback

import "time"

// Clock is the time source of a store: wall-clock times of recorded frames,
// retention ages and playback pacing all come from it. Tests inject a fake
// one; production uses the system clock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
