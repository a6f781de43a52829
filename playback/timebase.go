package playback

import (
	"time"

	"github.com/camgate/camgate/playback/internal/segfile"
)

// Media time is counted in ticks of the 90 kHz track clock; recorded wall
// times in Unix nanoseconds. Every conversion goes through these two
// functions so that the recorder (which writes keyframe times into the
// index) and the player (which computes sample times from the file) agree
// to the nanosecond.

// ticksToNs converts a non-negative tick count to nanoseconds (floor). It
// does not overflow below 2^63/100000 ticks (32 years).
func ticksToNs(t int64) int64 { return t * 100000 / 9 }

// ticksToDur converts ticks to a duration.
func ticksToDur(t int64) time.Duration { return time.Duration(ticksToNs(t)) }

// durToTicks converts a non-negative duration to ticks (floor), without
// overflow for any duration.
func durToTicks(d time.Duration) int64 {
	return int64(d/time.Second)*segfile.TimeScale + int64(d%time.Second)*segfile.TimeScale/int64(time.Second)
}

// nsTime converts Unix nanoseconds to a UTC time.
func nsTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }
