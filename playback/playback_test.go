package playback

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camgate/camgate/appsettings"
)

func TestPlayback(t *testing.T) {
	t.Parallel()
	dir := fixtureDir(t)
	c := loadClip(t)
	// Each case plays in a bubble of its own, with a store of the fixture
	// (and settings changed by mut).
	play := func(name string, mut func(*appsettings.Recording), f func(t *testing.T, s *Store)) {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { f(t, openStore(t, dir, testRecording(mut))) })
		})
	}

	play("inside a span at 1x, through the gap", nil, func(t *testing.T, s *Store) {
		T := t0.Add(30500 * time.Millisecond)
		got := playAll(t, s, PlayRequest{CameraID: testCam, Start: T, Speed: 1}, 0)
		wantFrames := (75-28)*25 + runBFrames
		if len(got.frames) != wantFrames {
			t.Fatalf("%d frames, want %d", len(got.frames), wantFrames)
		}
		// The lead-in: the keyframe at 28 s and the frames up to T (62
		// of them, the last at 30.48 s), 1 ms apart on the clock from 0,
		// 8 times faster than recorded (5 ms apart).
		const lead = 63
		first := got.frames[0]
		if !first.Frame.Key || first.Time != t0.Add(28*time.Second) || first.Offset != 0 || !first.LeadIn {
			t.Fatalf("first frame key=%v time=%v offset=%v lead-in=%v, want the keyframe at 28 s, offset 0, a lead-in",
				first.Frame.Key, first.Time, first.Offset, first.LeadIn)
		}
		if got.walls[0] != got.opened {
			t.Errorf("first frame came %v after Open, want at once", got.walls[0].Sub(got.opened))
		}
		for i, f := range got.frames[:lead] {
			if !f.LeadIn || f.Offset != time.Duration(i)*time.Millisecond || got.walls[i].Sub(got.walls[0]) != time.Duration(i)*frameDur/8 {
				t.Fatalf("lead-in frame %d: lead-in=%v offset %v after %v, want offset %d ms after %v",
					i, f.LeadIn, f.Offset, got.walls[i].Sub(got.walls[0]), i, time.Duration(i)*frameDur/8)
			}
		}
		// The first frame shown is the first at or after T (30.52 s, 20 ms
		// after it); the clock, 62 ms when the lead-in ended, goes on from
		// there 1 ms a frame until recorded time catches up, 2 frames on.
		shown := got.frames[lead]
		if shown.LeadIn || shown.Time != T.Add(20*time.Millisecond) || shown.Offset != 63*time.Millisecond {
			t.Fatalf("first frame after the lead-in: lead-in=%v at %v offset %v, want 30.52 s at 63 ms", shown.LeadIn, shown.Time, shown.Offset)
		}
		for i, want := range []time.Duration{63, 64, 100, 140} {
			if f := got.frames[lead+i]; f.Offset != want*time.Millisecond {
				t.Fatalf("frame %d after T: offset %v, want %d ms", i, f.Offset, want)
			}
		}
		// Playback paces from T: the first frame shown comes its distance
		// to T after the lead-in.
		if d := got.walls[lead].Sub(got.walls[lead-1]); d != 20*time.Millisecond {
			t.Errorf("the first frame shown came %v after the lead-in, want 20ms", d)
		}
		for i, f := range got.frames {
			if i > 0 && f.RTPTimestamp(1000) <= got.frames[i-1].RTPTimestamp(1000) {
				t.Fatalf("frame %d: RTP timestamp %d after %d", i, f.RTPTimestamp(1000), got.frames[i-1].RTPTimestamp(1000))
			}
			if f.Frame.PTS != int64(f.Offset/time.Millisecond)*90 {
				t.Fatalf("frame %d PTS %d for offset %v", i, f.Frame.PTS, f.Offset)
			}
		}
		for i, f := range got.frames {
			// Recorded times: run A from 28 s, then run B from 120 s.
			var want time.Time
			var k int
			if i < (75-28)*25 {
				k = 28*25 + i
				want = t0.Add(time.Duration(k) * frameDur)
			} else {
				k = i - (75-28)*25
				want = runBStart.Add(time.Duration(k) * frameDur)
			}
			if f.Time != want || (i >= lead+2 && f.Offset != want.Sub(T)) {
				t.Fatalf("frame %d at %v offset %v, want %v", i, f.Time, f.Offset, want)
			}
			if f.Frame.Key != (k%clipGOP == 0) || !sameAU(f.Frame.AU, clipAU(c, k)) {
				t.Fatalf("frame %d (clip frame %d) differs from what the camera sent", i, k)
			}
			// Pacing: from T on the wall clock runs with media time, gap
			// included.
			if d := got.walls[i].Sub(got.walls[lead]); i >= lead && d != f.Time.Sub(shown.Time) {
				t.Fatalf("frame %d went out %v after the first shown, want %v", i, d, f.Time.Sub(shown.Time))
			}
			if i%97 == 0 || f.Frame.Key {
				checkFrameShape(t, f.Frame)
			}
		}
		gapFrame := got.frames[(75-28)*25]
		if gapFrame.RTPTimestamp(1000) != 89500 || gapFrame.RTPTimestamp(90000) != 89500*90 {
			t.Errorf("after the gap RTP ts %d (ms), %d (90k), want 89500 ms: the clock jumps over the gap",
				gapFrame.RTPTimestamp(1000), gapFrame.RTPTimestamp(90000))
		}
		checkEvents(t, got.events, []Event{
			{Type: EventStart, Time: shown.Time, Offset: 63 * time.Millisecond},
			{Type: EventGap, Time: runAEnd, Until: runBStart, Offset: 44500 * time.Millisecond},
			{Type: EventResume, Time: runBStart, Offset: 89500 * time.Millisecond},
			{Type: EventEnd, Time: runBEnd, Offset: 139500 * time.Millisecond},
		}, 1)
		if st := got.player.Stats(); st.Frames != uint64(wantFrames) || st.KeyframesOnly || st.DroppedEvents != 0 {
			t.Errorf("player stats %+v", st)
		}
	})

	play("inside the gap at 4x without skipping", nil, func(t *testing.T, s *Store) {
		T := t0.Add(100 * time.Second)
		got := playAll(t, s, PlayRequest{CameraID: testCam, Start: T, Speed: 4}, 0)
		first := got.frames[0]
		if !first.Frame.Key || first.Time != runBStart || first.Offset != 20*time.Second {
			t.Fatalf("first frame %v offset %v, want the first keyframe after the gap", first.Time, first.Offset)
		}
		// Nothing is sent in the gap: the first frame is due (120-100)/4 s
		// after the request.
		if d := got.walls[0].Sub(got.opened); d != 5*time.Second {
			t.Errorf("first frame after %v, want 5s", d)
		}
		// 25 fps × 4 = 100 fps > 60: keyframes only, one per 4 s of media.
		if len(got.frames) != 13 {
			t.Errorf("%d frames, want 13 keyframes", len(got.frames))
		}
		for i, f := range got.frames {
			if !f.Frame.Key || f.Time != runBStart.Add(time.Duration(i)*4*time.Second) {
				t.Fatalf("frame %d key=%v at %v", i, f.Frame.Key, f.Time)
			}
			if d := got.walls[i].Sub(got.walls[0]); d != f.Time.Sub(first.Time)/4 {
				t.Fatalf("frame %d after %v, want %v", i, d, f.Time.Sub(first.Time)/4)
			}
		}
		checkEvents(t, got.events, []Event{
			{Type: EventStart, Time: runBStart, Offset: 20 * time.Second},
			{Type: EventGap, Time: runAEnd, Until: runBStart, Offset: -25 * time.Second},
			{Type: EventResume, Time: runBStart, Offset: 20 * time.Second},
			{Type: EventEnd, Time: runBStart.Add(48*time.Second + frameDur), Offset: 68*time.Second + frameDur},
		}, 4)
		if !got.player.Stats().KeyframesOnly {
			t.Error("stats do not report keyframes only")
		}
	})

	play("inside the gap with skipGaps", nil, func(t *testing.T, s *Store) {
		T := t0.Add(100 * time.Second)
		got := playAll(t, s, PlayRequest{CameraID: testCam, Start: T, Speed: 1, SkipGaps: true}, 50)
		if got.frames[0].Time != runBStart || got.walls[0] != got.opened || got.frames[0].Offset != 20*time.Second {
			t.Fatalf("first frame %v after %v, want the next recording at once", got.frames[0].Time, got.walls[0].Sub(got.opened))
		}
		for i, f := range got.frames {
			if d := got.walls[i].Sub(got.walls[0]); d != time.Duration(i)*frameDur || f.Time != runBStart.Add(time.Duration(i)*frameDur) {
				t.Fatalf("frame %d at %v after %v", i, f.Time, d)
			}
		}
		checkEvents(t, got.events, []Event{
			{Type: EventStart, Time: runBStart, Offset: 20 * time.Second},
			{Type: EventGap, Time: runAEnd, Until: runBStart, Offset: -25 * time.Second},
			{Type: EventResume, Time: runBStart, Offset: 20 * time.Second},
		}, 1)
	})

	for _, skip := range []bool{false, true} {
		name := "32x without skipping"
		if skip {
			name = "32x with skipGaps"
		}
		play(name, nil, func(t *testing.T, s *Store) {
			T := t0.Add(10 * time.Second)
			got := playAll(t, s, PlayRequest{CameraID: testCam, Start: T, Speed: 32, SkipGaps: skip}, 0)
			// Keyframes only, from the first at or after T: 12, … 72 s,
			// then 120 … 168 s.
			if len(got.frames) != 16+13 {
				t.Fatalf("%d frames, want 29 keyframes", len(got.frames))
			}
			for i, f := range got.frames {
				want := t0.Add(time.Duration(12+4*i) * time.Second)
				if i >= 16 {
					want = runBStart.Add(time.Duration(4*(i-16)) * time.Second)
				}
				if !f.Frame.Key || f.Time != want || f.Offset != want.Sub(T) || f.LeadIn {
					t.Fatalf("frame %d key=%v at %v offset %v lead-in %v, want %v", i, f.Frame.Key, f.Time, f.Offset, f.LeadIn, want)
				}
				checkFrameShape(t, f.Frame)
			}
			// Pacing within a run: 4 s of media per 125 ms.
			for i := 1; i < len(got.frames); i++ {
				d := got.walls[i].Sub(got.walls[i-1])
				want := 125 * time.Millisecond
				if i == 16 {
					want = (runBStart.Sub(t0.Add(72 * time.Second))) / 32 // the gap at 32x
					if skip {
						want = 0 // at once
					}
				}
				if d != want {
					t.Fatalf("frame %d came %v after the previous, want %v", i, d, want)
				}
			}
		})
	}

	play("before the oldest recording", nil, func(t *testing.T, s *Store) {
		T := t0.Add(-10 * time.Second)
		_, err := s.Open(context.Background(), PlayRequest{CameraID: testCam, Start: T, Speed: 1})
		var re *RangeError
		if !errors.As(err, &re) || re.Oldest != t0 || re.Newest != runBEnd {
			t.Fatalf("err = %v, want a RangeError with the range", err)
		}
		for _, want := range []string{"before the oldest recording", "2026-01-15T10:00:00.000Z", "2026-01-15T10:02:50.000Z"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q lacks %q", err, want)
			}
		}
		got := playAll(t, s, PlayRequest{CameraID: testCam, Start: T, Speed: 2, SkipGaps: true}, 3)
		if got.frames[0].Time != t0 || got.frames[0].Offset != 10*time.Second || got.walls[0] != got.opened {
			t.Errorf("with skipGaps: first frame %v offset %v", got.frames[0].Time, got.frames[0].Offset)
		}
		checkEvents(t, got.events, []Event{
			{Type: EventStart, Time: t0, Offset: 10 * time.Second},
			{Type: EventGap, Time: T, Until: t0, Offset: 0},
			{Type: EventResume, Time: t0, Offset: 10 * time.Second},
		}, 2)
	})

	play("after the newest recording", nil, func(t *testing.T, s *Store) {
		for _, skip := range []bool{false, true} {
			_, err := s.Open(context.Background(), PlayRequest{CameraID: testCam, Start: runBEnd, Speed: 1, SkipGaps: skip})
			var re *RangeError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), "after the newest recording; recordings are available from 2026-01-15T10:00:00.000Z to 2026-01-15T10:02:50.000Z") {
				t.Errorf("err = %v", err)
			}
		}
	})

	play("bad requests", nil, func(t *testing.T, s *Store) {
		for _, speed := range []float64{0, -1, 32.5, math.NaN(), math.Inf(1)} {
			_, err := s.Open(context.Background(), PlayRequest{CameraID: testCam, Start: t0, Speed: speed})
			var re *RequestError
			if !errors.As(err, &re) || re.Field != "speed" || !strings.HasPrefix(err.Error(), "speed: must be more than 0 and at most 32 (got ") {
				t.Errorf("speed %v: %v", speed, err)
			}
		}
		if _, err := s.Open(context.Background(), PlayRequest{CameraID: "../etc", Start: t0, Speed: 1}); !isRequestError(err, "cameraId") {
			t.Errorf("bad camera id: %v", err)
		}
		if _, err := s.Open(context.Background(), PlayRequest{CameraID: testCam, Speed: 1}); !isRequestError(err, "playbackTime") {
			t.Errorf("no time: %v", err)
		}
		_, err := s.Open(context.Background(), PlayRequest{CameraID: "22222222-3333-4444-5555-666666666666", Start: t0, Speed: 1})
		var re *RangeError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "has no recordings") {
			t.Errorf("camera without recordings: %v", err)
		}
	})

	play("spans", nil, func(t *testing.T, s *Store) {
		ctx := context.Background()
		got, err := s.Spans(ctx, strings.ToLower(testCam), t0.Add(-time.Hour), t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []Span{{t0, runAEnd}, {runBStart, runBEnd}}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("spans %v, want %v", got, want)
		}
		got, _ = s.Spans(ctx, testCam, t0.Add(30*time.Second), t0.Add(130*time.Second))
		want = []Span{{t0.Add(30 * time.Second), runAEnd}, {runBStart, t0.Add(130 * time.Second)}}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("clipped spans %v, want %v", got, want)
		}
		if got, _ := s.Spans(ctx, testCam, t0.Add(80*time.Second), t0.Add(90*time.Second)); len(got) != 0 {
			t.Errorf("spans in the gap: %v", got)
		}
		if _, err := s.Spans(ctx, testCam, t0, t0); !isRequestError(err, "to") {
			t.Errorf("empty range: %v", err)
		}
		lo, hi, ok, err := s.Range(ctx, testCam)
		if err != nil || !ok || lo != t0 || hi != runBEnd {
			t.Errorf("Range = %v %v %v %v", lo, hi, ok, err)
		}
	})
	// A store with a frame budget above 100 fps sends every frame at 4x.
	play("4x with every frame", func(r *appsettings.Recording) { r.PlaybackMaxFrameRate = 200 }, func(t *testing.T, rich *Store) {
		T := t0.Add(61 * time.Second)
		got := playAll(t, rich, PlayRequest{CameraID: testCam, Start: T, Speed: 4, SkipGaps: true}, 0)
		if len(got.frames) != (75-60)*25+runBFrames {
			t.Fatalf("%d frames, want %d", len(got.frames), (75-60)*25+runBFrames)
		}
		// The lead-in from the keyframe at 60 s goes at 8x; the frame at T
		// (61 s) right after it, then every frame at 4x.
		for i, f := range got.frames[:375] {
			wall := time.Duration(i) * frameDur / 8
			if i >= 25 {
				wall = 24*frameDur/8 + time.Duration(i-25)*frameDur/4
			}
			if f.Time != t0.Add(60*time.Second+time.Duration(i)*frameDur) || got.walls[i].Sub(got.walls[0]) != wall || f.LeadIn != (i < 25) {
				t.Fatalf("frame %d at %v after %v lead-in %v, want after %v", i, f.Time, got.walls[i].Sub(got.walls[0]), f.LeadIn, wall)
			}
		}
		if got.walls[375] != got.walls[374] {
			t.Errorf("skipGaps: the first frame after the gap came %v late", got.walls[375].Sub(got.walls[374]))
		}
	})

	// ~700 kbit/s × 3 is above a budget of 1000 kbit/s: keyframes only, even
	// at 3x; at 32x with 2 keyframes per second, one IDR per 16 s.
	play("bitrate budget and keyframe thinning", func(r *appsettings.Recording) {
		r.PlaybackMaxBitrate = 1000
		r.PlaybackMaxFrameRate = 1000
		r.PlaybackKeyframeRate = 2
	}, func(t *testing.T, lean *Store) {
		got := playAll(t, lean, PlayRequest{CameraID: testCam, Start: t0.Add(10 * time.Second), Speed: 3}, 0)
		if len(got.frames) != 16+13 || !got.player.Stats().KeyframesOnly {
			t.Errorf("3x over the bitrate budget: %d frames, want 29 keyframes", len(got.frames))
		}
		got = playAll(t, lean, PlayRequest{CameraID: testCam, Start: t0.Add(10 * time.Second), Speed: 32}, 0)
		var times []time.Duration
		for _, f := range got.frames {
			times = append(times, f.Time.Sub(t0))
		}
		want := []time.Duration{12, 28, 44, 60, 120, 136, 152, 168}
		if len(times) != len(want) {
			t.Fatalf("keyframes at %v, want %v s", times, want)
		}
		for i := range want {
			if times[i] != want[i]*time.Second {
				t.Fatalf("keyframes at %v, want %v s", times, want)
			}
		}
	})

}

// TestPlaybackStartsAtT plays from times inside a GOP (issue 15): the
// frames from the keyframe before T up to T are a lead-in stamped from 0
// up, so no RTP timestamp is ever below T's (0) or wraps, and the first
// frame after the lead-in, the first the viewer is meant to see, is the one
// at T or the first after it. Then the clock meets recorded time.
func TestPlaybackStartsAtT(t *testing.T) {
	t.Parallel()
	dir := fixtureDir(t)
	kf := t0.Add(28 * time.Second) // a keyframe; the next is at 32 s
	for _, tc := range []struct {
		at    time.Duration // T after kf
		speed float64
	}{
		{0, 1},                                  // on the keyframe: no lead-in
		{time.Millisecond, 1},                   // just after it
		{frameDur, 1},                           // on a frame
		{2500 * time.Millisecond, 1},            // between frames
		{2500 * time.Millisecond, 0.5},          // slower
		{2500 * time.Millisecond, 2},            // faster, every frame
		{4*time.Second - time.Millisecond, 1},   // just before the next keyframe
		{4*time.Second - time.Millisecond, 1.5}, // the same, faster
	} {
		t.Run(fmt.Sprintf("T=kf+%v at %vx", tc.at, tc.speed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := openStore(t, dir, testRecording(nil))
				T := kf.Add(tc.at)
				// The frames before T, then 2 s of recording.
				lead := int((tc.at + frameDur - 1) / frameDur)
				got := playAll(t, s, PlayRequest{CameraID: testCam, Start: T, Speed: tc.speed}, lead+50)
				for i, f := range got.frames {
					for _, rate := range []uint32{1000, 90000} {
						ts := f.RTPTimestamp(rate)
						if int32(ts) < 0 {
							t.Fatalf("frame %d (%v): RTP timestamp %d at %d Hz is below T's (0) or wrapped", i, f.Time, ts, rate)
						}
						if i > 0 && ts <= got.frames[i-1].RTPTimestamp(rate) {
							t.Fatalf("frame %d: RTP timestamp %d at %d Hz after %d", i, ts, rate, got.frames[i-1].RTPTimestamp(rate))
						}
					}
					if f.LeadIn != (i < lead) || f.LeadIn != f.Time.Before(T) {
						t.Fatalf("frame %d at %v: lead-in %v; want the %d frames before T %v", i, f.Time.Sub(kf), f.LeadIn, lead, tc.at)
					}
				}
				shown := got.frames[lead]
				if d := shown.Time.Sub(T); d < 0 || d >= frameDur {
					t.Fatalf("the first frame shown is %v after T, want the one at T or the first after it", d)
				}
				// The clock at the first frame shown: at most one step per
				// lead-in frame ahead of its recorded time.
				if d := shown.Offset - shown.Time.Sub(T); d < 0 || d > time.Duration(lead)*time.Millisecond {
					t.Fatalf("the first frame shown is at %v on the clock, %v recorded after T: %v ahead, want at most %d ms",
						shown.Offset, shown.Time.Sub(T), d, lead)
				}
				// Three frames later the clock is recorded time again.
				for i, f := range got.frames[lead:] {
					if i >= 3 && f.Offset != f.Time.Sub(T) {
						t.Fatalf("frame %d after T at %v has offset %v: the clock never met recorded time", i, f.Time.Sub(T), f.Offset)
					}
				}
				// Paced from T: the first frame shown comes its distance to
				// T (at the speed) after the lead-in.
				if lead > 0 {
					want := time.Duration(float64(shown.Time.Sub(T)) / tc.speed)
					if d := got.walls[lead].Sub(got.walls[lead-1]); d != want {
						t.Errorf("the first frame shown came %v after the lead-in, want %v", d, want)
					}
					if d := got.walls[lead-1].Sub(got.opened); d > time.Duration(lead)*frameDur/8 {
						t.Errorf("the lead-in of %d frames took %v, want at most %v (8x)", lead, d, time.Duration(lead)*frameDur/8)
					}
				}
				fromT := func(f PlayFrame) time.Duration { return time.Duration(float64(f.Time.Sub(T)) / tc.speed) }
				for i := lead + 1; i < len(got.frames); i++ {
					want := fromT(got.frames[i]) - fromT(shown)
					if d := got.walls[i].Sub(got.walls[lead]); d != want {
						t.Fatalf("frame %d came %v after the first shown, want %v", i, d, want)
					}
				}
				// The start event names the first frame shown.
				if len(got.events) == 0 || got.events[0].Type != EventStart || got.events[0].Time != shown.Time || got.events[0].Offset != shown.Offset {
					t.Fatalf("events %+v: want start at %v, offset %v first", got.events, shown.Time, shown.Offset)
				}
			})
		})
	}
	// Keyframes only (32x), nothing needs decoding before T: no lead-in,
	// the first frame is the first keyframe after T, at once.
	t.Run("keyframes only", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := openStore(t, dir, testRecording(nil))
			T := kf.Add(2500 * time.Millisecond)
			got := playAll(t, s, PlayRequest{CameraID: testCam, Start: T, Speed: 32}, 3)
			f := got.frames[0]
			if f.LeadIn || !f.Frame.Key || f.Time != kf.Add(4*time.Second) || f.Offset != 1500*time.Millisecond || got.walls[0] != got.opened {
				t.Fatalf("first frame lead-in=%v key=%v at %v offset %v after %v, want the keyframe at 32 s, offset 1.5 s, at once",
					f.LeadIn, f.Frame.Key, f.Time, f.Offset, got.walls[0].Sub(got.opened))
			}
		})
	})
}

func isRequestError(err error, field string) bool {
	var re *RequestError
	return errors.As(err, &re) && re.Field == field
}

// checkEvents compares events (the speed is checked separately).
func checkEvents(t *testing.T, got, want []Event, speed float64) {
	t.Helper()
	for i := range want {
		want[i].Speed = speed
	}
	if len(got) != len(want) {
		t.Fatalf("events:\n  got  %+v\n  want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d:\n  got  %+v\n  want %+v", i, got[i], want[i])
		}
	}
}

func TestPlayerCloseAndCancel(t *testing.T) {
	t.Parallel()
	dir := fixtureDir(t)
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t, dir, testRecording(nil))
		// T is in the gap: the first frame is due 20 s after Open.
		p, err := s.Open(context.Background(), PlayRequest{CameraID: testCam, Start: t0.Add(100 * time.Second), Speed: 1})
		if err != nil {
			t.Fatal(err)
		}
		opened := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := p.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Next in the gap = %v, want the context's error", err)
		}
		// The frame is kept: once due, it comes.
		f, err := p.Next(context.Background())
		if err != nil || f.Time != runBStart || time.Since(opened) != 20*time.Second {
			t.Fatalf("Next after the wait = %v, %v, %v after Open", f.Time, err, time.Since(opened))
		}
		done := make(chan error)
		go func() {
			_, err := p.Next(context.Background())
			done <- err
		}()
		synctest.Wait() // Next waits for the next frame's due time
		p.Close()
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Fatalf("Next during Close = %v, want ErrClosed", err)
		}
		var types []EventType
		for e := range p.Events() {
			types = append(types, e.Type)
		}
		if strings.Join(eventNames(types), ",") != "start,gap,resume" {
			t.Errorf("events %v", types)
		}
	})
}

func eventNames(ts []EventType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}
