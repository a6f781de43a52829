// Package clocktest is a controllable clock for the playback tests. It has
// three modes: Real (the system clock, for recording from a real RTSP
// camera), Manual (time moves only when the test calls Advance, for
// recording with exact wall times), and Auto (every After returns at once
// and moves the clock forward by its duration, so a player's pacing can be
// measured without waiting).
package clocktest

import (
	"sort"
	"sync"
	"time"
)

// Mode selects how the clock moves.
type Mode int

// Modes of a Clock.
const (
	Real Mode = iota
	Manual
	Auto
)

// Clock implements playback.Clock.
type Clock struct {
	mu      sync.Mutex
	mode    Mode
	now     time.Time
	waiters []waiter
	sleeps  int
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// New returns a clock in Manual or Auto mode at start.
func New(mode Mode, start time.Time) *Clock { return &Clock{mode: mode, now: start} }

// NewReal returns a clock that follows the system clock until SetMode.
func NewReal() *Clock { return &Clock{mode: Real} }

// SetMode switches the mode. Leaving Real freezes the clock at the system
// time.
func (c *Clock) SetMode(m Mode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mode == Real && m != Real {
		c.now = time.Now()
	}
	c.mode = m
	if m == Auto {
		c.fire()
	}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mode == Real {
		return time.Now()
	}
	return c.now
}

// After returns a channel that receives when d has passed on the clock.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mode == Real {
		return time.After(d)
	}
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	if c.mode == Auto {
		c.sleeps++
		c.now = c.now.Add(d)
		ch <- c.now
		c.fire()
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves a Manual clock forward, firing the waiters that fall due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fire()
}

// Sleeps counts the Afters an Auto clock has served.
func (c *Clock) Sleeps() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sleeps
}

func (c *Clock) fire() {
	sort.Slice(c.waiters, func(i, j int) bool { return c.waiters[i].at.Before(c.waiters[j].at) })
	n := 0
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- w.at
			n++
		}
	}
	c.waiters = c.waiters[n:]
}
