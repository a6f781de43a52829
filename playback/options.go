package playback

import (
	"log/slog"
	"time"

	"github.com/camgate/camgate/appsettings"
)

// Options configure a Store. cmd/camgate fills them from its settings: the
// folder DataDir/recordings, the Recording section and each camera's
// retention (Settings.CameraRecording).
type Options struct {
	// Dir is the recordings folder, normally DataDir/recordings. Required.
	// It holds one folder per camera; see docs/recording.md.
	Dir string
	// Recording are the store's settings. A zero duration or count takes
	// the default of appsettings.Defaults().Recording, except SyncInterval
	// (0: sync only when a segment closes), Retain (0: no age limit) and
	// QuotaMB (0: no quota).
	Recording appsettings.Recording
	// Retain returns how long a camera's recordings are kept; 0 means no
	// age limit. The id is the camera folder's name (the camera id in lower
	// case). nil keeps Recording.Retain for every camera.
	Retain func(cameraID string) time.Duration
	// Logger receives the store's messages (component=playback). Default:
	// slog.Default().
	Logger *slog.Logger
	// CleanupInterval is how often Store.Run runs retention. Default: 10s.
	// A negative value disables it (tests call Cleanup).
	CleanupInterval time.Duration
}

// withDefaults fills zero fields.
func (o Options) withDefaults() Options {
	d := appsettings.Defaults().Recording
	r := &o.Recording
	def := func(v *appsettings.Duration, dv appsettings.Duration) {
		if *v == 0 {
			*v = dv
		}
	}
	def(&r.SegmentDuration, d.SegmentDuration)
	def(&r.FragmentDuration, d.FragmentDuration)
	def(&r.MaxDrift, d.MaxDrift)
	def(&r.MaxExportDuration, d.MaxExportDuration)
	if r.QueueFrames <= 0 {
		r.QueueFrames = d.QueueFrames
	}
	if r.PlaybackMaxBitrate <= 0 {
		r.PlaybackMaxBitrate = d.PlaybackMaxBitrate
	}
	if r.PlaybackMaxFrameRate <= 0 {
		r.PlaybackMaxFrameRate = d.PlaybackMaxFrameRate
	}
	if r.PlaybackKeyframeRate <= 0 {
		r.PlaybackKeyframeRate = d.PlaybackKeyframeRate
	}
	if o.Retain == nil {
		retain := time.Duration(r.Retain)
		o.Retain = func(string) time.Duration { return retain }
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.CleanupInterval == 0 {
		o.CleanupInterval = 10 * time.Second
	}
	return o
}
