package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/testutil"
	"github.com/camgate/camgate/oauth"
)

// The demo camera plays at 25 fps: its frames are 40 ms apart, 3,600 ticks
// of 90 kHz or 40 of the millisecond clock.
const (
	frameTicks90k = 90000 / 25
	frameTicksMs  = 1000 / 25
)

// playLikeGo2rtc plays the test camera as go2rtc's XProtect source does:
// with token (signed in with the password grant as GrantValidatorClient,
// never refreshed), no candidates fetched or sent, and an answer created
// before gathering, so without candidates and without trickle ICE.
func (e *testEnv) playLikeGo2rtc(token string) *xprotectClient {
	e.t.Helper()
	// go2rtc sends {} as playbackTimeNode for live.
	sessionID, offer := e.createSession(token, map[string]any{"deviceId": testCameraID, "includeAudio": false, "playbackTimeNode": map[string]any{}})
	pc, err := clientAPI(e.t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = pc.Close() })
	c := &xprotectClient{t: e.t, env: e, pc: pc, sessionID: sessionID, posted: time.Now(), frameCh: make(chan struct{}, 1)}
	pc.OnTrack(c.onTrack)
	if err := pc.SetRemoteDescription(offer); err != nil {
		e.t.Fatalf("setRemoteDescription(offer): %v", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if strings.Contains(answer.SDP, "a=candidate:") || strings.Contains(answer.SDP, "trickle") {
		e.t.Fatalf("go2rtc's answer has neither candidates nor trickle ICE:\n%s", answer.SDP)
	}
	ans, _ := json.Marshal(answer)
	if st, out := e.doAs(token, http.MethodPatch, "/REST/v1/WebRTC/Session/"+sessionID, map[string]string{"answerSDP": string(ans)}); st != http.StatusOK {
		e.t.Fatalf("PATCH answer: %d %s", st, out)
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// waitGOP waits until the camera's GOP cache holds at least n frames, so
// that a new viewer's catch-up has that many.
func (e *testEnv) waitGOP(n int) {
	e.t.Helper()
	e.waitStreaming()
	cam, _ := e.registry.Camera(testCameraID)
	deadline := time.Now().Add(15 * time.Second)
	for cam.DefaultStream().Hub.Stats().GOPFrames < n {
		if time.Now().After(deadline) {
			e.t.Fatalf("the GOP cache never held %d frames", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// frameSteps are the RTP timestamp steps between consecutive frames.
func frameSteps(frames []receivedFrame) []int64 {
	out := make([]int64, 0, len(frames))
	for i := 1; i < len(frames); i++ {
		out = append(out, int64(frames[i].timestamp-frames[i-1].timestamp))
	}
	return out
}

// TestRelayProfileGo2rtc: a client like go2rtc gets the relay profile with
// default settings: 90 kHz timestamps that advance by the camera's frame
// interval, from the first (cached) frame on, so the stream it re-serves
// under the SDP's 90 kHz clock runs at real time without a squeezed start.
func TestRelayProfileGo2rtc(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	env.waitGOP(10)
	token := env.signInAs(testUser, testPassword, oauth.ClientGrantValidator)
	c := env.playLikeGo2rtc(token)
	frames := c.waitFrames(40, 30*time.Second)
	if !frames[0].isKey() {
		t.Fatalf("the first frame is not a keyframe: %v", frames[0].types())
	}
	// Every step is one frame of the camera on a 90 kHz clock: the
	// cached GOP's frames (at least the first 9) keep their real spacing,
	// not 1 ms (90 ticks) apart, and the live ones follow.
	for i, step := range frameSteps(frames[:40]) {
		if step != frameTicks90k {
			t.Fatalf("RTP timestamp step %d→%d is %d ticks, want %d (one frame at 90 kHz); steps %v", i, i+1, step, frameTicks90k, frameSteps(frames[:40]))
		}
	}
}

// TestBrowserProfileXProtectSample: the XProtect sample (VmsClient, a
// browser) keeps the millisecond clock and the fast-forward: the cached
// GOP's frames 1 ms apart, then live frames 40 ms (one frame) apart.
func TestBrowserProfileXProtectSample(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	env.waitGOP(10)
	c := env.play(map[string]any{"deviceId": testCameraID})
	frames := c.waitFrames(60, 30*time.Second)
	steps := frameSteps(frames)
	for i := range 9 {
		if steps[i] != 1 {
			t.Fatalf("catch-up step %d→%d is %d, want 1 (1 ms apart); steps %v", i, i+1, steps[i], steps)
		}
	}
	// The live edge: the last 20 steps are one frame each on the
	// millisecond clock.
	for i, step := range steps[len(steps)-20:] {
		if step != frameTicksMs {
			t.Fatalf("live step %d is %d ms, want %d (one frame); steps %v", i, step, frameTicksMs, steps)
		}
	}
}

// TestClientProfileOverride: the clientProfile parameter overrides the
// choice by client id (a VmsClient asking for relay gets 90 kHz), and an
// unknown profile is a 400 naming the field.
func TestClientProfileOverride(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	status, body := env.do(http.MethodPost, "/REST/v1/WebRTC/Session", map[string]any{"deviceId": testCameraID, "clientProfile": "vlc"})
	if status != http.StatusBadRequest || !bytes.Contains(body, []byte("clientProfile")) {
		t.Fatalf("unknown clientProfile: %d %s, want 400 naming clientProfile", status, body)
	}
	env.waitGOP(10)
	c := env.play(map[string]any{"deviceId": testCameraID, "clientProfile": "Relay"})
	frames := c.waitFrames(12, 30*time.Second)
	for i, step := range frameSteps(frames) {
		if step != frameTicks90k {
			t.Fatalf("step %d is %d ticks, want %d: the override did not make a relay", i, step, frameTicks90k)
		}
	}
}

// logLines are the lines of logs that contain every one of substrs.
func logLines(logs *testutil.SyncBuffer, substrs ...string) []string {
	var out []string
	for _, line := range strings.Split(logs.String(), "\n") {
		all := true
		for _, s := range substrs {
			all = all && strings.Contains(line, s)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// TestRelaySessionOutlivesItsToken: tokens that expire 3 s after they are
// issued (the identity service's clock runs 57 s behind with a 1 min
// lifetime). The browser's session ends with its token; the relay's, which
// cannot refresh, is renewed from its user's current rights again and
// again and keeps playing.
func TestRelaySessionOutlivesItsToken(t *testing.T) {
	t.Parallel()
	logs := &testutil.SyncBuffer{}
	env := newTestEnv(t, envOptions{logs: logs, authNow: func() time.Time { return time.Now().Add(-57 * time.Second) }, mutate: func(s *appsettings.Settings) {
		s.Auth.BuiltIn.TokenLifetime = appsettings.Duration(time.Minute)
		s.Auth.SessionGrace = appsettings.Duration(time.Second)
	}})
	env.waitStreaming()
	relay := env.playLikeGo2rtc(env.signInAs(testUser, testPassword, oauth.ClientGrantValidator))
	browser := env.play(map[string]any{"deviceId": testCameraID})
	relay.waitFrames(1, 30*time.Second)
	browser.waitFrames(1, 30*time.Second)

	// Deadlines here only bound a hang.
	deadline := time.Now().Add(60 * time.Second)
	for len(logLines(logs, "session="+relay.sessionID, "session renewed")) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the relay's session was not renewed twice; its log:\n%s", strings.Join(logLines(logs, relay.sessionID), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(logLines(logs, "session="+browser.sessionID, "token expired without a new one")); n != 1 {
		t.Fatalf("the browser's session was not ended by its token's expiry (%d log lines)", n)
	}
	if n := len(logLines(logs, "session="+relay.sessionID, "session closed")); n != 0 {
		t.Fatal("the relay's session was closed")
	}
	had := relay.frameCount()
	relay.waitFrames(had+10, 30*time.Second)
}
