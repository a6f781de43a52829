package appsettings

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadWithoutConfigDirIsTheDefaults(t *testing.T) {
	got, err := Load(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestDefaultsAreValid(t *testing.T) {
	s := Defaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, Defaults()) {
		t.Errorf("Validate changed the defaults: %+v", s)
	}
}

func TestLoadWithoutConfigDirAppliesEnv(t *testing.T) {
	got, err := Load(LoadOptions{Env: []string{
		"CAMGATE__Http__Listen=:9090",
		"CAMGATE_ENVIRONMENT=Development", // selects a file; not a setting
		"PATH=/usr/bin",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Http.Listen != ":9090" {
		t.Errorf("Http.Listen=%q", got.Http.Listen)
	}
}

// layeredWant is what testdata/layered gives with the production file and
// no environment variables.
func layeredWant() Settings {
	s := Defaults()
	s.Http.Listen = "0.0.0.0:80"
	s.WebRTC.UdpPort = 9000
	s.WebRTC.PublicIPs = []string{"198.51.100.7", "203.0.113.2"} // per index
	s.WebRTC.IceServers = []IceServer{{Urls: []string{"stun:stun.example.net:3478"}}}
	s.WebRTC.GatherTimeout = Duration(1500 * time.Millisecond)
	s.WebRTC.RtpClock = "90kHz"
	s.Cameras = []Camera{
		{
			Id:   "11111111-2222-3333-4444-555555555555",
			Name: "Gate",
			Streams: []Stream{
				{Id: "11111111-2222-3333-4444-000000000001", Url: "rtsp://user:password@192.0.2.10:554/stream1", Default: true},
				{Id: "11111111-2222-3333-4444-000000000002", Name: "low", Url: "rtsp://user:password@192.0.2.10:554/stream2"},
			},
			Transport: "auto",
		},
		{
			Id:        "22222222-3333-4444-5555-666666666666",
			Name:      "Yard",
			Streams:   []Stream{{Id: "22222222-3333-4444-5555-000000000001", Url: "rtsp://192.0.2.11/live"}},
			Transport: "tcp",
		},
	}
	s.Logging.Level = "debug"
	return s
}

func TestLoadLayers(t *testing.T) {
	dir := filepath.Join("testdata", "layered")
	cases := []struct {
		name string
		opts LoadOptions
		want func() Settings
	}{
		{
			name: "default environment is Production, file name matched case-insensitively",
			opts: LoadOptions{ConfigDir: dir},
			want: layeredWant,
		},
		{
			name: "environment in any case",
			opts: LoadOptions{ConfigDir: dir, Environment: "PRODUCTION"},
			want: layeredWant,
		},
		{
			name: "another environment",
			opts: LoadOptions{ConfigDir: dir, Environment: "staging"},
			want: func() Settings {
				s := layeredWant()
				s.Http.Listen = "127.0.0.1:8081"
				s.WebRTC.PublicIPs = []string{"203.0.113.1", "203.0.113.2"}
				s.WebRTC.RtpClock = "ms"
				s.Cameras[1].Name = s.Cameras[1].Id
				s.Logging.Level = "info"
				s.DataDir = "/var/lib/camgate-staging"
				return s
			},
		},
		{
			name: "an environment without a file is fine",
			opts: LoadOptions{ConfigDir: dir, Environment: "Development"},
			want: func() Settings {
				s := layeredWant()
				s.Http.Listen = "0.0.0.0:8080"
				s.WebRTC.PublicIPs = []string{"203.0.113.1", "203.0.113.2"}
				s.WebRTC.RtpClock = "ms"
				s.Cameras[1].Name = s.Cameras[1].Id
				s.Logging.Level = "info"
				return s
			},
		},
		{
			name: "environment variables override both files",
			opts: LoadOptions{ConfigDir: dir, Env: []string{
				// an array item by index, deep inside
				"CAMGATE__Cameras__0__Streams__1__Url=rtsp://admin:s3cret@192.0.2.20/sub",
				// prefix and keys in any case
				"camgate__webrtc__udpport=9100",
				"CAMGATE__WEBRTC__GATHERTIMEOUT=3s",
				// a new camera, appended by index, its items in any order
				"CAMGATE__Cameras__2__Streams__0__Url=rtsp://192.0.2.30/",
				"CAMGATE__Cameras__2__Id=33333333-4444-5555-6666-777777777777",
				"CAMGATE__Cameras__2__Streams__0__Id=33333333-4444-5555-6666-000000000001",
				// a list of strings as a comma list, and an item of another by index
				"CAMGATE__WebRTC__Interfaces=eth0, eth1",
				"CAMGATE__WebRTC__PublicIPs__1=192.0.2.99",
				"CAMGATE__WebRTC__IceServers__0__Urls=stun:a.example.net,stun:b.example.net",
				"CAMGATE_ENVIRONMENT=Staging", // not a setting, and Load takes Environment from opts
				"CAMGATE_Http__Listen=:1",     // one underscore: not ours
				"HOME=/root",
			}},
			want: func() Settings {
				s := layeredWant()
				s.Cameras[0].Streams[1].Url = "rtsp://admin:s3cret@192.0.2.20/sub"
				s.WebRTC.UdpPort = 9100
				s.WebRTC.GatherTimeout = Duration(3 * time.Second)
				s.Cameras = append(s.Cameras, Camera{
					Id:        "33333333-4444-5555-6666-777777777777",
					Name:      "33333333-4444-5555-6666-777777777777",
					Streams:   []Stream{{Id: "33333333-4444-5555-6666-000000000001", Url: "rtsp://192.0.2.30/"}},
					Transport: "auto",
				})
				s.WebRTC.Interfaces = []string{"eth0", "eth1"}
				s.WebRTC.PublicIPs = []string{"198.51.100.7", "192.0.2.99"}
				s.WebRTC.IceServers[0].Urls = []string{"stun:a.example.net", "stun:b.example.net"}
				return s
			},
		},
		{
			name: "the exact spelling of the environment file wins over other spellings",
			opts: LoadOptions{ConfigDir: filepath.Join("testdata", "twocase"), Environment: "Test"},
			want: func() Settings {
				s := Defaults()
				s.DataDir = "two"
				return s
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want(); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	empty := t.TempDir()
	cases := []struct {
		name string
		opts LoadOptions
		want string
		is   error
	}{
		{
			name: "appsettings.json is required",
			opts: LoadOptions{ConfigDir: empty},
			want: `appsettings.json: not found in the config folder "` + empty + `"`,
			is:   fs.ErrNotExist,
		},
		{
			name: "the folder must exist",
			opts: LoadOptions{ConfigDir: filepath.Join(empty, "nope")},
			want: `config folder "` + filepath.Join(empty, "nope") + `": cannot be read: no such file or directory`,
			is:   fs.ErrNotExist,
		},
		{
			name: "two spellings of the environment file, neither exact",
			opts: LoadOptions{ConfigDir: filepath.Join("testdata", "twocase"), Environment: "TEST"},
			want: "appsettings.TEST.json: found more than once, spelled appsettings.Test.json and appsettings.test.json; keep one",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.opts)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got  %v\nwant %s", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%T is not an *Error", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v) = false", tc.is)
			}
		})
	}
}

func TestLoadNamesTheFileOfABadValue(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "appsettings.json", `{"Http": {"Listen": 8080}}`)
	write(t, dir, "appsettings.Production.json", `{"Logging": {"Levle": "debug"}}`)
	_, err := Load(LoadOptions{ConfigDir: dir, Env: []string{"CAMGATE__WebRTC__UdpPort=x"}})
	want := []string{
		"appsettings.json: Http.Listen: want a string, got a number",
		"appsettings.Production.json: Logging.Levle: unknown setting",
		`environment variable CAMGATE__WebRTC__UdpPort: WebRTC.UdpPort: want an integer, got "x"`,
	}
	checkErrors(t, err, want)
}

func TestLoadValidates(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "appsettings.json", `{"WebRTC": {"ViewerQueueFrames": 1}, "DataDir": ""}`)
	got, err := Load(LoadOptions{ConfigDir: dir})
	checkErrors(t, err, []string{
		"WebRTC.ViewerQueueFrames: must be from 8 to 4096 (got 1)",
		"DataDir: must not be empty",
	})
	if !reflect.DeepEqual(got, Settings{}) {
		t.Errorf("a failed Load returned %+v, want the zero value", got)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// errorLines splits a joined error into its parts' texts, checking that each
// is an *Error and one line.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	lines := make([]string, 0, len(errs))
	for _, e := range errs {
		var typed *Error
		if !errors.As(e, &typed) {
			t.Errorf("%q is a %T, not an *Error", e, e)
		}
		if strings.Contains(e.Error(), "\n") {
			t.Errorf("%q is more than one line", e)
		}
		lines = append(lines, e.Error())
	}
	return lines
}

func checkErrors(t *testing.T, err error, want []string) {
	t.Helper()
	got := errorLines(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n  got  %q\n  want %q", got, want)
	}
}

// Overlay is the caller's own layer: it sees the environment's values,
// runs before the defaults are applied and Validate checks what it added,
// and its error is Load's.
func TestLoadOverlay(t *testing.T) {
	const cam, stream = "11111111-2222-3333-4444-555555555555", "11111111-2222-3333-4444-000000000001"
	seen := ""
	got, err := Load(LoadOptions{Env: []string{"CAMGATE__Http__Listen=:9090"}, Overlay: func(s *Settings) error {
		seen = s.Http.Listen
		s.Cameras = append(s.Cameras, Camera{Id: cam, Streams: []Stream{{Id: stream, Url: "rtsp://127.0.0.1:8554/x"}}})
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if seen != ":9090" {
		t.Errorf("the overlay saw Http.Listen %q, want the environment's", seen)
	}
	if len(got.Cameras) != 1 || got.Cameras[0].Name != cam || got.Cameras[0].Transport != "auto" {
		t.Errorf("cameras %+v, want the overlay's camera with its defaults filled in", got.Cameras)
	}

	_, err = Load(LoadOptions{Overlay: func(s *Settings) error {
		s.Cameras = append(s.Cameras, Camera{Id: "x", Streams: []Stream{{Id: stream, Url: "rtsp://127.0.0.1:8554/x"}}})
		return nil
	}})
	checkErrors(t, err, []string{`Cameras[0].Id: must be a GUID (got "x")`})

	failed := errors.New("the overlay failed")
	if _, err := Load(LoadOptions{Overlay: func(*Settings) error { return failed }}); !errors.Is(err, failed) {
		t.Errorf("Load = %v, want the overlay's error", err)
	}
}
