package appsettings

import (
	"strconv"
	"time"
)

// recording checks the Recording section and each camera's Recording. A
// camera's Retain of "0s" stays as it is: it means Recording.Retain (see
// Settings.CameraRecording).
func (v *validator) recording(r *Recording, cams []Camera) {
	v.durationRange("Recording.SegmentDuration", r.SegmentDuration, 10*time.Second, 5*time.Minute)
	v.durationRange("Recording.FragmentDuration", r.FragmentDuration, 100*time.Millisecond, time.Second)
	v.durationRange("Recording.MaxDrift", r.MaxDrift, 100*time.Millisecond, time.Minute)
	v.durationRange("Recording.SyncInterval", r.SyncInterval, 0, time.Minute)
	v.intRange("Recording.QueueFrames", r.QueueFrames, 64, 65536)
	v.retain("Recording.Retain", r.Retain)
	if r.QuotaMB != 0 && (r.QuotaMB < 10 || r.QuotaMB > 1_000_000_000) {
		v.fail("Recording.QuotaMB", "must be 0 (no quota) or from 10 to 1000000000 (got "+strconv.Itoa(r.QuotaMB)+")")
	}
	v.intRange("Recording.PlaybackMaxBitrate", r.PlaybackMaxBitrate, 100, 10_000_000)
	v.intRange("Recording.PlaybackMaxFrameRate", r.PlaybackMaxFrameRate, 1, 1000)
	v.intRange("Recording.PlaybackKeyframeRate", r.PlaybackKeyframeRate, 1, 100)
	v.durationRange("Recording.MaxExportDuration", r.MaxExportDuration, time.Second, 24*time.Hour)
	for i := range cams {
		v.retain(indexPath("Cameras", i)+".Recording.Retain", cams[i].Recording.Retain)
	}
}

// retain checks an age limit: 0s (none) or at least a minute, at most ten years.
func (v *validator) retain(path string, d Duration) {
	if d != 0 && (time.Duration(d) < time.Minute || time.Duration(d) > 87600*time.Hour) {
		v.fail(path, "must be 0s (no age limit) or from 1m to 87600h (got "+d.String()+")")
	}
}

func (v *validator) durationRange(path string, d Duration, lo, hi time.Duration) {
	if time.Duration(d) < lo || time.Duration(d) > hi {
		v.fail(path, "must be from "+shortDur(lo)+" to "+shortDur(hi)+" (got "+d.String()+")")
	}
}

func (v *validator) intRange(path string, n, lo, hi int) {
	if n < lo || n > hi {
		v.fail(path, "must be from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+" (got "+strconv.Itoa(n)+")")
	}
}

// shortDur writes a bound the way the docs do: "1m", not "1m0s".
func shortDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}
