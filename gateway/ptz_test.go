package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway/signaling"
	"github.com/camgate/camgate/ptz"
	"github.com/camgate/camgate/ptz/onvif"
	"github.com/camgate/camgate/ptz/onviftest"
	"github.com/camgate/camgate/ptz/simulated"
)

// PTZ through the gateway: a pion client's commands channel and REST reach
// an ONVIF PTZ (the fake camera of ptz/onviftest) or a simulated one.
// Assertions are on the order of the calls the fake camera recorded; times
// are logged and fail only beyond generous bounds (speed is measured by
// benchmarks, not here).

// pilotUser may watch and steer every camera; testUser may only watch.
const pilotUser = "pilot"

const (
	onvifUser     = "admin"
	onvifPassword = "onvif-secret"
	// generousBound is where a wait for the camera or a reply fails: far
	// beyond the 400 ms nudge, so only a missing stop or reply fails, not
	// a loaded machine (replies took over 5 s with many tests at once).
	generousBound = 15 * time.Second
)

// withPilot adds pilotUser with the ptz right on every camera.
func withPilot(t *testing.T, s *appsettings.Settings) {
	s.Auth.Roles = append(s.Auth.Roles, appsettings.Role{Name: "pilots", Live: []string{"*"}, Ptz: []string{"*"}})
	s.Auth.Users = append(s.Auth.Users, appsettings.User{Username: pilotUser, PasswordHash: testPasswordHash(t), Roles: []string{"pilots"}})
}

// newPTZRegistry builds the PTZ controllers of the cameras whose settings
// name a driver, as cmd/camgate does.
func newPTZRegistry(t *testing.T, s appsettings.Settings, log *slog.Logger) *ptz.Registry {
	t.Helper()
	var cams []ptz.Camera
	for _, c := range s.Cameras {
		cfg := ptz.ConfigFromSettings(c.Id, c.Ptz)
		var drv ptz.Driver
		switch cfg.Driver {
		case "":
			continue
		case "onvif":
			d, err := onvif.New(onvif.ConfigFromSettings(c.Ptz), log)
			if err != nil {
				t.Fatalf("onvif driver of %s: %v", c.Id, err)
			}
			drv = d
		case "simulated":
			drv = simulated.New(simulated.Config{Geometry: cfg.Geometry})
		default:
			t.Fatalf("camera %s: unknown PTZ driver %q", c.Id, cfg.Driver)
		}
		cams = append(cams, ptz.Camera{Config: cfg, Driver: drv})
	}
	reg, err := ptz.NewRegistry(cams, log)
	if err != nil {
		t.Fatalf("ptz registry: %v", err)
	}
	return reg
}

// onvifEnv is a gateway whose test camera has an ONVIF PTZ pointing at a
// fake camera. It returns once the controller has connected and sent its
// start-up stop, with the fake's record cleared.
func onvifEnv(t *testing.T, o envOptions, mod func(*appsettings.Ptz)) (*testEnv, *onviftest.Camera) {
	t.Helper()
	cam := onviftest.New(onviftest.Options{Username: onvifUser, Password: onvifPassword})
	t.Cleanup(cam.Close) // after the env's cleanup: the final stop still reaches it
	inner := o.mutate
	o.mutate = func(s *appsettings.Settings) {
		p := appsettings.Ptz{Driver: "onvif", Url: cam.URL, Username: onvifUser, Password: onvifPassword}
		if mod != nil {
			mod(&p)
		}
		s.Cameras[0].Ptz = p
		withPilot(t, s)
		if inner != nil {
			inner(s)
		}
	}
	o.inBandParams = true
	env := newTestEnv(t, o)
	ctrl, ok := env.ptz.Get(testCameraID)
	if !ok {
		t.Fatal("the registry has no controller for the test camera")
	}
	// A status request queues behind the start-up (connect, stop).
	ctx, cancel := context.WithTimeout(context.Background(), generousBound)
	defer cancel()
	req := ptz.Request{Method: ptz.MethodStatus}
	if _, err := ctrl.Do(ctx, "test-setup", req); err != nil {
		t.Fatalf("PTZ start-up: %v (camera calls %q)", err, cam.Ops())
	}
	cam.Reset()
	return env, cam
}

// ptzReply is a reply on the commands channel (and of POST …/ptz/{op}).
type ptzReply struct {
	Type   string          `json:"type"`
	Method string          `json:"method"`
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Reason       string `json:"reason"`
			RetryAfterMs int64  `json:"retryAfterMs"`
		} `json:"data"`
	} `json:"error"`
}

func (r ptzReply) reason() string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Data.Reason
}

var commandIDs atomic.Int64

// waitCommands waits until the client's commands channel is open.
func (c *xprotectClient) waitCommands() {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for c.commands.ReadyState() != webrtc.DataChannelStateOpen {
		if time.Now().After(deadline) {
			c.t.Fatalf("commands channel is %s, not open (ICE %s)", c.commands.ReadyState(), c.pc.ICEConnectionState())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// send sends a request without waiting for its reply.
func (c *xprotectClient) send(msg string) {
	c.t.Helper()
	if err := c.commands.SendText(msg); err != nil {
		c.t.Fatalf("send %s: %v", msg, err)
	}
}

// command sends method with params (a JSON object or "") and an id, and
// waits for the reply with that id; other replies are skipped.
func (c *xprotectClient) command(method, params string) ptzReply {
	c.t.Helper()
	id := commandIDs.Add(1)
	msg := fmt.Sprintf(`{"ApiVersion":"1.0","type":"request","method":%q,"id":%d`, method, id)
	if params != "" {
		msg += `,"params":` + params
	}
	c.send(msg + "}")
	return c.replyTo(fmt.Sprint(id))
}

// replyTo waits for the reply whose id is the given JSON.
func (c *xprotectClient) replyTo(id string) ptzReply {
	c.t.Helper()
	deadline := time.After(generousBound)
	for {
		select {
		case raw := <-c.cmdReplys:
			var r ptzReply
			if err := json.Unmarshal([]byte(raw), &r); err != nil {
				c.t.Fatalf("message %s on the commands channel is not JSON: %v", raw, err)
			}
			if r.Type == "response" && string(r.ID) == id {
				return r
			}
		case <-deadline:
			c.t.Fatalf("no reply with id %s", id)
		}
	}
}

// replyID is the id a reply to msg echoes: "" when msg has none or is not
// JSON.
func replyID(msg string) string {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal([]byte(msg), &m) != nil || len(msg) > signaling.MaxPTZRequestBytes {
		return ""
	}
	return string(m.ID)
}

// drainReplies forgets the replies received so far.
func (c *xprotectClient) drainReplies() {
	for {
		select {
		case <-c.cmdReplys:
		default:
			return
		}
	}
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), generousBound)
	t.Cleanup(cancel)
	return ctx
}

// moveThenStop waits for a move whose pan has the sign (−1 left, +1
// right) from call index from, then the stop after it; it returns the gap.
func moveThenStop(t *testing.T, cam *onviftest.Camera, from int, sign float64) time.Duration {
	t.Helper()
	m, i := waitMove(t, cam, from, sign)
	s, _, err := cam.WaitFor(waitCtx(t), i+1, onviftest.Call.IsStop)
	if err != nil {
		t.Fatalf("no stop after the move: %v", err)
	}
	return s.At.Sub(m.At)
}

func waitMove(t *testing.T, cam *onviftest.Camera, from int, sign float64) (onviftest.Call, int) {
	t.Helper()
	m, i, err := cam.WaitFor(waitCtx(t), from, func(c onviftest.Call) bool {
		return c.IsMove() && c.Pan != nil && *c.Pan*sign > 0
	})
	if err != nil {
		t.Fatalf("the camera got no move: %v", err)
	}
	return m, i
}

func TestPTZMoveLeftMovesThenStopsTheCamera(t *testing.T) {
	t.Parallel()
	env, cam := onvifEnv(t, envOptions{}, nil)
	env.token = env.signIn(pilotUser, testPassword)
	c := env.play(liveBody)
	c.waitCommands()

	// XProtect's sample sends exactly this, without an id.
	c.send(`{"ApiVersion":"1.0","type":"request","method":"ptzMove","params":{"direction":"left"}}`)
	gap := moveThenStop(t, cam, 0, -1)
	t.Logf("ptzMove left: the camera got the move, then the stop %v later (nudge 400ms; expected within 600ms)", gap)
	if gap > generousBound {
		t.Fatalf("the stop came %v after the move", gap)
	}
	if cam.Moving() {
		t.Fatal("the camera still moves")
	}
	c.drainReplies()

	// With an id, the reply echoes it.
	r := c.command("PTZMOVE", `{"direction":"Right"}`)
	var mv ptz.MoveResult
	if r.Error != nil || r.Method != "ptzMove" || json.Unmarshal(r.Result, &mv) != nil || mv.Direction != ptz.Right || mv.NudgeMs != 400 {
		t.Fatalf("reply %+v %s", r, r.Result)
	}
	moveThenStop(t, cam, 0, 1)

	// Bad input gets an error reply and the channel stays open.
	for _, tc := range []struct{ msg, reason string }{
		{`{"method":"ptzMove","id":"big","params":{"direction":"` + strings.Repeat("x", 5000) + `"}}`, "invalid_request"},
		{`{"method":`, "parse_error"},
		{`{"method":"ptzFly","id":"unknown"}`, "method_not_found"},
		{`{"method":"ptzMove","id":"bad","params":{"direction":"sideways"}}`, "invalid_params"},
	} {
		c.drainReplies()
		c.send(tc.msg)
		// Requests without a readable id get replies without one.
		if r := c.replyTo(replyID(tc.msg)); r.reason() != tc.reason {
			t.Fatalf("reply to %.60s: %+v, want reason %s", tc.msg, r.Error, tc.reason)
		}
	}
	if r := c.command("ptzStatus", ""); r.Error != nil {
		t.Fatalf("the channel no longer works after bad input: %+v", r.Error)
	}
}

func TestPTZReleasedWhenTheChannelOrConnectionCloses(t *testing.T) {
	t.Parallel()
	// A 5 s nudge (the longest allowed): a stop well before it is the
	// release's, not the watchdog's.
	const nudge = 5 * time.Second
	env, cam := onvifEnv(t, envOptions{}, func(p *appsettings.Ptz) {
		p.NudgeLength, p.LeaseTimeout = appsettings.Duration(nudge), appsettings.Duration(10*time.Second)
	})
	env.token = env.signIn(pilotUser, testPassword)

	for _, end := range []struct {
		name  string
		close func(*xprotectClient)
	}{
		{"data channel closed", func(c *xprotectClient) { _ = c.commands.Close() }},
		{"peer connection closed", func(c *xprotectClient) { _ = c.pc.Close() }},
		{"session deleted", func(c *xprotectClient) {
			if st, out := env.do(http.MethodDelete, "/REST/v1/WebRTC/Session/"+c.sessionID, nil); st != http.StatusOK {
				t.Fatalf("DELETE: %d %s", st, out)
			}
		}},
	} {
		t.Run(end.name, func(t *testing.T) {
			c := env.play(liveBody)
			c.waitCommands()
			from := len(cam.Calls())
			if r := c.command("ptzMove", `{"direction":"right"}`); r.Error != nil {
				t.Fatalf("ptzMove: %+v", r.Error)
			}
			m, i := waitMove(t, cam, from, 1)
			end.close(c)
			s, _, err := cam.WaitFor(waitCtx(t), i+1, onviftest.Call.IsStop)
			if err != nil {
				t.Fatalf("%s mid-move, but the camera was not stopped: %v", end.name, err)
			}
			gap := s.At.Sub(m.At)
			t.Logf("%s: stop %v after the move (nudge %v)", end.name, gap, nudge)
			if gap >= nudge-time.Second {
				t.Fatalf("%s: the stop came %v after the move: the watchdog's, not the release's", end.name, gap)
			}
		})
	}
}

func TestPTZRefusedAfterTheTokenExpiresAndReleasedWhenTheSessionEnds(t *testing.T) {
	t.Parallel()
	env, cam := onvifEnv(t, envOptions{
		// Tokens last one minute, issued "45 s ago": they expire in ~15 s,
		// time enough for a move on a busy machine.
		authNow: func() time.Time { return time.Now().Add(-45 * time.Second) },
		mutate: func(s *appsettings.Settings) {
			s.Auth.BuiltIn.TokenLifetime = appsettings.Duration(time.Minute)
			// Long enough for the refused command's round trip on a busy
			// machine: the session must still be there to answer it.
			s.Auth.SessionGrace = appsettings.Duration(5 * time.Second)
		},
	}, func(p *appsettings.Ptz) { p.LeaseTimeout = appsettings.Duration(time.Minute) })
	ctrl, _ := env.ptz.Get(testCameraID)
	held := func() bool {
		t.Helper()
		v, err := ctrl.Do(waitCtx(t), "observer", ptz.Request{Method: ptz.MethodStatus})
		if err != nil {
			t.Fatalf("status: %v", err)
		}
		return v.(ptz.StatusResult).Control.Held
	}
	env.token = env.signIn(pilotUser, testPassword)
	expires := time.Now().Add(15 * time.Second)
	c := env.play(liveBody)
	c.waitCommands()
	if r := c.command("ptzMove", `{"direction":"left"}`); r.Error != nil {
		t.Fatalf("ptzMove with a fresh token: %+v", r.Error)
	}
	waitMove(t, cam, 0, -1)
	if !held() {
		t.Fatal("the session does not hold the lease after its move")
	}
	// The token expires: commands are refused while the session plays on
	// through its grace; its end frees the lease (a minute long) at once.
	time.Sleep(time.Until(expires) + 500*time.Millisecond)
	if r := c.command("ptzMove", `{"direction":"left"}`); r.reason() != "forbidden" {
		t.Fatalf("ptzMove with an expired token: %+v", r)
	}
	deadline := time.Now().Add(15 * time.Second)
	for env.gw.SessionCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the session outlived its token's grace")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if held() {
		t.Fatal("the lease is still held after the session ended")
	}
}

func TestPTZTwoSessionsContendForTheLease(t *testing.T) {
	t.Parallel()
	// a's lease must outlast the steps to b's command on a busy machine;
	// a lets go by closing its channel, not by the timeout.
	env, cam := onvifEnv(t, envOptions{}, func(p *appsettings.Ptz) { p.LeaseTimeout = appsettings.Duration(time.Minute) })
	env.token = env.signIn(pilotUser, testPassword)
	a := env.play(liveBody)
	b := env.play(liveBody)
	a.waitCommands()
	b.waitCommands()

	if r := a.command("ptzMove", `{"direction":"left"}`); r.Error != nil {
		t.Fatalf("a: %+v", r.Error)
	}
	r := b.command("ptzMove", `{"direction":"right"}`)
	if r.reason() != "busy" || r.Error.Code != -32001 || r.Error.Data.RetryAfterMs <= 0 {
		t.Fatalf("b while a controls: %+v, want busy with retryAfterMs", r.Error)
	}
	t.Logf("b refused: %s", r.Error.Message)
	// Reading needs no lease.
	st := b.command("ptzStatus", "")
	var status ptz.StatusResult
	if st.Error != nil || json.Unmarshal(st.Result, &status) != nil || !status.Control.Held || status.Control.Yours {
		t.Fatalf("b's status: %+v %s", st.Error, st.Result)
	}
	for _, k := range cam.Calls() {
		if k.IsMove() && k.Pan != nil && *k.Pan > 0 {
			t.Fatalf("the camera got b's move: %q", cam.Ops())
		}
	}
	// a leaves: b gets control at once.
	_ = a.commands.Close()
	deadline := time.Now().Add(generousBound)
	for {
		r := b.command("ptzMove", `{"direction":"right"}`)
		if r.Error == nil {
			break
		}
		if r.reason() != "busy" || time.Now().After(deadline) {
			t.Fatalf("b after a left: %+v", r.Error)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitMove(t, cam, 0, 1)
}

func TestPTZNeedsTheRight(t *testing.T) {
	t.Parallel()
	env, cam := onvifEnv(t, envOptions{}, nil)
	c := env.play(liveBody) // testUser: live, no ptz
	c.waitCommands()
	for _, tc := range []struct{ method, params string }{
		{"ptzMove", `{"direction":"left"}`},
		{"ptzMove", `{"direction":"stop"}`},
		{"setAux", `{"auxNumber":"1","on":true}`},
		{"ptzGotoPreset", `{"token":"1"}`},
		{"ptzCenter", `{"x":0.9,"y":0.1}`},
	} {
		r := c.command(tc.method, tc.params)
		if r.reason() != "forbidden" || r.Error.Code != -32008 || r.Method != tc.method {
			t.Fatalf("%s %s without the ptz right: %+v", tc.method, tc.params, r)
		}
	}
	time.Sleep(300 * time.Millisecond) // anything sent would have arrived
	if ops := cam.Ops(); len(ops) != 0 {
		t.Fatalf("the camera got calls from a user without the ptz right: %q", ops)
	}
	// Whoever may watch may read where the camera points.
	if r := c.command("ptzStatus", ""); r.Error != nil {
		t.Fatalf("ptzStatus with the live right: %+v", r.Error)
	}
	if r := c.command("ptzPresets", ""); r.Error != nil || !strings.Contains(string(r.Result), `"Gate"`) {
		t.Fatalf("ptzPresets with the live right: %+v %s", r.Error, r.Result)
	}
}

func TestPTZSimulatedCameraMoves(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		// A wide lens: the page gets the controller's geometry, the rest
		// of it the defaults.
		s.Cameras[0].Ptz = appsettings.Ptz{Driver: "simulated", Geometry: appsettings.PtzGeometry{HorizontalFov: 90}}
		withPilot(t, s)
	}})
	env.token = env.signIn(pilotUser, testPassword)
	if st, out := env.do(http.MethodGet, "/rest/v1/cameras", nil); st != http.StatusOK || !strings.Contains(string(out), `"ptz":true`) {
		t.Fatalf("camera list: %d %s", st, out)
	}
	if st, out := env.do(http.MethodGet, "/rest/v1/cameras/"+testCameraID+"/ptz", nil); st != http.StatusOK ||
		!strings.Contains(string(out), `"driver":"simulated"`) || !strings.Contains(string(out), `"pan":0`) ||
		!strings.Contains(string(out), `"horizontalFov":90,"verticalFov":36,"zoomRatio":10`) {
		t.Fatalf("GET …/ptz: %d %s", st, out)
	}
	c := env.play(liveBody)
	c.waitCommands()
	pan := func() float64 {
		t.Helper()
		r := c.command("ptzStatus", "")
		var st ptz.StatusResult
		if r.Error != nil || json.Unmarshal(r.Result, &st) != nil || st.Pan == nil {
			t.Fatalf("ptzStatus: %+v %s", r.Error, r.Result)
		}
		return *st.Pan
	}
	before := pan()
	// A held button: the command every 150 ms for 0.9 s.
	for range 6 {
		c.send(`{"ApiVersion":"1.0","type":"request","method":"ptzMove","params":{"direction":"right"}}`)
		time.Sleep(150 * time.Millisecond)
	}
	c.command("ptzMove", `{"direction":"stop"}`)
	after := pan()
	t.Logf("simulated pan %.4f → %.4f", before, after)
	if !(after > before) {
		t.Fatalf("pan did not grow after moving right: %v → %v", before, after)
	}
	// The REST view agrees.
	st, out := env.do(http.MethodPost, "/rest/v1/cameras/"+testCameraID+"/ptz/ptzAbsolute", `{"pan":-0.5}`)
	if st == http.StatusConflict {
		// The data-channel session still holds the lease: release it.
		_ = c.commands.Close()
		deadline := time.Now().Add(generousBound)
		for st == http.StatusConflict && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			st, out = env.do(http.MethodPost, "/rest/v1/cameras/"+testCameraID+"/ptz/ptzAbsolute", `{"pan":-0.5}`)
		}
	}
	if st != http.StatusOK {
		t.Fatalf("POST ptzAbsolute: %d %s", st, out)
	}
}

// A session that plays recordings cannot steer: PTZ moves the live camera,
// which its viewer does not see.
func TestPTZRefusedInPlayback(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, fps: 100, mutate: func(s *appsettings.Settings) {
		s.Cameras[0].Recording.Enabled = true
		s.Cameras[0].Ptz = appsettings.Ptz{Driver: "simulated"}
		withPilot(t, s)
		s.Auth.Roles[len(s.Auth.Roles)-1].Playback = []string{"*"}
	}})
	var start time.Time
	deadline := time.Now().Add(30 * time.Second)
	for {
		sp, err := env.store.Spans(context.Background(), testCameraID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(sp) > 0 && sp[0].End.Sub(sp[0].Start) >= time.Second {
			start = sp[0].Start
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no second of recording: %v", sp)
		}
		time.Sleep(50 * time.Millisecond)
	}
	env.token = env.signIn(pilotUser, testPassword)
	c := env.play(map[string]any{"deviceId": testCameraID, "playbackTimeNode": map[string]any{
		"playbackTime": start.UTC().Format(time.RFC3339Nano), "speed": 1}})
	c.waitCommands()
	for _, m := range []string{"ptzMove", "ptzStatus"} {
		params := ""
		if m == "ptzMove" {
			params = `{"direction":"right"}`
		}
		if r := c.command(m, params); r.reason() != "unavailable" || !strings.Contains(r.Error.Message, "recordings") {
			t.Fatalf("%s in a playback session: %+v", m, r)
		}
	}
	ctrl, _ := env.ptz.Get(testCameraID)
	v, err := ctrl.Do(waitCtx(t), "observer", ptz.Request{Method: ptz.MethodStatus})
	if err != nil {
		t.Fatal(err)
	}
	if st := v.(ptz.StatusResult); st.Pan == nil || *st.Pan != 0 || st.Control.Held {
		t.Fatalf("the camera after a refused move: %+v", st)
	}
}
