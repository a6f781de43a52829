package appsettings

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRecordingDefaults(t *testing.T) {
	r := Defaults().Recording
	want := Recording{
		SegmentDuration: Duration(time.Minute), FragmentDuration: Duration(time.Second),
		MaxDrift: Duration(2 * time.Second), SyncInterval: Duration(5 * time.Second),
		QueueFrames: 1024, Retain: Duration(168 * time.Hour), QuotaMB: 0,
		PlaybackMaxBitrate: 8000, PlaybackMaxFrameRate: 60, PlaybackKeyframeRate: 8,
		MaxExportDuration: Duration(time.Hour),
	}
	if r != want {
		t.Errorf("Defaults().Recording = %+v, want %+v", r, want)
	}
}

func TestRecordingRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Settings)
		errs   []string
	}{
		{"segment too short", func(s *Settings) { s.Recording.SegmentDuration = Duration(9 * time.Second) },
			[]string{"Recording.SegmentDuration: must be from 10s to 5m (got 9s)"}},
		{"segment too long", func(s *Settings) { s.Recording.SegmentDuration = Duration(301 * time.Second) },
			[]string{"Recording.SegmentDuration: must be from 10s to 5m (got 5m1s)"}},
		{"segment bounds", func(s *Settings) { s.Recording.SegmentDuration = Duration(10 * time.Second) }, nil},
		{"fragment too long", func(s *Settings) { s.Recording.FragmentDuration = Duration(1500 * time.Millisecond) },
			[]string{"Recording.FragmentDuration: must be from 100ms to 1s (got 1.5s)"}},
		{"fragment zero", func(s *Settings) { s.Recording.FragmentDuration = 0 },
			[]string{"Recording.FragmentDuration: must be from 100ms to 1s (got 0s)"}},
		{"drift", func(s *Settings) { s.Recording.MaxDrift = Duration(2 * time.Minute) },
			[]string{"Recording.MaxDrift: must be from 100ms to 1m (got 2m0s)"}},
		{"sync only on close", func(s *Settings) { s.Recording.SyncInterval = 0 }, nil},
		{"sync negative", func(s *Settings) { s.Recording.SyncInterval = Duration(-time.Second) },
			[]string{"Recording.SyncInterval: must be from 0s to 1m (got -1s)"}},
		{"queue", func(s *Settings) { s.Recording.QueueFrames = 63 },
			[]string{"Recording.QueueFrames: must be from 64 to 65536 (got 63)"}},
		{"retain forever", func(s *Settings) { s.Recording.Retain = 0 }, nil},
		{"retain too short", func(s *Settings) { s.Recording.Retain = Duration(30 * time.Second) },
			[]string{"Recording.Retain: must be 0s (no age limit) or from 1m to 87600h (got 30s)"}},
		{"quota too small", func(s *Settings) { s.Recording.QuotaMB = 5 },
			[]string{"Recording.QuotaMB: must be 0 (no quota) or from 10 to 1000000000 (got 5)"}},
		{"quota negative", func(s *Settings) { s.Recording.QuotaMB = -1 },
			[]string{"Recording.QuotaMB: must be 0 (no quota) or from 10 to 1000000000 (got -1)"}},
		{"quota", func(s *Settings) { s.Recording.QuotaMB = 500_000 }, nil},
		{"bitrate", func(s *Settings) { s.Recording.PlaybackMaxBitrate = 99 },
			[]string{"Recording.PlaybackMaxBitrate: must be from 100 to 10000000 (got 99)"}},
		{"frame rate", func(s *Settings) { s.Recording.PlaybackMaxFrameRate = 0 },
			[]string{"Recording.PlaybackMaxFrameRate: must be from 1 to 1000 (got 0)"}},
		{"keyframe rate", func(s *Settings) { s.Recording.PlaybackKeyframeRate = 101 },
			[]string{"Recording.PlaybackKeyframeRate: must be from 1 to 100 (got 101)"}},
		{"export", func(s *Settings) { s.Recording.MaxExportDuration = Duration(25 * time.Hour) },
			[]string{"Recording.MaxExportDuration: must be from 1s to 24h (got 25h0m0s)"}},
		{"camera retain", func(s *Settings) {
			s.Cameras[1].Recording = CameraRecording{Enabled: true, Retain: Duration(-time.Hour)}
		}, []string{"Cameras[1].Recording.Retain: must be 0s (no age limit) or from 1m to 87600h (got -1h0m0s)"}},
		{"camera records", func(s *Settings) {
			s.Cameras[0].Recording = CameraRecording{Enabled: true, Retain: Duration(720 * time.Hour)}
		}, nil},
		{"two at once", func(s *Settings) {
			s.Recording.QueueFrames = 0
			s.Recording.MaxExportDuration = 0
		}, []string{"Recording.QueueFrames: must be from 64 to 65536 (got 0)", "Recording.MaxExportDuration: must be from 1s to 24h (got 0s)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSettings()
			tc.mutate(&s)
			err := s.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("error is not an *Error: %T", err)
				}
			}
			if !slices.Equal(got, tc.errs) {
				t.Errorf("errors:\n  got  %q\n  want %q", got, tc.errs)
			}
		})
	}
}

func TestCameraRecording(t *testing.T) {
	s := validSettings()
	s.Recording.Retain = Duration(48 * time.Hour)
	s.Cameras[0].Recording = CameraRecording{Enabled: true}
	s.Cameras[1].Recording = CameraRecording{Enabled: true, Retain: Duration(time.Hour)}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		id   string
		want CameraRecording
		ok   bool
	}{
		{strings.ToUpper(camA), CameraRecording{Enabled: true, Retain: Duration(48 * time.Hour)}, true},
		{camB, CameraRecording{Enabled: true, Retain: Duration(time.Hour)}, true},
		{"33333333-4444-5555-6666-777777777777", CameraRecording{}, false},
	}
	for _, tc := range cases {
		got, ok := s.CameraRecording(tc.id)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CameraRecording(%s) = %+v, %v; want %+v, %v", tc.id, got, ok, tc.want, tc.ok)
		}
		want := time.Duration(tc.want.Retain)
		if !tc.ok {
			want = 48 * time.Hour // the section's, for a camera no longer configured
		}
		if got := s.CameraRetain(tc.id); got != want {
			t.Errorf("CameraRetain(%s) = %v, want %v", tc.id, got, want)
		}
	}
}

func TestRecordingFromFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "appsettings.json", `{
		"Cameras": [`+cam+`],
		"Recording": {"SegmentDuration": "30s", "QuotaMB": 2000}
	}`)
	got, err := Load(LoadOptions{ConfigDir: dir, Env: []string{
		"CAMGATE__Cameras__0__Recording__Enabled=true",
		"CAMGATE__Cameras__0__Recording__Retain=72h",
		"CAMGATE__Recording__SyncInterval=0s",
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := got.Recording
	if r.SegmentDuration != Duration(30*time.Second) || r.QuotaMB != 2000 || r.SyncInterval != 0 ||
		r.FragmentDuration != Duration(time.Second) {
		t.Errorf("Recording = %+v", r)
	}
	if c := got.Cameras[0].Recording; !c.Enabled || c.Retain != Duration(72*time.Hour) {
		t.Errorf("Cameras[0].Recording = %+v", c)
	}

	write(t, dir, "appsettings.json", `{"Recording": {"SegmentDuration": 60, "Segments": 1}}`)
	_, err = Load(LoadOptions{ConfigDir: dir})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{
		`appsettings.json: Recording.SegmentDuration: want a duration such as "30s", got a number`,
		"appsettings.json: Recording.Segments: unknown setting",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
