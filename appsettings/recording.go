package appsettings

import "time"

// Recording configures continuous recording into DataDir/recordings, its
// time index, retention and playback. Which cameras record is set per
// camera (Cameras[n].Recording).
type Recording struct {
	// SegmentDuration is the length of a segment file; a segment is cut at
	// the first keyframe after it. Default: "1m".
	SegmentDuration Duration
	// FragmentDuration is the longest fragment (the unit that is written
	// to disk at once, and all that a crash can lose). A new fragment also
	// starts at every keyframe. Default: "1s".
	FragmentDuration Duration
	// MaxDrift is how far the camera's timestamps may run ahead of or
	// behind camgate's clock before a new run starts with fresh wall
	// times. Default: "2s".
	MaxDrift Duration
	// SyncInterval is how often written video is forced to disk
	// (fdatasync), which bounds the loss on a power failure. "0s" syncs
	// only when a segment closes. Default: "5s".
	SyncInterval Duration
	// QueueFrames is how many frames a recorder may have waiting for the
	// disk before it drops to the next keyframe. Default: 1024.
	QueueFrames int
	// Retain is how long recordings are kept, for cameras that set no
	// Retain of their own. "0s" keeps them until the quota needs space.
	// Default: "168h" (7 days).
	Retain Duration
	// QuotaMB is the most disk space, in megabytes (1,000,000 bytes), that
	// all recordings together may take; the oldest are deleted first. 0
	// means no quota. Default: 0.
	QuotaMB int
	// PlaybackMaxBitrate is the bitrate, in kbit/s, above which playback
	// at more than twice the speed sends only keyframes. Default: 8000.
	PlaybackMaxBitrate int
	// PlaybackMaxFrameRate is the frame rate above which playback at more
	// than twice the speed sends only keyframes. Default: 60.
	PlaybackMaxFrameRate int
	// PlaybackKeyframeRate is the most keyframes per second sent while
	// playback sends only keyframes. Default: 8.
	PlaybackKeyframeRate int
	// MaxExportDuration is the longest stretch one export may cover.
	// Default: "1h".
	MaxExportDuration Duration
}

// CameraRecording is the recording of one camera (its default stream).
type CameraRecording struct {
	// Enabled records the camera continuously. Default: false.
	Enabled bool
	// Retain is how long the camera's recordings are kept. "0s" means
	// Recording.Retain. Default: "0s".
	Retain Duration
}

func defaultRecording() Recording {
	return Recording{
		SegmentDuration:      Duration(time.Minute),
		FragmentDuration:     Duration(time.Second),
		MaxDrift:             Duration(2 * time.Second),
		SyncInterval:         Duration(5 * time.Second),
		QueueFrames:          1024,
		Retain:               Duration(7 * 24 * time.Hour),
		PlaybackMaxBitrate:   8000,
		PlaybackMaxFrameRate: 60,
		PlaybackKeyframeRate: 8,
		MaxExportDuration:    Duration(time.Hour),
	}
}

// CameraRecording returns the recording settings of the camera with the
// given Id (compared case-insensitively): Cameras[n].Recording. ok is false
// for an Id that is no camera. A Retain of 0 is replaced by
// Recording.Retain, so the result is 0 only when there is no age limit.
func (s *Settings) CameraRecording(cameraID string) (rec CameraRecording, ok bool) {
	for _, c := range s.Cameras {
		if KeyOf(c.Id) == KeyOf(cameraID) {
			rec, ok = c.Recording, true
			break
		}
	}
	if ok && rec.Retain == 0 {
		rec.Retain = s.Recording.Retain
	}
	return rec, ok
}

// CameraRetain returns how long the recordings of the camera with the given
// Id are kept (0: no age limit): its Recording.Retain, else the Recording
// section's, which also applies to an Id that is no camera (the folder of a
// camera removed from the settings). It is the store's retention,
// playback.Options.Retain.
func (s *Settings) CameraRetain(cameraID string) time.Duration {
	if rec, ok := s.CameraRecording(cameraID); ok {
		return time.Duration(rec.Retain)
	}
	return time.Duration(s.Recording.Retain)
}
