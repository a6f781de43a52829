package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/webrtc/v4"
)

// liveBody is the first live request of the XProtect JavaScript sample
// (2025 R2), verbatim but for the id.
var liveBody = `{"deviceId":"` + testCameraID + `","resolution":"notInUse","includeAudio":true,` +
	`"playbackTimeNode":{"playbackTime":"","skipGaps":false},"iceServers":[]}`

func TestRESTFlowDeliversDecodableH264(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		inBand bool
	}{
		{"in-band parameter sets", true},
		{"parameter sets only in the SDP", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, envOptions{inBandParams: tc.inBand})
			env.waitStreaming()
			c := env.play(liveBody)
			frames := c.waitFrames(60, 20*time.Second)
			t.Logf("time to first frame: %v (POST sent → first keyframe received)", c.timeToFirstFrame())

			first := frames[0]
			types := first.types()
			if len(types) < 3 || types[0] != h264.NALUTypeSPS || types[1] != h264.NALUTypePPS || !first.isKey() {
				t.Fatalf("first frame NAL types = %v, want SPS, PPS, IDR…", types)
			}
			var sps h264.SPS
			if err := sps.Unmarshal(first.nalus[0]); err != nil {
				t.Fatalf("SPS does not parse: %v", err)
			}
			if sps.Width() != 640 || sps.Height() != 360 {
				t.Fatalf("SPS says %dx%d, want 640x360", sps.Width(), sps.Height())
			}
			// Every later IDR also carries SPS and PPS in front, and
			// timestamps never go backwards.
			for i, f := range frames[1:] {
				if f.isKey() && f.types()[0] != h264.NALUTypeSPS {
					t.Fatalf("frame %d is an IDR without SPS in front: %v", i+1, f.types())
				}
				if int32(f.timestamp-frames[i].timestamp) < 0 {
					t.Fatalf("RTP timestamp went backwards at frame %d: %d after %d", i+1, f.timestamp, frames[i].timestamp)
				}
			}
			// Past the catch-up, live frames are 40 ms apart on the
			// millisecond clock (25 fps). The catch-up replays the GOP the
			// viewer joined in (up to 100 frames: a busy machine joins
			// late in the GOP) 1 ms apart, so wait for two frames past it.
			live := pastCatchUp(frames)
			for live < 0 || len(frames) < live+2 {
				frames = c.waitFrames(len(frames)+1, 20*time.Second)
				live = pastCatchUp(frames)
			}
			if step := frames[live+1].timestamp - frames[live].timestamp; step < 30 || step > 50 {
				t.Fatalf("live frame spacing = %d ms, want about 40", step)
			}
		})
	}
}

func TestCommandsChannelOpensAfterAnswerAndReplies(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	env.waitStreaming()
	c := env.play(liveBody)
	opened := make(chan struct{})
	c.commands.OnOpen(func() { close(opened) })
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		t.Fatal("commands channel did not open: the offer must carry an m=application section")
	}
	if c.commands.Protocol() != "videoos-commands" {
		t.Fatalf("protocol = %q", c.commands.Protocol())
	}
	if err := c.commands.SendText(`{"ApiVersion":"1.0","type":"request","method":"ptzMove","params":{"direction":"upLeft"}}`); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-c.cmdReplys:
		var resp struct {
			Type   string `json:"type"`
			Method string `json:"method"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(r), &resp); err != nil || resp.Type != "response" || resp.Method != "ptzMove" || resp.Error == nil {
			t.Fatalf("reply %s: want a response with an error for ptzMove", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no reply on the commands channel")
	}
}

func TestViewerSurvivesCameraFlap(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	env.waitStreaming()
	c := env.play(liveBody)
	// Live frames past the catch-up, so that from here on every frame is
	// 40 ms after the one before until the outage.
	frames := c.waitFrames(10, 20*time.Second)
	for live := pastCatchUp(frames); live < 0 || len(frames) < live+2; live = pastCatchUp(frames) {
		frames = c.waitFrames(len(frames)+1, 20*time.Second)
	}

	closed := len(frames)
	env.camera.Close()
	time.Sleep(1500 * time.Millisecond) // the outage
	if err := env.camera.Start(); err != nil {
		t.Fatalf("restart camera: %v", err)
	}
	// The first frame after the outage is the first one more than a second
	// after the one before (frames still on their way when the camera went
	// away arrive after it closed, so the count at the restart would not
	// tell): a keyframe with its parameter sets, and 30 more follow.
	resumedAt := func() int {
		for i := closed; i < len(frames); i++ {
			if time.Duration(frames[i].timestamp-frames[i-1].timestamp)*time.Millisecond > time.Second {
				return i
			}
		}
		return -1
	}
	for r := resumedAt(); r < 0 || len(frames) < r+30; r = resumedAt() {
		frames = c.waitFrames(len(frames)+1, 30*time.Second)
	}
	if st := c.pc.ConnectionState(); st != webrtc.PeerConnectionStateConnected {
		t.Fatalf("peer connection state after the flap = %s, want connected", st)
	}
	resumed := frames[resumedAt()]
	if !resumed.isKey() || resumed.types()[0] != h264.NALUTypeSPS {
		t.Fatalf("first frame after reconnect: %v, want SPS, PPS, IDR", resumed.types())
	}
	for i := 1; i < len(frames); i++ {
		if int32(frames[i].timestamp-frames[i-1].timestamp) <= 0 {
			t.Fatalf("RTP timestamps went backwards at frame %d (the reconnect is at %d)", i, resumedAt())
		}
	}
	if env.gw.SessionCount() != 1 {
		t.Fatalf("sessions = %d, want the same single session", env.gw.SessionCount())
	}
}

func TestSessionEndsWhenPeerCloses(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	env.waitStreaming()
	c := env.play(liveBody)
	c.waitFrames(5, 20*time.Second)
	_ = c.pc.Close()
	deadline := time.Now().Add(20 * time.Second)
	for env.gw.SessionCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("session still open after the client closed its peer connection")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cam, _ := env.registry.Camera(strings.ToLower(testCameraID))
	if n := cam.DefaultStream().Hub.Stats().Readers; n != 0 {
		t.Fatalf("stream still has %d readers", n)
	}
}

// A browser that unloads closes its peer connection and sends DELETE at the
// same time; whichever arrives first, the DELETE succeeds.
func TestDeleteAfterTheSessionEndedSucceeds(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	env.waitStreaming()
	c := env.play(liveBody)
	c.waitFrames(1, 20*time.Second)
	if st, body := env.do("DELETE", "/REST/v1/WebRTC/Session/"+c.sessionID, nil); st != 200 {
		t.Fatalf("first DELETE: %d %s", st, body)
	}
	if st, body := env.do("DELETE", "/REST/v1/WebRTC/Session/"+strings.ToUpper(c.sessionID), nil); st != 200 {
		t.Fatalf("DELETE of an ended session: %d %s", st, body)
	}
	st, body := env.do("GET", "/REST/v1/WebRTC/IceCandidates/"+c.sessionID, nil)
	if st != 404 || !strings.Contains(string(body), "has ended") {
		t.Fatalf("GET candidates of an ended session: %d %s, want 404 saying it ended", st, body)
	}
	if st, _ := env.do("DELETE", "/REST/v1/WebRTC/Session/00000000-0000-4000-8000-000000000000", nil); st != 404 {
		t.Fatalf("DELETE of a session that never existed: %d, want 404", st)
	}
}

// pastCatchUp returns the index of the first frame whose timestamp is not
// 1 ms (the catch-up's step) after the one before it, or -1. That frame is
// live, and so is the next one, whose timestamp follows the camera's: the
// first live frame after a catch-up takes its time of arrival, or 1 ms
// after the catch-up's last frame when it arrived before that.
func pastCatchUp(frames []receivedFrame) int {
	for i := 1; i < len(frames); i++ {
		if frames[i].timestamp-frames[i-1].timestamp != 1 {
			return i
		}
	}
	return -1
}
