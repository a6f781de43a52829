package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/playback"
)

// watcherUser may watch the harness camera live, nothing more: no
// playback, no export.
const watcherUser = "watcher"

// frameTol is how closely a frame time read from RTP timestamps must match
// a recorded time: one frame at the recording's 100 fps, plus the rounding
// to whole milliseconds.
const frameTol = 11 * time.Millisecond

// recordedEnv is the harness with recording on for its camera, which runs
// at 100 fps (an IDR every second), and the recording made: a first span,
// an outage of the camera (a gap), and a second span that is still being
// recorded. testUser has the live, playback and export rights; watcherUser
// only live.
func recordedEnv(t *testing.T) (*testEnv, [2]playback.Span) {
	t.Helper()
	env := newTestEnv(t, envOptions{inBandParams: true, fps: 100, mutate: func(s *appsettings.Settings) {
		s.Cameras[0].Recording.Enabled = true
		s.Auth.Roles[0].Playback = []string{"*"}
		s.Auth.Roles[0].Export = []string{"*"}
		s.Auth.Roles = append(s.Auth.Roles, appsettings.Role{Name: "live only", Live: []string{"*"}})
		s.Auth.Users = append(s.Auth.Users, appsettings.User{Username: watcherUser, PasswordHash: s.Auth.Users[0].PasswordHash, Roles: []string{"live only"}})
	}})
	rec := env.recorders[strings.ToLower(testCameraID)]
	if rec == nil {
		t.Fatal("the harness built no recorder for a camera with recording enabled")
	}
	spans := func() []playback.Span {
		sp, err := env.store.Spans(context.Background(), testCameraID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	waitFor := func(what string, cond func([]playback.Span) bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for sp := spans(); !cond(sp); sp = spans() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: spans %v, recorder %+v", what, sp, rec.Stats())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("4 s of recording", func(sp []playback.Span) bool {
		return len(sp) == 1 && sp[0].End.Sub(sp[0].Start) >= 4*time.Second
	})
	env.camera.Close() // the camera goes away: the run ends after 2 s of silence
	time.Sleep(3 * time.Second)
	if err := env.camera.Start(); err != nil { // …and comes back
		t.Fatal(err)
	}
	waitFor("a second span of 5 s", func(sp []playback.Span) bool {
		return len(sp) == 2 && sp[1].End.Sub(sp[1].Start) >= 5*time.Second
	})
	sp := spans()
	t.Logf("recorded %v – %v, gap of %v, then from %v (recorder %+v)", sp[0].Start.Format("15:04:05.000"), sp[0].End.Format("15:04:05.000"),
		sp[1].Start.Sub(sp[0].End), sp[1].Start.Format("15:04:05.000"), rec.Stats())
	if st := rec.Stats(); st.Dropped != 0 || st.WriteErrors != 0 {
		t.Fatalf("recorder lost frames: %+v", st)
	}
	return env, [2]playback.Span{sp[0], sp[1]}
}

// forTest is the environment with t as the test that fails, so that
// parallel subtests never fail their parent from their own goroutine.
func (e *testEnv) forTest(t *testing.T) *testEnv {
	c := *e
	c.t = t
	return &c
}

// playbackEvent is a "playback" event of the commands channel.
type playbackEvent struct {
	Kind         string  `json:"kind"`
	Time         string  `json:"time"`
	Until        string  `json:"until"`
	RTPTimestamp *int32  `json:"rtpTimestamp"`
	ClockRate    int     `json:"clockRate"`
	Speed        float64 `json:"speed"`
}

func (e playbackEvent) at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("event %+v: time %q: %v", e, s, err)
	}
	return v
}

// events returns the playback events of the commands channel: it waits up
// to timeout for n, then a little more for any unexpected one.
func (c *xprotectClient) events(n int, timeout time.Duration) []playbackEvent {
	c.t.Helper()
	var out []playbackEvent
	deadline := time.After(timeout)
	for {
		wait := deadline
		if len(out) >= n {
			wait = time.After(300 * time.Millisecond)
		}
		select {
		case m := <-c.cmdReplys:
			var msg struct {
				Type   string          `json:"type"`
				Event  string          `json:"event"`
				Params json.RawMessage `json:"params"`
			}
			if err := json.Unmarshal([]byte(m), &msg); err != nil || msg.Type != "event" || msg.Event != "playback" {
				c.t.Fatalf("commands channel message %s: want a playback event", m)
			}
			var e playbackEvent
			if err := json.Unmarshal(msg.Params, &e); err != nil {
				c.t.Fatalf("playback event %s: %v", m, err)
			}
			out = append(out, e)
		case <-wait:
			return out
		}
	}
}

// playedFrame is a received frame with the recorded time its RTP
// timestamp stands for: the requested time plus the signed milliseconds.
type playedFrame struct {
	receivedFrame
	ts int32
	at time.Time
}

func played(frames []receivedFrame, requested time.Time) []playedFrame {
	out := make([]playedFrame, len(frames))
	for i, f := range frames {
		ts := int32(f.timestamp)
		out[i] = playedFrame{receivedFrame: f, ts: ts, at: requested.Add(time.Duration(ts) * time.Millisecond)}
	}
	return out
}

// waitPlayed waits until a received frame's time satisfies done.
func (c *xprotectClient) waitPlayed(requested time.Time, timeout time.Duration, done func(playedFrame) bool) []playedFrame {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for n := 1; ; n++ {
		fs := played(c.waitFrames(n, time.Until(deadline)), requested)
		if done(fs[len(fs)-1]) {
			return fs
		}
		n = len(fs)
	}
}

type playbackCase struct {
	name  string
	ws    bool
	speed float64
	skip  bool
	// at is the requested time, from the two recorded spans.
	at func(sp [2]playback.Span) time.Time
	// until is when the case has seen enough.
	until func(sp [2]playback.Span, f playedFrame) bool
	// events are the kinds of playback events expected, in order.
	events []string
}

// TestPlayback records the harness camera with an outage in between (about
// 12 s), then plays the recording and checks the recordings API.
func TestPlayback(t *testing.T) {
	t.Parallel()
	env, sp := recordedEnv(t)
	t.Run("sessions", func(t *testing.T) { testPlaybackSessions(t, env, sp) })
	t.Run("bad requests", func(t *testing.T) { testPlaybackErrors(t, env.forTest(t), sp) })
	t.Run("recordings", func(t *testing.T) { testRecordingsAPI(t, env.forTest(t), sp) })
	t.Run("export", func(t *testing.T) { testExport(t, env.forTest(t), sp) })
}

// testPlaybackSessions plays the recording over REST and WebSocket
// sessions with pion clients, in parallel: from inside a span and from
// inside the gap, with and without skipGaps, at 1×, 4× and 32×. Frame times
// come from the RTP timestamps exactly as the XProtect sample computes them
// (playbackTime + rtpTimestamp ms) and must match the recorded times; the
// gap must show as a jump of the timestamps in both modes; no frame may come
// before the speed's schedule allows, and a skipped gap must take less time
// than the gap at the speed.
func testPlaybackSessions(t *testing.T, env *testEnv, sp [2]playback.Span) {
	cases := []playbackCase{
		{
			name: "REST from a span at 1x across the gap", speed: 1,
			at: func(sp [2]playback.Span) time.Time { return sp[0].End.Add(-1200 * time.Millisecond) },
			until: func(sp [2]playback.Span, f playedFrame) bool {
				return f.at.After(sp[1].Start.Add(300 * time.Millisecond))
			},
			events: []string{"start", "gap", "resume"},
		},
		{
			name: "REST from a span at 4x skipping the gap", speed: 4, skip: true,
			at: func(sp [2]playback.Span) time.Time { return sp[0].Start.Add(500 * time.Millisecond) },
			until: func(sp [2]playback.Span, f playedFrame) bool {
				return f.at.After(sp[1].Start.Add(2500 * time.Millisecond))
			},
			events: []string{"start", "gap", "resume"},
		},
		{
			name: "REST from the gap at 4x without skipping", speed: 4,
			at: func(sp [2]playback.Span) time.Time { return sp[0].End.Add(sp[1].Start.Sub(sp[0].End) / 2) },
			until: func(sp [2]playback.Span, f playedFrame) bool {
				return f.at.After(sp[1].Start.Add(3500 * time.Millisecond))
			},
			events: []string{"start", "gap", "resume"},
		},
		{
			// Early in the gap, so that the wait it skips (the rest of the
			// gap) is longer than a busy machine's session set-up.
			name: "REST from the gap at 1x skipping it", speed: 1, skip: true,
			at: func(sp [2]playback.Span) time.Time { return sp[0].End.Add(200 * time.Millisecond) },
			until: func(sp [2]playback.Span, f playedFrame) bool {
				return f.at.After(sp[1].Start.Add(1500 * time.Millisecond))
			},
			events: []string{"start", "gap", "resume"},
		},
		{
			name: "REST from the first recording at 32x to the end", speed: 32,
			at: func(sp [2]playback.Span) time.Time { return sp[0].Start.Add(time.Millisecond) },
			until: func(sp [2]playback.Span, f playedFrame) bool {
				return f.at.After(sp[1].Start.Add(3500 * time.Millisecond))
			},
			events: []string{"start", "gap", "resume", "end"},
		},
		{
			name: "WebSocket from the second span at 1x", ws: true, speed: 1, skip: true,
			at:     func(sp [2]playback.Span) time.Time { return sp[1].Start.Add(1500 * time.Millisecond) },
			until:  func(sp [2]playback.Span, f playedFrame) bool { return f.at.After(sp[1].Start.Add(3 * time.Second)) },
			events: []string{"start"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := env.forTest(t)
			requested := tc.at(sp).Round(time.Millisecond)
			var c *xprotectClient
			if tc.ws {
				ws := env.mustDialWS()
				ws.api, ws.hold = nackClientAPI(t), reorderHold
				ws.register(env.token)
				c = ws.play("2", testCameraID, map[string]any{
					"PlaybackTime": requested.Format(time.RFC3339Nano), "skipGaps": tc.skip,
					"PlaybackSpeed": strconv.FormatFloat(tc.speed, 'g', -1, 64), "includeAudio": false,
				})
				c.commands.OnMessage(func(m webrtc.DataChannelMessage) { c.cmdReplys <- string(m.Data) })
			} else {
				c = env.playNACK(map[string]any{
					"deviceId": testCameraID, "resolution": "notInUse", "includeAudio": false,
					// The sample sends the speed as a string and the time
					// with a zone offset is as valid as Z.
					"playbackTimeNode": map[string]any{
						"playbackTime": requested.In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000-07:00"),
						"speed":        strconv.FormatFloat(tc.speed, 'g', -1, 64), "skipGaps": tc.skip,
					},
					"iceServers": []any{},
				})
			}
			frames := c.waitPlayed(requested, 30*time.Second, func(f playedFrame) bool { return tc.until(sp, f) })
			// The second span is still being recorded: take it as it is now.
			now, err := env.store.Spans(context.Background(), testCameraID, sp[0].Start.Add(-time.Minute), time.Now().Add(time.Minute))
			if err != nil || len(now) != 2 {
				t.Fatalf("spans %v, %v", now, err)
			}
			evs := c.events(len(tc.events), 20*time.Second)
			shown := checkPlayback(t, tc, requested, frames, [2]playback.Span{now[0], now[1]}, c.posted, evs)
			checkEvents(t, tc, requested, shown, evs, [2]playback.Span{now[0], now[1]})
		})
	}
}

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

// testPlaybackErrors: bad playback requests get clear answers, over REST
// and WebSocket, and leave no session behind.
func testPlaybackErrors(t *testing.T, env *testEnv, sp [2]playback.Span) {
	watcher := env.signIn(watcherUser, testPassword)
	body := func(at time.Time, speed any, skip bool) map[string]any {
		return map[string]any{"deviceId": testCameraID, "playbackTimeNode": map[string]any{
			"playbackTime": at.UTC().Format(time.RFC3339Nano), "speed": speed, "skipGaps": skip}}
	}
	inside := sp[0].Start.Add(time.Second)
	_, newest, _, _ := env.store.Range(context.Background(), testCameraID)
	for _, tc := range []struct {
		name    string
		token   string
		body    any
		status  int
		mention []string
	}{
		{"speed 0", env.token, body(inside, "0", false), 400, []string{"playbackTimeNode.speed must be more than 0 and at most 32"}},
		{"speed 64", env.token, body(inside, 64, false), 400, []string{"playbackTimeNode.speed", "got 64"}},
		{"speed NaN", env.token, body(inside, "NaN", false), 400, []string{"playbackTimeNode.speed"}},
		{"speed not a number", env.token, body(inside, "fast", false), 400, []string{"playbackTimeNode.speed", "fast"}},
		{"after the newest recording", env.token, body(newest.Add(time.Minute), 1, true), 404,
			[]string{"after the newest recording", "recordings are available from " + sp[0].Start.UTC().Format("2006-01-02T15:04:05.000Z")}},
		{"before the oldest recording without skipGaps", env.token, body(sp[0].Start.Add(-time.Hour), 1, false), 404,
			[]string{"before the oldest recording", "recordings are available from"}},
		{"no playback right", watcher, body(inside, 1, false), 403, []string{"watcher", "playback right"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, out := env.doAs(tc.token, http.MethodPost, "/REST/v1/WebRTC/Session", tc.body)
			checkErrorBody(t, st, out, tc.status, tc.mention...)
		})
	}
	// Before the oldest recording with skipGaps plays the oldest.
	st, out := env.do(http.MethodPost, "/REST/v1/WebRTC/Session", body(sp[0].Start.Add(-time.Hour), 1, true))
	if st != http.StatusOK {
		t.Fatalf("playback from before the oldest with skipGaps: %d %s", st, out)
	}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	_ = json.Unmarshal(out, &created)
	if st, out := env.do(http.MethodDelete, "/REST/v1/WebRTC/Session/"+created.SessionID, nil); st != http.StatusOK {
		t.Fatalf("DELETE: %d %s", st, out)
	}

	t.Run("WebSocket", func(t *testing.T) {
		env := env.forTest(t)
		c := env.mustDialWS()
		c.register(env.token)
		at := newest.Add(time.Hour).UTC().Format(time.RFC3339)
		c.sendRaw(`{"jsonrpc":"2.0","method":"connect","id":2,"params":{"peer":"` + testCameraID + `","PlaybackTime":"` + at + `","PlaybackSpeed":"2"}}`)
		if n := c.expectError("2", 404); !strings.Contains(n.Message, "after the newest recording") {
			t.Errorf("connect after the newest recording: %q", n.Message)
		}
		c.sendRaw(`{"jsonrpc":"2.0","method":"connect","id":3,"params":{"peer":"` + testCameraID + `","PlaybackTime":"` + at + `","PlaybackSpeed":"40"}}`)
		if n := c.expectError("3", -32602); !strings.Contains(n.Message, "PlaybackSpeed must be more than 0 and at most 32") {
			t.Errorf("connect at speed 40: %q", n.Message)
		}
		w := env.mustDialWS()
		w.register(watcher)
		w.sendRaw(`{"jsonrpc":"2.0","method":"connect","id":2,"params":{"peer":"` + testCameraID + `","PlaybackTime":"` + inside.UTC().Format(time.RFC3339Nano) + `"}}`)
		if n := w.expectError("2", 403); !strings.Contains(n.Message, "playback right") {
			t.Errorf("connect without the playback right: %q", n.Message)
		}
	})
	// Sessions of the parallel subtests may still be closing.
	deadline := time.Now().Add(15 * time.Second)
	for env.gw.SessionCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions left", env.gw.SessionCount())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testRecordingsAPI lists the recorded spans over REST.
func testRecordingsAPI(t *testing.T, env *testEnv, sp [2]playback.Span) {
	watcher := env.signIn(watcherUser, testPassword)
	from, to := sp[0].Start.Add(-time.Minute), time.Now().Add(time.Minute)
	path := "/rest/v1/cameras/" + testCameraID + "/recordings?from=" + from.UTC().Format(time.RFC3339Nano) + "&to=" + to.UTC().Format(time.RFC3339Nano)
	st, out := env.do(http.MethodGet, path, nil)
	if st != http.StatusOK {
		t.Fatalf("GET recordings: %d %s", st, out)
	}
	var got struct {
		Spans []struct{ Start, End time.Time }
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want, _ := env.store.Spans(context.Background(), testCameraID, from, to)
	if len(got.Spans) != 2 || len(want) != 2 {
		t.Fatalf("spans %s, want two (store: %v)", out, want)
	}
	for i := range 2 {
		if d := got.Spans[i].Start.Sub(want[i].Start); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("span %d starts %v, store says %v", i, got.Spans[i].Start, want[i].Start)
		}
	}
	// Without from and to: the last 24 hours.
	if st, out := env.do(http.MethodGet, "/Rest/V1/Cameras/"+strings.ToLower(testCameraID)+"/Recordings", nil); st != http.StatusOK || !strings.Contains(string(out), `"spans":[{`) {
		t.Errorf("GET recordings without a range: %d %s", st, out)
	}
	for _, bad := range []struct {
		token, path string
		status      int
		mention     string
	}{
		{watcher, "/rest/v1/cameras/" + testCameraID + "/recordings", 403, "playback right"},
		{env.token, "/rest/v1/cameras/" + testCameraID + "/recordings?from=soon", 400, "from"},
		{env.token, "/rest/v1/cameras/" + testCameraID + "/recordings?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", 400, "must be after"},
		{env.token, "/rest/v1/cameras/00000000-0000-4000-8000-000000000000/recordings", 404, "does not exist"},
	} {
		st, out := env.doAs(bad.token, http.MethodGet, bad.path, nil)
		checkErrorBody(t, st, out, bad.status, bad.mention)
	}
}

// testExport downloads an MP4 and checks it with ffprobe.
func testExport(t *testing.T, env *testEnv, sp [2]playback.Span) {
	watcher := env.signIn(watcherUser, testPassword)
	_, newest, _, _ := env.store.Range(context.Background(), testCameraID)
	start := sp[0].Start.Add(1500 * time.Millisecond)
	path := "/rest/v1/cameras/" + testCameraID + "/recordings/export?start=" + start.UTC().Format(time.RFC3339Nano) + "&duration=2"
	req, _ := http.NewRequest(http.MethodGet, env.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+env.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp4" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment; filename=") {
		t.Fatalf("export: %d %v %.200s", resp.StatusCode, resp.Header, data)
	}
	file := filepath.Join(t.TempDir(), "export.mp4")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		token, query string
		status       int
		mention      string
	}{
		{env.token, "duration=2", 400, "start is required"},
		{env.token, "start=" + start.UTC().Format(time.RFC3339) + "&duration=later", 400, "duration"},
		{env.token, "start=" + start.UTC().Format(time.RFC3339) + "&duration=2h", 400, "at most 1h"},
		{env.token, "start=" + start.UTC().Format(time.RFC3339) + "&duration=0", 400, "more than 0"},
		{env.token, "start=" + newest.Add(time.Hour).UTC().Format(time.RFC3339) + "&duration=10", 404, "no recording"},
		{watcher, "start=" + start.UTC().Format(time.RFC3339) + "&duration=2", 403, "export right"},
	} {
		st, out := env.doAs(bad.token, http.MethodGet, "/rest/v1/cameras/"+testCameraID+"/recordings/export?"+bad.query, nil)
		checkErrorBody(t, st, out, bad.status, bad.mention)
	}
	probeExport(t, file, 2*time.Second)
}

// checkErrorBody asserts an error answer in the API's shape.
func checkErrorBody(t *testing.T, status int, body []byte, want int, mentions ...string) {
	t.Helper()
	var e struct {
		Error struct {
			HTTPCode int `json:"httpCode"`
			Details  []struct {
				ErrorText string `json:"errorText"`
			} `json:"details"`
		} `json:"error"`
	}
	if status != want || json.Unmarshal(body, &e) != nil || e.Error.HTTPCode != want || len(e.Error.Details) != 1 {
		t.Fatalf("status %d body %s, want a %d error", status, body, want)
	}
	for _, m := range mentions {
		if !strings.Contains(e.Error.Details[0].ErrorText, m) {
			t.Errorf("errorText %q does not mention %q", e.Error.Details[0].ErrorText, m)
		}
	}
}

// probeExport checks an exported file with ffprobe (Debian's ffmpeg): one
// H.264 video stream of the clip's size, about as long as asked for (it
// starts at the keyframe before the start, at most a second earlier).
func probeExport(t *testing.T, file string, duration time.Duration) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffprobe is missing (apt-get install ffmpeg); CI=true, so this is not skipped")
		}
		t.Skip("ffprobe is missing (apt-get install ffmpeg)")
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"format=format_name,duration:stream=codec_name,width,height,nb_read_frames", "-of", "json", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	var probe struct {
		Format struct {
			FormatName string `json:"format_name"`
			Duration   string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	secs, _ := strconv.ParseFloat(probe.Format.Duration, 64)
	frames, _ := strconv.Atoi(probe.Streams[0].NbReadFrames)
	got := time.Duration(secs * float64(time.Second))
	t.Logf("ffprobe: %s, %s %dx%d, %v, %d frames", probe.Format.FormatName, probe.Streams[0].CodecName, probe.Streams[0].Width, probe.Streams[0].Height, got, frames)
	if !strings.Contains(probe.Format.FormatName, "mp4") || len(probe.Streams) != 1 || probe.Streams[0].CodecName != "h264" ||
		probe.Streams[0].Width != 640 || probe.Streams[0].Height != 360 {
		t.Errorf("ffprobe: %s", out)
	}
	if got < duration-50*time.Millisecond || got > duration+time.Second+50*time.Millisecond {
		t.Errorf("export lasts %v, want %v plus at most a second before the start", got, duration)
	}
	if want := int(got / (10 * time.Millisecond)); frames < want-2 || frames > want+2 {
		t.Errorf("export has %d frames, want about %d (100 fps)", frames, want)
	}
}
