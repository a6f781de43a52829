package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
)

// The XProtect sample's exact sequence over one socket: register (id 1) →
// connect (id 2, streamID, includeAudio, iceServers with urls as a string)
// → invite → the answer as the invite's result → trickles both ways; the
// peer receives decodable H.264. The STUN server the client names is the
// configured one, which clients may always name.
func TestWebSocketFlowDeliversDecodableH264(t *testing.T) {
	t.Parallel()
	stunURL := stunServer(t)
	env := newTestEnv(t, envOptions{inBandParams: false, mutate: func(s *appsettings.Settings) {
		s.WebRTC.IceServers = []appsettings.IceServer{{Urls: []string{stunURL}}}
	}})
	env.waitStreaming()
	c := env.mustDialWS()
	c.register(env.token)
	x := c.play("2", testCameraID, map[string]any{
		"streamID":   testStreamID,
		"iceServers": []map[string]any{{"urls": stunURL}},
	})
	frames := x.waitFrames(60, 20*time.Second)
	t.Logf("time to first frame over WebSocket: %v (connect sent → first keyframe received)", x.timeToFirstFrame())

	first := frames[0]
	if types := first.types(); len(types) < 3 || types[0] != h264.NALUTypeSPS || types[1] != h264.NALUTypePPS || !first.isKey() {
		t.Fatalf("first frame NAL types = %v, want SPS, PPS, IDR…", types)
	}
	var sps h264.SPS
	if err := sps.Unmarshal(first.nalus[0]); err != nil || sps.Width() != 640 || sps.Height() != 360 {
		t.Fatalf("SPS: %v, %dx%d", err, sps.Width(), sps.Height())
	}
	opened := make(chan struct{})
	x.commands.OnOpen(func() { close(opened) })
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("commands channel did not open over a WebSocket-signaled session")
	}
	trickled, sent := c.counts(x.sessionID)
	if trickled == 0 || sent == 0 {
		t.Fatalf("trickles: %d from camgate, %d to camgate; want both", trickled, sent)
	}
	c.checkProblems()
}

// The 2025 R1 sample put "ApiVersion":"1.0" where later ones put
// "jsonrpc":"2.0"; ids may be strings, and are echoed as they came.
func TestWebSocketApiVersionAndStringIDs(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	env.waitStreaming()
	c := env.mustDialWS()
	c.sendRaw(`{"ApiVersion":"1.0","method":"register","params":{"authorization":"` + env.token + `"},"id":"1"}`)
	c.expectResult(`"1"`)
	c.sendRaw(`{"ApiVersion":"1.0","method":"connect","params":{"peer":"` + strings.ToLower(testCameraID) + `","StreamId":"` + testStreamID + `","IncludeAudio":"true","PlaybackTime":""},"id":"two"}`)
	var r struct {
		Session string `json:"session"`
	}
	if err := json.Unmarshal(c.expectResult(`"two"`), &r); err != nil || r.Session == "" {
		t.Fatalf("connect result: %v", err)
	}
	x := c.answer(c.expectInvite(r.Session))
	x.waitFrames(5, 20*time.Second)
	c.checkProblems()
}

// TestWebSocketTwoCamerasOnOneSocket plays two cameras on one socket, as a
// video wall does; one ending does not disturb the other.
func TestWebSocketTwoCamerasOnOneSocket(t *testing.T) {
	t.Parallel()
	env, second := newTwoCameraEnv(t)
	c := env.mustDialWS()
	c.register(env.token)
	a := c.play("2", testCameraID, nil)
	b := c.play("2", second, nil) // the sample always uses id 2
	if a.sessionID == b.sessionID {
		t.Fatal("both cameras got the same session")
	}
	a.waitFrames(20, 20*time.Second)
	b.waitFrames(20, 20*time.Second)
	if n := env.gw.SessionCount(); n != 2 {
		t.Fatalf("sessions = %d, want 2", n)
	}

	// The viewer of the first camera leaves: camgate says so on the socket,
	// and the second plays on.
	_ = a.pc.Close()
	n := c.expectError("", 1002)
	if n.Session != a.sessionID {
		t.Fatalf("peer-disconnected notice for session %q, want %q", n.Session, a.sessionID)
	}
	before := b.frameCount()
	b.waitFrames(before+20, 20*time.Second)
	if st := b.pc.ConnectionState(); st != webrtc.PeerConnectionStateConnected {
		t.Fatalf("second camera's peer is %s", st)
	}
	c.checkProblems()
}
