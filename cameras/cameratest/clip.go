// Package cameratest serves recorded clips as RTSP cameras for tests: a
// camera with B-frames (decode order differs from presentation order) or
// one that sends H.265, which the demo camera (cameras/demo, raw H.264 at a
// fixed frame rate) cannot be. Clips are fragmented MP4 files made with
// ffmpeg (testdata/make-clips.sh), read with mediacommon, so every frame
// keeps the presentation and decode times its encoder gave it.
package cameratest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4"
)

// Codec names a clip's video codec.
type Codec string

// The codecs a clip may hold.
const (
	H264 Codec = "H.264"
	H265 Codec = "H.265"
)

// Frame is one access unit of a clip, in decode order, with its times in
// 90 kHz ticks from the clip's start.
type Frame struct {
	AU  [][]byte // NAL units without start codes
	PTS int64
	DTS int64
	Key bool
}

// Clip is a video track read from a fragmented MP4 file. It is immutable.
type Clip struct {
	Codec         Codec
	VPS, SPS, PPS []byte // VPS only for H.265
	Frames        []Frame
	// Duration is one pass of the clip in 90 kHz ticks: the decode time of
	// the frame that would follow the last one.
	Duration int64
}

// Path returns the path of a clip in the repository's testdata folder.
func Path(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", name)
}

// Load reads the first video track of a fragmented MP4 file.
func Load(path string) (*Clip, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("%s: init: %w", path, err)
	}
	if len(init.Tracks) == 0 {
		return nil, fmt.Errorf("%s: no track", path)
	}
	track := init.Tracks[0]
	c := &Clip{}
	switch codec := track.Codec.(type) {
	case *mp4.CodecH264:
		c.Codec, c.SPS, c.PPS = H264, codec.SPS, codec.PPS
	case *mp4.CodecH265:
		c.Codec, c.VPS, c.SPS, c.PPS = H265, codec.VPS, codec.SPS, codec.PPS
	default:
		return nil, fmt.Errorf("%s: track codec %T is not H.264 or H.265", path, track.Codec)
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("%s: fragments: %w", path, err)
	}
	toTicks := func(t int64) int64 { return t * 90000 / int64(track.TimeScale) }
	var end int64
	for _, part := range parts {
		for _, pt := range part.Tracks {
			if pt.ID != track.ID {
				continue
			}
			dts := int64(pt.BaseTime)
			for _, s := range pt.Samples {
				var au h264.AVCC // H.265 samples use the same length prefixes
				if err := au.Unmarshal(s.Payload); err != nil {
					return nil, fmt.Errorf("%s: sample: %w", path, err)
				}
				c.Frames = append(c.Frames, Frame{
					AU:  au,
					DTS: toTicks(dts),
					PTS: toTicks(dts + int64(s.PTSOffset)),
					// ffmpeg flags the first sample of a fragment in a way
					// mediacommon does not read: ask the NAL units.
					Key: c.randomAccess(au),
				})
				dts += int64(s.Duration)
			}
			end = dts
		}
	}
	if len(c.Frames) == 0 || !c.Frames[0].Key {
		return nil, errors.New(path + ": no frames, or the first is not a keyframe")
	}
	c.Duration = toTicks(end)
	return c, nil
}

func (c *Clip) randomAccess(au [][]byte) bool {
	if c.Codec == H265 {
		return h265.IsRandomAccess(au)
	}
	return h264.IsRandomAccess(au)
}

// Reordered reports whether the clip has B-frames: a frame presented
// before the one decoded before it.
func (c *Clip) Reordered() bool {
	for i := 1; i < len(c.Frames); i++ {
		if c.Frames[i].PTS < c.Frames[i-1].PTS {
			return true
		}
	}
	return false
}
