package appsettings

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// ptzSettings is validSettings with an ONVIF PTZ on camera 0 (every key
// set, defaults filled in) and a simulated one on camera 1.
func ptzSettings() Settings {
	s := validSettings()
	s.Cameras[0].Ptz = Ptz{
		Driver: "onvif", Url: "http://192.0.2.10/onvif/device_service", Username: "admin", Password: secret,
		ProfileToken: "Profile_1", HomePreset: "1", AuxCommands: []string{"tt:Wiper", "", "tt:IRLamp"},
		Speed: 0.5, NudgeLength: Duration(400 * time.Millisecond), LeaseTimeout: Duration(5 * time.Second),
		RatePerSession: 10, RatePerCamera: 10,
		Quirks:   PtzQuirks{StopMode: "both"},
		Geometry: PtzDefaults().Geometry,
	}
	s.Cameras[1].Ptz = Ptz{Driver: "simulated", Speed: 1, NudgeLength: Duration(time.Second),
		LeaseTimeout: Duration(time.Minute), RatePerSession: 1000, RatePerCamera: 1,
		Quirks:   PtzQuirks{StopMode: "zeroVelocity", NoStop: true, NoTimeout: true, NoDiagonal: true, InvertPan: true, InvertTilt: true},
		Geometry: PtzGeometry{PanDegrees: 350, TiltDegrees: 90, HorizontalFov: 179, VerticalFov: 0.5, ZoomRatio: 1}}
	return s
}

func TestPtzValidSettings(t *testing.T) {
	s := ptzSettings()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, ptzSettings()) {
		t.Errorf("Validate changed valid settings: %+v", s.Cameras[0].Ptz)
	}
}

func TestPtzDefaults(t *testing.T) {
	s := validSettings()
	s.Cameras[0].Ptz = Ptz{Driver: PtzOnvif, Url: "https://cam.example.com:8443/onvif/device_service"}
	s.Cameras[1].Ptz = Ptz{Driver: PtzSimulated, Quirks: PtzQuirks{StopMode: StopZeroVelocity}}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Ptz{Driver: "onvif", Url: "https://cam.example.com:8443/onvif/device_service",
		Speed: 0.5, NudgeLength: Duration(400 * time.Millisecond), LeaseTimeout: Duration(5 * time.Second),
		RatePerSession: 10, RatePerCamera: 10, Quirks: PtzQuirks{StopMode: "both"}, Geometry: PtzDefaults().Geometry}
	if !reflect.DeepEqual(s.Cameras[0].Ptz, want) {
		t.Errorf("got  %+v\nwant %+v", s.Cameras[0].Ptz, want)
	}
	if p := s.Cameras[1].Ptz; p.Quirks.StopMode != StopZeroVelocity {
		t.Errorf("a StopMode that is set was changed: %+v", p)
	}
	again := s
	again.Cameras = append([]Camera(nil), s.Cameras...)
	again.ApplyDefaults()
	if !reflect.DeepEqual(again.Cameras, s.Cameras) {
		t.Errorf("applying the defaults again changed the result")
	}
	// Without a driver nothing is filled in.
	s = validSettings()
	s.ApplyDefaults()
	if !reflect.DeepEqual(s.Cameras[0].Ptz, Ptz{}) {
		t.Errorf("no driver: %+v", s.Cameras[0].Ptz)
	}
	// Validate fills nothing in: a driver without the defaults is refused.
	s.Cameras[0].Ptz = Ptz{Driver: PtzSimulated}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "Cameras[0].Ptz.Speed: must be more than 0") {
		t.Errorf("Validate of a Ptz without its defaults: %v", err)
	}
}

func TestPtzRules(t *testing.T) {
	const p0 = "Cameras[0].Ptz."
	cases := []struct {
		name   string
		mutate func(*Ptz)
		errs   []string
	}{
		{"unknown driver", func(p *Ptz) { p.Driver = "pelco" },
			[]string{p0 + `Driver: must be "", "onvif" or "simulated" (got "pelco")`}},
		{"keys without a driver", func(p *Ptz) { *p = Ptz{Url: "http://192.0.2.10/onvif/device_service"} },
			[]string{p0 + `Driver: is empty, so the camera has no PTZ, but other Ptz keys are set: set Driver to "onvif" or "simulated", or remove them`}},
		{"a password without a driver is not quoted", func(p *Ptz) { *p = Ptz{Password: secret} },
			[]string{p0 + `Driver: is empty, so the camera has no PTZ, but other Ptz keys are set: set Driver to "onvif" or "simulated", or remove them`}},
		{"onvif without url", func(p *Ptz) { p.Url = "" },
			[]string{p0 + `Url: is required for the onvif driver, e.g. "http://192.0.2.10/onvif/device_service"`}},
		{"url of another scheme", func(p *Ptz) { p.Url = "rtsp://192.0.2.10/onvif/device_service" },
			[]string{p0 + `Url: must be an http:// or https:// URL (got "rtsp://192.0.2.10/onvif/device_service")`}},
		{"url without scheme", func(p *Ptz) { p.Url = "192.0.2.10/onvif" },
			[]string{p0 + `Url: must be an http:// or https:// URL`}},
		{"url with credentials", func(p *Ptz) { p.Url = "http://admin:" + secret + "@192.0.2.10/onvif/device_service" },
			[]string{p0 + `Url: must not hold a user name or password: use Username and Password (got "http://192.0.2.10/onvif/device_service")`}},
		{"url without host", func(p *Ptz) { p.Url = "http:///onvif" },
			[]string{p0 + `Url: must name a host (got "http:///onvif")`}},
		{"url port", func(p *Ptz) { p.Url = "http://192.0.2.10:70000/onvif" },
			[]string{p0 + `Url: port must be from 1 to 65535 (got "http://192.0.2.10:70000/onvif")`}},
		{"url fragment", func(p *Ptz) { p.Url = "http://192.0.2.10/onvif#" + secret },
			[]string{p0 + `Url: must not have a fragment (got "http://192.0.2.10/onvif")`}},
		{"unparsable url with a password", func(p *Ptz) { p.Url = "http://admin:" + secret + "@192.0.2.10:x/" },
			[]string{p0 + `Url: is not a valid URL (got "http://192.0.2.10:x/")`}},
		{"password without user", func(p *Ptz) { p.Username = "" },
			[]string{p0 + "Password: is set but Username is empty"}},
		{"user with a control character", func(p *Ptz) { p.Username = "ad\nmin" },
			[]string{p0 + "Username: must not contain control characters"}},
		{"long profile", func(p *Ptz) { p.ProfileToken = strings.Repeat("p", 65) },
			[]string{p0 + "ProfileToken: must be at most 64 bytes"}},
		{"home preset control", func(p *Ptz) { p.HomePreset = "\x00" },
			[]string{p0 + "HomePreset: must not contain control characters"}},
		{"five aux commands", func(p *Ptz) { p.AuxCommands = []string{"a", "b", "c", "d", "e"} },
			[]string{p0 + "AuxCommands: must list at most 4 commands, for aux numbers 1 to 4 (got 5)"}},
		{"aux with state", func(p *Ptz) { p.AuxCommands = []string{"tt:Wiper|On"} },
			[]string{p0 + `AuxCommands[0]: must be the command without its state, such as "tt:Wiper": camgate adds "|On" and "|Off" (got "tt:Wiper|On")`}},
		{"aux with a space", func(p *Ptz) { p.AuxCommands = []string{"", "tt:IR Lamp"} },
			[]string{p0 + `AuxCommands[1]: must not contain spaces or control characters (got "tt:IR Lamp")`}},
		{"speed above 1", func(p *Ptz) { p.Speed = 1.5 },
			[]string{p0 + "Speed: must be more than 0 and at most 1 (got 1.5)"}},
		{"speed negative", func(p *Ptz) { p.Speed = -0.5 },
			[]string{p0 + "Speed: must be more than 0 and at most 1 (got -0.5)"}},
		{"nudge too short", func(p *Ptz) { p.NudgeLength = Duration(50 * time.Millisecond) },
			[]string{p0 + "NudgeLength: must be from 100ms to 5s (got 50ms)"}},
		{"nudge too long", func(p *Ptz) { p.NudgeLength = Duration(6 * time.Second) },
			[]string{p0 + "NudgeLength: must be from 100ms to 5s (got 6s)"}},
		{"lease too short", func(p *Ptz) { p.LeaseTimeout = Duration(500 * time.Millisecond) },
			[]string{p0 + "LeaseTimeout: must be from 1s to 10m (got 500ms)"}},
		{"lease not longer than the nudge", func(p *Ptz) {
			p.NudgeLength = Duration(2 * time.Second)
			p.LeaseTimeout = Duration(2 * time.Second)
		}, []string{p0 + "LeaseTimeout: must be longer than NudgeLength (got 2s, NudgeLength 2s)"}},
		{"session rate", func(p *Ptz) { p.RatePerSession = -1 },
			[]string{p0 + "RatePerSession: must be from 1 to 1000 per second (got -1)"}},
		{"camera rate", func(p *Ptz) { p.RatePerCamera = 1001 },
			[]string{p0 + "RatePerCamera: must be from 1 to 1000 per second (got 1001)"}},
		{"stop mode", func(p *Ptz) { p.Quirks.StopMode = "halt" },
			[]string{p0 + `Quirks.StopMode: must be "both", "zeroVelocity" or "stop" (got "halt")`}},
		{"no stop but stop", func(p *Ptz) {
			p.Quirks.StopMode = StopStop
			p.Quirks.NoStop = true
		}, []string{p0 + `Quirks.NoStop: contradicts StopMode "stop": with NoStop, use StopMode "zeroVelocity" or "both"`}},
		{"geometry", func(p *Ptz) {
			p.Geometry = PtzGeometry{PanDegrees: 361, TiltDegrees: -1, HorizontalFov: 180, VerticalFov: 36, ZoomRatio: 0.5}
		}, []string{
			p0 + "Geometry.PanDegrees: must be more than 0 and at most 360 (got 361)",
			p0 + "Geometry.TiltDegrees: must be more than 0 and at most 360 (got -1)",
			p0 + "Geometry.HorizontalFov: must be more than 0 and at most 179 (got 180)",
			p0 + "Geometry.ZoomRatio: must be from 1 to 1000 (got 0.5)",
		}},
		{"simulated needs no url", func(p *Ptz) {
			*p = Ptz{Driver: "simulated"}
			p.applyDefaults()
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ptzSettings()
			tc.mutate(&s.Cameras[0].Ptz)
			err := s.Validate()
			checkErrors(t, err, tc.errs)
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the password leaked: %v", err)
			}
		})
	}
}

func TestPtzPasswordNeverInErrors(t *testing.T) {
	cam := `{"Id": "` + camA + `", "Streams": [{"Id": "` + streamA + `", "Url": "rtsp://192.0.2.10/x"}], "Ptz": `
	files := []string{
		cam + `{"Driver": "onvif", "Url": "http://192.0.2.10/", "Password": ["` + secret + `"]}}`,
		cam + `{"Driver": "onvif", "Url": "http://192.0.2.10/", "Password": {"x": "` + secret + `"}}}`,
		cam + `{"Driver": "onvif", "Url": "http://192.0.2.10/", "Passwrd": "` + secret + `"}}`,
		cam + `{"Driver": "onvif", "Url": "http://u:` + secret + `@192.0.2.10/"}}`,
		cam + `{"Driver": "onvif", "Url": "` + secret + `"}}`,
		cam + `{"Driver": "onvif", "Url": "http://192.0.2.10/?password=` + secret + `", "Speed": 7}}`,
		cam + `{"Driver": "", "Password": "` + secret + `"}}`,
		cam + `{"Driver": "onvif", "Url": "http://192.0.2.10/", "Password": "` + secret + `", "NudgeLength": "1h"}}`,
	}
	for i, f := range files {
		_, err := build([]layer{{"appsettings.json", []byte(`{"Cameras": [` + f + `]}`)}}, nil, nil)
		if err == nil {
			t.Errorf("file %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("file %d: the password leaked: %v", i, err)
		}
	}
	_, err := build([]layer{{"appsettings.json", []byte(`{"Cameras": [` + cam + `{}}]}`)}}, []string{
		"CAMGATE__Cameras__0__Ptz__Password__0=" + secret,
	}, nil)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("env: %v", err)
	}
}

func TestPtzFromFileAndEnv(t *testing.T) {
	cam := `{"Id": "` + camA + `", "Streams": [{"Id": "` + streamA + `", "Url": "rtsp://192.0.2.10/x"}],
		"ptz": {"driver": "onvif", "url": "http://192.0.2.10/onvif/device_service", "quirks": {"stopmode": "zerovelocity"}}}`
	got, err := build([]layer{{"appsettings.json", []byte(`{"Cameras": [` + cam + `]}`)}}, []string{
		"CAMGATE__Cameras__0__Ptz__Username=admin",
		"CAMGATE__Cameras__0__Ptz__Password=" + secret,
		"CAMGATE__Cameras__0__Ptz__Speed=0.25",
		"CAMGATE__Cameras__0__Ptz__NudgeLength=250ms",
		"CAMGATE__Cameras__0__Ptz__Quirks__InvertPan=true",
		"CAMGATE__Cameras__0__Ptz__AuxCommands=tt:Wiper,tt:IRLamp",
		"CAMGATE__Cameras__0__Ptz__Geometry__ZoomRatio=30",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Cameras[0].Ptz
	if p.Driver != "onvif" || p.Username != "admin" || p.Password != secret || p.Speed != 0.25 ||
		p.NudgeLength != Duration(250*time.Millisecond) || !p.Quirks.InvertPan || p.Quirks.StopMode != "zeroVelocity" ||
		!reflect.DeepEqual(p.AuxCommands, []string{"tt:Wiper", "tt:IRLamp"}) || p.Geometry.ZoomRatio != 30 || p.Geometry.PanDegrees != 360 {
		t.Errorf("Ptz = %+v", p)
	}
}

func TestPtzRedacted(t *testing.T) {
	s := ptzSettings()
	s.Cameras[1].Ptz.Url = "http://admin:" + secret + "@192.0.2.11/onvif/device_service"
	r := s.Redacted()
	if got := r.Cameras[0].Ptz.Password; got != "***" {
		t.Errorf("password shows as %q", got)
	}
	if got := r.Cameras[1].Ptz.Password; got != "" {
		t.Errorf("an empty password became %q", got)
	}
	if got, want := r.Cameras[1].Ptz.Url, "http://admin:xxxxx@192.0.2.11/onvif/device_service"; got != want {
		t.Errorf("url %q, want %q", got, want)
	}
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "s3cr3t") {
		t.Errorf("the password leaked: %s", b)
	}
	r.Cameras[0].Ptz.AuxCommands[0] = "changed"
	if s.Cameras[0].Ptz.AuxCommands[0] != "tt:Wiper" || s.Cameras[0].Ptz.Password != secret {
		t.Error("Redacted's copy shares memory with the original")
	}
}
