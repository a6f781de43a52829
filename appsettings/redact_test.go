package appsettings

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

const secret = "s3cr3t-P4ss"

// TestNoPasswordInErrors feeds the secret through every place a password
// can go wrong and checks that no error quotes it.
func TestNoPasswordInErrors(t *testing.T) {
	stream := func(url string) string {
		return `{"Cameras": [{"Id": "` + camA + `", "Streams": [{"Id": "` + streamA + `", "Url": ` + url + `}]}]}`
	}
	files := []string{
		stream(`"http://admin:` + secret + `@192.0.2.10/x"`),
		stream(`"rtsp://admin:` + secret + `@192.0.2.10:bad/x"`),
		stream(`"rtsp://admin:` + secret + `@/x"`),
		stream(`"rtsp://admin:` + secret + `@192.0.2.10:99999/x"`),
		stream(`"rtsp://admin:p/` + secret + `@192.0.2.10/x"`),   // "/" in the password
		stream(`"rtsp://admin:p@` + secret + `@192.0.2.10:0/x"`), // "@" in the password
		stream(`"rtsp://admin@:0/x?password=` + secret + `"`),
		stream(`"http://192.0.2.10/x#` + secret + `"`),
		stream(`"admin:` + secret + `"`),
		stream(`["rtsp://admin:` + secret + `@192.0.2.10/x"]`),
		stream(`{"u": "` + secret + `"}`),
		stream(`"rtsp://admin:` + secret + `@192.0.2.10/x" x`),
		`{"Cameras": [{"Streams": [{"Urll": "rtsp://admin:` + secret + `@192.0.2.10/x"}]}]}`,
		`{"Cameras": [{"Streams": [{"Url": "rtsp://admin:` + secret + `@192.0.2.10/x", "url": "rtsp://admin:` + secret + `@192.0.2.10/x"}]}]}`,
		`{"WebRTC": {"IceServers": [{"urls": "turn:admin:` + secret + `@turn.example.net?x=` + secret + `", "Credentail": "` + secret + `"}]}}`,
		`{"WebRTC": {"IceServers": [{"urls": "http://admin:` + secret + `@turn.example.net", "Credential": ["` + secret + `"]}]}}`,
		`{"WebRTC": {"IceServers": [{"urls": "turn:h", "Credential": "` + secret + `"}]}}`,
		`{"Auth": {"Users": [{"Username": "alice", "PasswordHash": "` + secret + `"}]}}`,
		`{"Auth": {"Users": [{"Username": "alice", "PasswordHash": "$2b$10$` + secret + `"}]}}`,
		`{"Auth": {"Users": [{"Username": "alice:` + secret + `", "PasswordHash": "` + bcryptHash + `"}]}}`,
		`{"Auth": {"Users": [{"Username": "alice", "PasswordHash": ["` + secret + `"]}]}}`,
		`{"Auth": {"Users": [{"Username": "alice", "Password": "` + secret + `"}]}}`,
		`{"Auth": {"BuiltIn": {"Issuer": "https://admin:` + secret + `@cams.example.com/IDP?k=` + secret + `"}}}`,
		`{"Auth": {"Issuers": [{"Url": "http://admin:` + secret + `@idp.example.com/#` + secret + `", "Audience": "a"}]}}`,
		`{"CORS": {"Access-Control-Allow-Origin": "https://admin:` + secret + `@portal.example.com?` + secret + `"}}`,
	}
	envs := [][]string{
		{"CAMGATE__Cameras__0__Streams__0__Url=ftp://admin:" + secret + "@192.0.2.10/"},
		{"CAMGATE__Cameras__0__Streams__0__Urll=rtsp://admin:" + secret + "@192.0.2.10/"},
		{"CAMGATE__Cameras__0__Streams__0__Url__0=rtsp://admin:" + secret + "@192.0.2.10/"},
		{"CAMGATE__Cameras__0=rtsp://admin:" + secret + "@192.0.2.10/"},
		{"CAMGATE__Cameras__5__Streams__0__Url=rtsp://admin:" + secret + "@192.0.2.10/"},
		{"CAMGATE__WebRTC__IceServers__0__Credential__x=" + secret},
		{"CAMGATE__Auth__Users__0__Username=alice", "CAMGATE__Auth__Users__0__PasswordHash=" + secret},
		{"CAMGATE__Auth__Users__0__Password=" + secret},
		{"CAMGATE__Auth__Users__0__PasswordHash__0=" + secret},
	}
	check := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("the password leaked:\n%v", err)
		}
	}
	for i, f := range files {
		_, err := build([]layer{{"appsettings.json", []byte(f)}}, nil, nil)
		t.Run("file "+string(rune('A'+i)), func(t *testing.T) { check(t, err) })
	}
	for i, env := range envs {
		_, err := build([]layer{{"appsettings.json", []byte(`{}`)}}, env, nil)
		t.Run("env "+string(rune('A'+i)), func(t *testing.T) { check(t, err) })
	}
}

func TestRedacted(t *testing.T) {
	s := validSettings()
	s.Cameras[0].Streams[0].Url = "rtsp://admin:" + secret + "@192.0.2.10:554/stream1"
	s.Cameras[0].Streams[1].Url = "rtsp://192.0.2.10/cgi?user=admin&password=" + secret + "&channel=1"
	s.Cameras[1].Streams[0].Url = "rtsp://admin:" + secret + "@192.0.2.11:bad/"
	s.WebRTC.IceServers[1].Credential = secret
	s.Auth.Users[0].PasswordHash = "$2b$10$" + secret
	s.Auth.Users = append(s.Auth.Users, User{Username: "nohash"})
	orig := deepCopy(t, s)

	r := s.Redacted()

	if got, want := r.Cameras[0].Streams[0].Url, "rtsp://admin:xxxxx@192.0.2.10:554/stream1"; got != want {
		t.Errorf("userinfo: got %q, want %q", got, want)
	}
	if got, want := r.Cameras[0].Streams[1].Url, "rtsp://192.0.2.10/cgi?channel=1&password=xxxxx&user=admin"; got != want {
		t.Errorf("query: got %q, want %q", got, want)
	}
	if got, want := r.Cameras[1].Streams[0].Url, "rtsp://192.0.2.11:bad/"; got != want {
		t.Errorf("unparsable: got %q, want %q", got, want)
	}
	if got := r.WebRTC.IceServers[1].Credential; got != "***" {
		t.Errorf("credential: got %q", got)
	}
	if got := r.WebRTC.IceServers[0].Credential; got != "" {
		t.Errorf("an empty credential became %q", got)
	}
	for i, want := range []string{"***", "***", ""} {
		if got := r.Auth.Users[i].PasswordHash; got != want {
			t.Errorf("Auth.Users[%d].PasswordHash: got %q, want %q", i, got, want)
		}
	}
	if got, want := r.Auth.Users[1].Username, "bob@example.com"; got != want {
		t.Errorf("Username: got %q, want %q", got, want)
	}
	if got, want := r.Cameras[0].Streams[0].Id, streamA; got != want {
		t.Errorf("Id: got %q, want %q", got, want)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "s3cr3t") {
		t.Errorf("the password leaked: %s", b)
	}
	if !strings.Contains(string(b), `"GatherTimeout":"2s"`) {
		t.Errorf("durations should marshal as strings: %s", b)
	}

	// The copy is deep: changing it leaves s alone.
	r.Cameras[0].Streams[0].Id = "changed"
	r.Cameras[0].Name = "changed"
	r.WebRTC.IceServers[0].Urls[0] = "changed"
	r.WebRTC.PublicIPs[0] = "changed"
	r.WebRTC.IPs[0] = "changed"
	r.WebRTC.Interfaces[0] = "changed"
	r.Auth.Users[0].Roles[0] = "changed"
	r.Auth.Roles[0].Live[0] = "changed"
	r.Auth.Roles[0].Playback[0] = "changed"
	r.Auth.Roles[0].Ptz[0] = "changed"
	r.Auth.Roles[2].Export[0] = "changed"
	r.Auth.Roles[2].Admin[0] = "changed"
	r.Auth.Issuers[0].RoleMappings[0].Roles[0] = "changed"
	r.Auth.Issuers[0].Url = "changed"
	r.CORS.AllowOrigin = "changed"
	if !reflect.DeepEqual(s, orig) {
		t.Errorf("Redacted's copy shares memory with the original")
	}
}

func TestRedactedKeepsURLsWithoutSecrets(t *testing.T) {
	for _, url := range []string{"rtsp://192.0.2.10/x", "rtsp://admin@192.0.2.10/x", "rtsp://192.0.2.10/x?channel=1&subtype=0"} {
		if got := redactPassword(url); got != url {
			t.Errorf("redactPassword(%q) = %q", url, got)
		}
	}
	if got := redactPassword("admin:" + secret); got != "xxxxx" {
		t.Errorf("a non-URL became %q", got)
	}
}

func deepCopy(t *testing.T, s Settings) Settings {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var c Settings
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDurationJSON(t *testing.T) {
	var d Duration
	if err := json.Unmarshal([]byte(`"1m30s"`), &d); err != nil || d.String() != "1m30s" {
		t.Errorf("got %v, %v", d, err)
	}
	for in, want := range map[string]string{
		`90`:      `want a duration such as "30s", got a number`,
		`"90"`:    `want a duration such as "30s", got "90"`,
		`true`:    `want a duration such as "30s", got a boolean`,
		`["1s"]`:  `want a duration such as "30s", got a list`,
		`{"a":1}`: `want a duration such as "30s", got an object`,
	} {
		if err := json.Unmarshal([]byte(in), &d); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %s", in, err, want)
		}
	}
	d = Duration(time.Second)
	if err := json.Unmarshal([]byte(`null`), &d); err != nil || d != Duration(time.Second) {
		t.Errorf("null: got %v, %v; want it left alone", d, err)
	}
	b, err := json.Marshal(Duration(2500e6))
	if err != nil || string(b) != `"2.5s"` {
		t.Errorf("marshal: %s, %v", b, err)
	}
}
