package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/camgate/camgate/playback"
)

// checkPlayback asserts what a viewer of the recording sees, and returns
// the frames from the first one shown on, whose RTP timestamps give their
// recorded times (requested + rtpTimestamp ms): past the lead-in, and the
// few frames after it whose clock still runs ahead.
func checkPlayback(t *testing.T, tc playbackCase, requested time.Time, frames []playedFrame, sp [2]playback.Span, posted time.Time, evs []playbackEvent) []playedFrame {
	t.Helper()
	// The first frame is a keyframe with its parameter sets: the keyframe at
	// or before the requested time, or the first one after the gap.
	if types := frames[0].types(); !frames[0].isKey() || types[0] != h264.NALUTypeSPS {
		t.Fatalf("first frame NAL types %v, want SPS, PPS, IDR", types)
	}
	// No timestamp is below the requested time's (0) or wraps, and they
	// increase.
	for i, f := range frames {
		if f.ts < 0 || i > 0 && f.ts <= frames[i-1].ts {
			t.Fatalf("frame %d: RTP timestamp %d (after %d): want from 0 (the requested time) up, never wrapping", i, f.ts, frames[max(i-1, 0)].ts)
		}
	}
	// The start event names the first frame meant to be seen, at or after
	// the requested time: the frames before it (with timestamps below its)
	// are the lead-in from the keyframe before the requested time, 1 ms
	// apart from 0, a fast-forward.
	if len(evs) == 0 || evs[0].Kind != "start" || evs[0].RTPTimestamp == nil {
		t.Fatalf("events %+v: want start first", evs)
	}
	startTS, startAt := *evs[0].RTPTimestamp, evs[0].at(t, evs[0].Time)
	lead := 0
	for lead < len(frames) && frames[lead].ts < startTS {
		if frames[lead].ts != int32(lead) {
			t.Fatalf("lead-in frame %d has timestamp %d, want %d (1 ms apart from 0)", lead, frames[lead].ts, lead)
		}
		lead++
	}
	if lead == len(frames) || frames[lead].ts != startTS {
		t.Fatalf("no frame has the start event's timestamp %d (%d frames)", startTS, len(frames))
	}
	decimated := tc.speed > 2 // 100 fps × speed is above PlaybackMaxFrameRate: keyframes only
	if decimated && lead > 0 {
		t.Errorf("a lead-in of %d frames at %vx: keyframes only, playback starts at the first keyframe after the time", lead, tc.speed)
	}
	inGap := requested.After(sp[0].End) && requested.Before(sp[1].Start)
	if !inGap {
		// The first frame shown is the one at the requested time or the
		// first after it (one frame at 100 fps); keyframes only, the
		// first keyframe after it (one a second).
		within := 10*time.Millisecond + frameTol
		if decimated {
			within = time.Second + frameTol
		}
		if d := startAt.Sub(requested); d < -time.Millisecond || d > within {
			t.Errorf("the first frame shown was recorded %v after the requested time, want 0 to %v", d, within)
		}
	}
	// The frames right after a lead-in may run ahead of recorded time on
	// the clock, 1 ms apart, until recorded time catches up. (Times in
	// events and timestamps are whole milliseconds: 1 ms of rounding.)
	ahead := time.Duration(startTS)*time.Millisecond - startAt.Sub(requested)
	if ahead < -time.Millisecond || ahead > time.Duration(lead+1)*time.Millisecond {
		t.Errorf("the first frame shown is %v ahead on the clock after a lead-in of %d frames, want 0 to %d ms", ahead, lead, lead)
	}
	exact := lead
	if ahead > time.Millisecond {
		exact++
		for exact < len(frames) && frames[exact].ts == frames[exact-1].ts+1 {
			exact++
		}
		if exact-lead > 12 {
			t.Errorf("the clock ran ahead of recorded time for %d frames after the lead-in", exact-lead)
		}
	}
	frames = frames[exact:]
	if len(frames) < 2 {
		t.Fatalf("%d frames past the lead-in", len(frames))
	}
	first := frames[0]
	if inGap {
		if d := first.at.Sub(sp[1].Start); d < -frameTol || d > frameTol {
			t.Errorf("first frame at %v, want the second span's start %v (the time is in the gap)", first.at, sp[1].Start)
		}
		// Its timestamp counts from the requested time, not from the frame.
		if first.ts <= 0 {
			t.Errorf("first frame timestamp %d, want the positive distance to the recording", first.ts)
		}
		// Without skipGaps nothing comes before the rest of the gap at
		// the speed has passed (checked for every frame below); with it,
		// the first frame comes sooner than that.
		due := time.Duration(float64(sp[1].Start.Sub(requested)) / tc.speed)
		if waited := first.arrived.Sub(posted); tc.skip && waited >= due && due > time.Second {
			t.Errorf("with skipGaps the first frame came %v after the request, want at once (not after the %v of the gap)", waited, due)
		}
	}

	keyStep := time.Duration(float64(time.Second) * tc.speed / 8)
	across, missing := -1, 0
	for i, f := range frames {
		// Every frame time is a recorded time.
		in := false
		for _, s := range sp {
			if !f.at.Before(s.Start.Add(-time.Millisecond)) && f.at.Before(s.End) {
				in = true
			}
		}
		if !in {
			t.Fatalf("frame %d at %v (ts %d) is in no recorded span %v", i, f.at, f.ts, sp)
		}
		if decimated && !f.isKey() {
			t.Fatalf("frame %d is not a keyframe at %vx (keyframes only above the frame-rate budget)", i, tc.speed)
		}
		if i == 0 {
			continue
		}
		prev := frames[i-1]
		step := f.at.Sub(prev.at)
		if step <= 0 {
			t.Fatalf("frame %d: time %v after %v: timestamps must increase", i, f.at, prev.at)
		}
		if prev.at.Before(sp[0].End) && !f.at.Before(sp[1].Start.Add(-time.Millisecond)) {
			across = i
			continue
		}
		if decimated {
			if step < keyStep-frameTol {
				t.Fatalf("frame %d: %v after the previous keyframe, want at least %v at %vx", i, step, keyStep, tc.speed)
			}
			continue
		}
		// Every frame is sent, 10 ms apart; a rare frame lost on loopback
		// (and its resends too) is tolerated.
		n := (step + 5*time.Millisecond) / (10 * time.Millisecond)
		if off := step - n*10*time.Millisecond; n < 1 || n > 5 || off < -2*time.Millisecond || off > 2*time.Millisecond {
			t.Fatalf("frame %d: %v after the previous one, want every frame, 10 ms apart", i, step)
		}
		missing += int(n - 1)
	}
	if missing > len(frames)/20 {
		t.Errorf("%d frames missing of %d: every frame is sent up to 2x", missing, len(frames)+missing)
	}

	crosses := frames[0].at.Before(sp[0].End) && frames[len(frames)-1].at.After(sp[1].Start)
	if crosses {
		if across < 0 {
			t.Fatal("no frame pair across the gap")
		}
		last, next := frames[across-1], frames[across]
		// The timestamps jump by the gap in both modes. Keyframes only,
		// the second span's first keyframe may be thinned out.
		late := frameTol
		if decimated {
			late += keyStep
		}
		if d := next.at.Sub(sp[1].Start); d < -frameTol || d > late {
			t.Errorf("first frame after the gap at %v, want the second span's start %v", next.at, sp[1].Start)
		}
		lastDur := 10 * time.Millisecond
		if decimated {
			lastDur = keyStep + time.Second
		}
		if d := sp[0].End.Sub(last.at); d < 0 || d > lastDur+frameTol {
			t.Errorf("last frame before the gap at %v, want within %v of the first span's end %v", last.at, lastDur, sp[0].End)
		}
		jump := time.Duration(next.ts-last.ts) * time.Millisecond
		if jump < sp[1].Start.Sub(sp[0].End) {
			t.Errorf("the RTP timestamp jumps %v across the gap, want at least the gap %v", jump, sp[1].Start.Sub(sp[0].End))
		}
		// With skipGaps the next recording comes sooner than the gap at
		// the speed would take; without it, the schedule below holds it
		// back that long.
		waited, due := next.arrived.Sub(last.arrived), time.Duration(float64(jump)/tc.speed)
		if tc.skip && due > 400*time.Millisecond && waited >= due {
			t.Errorf("with skipGaps the gap took %v, want at once (not %v)", waited, due)
		}
	}

	// Pacing: frame f is due at wall0 + (time_f - time0)/speed on one
	// schedule (docs/recording.md), and wall0 is no earlier than the
	// request; without skipGaps the wait for the end of a gap is on the
	// schedule, with it a new schedule starts after the gap, no earlier
	// than the last frame before it was due. A busy machine only delays
	// frames, so no frame may arrive before it is due: this holds for
	// every frame however loaded the machine is, where a ratio of recorded
	// to arrival time over a stretch did not. (The exact pacing, in
	// virtual time, is playback's TestPlayback.)
	start := first.at
	if inGap && !tc.skip {
		start = requested
	}
	var offset time.Duration // the schedule's wall0, at the earliest, after the request
	for i, f := range frames {
		if i == across && tc.skip {
			offset += time.Duration(float64(frames[i-1].at.Sub(start)) / tc.speed)
			start = f.at
		}
		due := offset + time.Duration(float64(f.at.Sub(start))/tc.speed)
		if got := f.arrived.Sub(posted); got < due-frameTol {
			t.Fatalf("frame %d (recorded at %v) arrived %v after the request, before it was due (%v at %vx)",
				i, f.at.Format("15:04:05.000"), got, due, tc.speed)
		}
	}
	stretches := [][]playedFrame{frames}
	if across > 0 && tc.skip {
		stretches = [][]playedFrame{frames[:across], frames[across:]}
	}
	for _, s := range stretches {
		if wall := s[len(s)-1].arrived.Sub(s[0].arrived); len(s) > 1 && wall > 0 {
			media := s[len(s)-1].at.Sub(s[0].at)
			t.Logf("%d frames: %v of recording in %v: %.2fx", len(s), media, wall, float64(media)/float64(wall))
		}
	}
	return frames
}

// checkEvents asserts the playback events of the commands channel; frames
// are those whose timestamps give their recorded times (checkPlayback).
func checkEvents(t *testing.T, tc playbackCase, requested time.Time, frames []playedFrame, evs []playbackEvent, sp [2]playback.Span) {
	t.Helper()
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	got, want := strings.Join(kinds, ","), strings.Join(tc.events, ",")
	// Faster than 1x playback ends at the live edge, which it may have
	// reached already.
	if got != want && !(tc.speed > 1 && got == want+",end") {
		t.Fatalf("playback events %v, want %v", kinds, tc.events)
	}
	near := func(what string, got, want time.Time) {
		t.Helper()
		if d := got.Sub(want); d < -frameTol || d > frameTol {
			t.Errorf("%s at %v, want %v", what, got, want)
		}
	}
	for _, e := range evs {
		if e.ClockRate != 1000 || e.Speed != tc.speed || e.RTPTimestamp == nil {
			t.Errorf("event %+v: want clockRate 1000, speed %v and an rtpTimestamp", e, tc.speed)
			continue
		}
		at := e.at(t, e.Time)
		if e.Kind == "start" {
			continue // checkPlayback: its timestamp is the first shown frame's, which may run ahead
		}
		// The event's timestamp is its time on the session's clock.
		near(e.Kind+" event's rtpTimestamp", requested.Add(time.Duration(*e.RTPTimestamp)*time.Millisecond), at)
		switch e.Kind {
		case "gap":
			until := e.at(t, e.Until)
			near("gap event's end", until, sp[1].Start)
			if requested.After(sp[0].End) && requested.Before(sp[1].Start) {
				near("gap event (from the gap)", at, sp[0].End)
			} else {
				near("gap event", at, sp[0].End)
			}
		case "resume":
			// The first frame after the gap.
			for _, f := range frames {
				if !f.at.Before(sp[1].Start.Add(-time.Millisecond)) {
					near("resume event", at, f.at)
					break
				}
			}
		case "end":
			if at.Before(frames[len(frames)-1].at) {
				t.Errorf("end event at %v, before the last frame received %v", at, frames[len(frames)-1].at)
			}
		}
	}
}
