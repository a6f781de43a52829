package gateway_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

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
