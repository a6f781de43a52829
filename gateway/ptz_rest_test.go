package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/ptz"
)

func TestPTZOverREST(t *testing.T) {
	t.Parallel()
	// The REST caller's lease must outlast the test's steps on a busy
	// machine, up to the WebRTC session that contends with it.
	env, cam := onvifEnv(t, envOptions{}, func(p *appsettings.Ptz) { p.LeaseTimeout = appsettings.Duration(time.Minute) })
	pilot := env.signIn(pilotUser, testPassword)
	stranger := env.signIn(otherUser, testPassword)
	path := "/rest/v1/cameras/" + testCameraID + "/ptz"

	// GET: capabilities, status and presets.
	st, out := env.doAs(pilot, http.MethodGet, path, nil)
	var info struct {
		CameraID     string           `json:"cameraId"`
		Driver       string           `json:"driver"`
		MayControl   bool             `json:"mayControl"`
		Capabilities ptz.Capabilities `json:"capabilities"`
		Geometry     struct {
			HorizontalFov float64 `json:"horizontalFov"`
		} `json:"geometry"`
		Status  *ptz.StatusResult `json:"status"`
		Presets []ptz.Preset      `json:"presets"`
		Errors  []json.RawMessage `json:"errors"`
	}
	if st != http.StatusOK || json.Unmarshal(out, &info) != nil {
		t.Fatalf("GET as pilot: %d %s", st, out)
	}
	if info.Driver != "onvif" || !info.MayControl || !info.Capabilities.Move || info.Status == nil ||
		len(info.Presets) == 0 || info.Presets[0].Name != "Gate" || info.Geometry.HorizontalFov != 60 || len(info.Errors) != 0 {
		t.Fatalf("GET as pilot: %s", out)
	}
	// A viewer may read, not steer.
	st, out = env.do(http.MethodGet, path, nil)
	if st != http.StatusOK || !strings.Contains(string(out), `"mayControl":false`) {
		t.Fatalf("GET as viewer: %d %s", st, out)
	}
	if st, out := env.doAs(stranger, http.MethodGet, path, nil); st != http.StatusForbidden {
		t.Fatalf("GET without rights: %d %s", st, out)
	}
	if st, out := env.doAs("", http.MethodGet, path, nil); st != http.StatusUnauthorized {
		t.Fatalf("GET without a token: %d %s", st, out)
	}
	if st, out := env.doAs(pilot, http.MethodGet, "/rest/v1/cameras/no-such-camera/ptz", nil); st != http.StatusNotFound {
		t.Fatalf("GET of an unknown camera: %d %s", st, out)
	}
	cam.Reset()

	// POST: the same requests as the data channel, in any case.
	post := func(token, op, body string) (int, ptzReply) {
		t.Helper()
		st, out := env.doAs(token, http.MethodPost, path+"/"+op, body)
		var r ptzReply
		if err := json.Unmarshal(out, &r); err != nil || r.Type != "response" {
			t.Fatalf("POST %s: %d %s is not a reply", op, st, out)
		}
		return st, r
	}
	for _, token := range []string{env.token, stranger} {
		if st, r := post(token, "ptzMove", `{"direction":"left"}`); st != http.StatusForbidden || r.reason() != "forbidden" {
			t.Fatalf("POST ptzMove without the ptz right: %d %+v", st, r)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if ops := cam.Ops(); len(ops) != 0 {
		t.Fatalf("refused requests reached the camera: %q", ops)
	}
	st, r := post(pilot, "PtzMove", `{"direction":"left"}`)
	if st != http.StatusOK || r.Error != nil || r.Method != "ptzMove" || !strings.Contains(string(r.Result), `"left"`) {
		t.Fatalf("POST ptzMove as pilot: %d %+v %s", st, r, r.Result)
	}
	gap := moveThenStop(t, cam, 0, -1)
	t.Logf("REST ptzMove left: stop %v after the move", gap)
	if st, r := post(pilot, "ptzGotoPreset", `{"name":"gate"}`); st != http.StatusOK || r.Error != nil {
		t.Fatalf("POST ptzGotoPreset: %d %+v", st, r)
	}
	if st, r := post(pilot, "ptzStatus", ""); st != http.StatusOK || r.Error != nil {
		t.Fatalf("POST ptzStatus without a body: %d %+v", st, r)
	}
	if st, r := post(env.token, "ptzStatus", ""); st != http.StatusOK || r.Error != nil {
		t.Fatalf("POST ptzStatus as viewer: %d %+v", st, r)
	}
	for _, tc := range []struct {
		op, body string
		status   int
		reason   string
	}{
		{"ptzFly", `{}`, http.StatusNotFound, "method_not_found"},
		{"ptzMove", `{"direction":"sideways"}`, http.StatusBadRequest, "invalid_params"},
		{"ptzMove", `{"direction":`, http.StatusBadRequest, "parse_error"},
		{"ptzGotoPreset", `{"token":"99"}`, http.StatusNotFound, "not_found"},
	} {
		if st, r := post(pilot, tc.op, tc.body); st != tc.status || r.reason() != tc.reason {
			t.Fatalf("POST %s %s: %d %+v, want %d %s", tc.op, tc.body, st, r, tc.status, tc.reason)
		}
	}
	// A data-channel session contends with the REST caller's lease.
	env.token = pilot
	d := env.play(liveBody)
	d.waitCommands()
	if r := d.command("ptzMove", `{"direction":"up"}`); r.reason() != "busy" {
		t.Fatalf("a WebRTC session while REST holds the lease: %+v", r)
	}
}

func TestPTZWithoutPTZ(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) { withPilot(t, s) }})
	pilot := env.signIn(pilotUser, testPassword)
	path := "/rest/v1/cameras/" + testCameraID + "/ptz"
	if st, out := env.doAs(pilot, http.MethodGet, path, nil); st != http.StatusNotFound || !strings.Contains(string(out), "no PTZ") {
		t.Fatalf("GET of a camera without PTZ: %d %s", st, out)
	}
	st, out := env.doAs(pilot, http.MethodPost, path+"/ptzMove", `{"direction":"left"}`)
	if st != http.StatusServiceUnavailable || !strings.Contains(string(out), `"reason":"unavailable"`) {
		t.Fatalf("POST to a camera without PTZ: %d %s", st, out)
	}
	if st, out := env.doAs(pilot, http.MethodGet, "/rest/v1/cameras", nil); st != http.StatusOK || !strings.Contains(string(out), `"ptz":false`) {
		t.Fatalf("camera list: %d %s", st, out)
	}
	env.token = pilot
	c := env.play(liveBody)
	c.waitCommands()
	if r := c.command("ptzMove", `{"direction":"left"}`); r.reason() != "unavailable" || !strings.Contains(r.Error.Message, "no PTZ") {
		t.Fatalf("ptzMove on a camera without PTZ: %+v", r.Error)
	}
}
