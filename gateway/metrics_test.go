package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway"
	"github.com/camgate/camgate/gateway/internal/metricstest"
	"github.com/camgate/camgate/oauth"
)

// root is the gateway's address without /API: the monitoring endpoints
// live there.
func (e *testEnv) root() string { return strings.TrimSuffix(e.base, "/API") }

// get sends a GET to a path at the root with the given bearer token ("":
// none).
func (e *testEnv) get(path, token string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.root()+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// families is a parsed scrape.
type families map[string]*dto.MetricFamily

// scrape GETs /metrics from loopback (allowed by default) and parses it.
func (e *testEnv) scrape() families {
	e.t.Helper()
	resp, body := e.get("/metrics", "")
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	return parseMetrics(e.t, body)
}

func parseMetrics(t *testing.T, body []byte) families {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, body)
	}
	return fams
}

// value is the value of the series of name whose labels include want: a
// counter's or gauge's value, a histogram's sample count. It fails the test
// when there is no such series.
func (f families) value(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	fam, ok := f[name]
	if !ok {
		t.Fatalf("no metric %s in the scrape", name)
	}
	for _, m := range fam.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		if v := metricstest.ValueOf(m); v != -1 {
			return v
		}
	}
	t.Fatalf("no series %s%v in the scrape", name, want)
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

func TestMetricsFollowALiveSession(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	env.waitStreaming()
	cam := map[string]string{"camera": testCameraID, "stream": testStreamID}
	live := map[string]string{"kind": "live_rest"}

	before := env.scrape()
	if v := before.value(t, "camgate_camera_state", map[string]string{"camera": testCameraID, "stream": testStreamID, "state": "streaming"}); v != 1 {
		t.Fatalf("camgate_camera_state{state=streaming} = %v, want 1", v)
	}
	if v := before.value(t, "camgate_camera_state", map[string]string{"camera": testCameraID, "state": "offline"}); v != 0 {
		t.Fatalf("camgate_camera_state{state=offline} = %v, want 0", v)
	}
	for _, name := range []string{"camgate_camera_frames_in_total", "camgate_camera_bytes_in_total", "camgate_camera_keyframes_total"} {
		if v := before.value(t, name, cam); v <= 0 {
			t.Errorf("%s = %v before any viewer, want > 0", name, v)
		}
	}
	for _, name := range []string{"camgate_camera_reconnects_total", "camgate_camera_decode_errors_total", "camgate_camera_packets_lost_total", "camgate_camera_viewers"} {
		if v := before.value(t, name, cam); v != 0 {
			t.Errorf("%s = %v, want 0", name, v)
		}
	}
	if v := before.value(t, "camgate_sessions_open", live); v != 0 {
		t.Fatalf("sessions open before any session = %v", v)
	}
	// Every kind's series exist from the start, at 0.
	for _, kind := range []string{"live_rest", "live_ws", "playback_rest", "playback_ws"} {
		before.value(t, "camgate_sessions_total", map[string]string{"kind": kind})
		before.value(t, "camgate_session_dropped_frames_total", map[string]string{"kind": kind})
	}
	// The process and Go collectors are there too.
	before.value(t, "process_resident_memory_bytes", nil)
	before.value(t, "go_goroutines", nil)

	c := env.play(liveBody)
	c.waitFrames(20, 20*time.Second)
	during := env.scrape()
	checks := []struct {
		name   string
		labels map[string]string
		ok     func(float64) bool
		want   string
	}{
		{"camgate_sessions_open", live, func(v float64) bool { return v == 1 }, "1"},
		{"camgate_sessions_total", live, func(v float64) bool { return v == 1 }, "1"},
		{"camgate_sessions_open", map[string]string{"kind": "live_ws"}, func(v float64) bool { return v == 0 }, "0"},
		{"camgate_session_frames_out_total", live, func(v float64) bool { return v >= 20 }, ">= 20"},
		{"camgate_session_bytes_out_total", live, func(v float64) bool { return v > 0 }, "> 0"},
		{"camgate_session_time_to_first_frame_seconds", live, func(v float64) bool { return v == 1 }, "1 observation"},
		{"camgate_signaling_latency_seconds", live, func(v float64) bool { return v == 1 }, "1 observation"},
		{"camgate_camera_viewers", cam, func(v float64) bool { return v == 1 }, "1"},
		{"camgate_camera_readers", cam, func(v float64) bool { return v == 1 }, "1"},
		{"camgate_camera_frames_in_total", cam, func(v float64) bool { return v > before.value(t, "camgate_camera_frames_in_total", cam) }, "more than before"},
	}
	for _, ck := range checks {
		if v := during.value(t, ck.name, ck.labels); !ck.ok(v) {
			t.Errorf("while playing: %s%v = %v, want %s", ck.name, ck.labels, v, ck.want)
		}
	}

	if st, body := env.do(http.MethodDelete, "/REST/v1/WebRTC/Session/"+c.sessionID, nil); st != http.StatusOK {
		t.Fatalf("DELETE: %d %s", st, body)
	}
	after := env.scrape()
	if v := after.value(t, "camgate_sessions_open", live); v != 0 {
		t.Errorf("sessions open after DELETE = %v, want 0", v)
	}
	if v := after.value(t, "camgate_sessions_total", live); v != 1 {
		t.Errorf("sessions total after DELETE = %v, want 1", v)
	}
	if v := after.value(t, "camgate_camera_viewers", cam); v != 0 {
		t.Errorf("viewers after DELETE = %v, want 0", v)
	}
	if a, d := after.value(t, "camgate_session_frames_out_total", live), during.value(t, "camgate_session_frames_out_total", live); a < d {
		t.Errorf("frames out went down from %v to %v when the session ended", d, a)
	}
}

// A session signaled over the WebSocket API counts as live_ws.
func TestMetricsCountWebSocketSessions(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	env.waitStreaming()
	c := env.mustDialWS()
	c.register(env.token)
	x := c.play("2", testCameraID, nil)
	x.waitFrames(5, 20*time.Second)
	f := env.scrape()
	ws := map[string]string{"kind": "live_ws"}
	for _, name := range []string{"camgate_sessions_open", "camgate_sessions_total", "camgate_signaling_latency_seconds", "camgate_session_time_to_first_frame_seconds"} {
		if v := f.value(t, name, ws); v != 1 {
			t.Errorf("%s{kind=live_ws} = %v, want 1", name, v)
		}
	}
	if v := f.value(t, "camgate_sessions_total", map[string]string{"kind": "live_rest"}); v != 0 {
		t.Errorf("sessions_total{kind=live_rest} = %v, want 0", v)
	}
	c.checkProblems()
}

// PTZ requests are counted by method and result, from the data channel and
// from REST.
func TestMetricsCountPTZCalls(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.Cameras[0].Ptz = appsettings.Ptz{Driver: "simulated"}
		withPilot(t, s)
	}})
	pilot := env.signIn(pilotUser, testPassword)
	ptzPath := "/rest/v1/cameras/" + testCameraID + "/ptz/"
	if st, out := env.doAs(pilot, http.MethodPost, ptzPath+"ptzStatus", ""); st != http.StatusOK {
		t.Fatalf("POST ptzStatus: %d %s", st, out)
	}
	if st, out := env.do(http.MethodPost, ptzPath+"ptzMove", `{"direction":"left"}`); st != http.StatusForbidden {
		t.Fatalf("POST ptzMove without the ptz right: %d %s", st, out)
	}
	if st, out := env.doAs(pilot, http.MethodPost, ptzPath+"ptzJump", ""); st != http.StatusNotFound {
		t.Fatalf("POST of an unknown method: %d %s", st, out)
	}
	env.token = pilot
	c := env.play(liveBody)
	c.waitCommands()
	if r := c.command("ptzStatus", ""); r.Error != nil {
		t.Fatalf("ptzStatus on the data channel: %+v", r.Error)
	}
	f := env.scrape()
	for _, tc := range []struct {
		method, result string
		want           float64
	}{
		{"ptzStatus", "ok", 2},
		{"ptzMove", "forbidden", 1},
		{"other", "method_not_found", 1},
	} {
		if v := f.value(t, "camgate_ptz_calls_total", map[string]string{"method": tc.method, "result": tc.result}); v != tc.want {
			t.Errorf("camgate_ptz_calls_total{method=%s,result=%s} = %v, want %v", tc.method, tc.result, v, tc.want)
		}
	}
}

// withAdmins adds "boss", Admin on the test camera only, and "root", Admin
// on every camera, to the harness's users.
func withAdmins(s *appsettings.Settings) {
	hash := s.Auth.Users[0].PasswordHash
	s.Auth.Roles = append(s.Auth.Roles,
		appsettings.Role{Name: "camera-admin", Admin: []string{testCameraID}},
		appsettings.Role{Name: "root", Admin: []string{"*"}})
	s.Auth.Users = append(s.Auth.Users,
		appsettings.User{Username: "boss", PasswordHash: hash, Roles: []string{"camera-admin"}},
		appsettings.User{Username: "root", PasswordHash: hash, Roles: []string{"root"}})
}

func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	type call struct {
		who    string // a user to sign in as, "" for no token, "bad" for a forged one
		status int
		text   string // in the JSON error, when status is not 200
	}
	cases := []struct {
		name   string
		mutate func(*appsettings.Settings)
		calls  []call
	}{
		{"loopback may scrape by default", nil, []call{
			{"", http.StatusOK, ""},
			{otherUser, http.StatusOK, ""}, // a token changes nothing for an allowed address
		}},
		{"no allowed address: a token with admin is needed", func(s *appsettings.Settings) {
			s.Metrics.AllowFrom = []string{}
		}, []call{
			{"", http.StatusUnauthorized, "/metrics needs a bearer token with the admin right on a camera, or a request from an address in Metrics.AllowFrom"},
			{"bad", http.StatusUnauthorized, "invalid token: token is malformed"},
			{testUser, http.StatusForbidden, "user operator has no admin right on any camera, which /metrics needs"},
			{otherUser, http.StatusForbidden, "user stranger has no admin right on any camera, which /metrics needs"},
			{"boss", http.StatusOK, ""},
			{"root", http.StatusOK, ""},
		}},
		{"another network allowed, not loopback", func(s *appsettings.Settings) {
			s.Metrics.AllowFrom = []string{"10.0.0.0/8", "::ffff:192.0.2.0/120"}
		}, []call{
			{"", http.StatusUnauthorized, "/metrics needs a bearer token"},
			{"boss", http.StatusOK, ""},
		}},
		{"RequireRight false opens it", func(s *appsettings.Settings) {
			s.Metrics.AllowFrom = []string{}
			s.Metrics.RequireRight = false
		}, []call{
			{"", http.StatusOK, ""},
		}},
		{"disabled", func(s *appsettings.Settings) {
			s.Metrics.Enabled = false
		}, []call{
			{"", http.StatusNotFound, "metrics are turned off (Metrics.Enabled is false)"},
			{"root", http.StatusNotFound, "metrics are turned off"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
				withAdmins(s)
				if tc.mutate != nil {
					tc.mutate(s)
				}
			}})
			for _, cl := range tc.calls {
				token := ""
				switch cl.who {
				case "":
				case "bad":
					token = "not.a.jwt"
				default:
					token = env.signIn(cl.who, testPassword)
				}
				resp, body := env.get("/metrics", token)
				if resp.StatusCode != cl.status {
					t.Fatalf("as %q: %d %s, want %d", cl.who, resp.StatusCode, body, cl.status)
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("as %q: Cache-Control %q, want no-store", cl.who, cc)
				}
				if cl.status == http.StatusOK {
					if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
						t.Errorf("as %q: Content-Type %q, want the Prometheus text format", cl.who, ct)
					}
					parseMetrics(t, body).value(t, "camgate_sessions_open", map[string]string{"kind": "live_rest"})
					continue
				}
				var e struct {
					Error struct {
						HTTPCode int `json:"httpCode"`
						Details  []struct {
							ErrorText string `json:"errorText"`
						} `json:"details"`
					} `json:"error"`
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error.HTTPCode != cl.status || len(e.Error.Details) != 1 ||
					!strings.Contains(e.Error.Details[0].ErrorText, cl.text) {
					t.Errorf("as %q: body %s, want the API's error shape with %q", cl.who, body, cl.text)
				}
				if token != "" && strings.Contains(string(body), token) {
					t.Errorf("as %q: the answer repeats the token", cl.who)
				}
				challenge := resp.Header.Get("WWW-Authenticate")
				if (cl.status == http.StatusUnauthorized) != strings.HasPrefix(challenge, "Bearer ") {
					t.Errorf("as %q: status %d with WWW-Authenticate %q", cl.who, cl.status, challenge)
				}
			}
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	resp, body := env.get("/healthz", "")
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Fatalf("/healthz: %d %s", resp.StatusCode, body)
	}
	resp, body = env.get("/readyz", "")
	want := `{"status":"ready","checks":{"cameras":"ok","http":"ok","media":"ok","settings":"ok"}}`
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != want {
		t.Fatalf("/readyz: %d %s, want 200 %s", resp.StatusCode, body, want)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("/readyz Cache-Control %q", cc)
	}
	// The paths are at the root: under /API they do not exist.
	if st, _ := env.doAs("", http.MethodGet, "/healthz", nil); st != http.StatusNotFound {
		t.Errorf("/API/healthz: %d, want 404", st)
	}

	// A second gateway in the same process, whose cameras are not started
	// and which serves no listener: not ready, and its metrics work too.
	s := appsettings.Defaults()
	s.WebRTC.UdpPort = 0
	s.WebRTC.IPs = []string{"127.0.0.1"}
	s.Cameras = []appsettings.Camera{{Id: testCameraID, Transport: "tcp",
		Streams: []appsettings.Stream{{Id: testStreamID, Url: "rtsp://127.0.0.1:1/none", Default: true}}}}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	reg := cameras.NewRegistry(s.Cameras, testLogger(t))
	gw, err := gateway.New(gateway.Options{Config: gatewayConfig(s), Cameras: reg, Auth: denyAll{}, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(path string) (int, string) {
		return serveAs(gw, http.MethodGet, path)
	}
	if st, _ := serveAs(gw, http.MethodHead, "/readyz"); st != http.StatusServiceUnavailable {
		t.Errorf("HEAD /readyz of an unstarted gateway: %d, want 503", st)
	}
	st, out := serve("/readyz")
	want = `{"status":"not ready","checks":{"cameras":"the camera registry is not started","http":"not listening","media":"ok","settings":"ok"}}`
	if st != http.StatusServiceUnavailable || out != want {
		t.Errorf("/readyz of an unstarted gateway: %d %s, want 503 %s", st, out, want)
	}
	if st, out := serve("/healthz"); st != http.StatusOK || out != `{"status":"ok"}` {
		t.Errorf("/healthz of an unstarted gateway: %d %s", st, out)
	}
	st, out = serve("/metrics")
	if st != http.StatusOK {
		t.Fatalf("/metrics of the second gateway: %d %s", st, out)
	}
	f := parseMetrics(t, []byte(out+"\n")) // serve trimmed the final newline
	if v := f.value(t, "camgate_camera_state", map[string]string{"camera": testCameraID, "state": "connecting"}); v != 1 {
		t.Errorf("an unstarted camera's state: connecting = %v, want 1", v)
	}
	// Each gateway counts its own sessions.
	if v := f.value(t, "camgate_sessions_total", map[string]string{"kind": "live_rest"}); v != 0 {
		t.Errorf("second gateway sessions_total = %v", v)
	}

	// Once Close has begun, camgate is not ready but still healthy.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := gw.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st, out := serve("/readyz"); st != http.StatusServiceUnavailable || !strings.Contains(out, `"http":"shutting down"`) {
		t.Errorf("/readyz after Close: %d %s", st, out)
	}
	if st, _ := serve("/healthz"); st != http.StatusOK {
		t.Errorf("/healthz after Close: %d", st)
	}
}

// serveAs sends a request from loopback straight to the gateway's handler.
func serveAs(gw *gateway.Gateway, method, path string) (int, string) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	gw.Handler().ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

// denyAll is an Authenticator that accepts no token.
type denyAll struct{}

func (denyAll) Verify(context.Context, string) (*oauth.Principal, error) {
	return nil, &oauth.TokenError{Reason: "token is malformed"}
}
func (denyAll) HandleToken(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNotFound)
}
func (denyAll) HandleDiscovery(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNotFound)
}
func (denyAll) HandleJWKS(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }
