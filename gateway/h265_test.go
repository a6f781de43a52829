package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/cameratest"
)

// h265Env is a gateway whose camera sends H.265 (testdata/h265.mp4).
func h265Env(t *testing.T) *testEnv {
	t.Helper()
	cam, _ := cameratest.Serve(t, "h265.mp4")
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) { s.Cameras[0].Streams[0].Url = cam.URL() }})
	env.waitStreaming()
	return env
}

// h264OnlyAPI is a viewer that decodes H.264 only, as browsers without
// H.265 (Chromium before 136, Firefox).
func h264OnlyAPI(t *testing.T) *webrtc.API {
	m := &webrtc.MediaEngine{}
	err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
	}, PayloadType: 102}, webrtc.RTPCodecTypeVideo)
	if err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(loopbackClientSettings()))
}

// An H.265 camera's session offers H.265 beside H.264; a viewer that
// answers H.265 receives the camera's video as H.265.
func TestH265CameraOfferedAndPlayed(t *testing.T) {
	t.Parallel()
	env := h265Env(t)
	c := env.play(liveBody) // pion's default codecs include H.265
	offer := c.pc.RemoteDescription().SDP
	if !strings.Contains(offer, "H265/90000") || !strings.Contains(offer, "H264/90000") {
		t.Fatalf("the offer does not carry H.265 beside H.264:\n%s", offer)
	}
	waitUntil(t, 20*time.Second, "300 video packets", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.seqs) >= 300
	})
	tr := c.pc.GetTransceivers()[0].Receiver().Track()
	if tr == nil || !strings.EqualFold(tr.Codec().MimeType, webrtc.MimeTypeH265) {
		t.Fatalf("the viewer's track is %+v, want H.265", tr)
	}
}

// A viewer whose answer has no H.265 gets a clear error for the session
// (REST: the PATCH with the answer; WebSocket: an error), and the session
// ends instead of staying black.
func TestH265CameraAnswerWithoutH265Refused(t *testing.T) {
	t.Parallel()
	env := h265Env(t)
	const reason = "the camera sends H.265 and the answer does not accept H.265"

	status, body := env.do(http.MethodPost, "/REST/v1/WebRTC/Session", liveBody)
	var created struct {
		SessionID string `json:"sessionId"`
		OfferSDP  string `json:"offerSDP"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &created) != nil {
		t.Fatalf("POST Session: %d %s", status, body)
	}
	var offer webrtc.SessionDescription
	if err := json.Unmarshal([]byte(created.OfferSDP), &offer); err != nil {
		t.Fatal(err)
	}
	pc, err := h264OnlyAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := pc.SetRemoteDescription(offer); err != nil {
		t.Fatal(err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ans, _ := json.Marshal(answer)
	status, body = env.do(http.MethodPatch, "/REST/v1/WebRTC/Session/"+created.SessionID, map[string]string{"answerSDP": string(ans)})
	checkErrorBody(t, status, body, http.StatusConflict, reason)
	waitUntil(t, 10*time.Second, "the session to end", func() bool {
		st, _ := env.do(http.MethodGet, "/REST/v1/WebRTC/IceCandidates/"+created.SessionID, nil)
		return st == http.StatusNotFound
	})

	ws := env.mustDialWS()
	ws.api = h264OnlyAPI(t)
	ws.register(env.token)
	session := ws.connect("2", map[string]any{"authorization": env.token, "peer": testCameraID, "includeAudio": true})
	ws.answer(ws.expectInvite(session))
	// The answer is the invite's result: its failure comes as an error
	// notification naming the session.
	if n := ws.expectError("", http.StatusConflict); !strings.Contains(n.Message, reason) {
		t.Errorf("WebSocket error %q does not say %q", n.Message, reason)
	}
}
