package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/oauth"
)

const (
	testDemoURL = "rtsp://127.0.0.1:8554/demo"
	otherCamera = "11111111-2222-3333-4444-555555555555"
)

// demoSettings is Defaults with one configured camera and the demo
// overlay, validated.
func demoSettings(t *testing.T) (appsettings.Settings, *demoOverlay) {
	t.Helper()
	s := appsettings.Defaults()
	s.DataDir = t.TempDir()
	s.Cameras = []appsettings.Camera{{Id: otherCamera,
		Streams: []appsettings.Stream{{Id: "11111111-2222-3333-4444-000000000001", Url: "rtsp://192.0.2.10/x"}}}}
	d := &demoOverlay{url: testDemoURL}
	if err := d.apply(&s); err != nil {
		t.Fatal(err)
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s, d
}

// The overlay adds the demo camera after the configured ones, with its
// fixed Ids, the server's URL, the simulated PTZ driver (every other key
// at its default) and recording kept 1h, and a role and a user for it.
func TestDemoOverlay(t *testing.T) {
	t.Parallel()
	s, d := demoSettings(t)
	if len(s.Cameras) != 2 || s.Cameras[0].Id != otherCamera {
		t.Fatalf("cameras %+v, want the configured one first", s.Cameras)
	}
	c := s.Cameras[1]
	if c.Id != demoCameraID || c.Name != "Demo camera" || c.Transport != "tcp" || len(c.Streams) != 1 ||
		c.Streams[0] != (appsettings.Stream{Id: demoStreamID, Name: "Demo stream", Url: testDemoURL, Default: true}) {
		t.Errorf("demo camera %+v", c)
	}
	if rec, ok := s.CameraRecording(strings.ToLower(demoCameraID)); !ok || rec != (appsettings.CameraRecording{Enabled: true, Retain: appsettings.Duration(time.Hour)}) {
		t.Errorf("demo recording %+v, %v", rec, ok)
	}
	want := appsettings.PtzDefaults()
	want.Driver = "simulated"
	if c.Ptz.Driver != want.Driver || c.Ptz.Geometry != want.Geometry || c.Ptz.Speed != want.Speed || c.Ptz.LeaseTimeout != want.LeaseTimeout {
		t.Errorf("demo Ptz %+v, want %+v", c.Ptz, want)
	}
	if !d.userAdded {
		t.Error("userAdded is false, so camgate would not print the demo's sign-in")
	}
	last := s.Auth.Roles[len(s.Auth.Roles)-1]
	if last.Name != demoRole || len(last.Admin) != 1 || last.Admin[0] != demoCameraID {
		t.Errorf("demo role %+v", last)
	}
}

// The demo user signs in with the public password and gets every right on
// the demo camera and nothing else; configured users still work beside it.
func TestDemoUserSignsIn(t *testing.T) {
	t.Parallel()
	s, _ := demoSettings(t)
	alice, err := oauth.HashPassword("alice-password")
	if err != nil {
		t.Fatal(err)
	}
	s.Auth.Users = append(s.Auth.Users, appsettings.User{Username: "alice", PasswordHash: alice})
	svc, err := oauth.New(context.Background(), oauth.Options{Auth: s.Auth, DataDir: s.DataDir, Issuer: "http://127.0.0.1:8080/API/IDP", FailureDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	p, err := svc.Verify(context.Background(), signIn(t, svc, demoUser, demoPassword))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range oauth.AllRights() {
		if !p.Can(r, strings.ToLower(demoCameraID)) {
			t.Errorf("demo user lacks %s on the demo camera", r)
		}
	}
	if p.CanSee(otherCamera) {
		t.Error("demo user sees a camera other than the demo camera")
	}
	signIn(t, svc, "alice", "alice-password")
}

func signIn(t *testing.T, svc *oauth.Service, user, password string) (accessToken string) {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}, "client_id": {"VmsClient"}}
	r := httptest.NewRequest(http.MethodPost, "/API/IDP/connect/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	svc.HandleToken(w, r)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("sign-in as %s: %d %s", user, w.Code, w.Body)
	}
	return body.AccessToken
}

// A configured user or role named "demo" (in any case) wins over the
// demo's: then camgate prints no sign-in, as the password is not "demo".
func TestDemoOverlayKeepsConfiguredUserAndRole(t *testing.T) {
	t.Parallel()
	s := appsettings.Defaults()
	s.Auth.Roles = []appsettings.Role{{Name: " Demo ", Live: []string{"*"}}}
	s.Auth.Users = []appsettings.User{{Username: "DEMO", PasswordHash: "x", Roles: []string{"demo"}}}
	d := &demoOverlay{url: testDemoURL}
	if err := d.apply(&s); err != nil {
		t.Fatal(err)
	}
	if len(s.Auth.Roles) != 1 || len(s.Auth.Users) != 1 || d.userAdded {
		t.Errorf("roles %+v, users %d, userAdded %v: want the configured ones only", s.Auth.Roles, len(s.Auth.Users), d.userAdded)
	}
}

// What the demo cannot live with is refused, naming the setting and the
// way out.
func TestDemoOverlayRefusals(t *testing.T) {
	t.Parallel()
	s := appsettings.Defaults()
	s.Auth.BuiltIn.Enabled = false
	s.Cameras = []appsettings.Camera{
		{Id: strings.ToLower(demoCameraID), Streams: []appsettings.Stream{{Id: "11111111-2222-3333-4444-000000000001"}}},
		{Id: otherCamera, Streams: []appsettings.Stream{{Id: "x"}, {Id: strings.ToLower(demoStreamID)}}},
	}
	err := (&demoOverlay{url: testDemoURL}).apply(&s)
	if err == nil {
		t.Fatal("the overlay took settings the demo cannot live with")
	}
	got := strings.Split(err.Error(), "\n")
	want := []string{
		`Auth.BuiltIn.Enabled: is false, but the demo's user "demo" signs in at the built-in provider: set it to true or run camgate with --demo=false`,
		"Cameras[0].Id: is the Id of the demo camera; choose another or run camgate with --demo=false",
		"Cameras[1].Streams[1].Id: is the Id of the demo camera's stream; choose another or run camgate with --demo=false",
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n  got  %q\n  want %q", got, want)
	}
	if len(s.Cameras) != 2 || len(s.Auth.Users) != 0 {
		t.Error("a refused overlay changed the settings")
	}
}

// The demo is on without --config, off with it; --demo says otherwise.
func TestDemoFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, true},
		{[]string{"--config", "x"}, false},
		{[]string{"--config", "x", "--demo"}, true},
		{[]string{"--demo=false"}, false},
		{[]string{"--demo-listen", "127.0.0.1:8554"}, true},
	} {
		mf := newMainFlags()
		if err := mf.fl.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if got := mf.demo.on(*mf.settings.configDir); got != tc.want {
			t.Errorf("%v: demo %v, want %v", tc.args, got, tc.want)
		}
	}
}

// A settings file or variable that still turns the demo on by setting is
// refused, and the message says what replaced it.
func TestDemoSettingIsRefusedWithAHint(t *testing.T) {
	t.Parallel()
	dir := writeConfig(t, `{"Demo": {"Enabled": true}, "Recording": {"demo": {"Enabled": false}}}`)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--config", dir}, &stdout, &stderr); code != exitSettings {
		t.Fatalf("exit code %d, want %d: %s", code, exitSettings, stderr.String())
	}
	out := stderr.String()
	for _, w := range []string{"appsettings.json: Demo: unknown setting: demo mode is switched by camgate's flags --demo, --demo-listen",
		"appsettings.json: Recording.demo: unknown setting: demo mode is switched by"} {
		if !strings.Contains(out, w) {
			t.Errorf("stderr %q lacks %q", out, w)
		}
	}
	// Other unknown settings keep their plain message.
	err := &appsettings.Error{Path: "Demos", Msg: "unknown setting"}
	if demoSettingHint(err); err.Msg != "unknown setting" {
		t.Errorf("Demos: %q", err.Msg)
	}
}

// startDemo serves the clip at a URL on loopback, and a clip that is not
// there is an error that names --demo-clip and the path.
func TestStartDemo(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	srv, err := startDemo(demoListen, testClip, log)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if u, err := url.Parse(srv.URL()); err != nil || u.Scheme != "rtsp" || u.Hostname() != "127.0.0.1" || u.Port() == "0" {
		t.Errorf("URL %q", srv.URL())
	}
	missing := filepath.Join(t.TempDir(), "nope.h264")
	if _, err := startDemo(demoListen, missing, log); err == nil || !strings.Contains(err.Error(), "--demo-clip") || !strings.Contains(err.Error(), missing) {
		t.Errorf("startDemo(missing clip) = %v, want an error naming --demo-clip and the path", err)
	}
}

var testClip = filepath.Join("..", "..", demoClipName)

func TestFindDemoClip(t *testing.T) {
	// Not parallel: t.Chdir changes the whole process's working directory.
	missing := filepath.Join(t.TempDir(), "missing.h264")
	if _, err := findDemoClip(missing); err == nil || !errors.Is(err, fs.ErrNotExist) ||
		!strings.Contains(err.Error(), "--demo-clip") || !strings.Contains(err.Error(), missing) {
		t.Fatalf("findDemoClip(missing) error = %v, want a not-exist error naming --demo-clip and the path", err)
	}
	if got, err := findDemoClip(testClip); err != nil || got != testClip {
		t.Fatalf("findDemoClip(%q) = %q, %v", testClip, got, err)
	}

	t.Run("repository folder", func(t *testing.T) {
		t.Chdir(filepath.Join("..", "..")) // the repository root, where make run starts camgate
		got, err := findDemoClip("")
		if err != nil || got != demoClipName {
			t.Fatalf("findDemoClip(\"\") = %q, %v; want %q", got, err, demoClipName)
		}
	})
	t.Run("elsewhere", func(t *testing.T) {
		t.Chdir(t.TempDir())
		_, err := findDemoClip("")
		if err == nil || !strings.Contains(err.Error(), demoClipName) || !strings.Contains(err.Error(), "--demo-clip") {
			t.Fatalf("findDemoClip(\"\") away from the repository: %v; want an error naming the clip and --demo-clip", err)
		}
	})
}
