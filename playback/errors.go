package playback

import (
	"errors"
	"fmt"
	"time"
)

// Errors of the store. Those a client can cause are typed so that the
// gateway maps them to a status in one place:
//
//	*RequestError    400  a parameter breaks a rule (speed, duration, camera id)
//	*RangeError      404  no recording where the request asks for one
//	ErrClosed        503  the store or player is closed
//	anything else    500
var (
	// ErrClosed is returned by calls on a closed store or player.
	ErrClosed = errors.New("playback: closed")
	// ErrRecording is returned by NewRecorder when the camera already has a
	// recorder.
	ErrRecording = errors.New("playback: the camera already has a recorder")
)

// RequestError reports a request parameter that breaks a rule. Its text
// names the parameter and the rule, for a 400 answer.
type RequestError struct {
	// Field is the parameter: "speed", "duration", "cameraId", "start".
	Field string
	// Msg is the rule and the offending value.
	Msg string
}

func (e *RequestError) Error() string { return e.Field + ": " + e.Msg }

// RangeError reports a time at which there is nothing to play or export:
// the camera has no recordings, or the time is before the oldest or after
// the newest. The message gives the available range.
type RangeError struct {
	// Requested is the time asked for.
	Requested time.Time
	// Oldest and Newest bound the camera's recordings; both are zero when
	// it has none.
	Oldest, Newest time.Time
}

func (e *RangeError) Error() string {
	req := e.Requested.UTC().Format(time.RFC3339Nano)
	switch {
	case e.Oldest.IsZero():
		return fmt.Sprintf("no recording: the camera has no recordings (requested %s)", req)
	case e.Requested.Before(e.Oldest):
		return fmt.Sprintf("no recording at %s: it is before the oldest recording; recordings are available from %s to %s",
			req, fmtTime(e.Oldest), fmtTime(e.Newest))
	default:
		return fmt.Sprintf("no recording at %s: it is after the newest recording; recordings are available from %s to %s",
			req, fmtTime(e.Oldest), fmtTime(e.Newest))
	}
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }
