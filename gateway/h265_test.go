package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/cameratest"
)

// An H.265 camera streams (and is recorded), but camgate does not offer
// H.265 to browsers yet: a live session is refused with the reason, over
// REST and the WebSocket, instead of connecting and showing nothing.
func TestH265CameraSessionRefused(t *testing.T) {
	t.Parallel()
	cam, _ := cameratest.Serve(t, "h265.mp4")
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) { s.Cameras[0].Streams[0].Url = cam.URL() }})
	env.waitStreaming()
	if st := env.cameraStatus(); st.State != "streaming" {
		t.Fatalf("cameras API: %+v, want streaming", st)
	}
	const reason = "the camera sends H.265"

	status, body := env.do(http.MethodPost, "/REST/v1/WebRTC/Session", liveBody)
	checkErrorBody(t, status, body, http.StatusConflict, reason)

	ws := env.mustDialWS()
	ws.register(env.token)
	ws.sendRaw(`{"jsonrpc":"2.0","method":"connect","id":2,"params":` +
		mustJSON(map[string]any{"authorization": env.token, "peer": testCameraID, "includeAudio": true}) + `}`)
	if n := ws.expectError("2", http.StatusConflict); !strings.Contains(n.Message, reason) {
		t.Errorf("WebSocket error %q does not say %q", n.Message, reason)
	}
}
