package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/demo"
	"github.com/camgate/camgate/cameras/testutil"
	"github.com/camgate/camgate/gateway"
	"github.com/camgate/camgate/oauth"
	"github.com/camgate/camgate/playback"
	"github.com/camgate/camgate/ptz"
)

const (
	testCameraID = "6C0D9F0E-1111-4A2B-8C3D-0123456789AB"
	testStreamID = "6C0D9F0E-2222-4A2B-8C3D-0123456789AB"
)

// testEnv is a camgate gateway on loopback pulling from an in-process RTSP
// camera that loops the demo clip.
type testEnv struct {
	t        *testing.T
	camera   *demo.Server
	registry *cameras.Registry
	auth     *oauth.Service
	gw       *gateway.Gateway
	base     string // http://127.0.0.1:PORT/API
	// token is the access token of testUser; do sends it unless a test
	// sets an Authorization header of its own (doAs).
	token string
	// ptz has a controller per camera whose settings give it PTZ (none
	// unless a test's mutate adds some).
	ptz *ptz.Registry
	// store is the recording store in the settings' DataDir (a temporary
	// folder); recorders has a recorder per camera whose settings enable
	// recording (none unless a test's mutate does), as camgate builds them.
	store     *playback.Store
	recorders map[string]*playback.Recorder
}

// The harness's users: testUser may watch every camera; otherUser has a
// right on no camera at all.
const (
	testUser     = "operator"
	otherUser    = "stranger"
	testPassword = "correct horse battery staple"
)

type envOptions struct {
	// authNow is the identity service's clock (nil: the real one); tests
	// of token expiry set it in the past so tokens expire soon.
	authNow      func() time.Time
	inBandParams bool
	corrupt      func(int, [][]byte) [][]byte
	mutate       func(*appsettings.Settings)
	// fps paces the RTSP camera (0: the clip's 25 fps, an IDR every 4 s;
	// 100 gives an IDR every second).
	fps int
	// logs, when set, receives every component's log at debug level.
	logs io.Writer
	// listener, when set, wraps the gateway's listener (tests of slow
	// clients shrink the socket buffers of the connections it accepts).
	listener func(net.Listener) net.Listener
}

func loadClip(t testing.TB) *demo.Clip {
	t.Helper()
	clip, err := demo.LoadClip("../testdata/demo.h264")
	if err != nil {
		t.Fatalf("load demo clip: %v", err)
	}
	return clip
}

func testLogger(testing.TB) *slog.Logger {
	if os.Getenv("CAMGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newTestEnv(t *testing.T, o envOptions) *testEnv {
	t.Helper()
	log := testLogger(t)
	if o.logs != nil {
		log = slog.New(slog.NewTextHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// StartOnFirstPlay: camgate, the camera's one reader, starts with the
	// clip's keyframe instead of joining mid-GOP and waiting up to 4 s
	// (the clip at 25 fps) for the next one, as camgate's demo camera does.
	cam := &demo.Server{Address: "127.0.0.1:0", Clip: loadClip(t), FPS: o.fps, InBandParameterSets: o.inBandParams, Corrupt: o.corrupt, StartOnFirstPlay: true, Logger: log}
	if err := cam.Start(); err != nil {
		t.Fatalf("start RTSP camera: %v", err)
	}
	s := appsettings.Defaults()
	s.Http.Listen = "127.0.0.1:0"
	s.WebRTC.UdpPort = 0
	s.WebRTC.MDNS = "disabled"
	s.WebRTC.IPs = []string{"127.0.0.1"}
	s.DataDir = t.TempDir()
	s.Cameras = []appsettings.Camera{{
		Id: testCameraID, Name: "Test camera", Transport: "tcp",
		Streams: []appsettings.Stream{{Id: testStreamID, Url: cam.URL(), Default: true}},
	}}
	hash := testPasswordHash(t)
	s.Auth.Roles = []appsettings.Role{{Name: "viewer", Live: []string{"*"}}, {Name: "nothing"}}
	s.Auth.Users = []appsettings.User{
		{Username: testUser, PasswordHash: hash, Roles: []string{"viewer"}},
		{Username: otherUser, PasswordHash: hash, Roles: []string{"nothing"}},
	}
	if o.mutate != nil {
		o.mutate(&s)
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("settings: %v", err)
	}
	ln, err := net.Listen("tcp", s.Http.Listen)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String() + "/API"
	auth, err := oauth.New(context.Background(), oauth.Options{Auth: s.Auth, DataDir: s.DataDir, Issuer: base + "/IDP", Log: log, FailureDelay: -1, Now: o.authNow})
	if err != nil {
		t.Fatalf("oauth: %v", err)
	}
	reg := cameras.NewRegistry(s.Cameras, log)
	stopCameras := testutil.Run(t, reg.Run, reg.Started)
	ptzReg := newPTZRegistry(t, s, log)
	stopPTZ := testutil.Run(t, ptzReg.Run, nil)
	store, err := playback.NewStore(context.Background(), // as cmd/camgate's storeOptions
		playback.Options{Dir: filepath.Join(s.DataDir, "recordings"), Recording: s.Recording, Retain: s.CameraRetain, Logger: log})
	if err != nil {
		t.Fatalf("recording store: %v", err)
	}
	recorders := map[string]*playback.Recorder{}
	var stopRecorders []func()
	for _, c := range reg.Cameras() {
		if rec, ok := s.CameraRecording(c.ID); ok && rec.Enabled {
			r, err := store.NewRecorder(c.DefaultStream().Hub)
			if err != nil {
				t.Fatalf("recorder of %s: %v", c.ID, err)
			}
			stopRecorders = append(stopRecorders, testutil.Run(t, r.Run, r.Started))
			recorders[strings.ToLower(c.ID)] = r
		}
	}
	gw, err := gateway.New(gateway.Options{Config: gatewayConfig(s), Cameras: reg, Auth: auth, PTZ: ptzReg, Store: store, Log: log})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	if o.listener != nil {
		ln = o.listener(ln)
	}
	gw.Serve(ln)
	apiCheck.watch(t, ln.Addr().String())
	env := &testEnv{t: t, camera: cam, registry: reg, auth: auth, gw: gw, ptz: ptzReg, store: store, recorders: recorders, base: base}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Close(ctx)
		for _, stop := range stopRecorders {
			stop()
		}
		store.Close()
		stopPTZ()
		stopCameras()
		auth.Close()
		cam.Close()
	})
	env.token = env.signIn(testUser, testPassword)
	return env
}

// testPasswordHash is testPassword hashed with a cheap argon2id (256 KiB,
// one pass, a fixed salt), in the PHC form Auth.Users[].PasswordHash takes.
// HashPassword's own parameters (19 MiB, two passes) cost half a second of
// CPU per sign-in under the race detector, and every test signs in; they
// are tested in package oauth.
func testPasswordHash(testing.TB) string {
	salt := []byte("camgate-test-salt")
	key := argon2.IDKey([]byte(testPassword), salt, 1, 256, 1, 32)
	return "$argon2id$v=19$m=256,t=1,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
}

// signIn gets an access token from the gateway's token endpoint, as the
// XProtect sample does (client VmsClient: a browser, docs/clients.md).
//
//nolint:unparam // password: each call names the credentials it signs in with
func (e *testEnv) signIn(user, password string) string {
	e.t.Helper()
	return e.signInAs(user, password, oauth.ClientVms)
}

// signInAs signs in with the password grant as the given OAuth client.
func (e *testEnv) signInAs(user, password, client string) string {
	e.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}, "client_id": {client}}
	resp, err := http.PostForm(e.base+"/IDP/connect/token", form)
	if err != nil {
		e.t.Fatalf("token endpoint: %v", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		e.t.Fatalf("sign in as %s: status %d, err %v", user, resp.StatusCode, err)
	}
	return tok.AccessToken
}

// waitStreaming waits until the camera's hub has a keyframe cached, so that
// a viewer's first frame does not depend on the camera's next IDR.
func (e *testEnv) waitStreaming() {
	e.t.Helper()
	cam, _ := e.registry.Camera(testCameraID)
	deadline := time.Now().Add(15 * time.Second)
	for cam.DefaultStream().Hub.Stats().GOPFrames == 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("camera never streamed: %+v", cam.DefaultStream().Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// do sends a JSON request with the test user's token and returns the status
// and body.
func (e *testEnv) do(method, path string, body any) (int, []byte) {
	e.t.Helper()
	return e.doAs(e.token, method, path, body)
}

// doAs sends a JSON request with the given bearer token ("" sends none).
func (e *testEnv) doAs(token, method, path string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// gatewayConfig is the gateway's part of the settings, as cmd/camgate
// fills it.
func gatewayConfig(s appsettings.Settings) gateway.Config {
	return gateway.Config{HTTP: s.Http, CORS: s.CORS, Metrics: s.Metrics, WebRTC: s.WebRTC, Limits: s.Limits,
		WebSocket: s.WebSocket, SessionGrace: time.Duration(s.Auth.SessionGrace), Issuer: s.Auth.BuiltIn.Issuer}
}
